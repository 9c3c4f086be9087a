# Every target installs what it needs on a fresh Debian 12 machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# ansible-core 2.18 runs on 3.11-3.13; prefer pyenv's 3.12 when it is there.
PYTHON ?= $(shell ls -d $$HOME/.pyenv/versions/3.12*/bin/python3 2>/dev/null | tail -n 1 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
BUILD := $(CURDIR)/.build
COLLECTIONS := $(BUILD)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/container_storage/devicemapper
LAB := python3 $(CURDIR)/tools/lab/lab.py
# The lab's own smoke test first (the second job starts beside it; none after it, if it failed).
SCENARIOS ?= lab $(shell ls molecule | grep -v -e '^shared$$' -e '^lab$$')
PY36 ?= $(shell ls -d $$HOME/.pyenv/versions/3.6*/bin/python3 2>/dev/null | tail -n 1)
# prometheus: promtool, for the alert rules' tests in make unit (tests/unit/monitor)
APT_PACKAGES := qemu-system-x86 qemu-utils mmdebstrap openssh-client rsync git prometheus

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/tools/ansible.cfg
export PATH := $(BIN):$(PATH)

.PHONY: help setup lint sanity unit compat molecule test demo demo-containerd clean lab-down release-notes package docs sanity36

help:
	@echo "make demo    boot a lab VM, run tools/lab/demo.yml on it, print the result (KEEP=1 keeps the VM)"
	@echo "make demo-containerd  the same on Docker 26 (Debian 13 guest): containerd's devmapper snapshotter on the pool"
	@echo "make test    lint, sanity, unit, compat, sanity36, package, docs and every molecule scenario in lab VMs"
	@echo "make unit | lint | sanity | compat | molecule [SCENARIOS='lab thinpool']"
	@echo "make docs    the HTML docs site in .build/docs/html, checked in headless Chromium"
	@echo "make package | release-notes   the tarball's checks; CHANGELOG.rst from the fragments"

$(BUILD)/apt.stamp:
	@mkdir -p $(BUILD)
	@if ! command -v qemu-system-x86_64 >/dev/null || ! command -v mmdebstrap >/dev/null \
	    || ! command -v rsync >/dev/null || ! command -v ssh >/dev/null || ! command -v promtool >/dev/null; then \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; fi
	@touch $@

$(VENV)/installed.stamp: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $@

$(COLLECTION_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn $(CURDIR) $@

setup: $(BUILD)/apt.stamp $(VENV)/installed.stamp $(COLLECTION_LINK)

lint: setup
	$(BIN)/yamllint -s .
	$(BIN)/ruff check plugins tests tools
	$(BIN)/ansible-lint --profile production --offline
	$(BIN)/antsibull-changelog lint
	@# the roles' scripts run as /bin/sh on the hosts; a role without files/*.sh is no error
	set -- roles/*/files/*.sh; if [ -e "$$1" ]; then $(BIN)/shellcheck --shell=sh --severity=style "$$@"; fi

# ansible-test wants a real ansible_collections/<ns>/<name> tree.
# Outside the work tree: inside it, ansible-test would list files with the
# outer git (which ignores .build/) and skip every target.
SANITY_DIR ?= /tmp/container-storage-devicemapper-sanity
PIP_BOOTSTRAP_CACHE := $(HOME)/.ansible/test/cache
sanity: setup
	@# ci-files.testing.ansible.com is unreachable here: give ansible-test a local pip bootstrap
	@mkdir -p $(PIP_BOOTSTRAP_CACHE) && for version in $$(grep -ho "pip='[0-9.]*'" \
	  $(VENV)/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | tr -dc '0-9.\n'); do \
	  cp tools/sanity/get_pip_offline.py $(PIP_BOOTSTRAP_CACHE)/get_pip_$$(echo $$version | tr . _).py; done
	@rm -rf $(SANITY_DIR) && mkdir -p $(SANITY_DIR)/ansible_collections/container_storage
	@# tools/ (the lab and dev scripts) is not shipped (galaxy.yml build_ignore); ruff checks it
	rsync -a --exclude .git --exclude .venv --exclude .build --exclude .ansible --exclude '__pycache__' --exclude /tools \
	  --exclude .pytest_cache --exclude .ruff_cache ./ $(SANITY_DIR)/ansible_collections/container_storage/devicemapper/
	cd $(SANITY_DIR)/ansible_collections/container_storage/devicemapper && \
	  $(BIN)/ansible-test sanity --venv --python 3.12 --color no $(SANITY_ARGS) 2>&1 | tee $(SANITY_DIR)/sanity.log; \
	  test $${PIPESTATUS[0]} -eq 0 && ! grep -q "All targets skipped" $(SANITY_DIR)/sanity.log

# Four workers: the unit tests mostly wait (lock timeouts, ansible-playbook over the local
# connection), 45 s of CPU in 80 s on two cores; one worker took 146 s.
unit: setup
	$(BIN)/pytest -q -n 4 tests/unit

# Module code must still run on RHEL 8's platform Python.
compat:
	@if [ -z "$(PY36)" ]; then echo "no Python 3.6 here (pyenv), compat check skipped"; exit 0; fi; \
	  for f in plugins/module_utils/*.py plugins/modules/*.py; do \
	    $(PY36) -c 'import ast,sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' $$f || exit 1; \
	  done; echo "compat: plugins parse on $$($(PY36) --version)"

# ansible-test 2.16 sanity (compile, import) on Python 3.6, the oldest target of ansible-core 2.16; no VM.
sanity36: setup
	tools/sanity/sanity36.sh $(SANITY_DIR)-py36

# Every image the scenarios and matrix legs boot (bookworm, trixie), before any VM starts.
lab-image: setup
	$(BIN)/python tools/lab/run_scenarios.py --images-only $(SCENARIOS) $(MATRIX_LEGS)

# Each scenario boots its own VMs; whatever happens, none is left running.
# Two VMs at a time (what two cores carry), each job into .build/molecule-logs/<job>.log;
# the lab scenario runs first and alone. MATRIX_LEGS are the controller x target legs.
MATRIX_LEGS ?= matrix:core2.16-py3.6 matrix:core2.21-py3.11
molecule: setup lab-image
	@trap '$(LAB) down --all' EXIT INT TERM; \
	  $(BIN)/python tools/lab/run_scenarios.py $(SCENARIOS) $(MATRIX_LEGS)

# Lint first (a broken tree fails in about a minute); then the scenarios, the longest
# part, start at once, with every check that needs no VM (unit, compat, sanity36, sanity,
# package, docs) one after the other beside them. Both always run to the end; the target
# fails if either failed.
test: lint lab-image
	@$(MAKE) --no-print-directory molecule & scenarios=$$!; \
	  $(MAKE) --no-print-directory unit compat sanity36 sanity package docs; checks=$$?; \
	  wait $$scenarios; molecule=$$?; \
	  echo "make test: checks without VMs rc=$$checks, molecule rc=$$molecule"; \
	  test $$checks -eq 0 && test $$molecule -eq 0

# DEMO_SUITE=bookworm-minimal: the same on a Debian 12 host without lvm2 (the role installs it).
DEMO_SUITE ?= bookworm
demo: setup lab-image
	$(LAB) run --prefix demo --suite $(DEMO_SUITE) --disks 1 $(if $(KEEP),--keep) -- \
	  $(BIN)/ansible-playbook -i {inventory} $(CURDIR)/tools/lab/demo.yml

# The same on Docker 26 (Debian 13 guest): containerd's devmapper snapshotter on the pool.
demo-containerd: setup
	$(LAB) run --prefix demo-containerd --suite trixie --disks 1 $(if $(KEEP),--keep) -- \
	  $(BIN)/ansible-playbook -i {inventory} $(CURDIR)/tools/lab/demo_containerd.yml

# CHANGELOG.rst for the version galaxy.yml names, from the fragments (see the script).
release-notes: setup
	tools/release/release_notes.sh

# The tarball as Galaxy gets it (CHANGELOG current, no lab or test files) and the
# execution-environment metadata through ansible-builder (introspect, create).
package: setup
	tools/release/release_notes.sh --check
	tools/release/check_package.sh

$(BUILD)/chromium.stamp:
	@mkdir -p $(BUILD)
	@if ! command -v chromium >/dev/null; then \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
	@touch $@

# The HTML docs site in .build/docs/html (antsibull-docs + Sphinx, warnings are errors),
# then the index and a module page opened in headless Chromium (tools/docs/check_site.py).
docs: setup $(BUILD)/chromium.stamp
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs .
	tools/docs/build.sh
	$(BIN)/python tools/docs/check_site.py $(BUILD)/docs/html

lab-down:
	$(LAB) down --all

clean: lab-down
	rm -rf $(BUILD) $(VENV)
