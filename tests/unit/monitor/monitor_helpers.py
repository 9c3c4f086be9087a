"""Recorded lab output for the thin-pool collector, served by command line."""

import importlib.util
import os

import yaml

from ansible_collections.container_storage.devicemapper.plugins.module_utils._runner import CommandError

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
FIXTURES = os.path.join(REPO, "tests", "unit", "fixtures", "thinpool_monitor")
ROLE = os.path.join(REPO, "roles", "thinpool_monitor")
COLLECTOR = os.path.join(ROLE, "files", "thinpool_monitor.py")

# Which recorded states a test can ask for; later prefixes win. The autoextend
# settings (lvmconfig) did not change between M1 and M2, so M2 reuses M1's.
STATES = {"empty": ["e"], "m1": ["m1"], "m2": ["m1", "m2"]}


def load_fixtures(prefixes):
    by_command = {}
    for prefix in prefixes:
        for name in sorted(os.listdir(FIXTURES)):
            if name.startswith(prefix + "_") and name.endswith(".yml"):
                with open(os.path.join(FIXTURES, name)) as handle:
                    fixture = yaml.safe_load(handle)
                by_command[tuple(fixture["command"])] = fixture
    return by_command


class RecordedRunner(object):
    """Answers each command with its recorded output; an unrecorded command fails the test."""

    def __init__(self, state):
        self.fixtures = load_fixtures(STATES[state])
        self.commands = []

    def run(self, argv):
        argv = [str(part) for part in argv]
        self.commands.append(argv)
        fixture = self.fixtures.get(tuple(argv))
        assert fixture is not None, "command not recorded: %s" % argv
        if fixture["rc"] != 0:
            raise CommandError(argv, fixture["rc"], fixture["out"], fixture["err"])
        return fixture["rc"], fixture["out"], fixture["err"]


class FailingRunner(object):
    """A host where lvm is missing: the first command fails."""

    def __init__(self):
        self.commands = []

    def run(self, argv):
        self.commands.append(list(argv))
        raise CommandError([argv[0]], "not found", "", "%s is not installed" % argv[0])


def load_collector():
    spec = importlib.util.spec_from_file_location("thinpool_monitor", COLLECTOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
