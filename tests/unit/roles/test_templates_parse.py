"""Every Jinja expression in the roles' tasks, vars, defaults and handlers, and in the
playbooks, parses: a syntax error (a `#` comment inside a `>-` expression, an
unclosed bracket) is found here, not halfway through a run on a host."""

import glob
import os

import jinja2
import pytest
import yaml

REPO = os.path.join(os.path.dirname(__file__), "..", "..", "..")
FILES = sorted(
    glob.glob(os.path.join(REPO, "roles", "*", "tasks", "*.yml"))
    + glob.glob(os.path.join(REPO, "roles", "*", "vars", "*.yml"))
    + glob.glob(os.path.join(REPO, "roles", "*", "defaults", "*.yml"))
    + glob.glob(os.path.join(REPO, "roles", "*", "handlers", "*.yml"))
    + glob.glob(os.path.join(REPO, "playbooks", "*.yml")))


def strings(node, where=()):
    if isinstance(node, str):
        yield where, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, where + (str(key),))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, where + (str(index),))


def expressions(text):
    """Strings Ansible templates: those with a Jinja delimiter."""
    return "{{" in text or "{%" in text


# Ansible's own tests and filters are looked up when a template runs, not when it parses.
ENV = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])


@pytest.mark.parametrize("path", FILES, ids=lambda path: os.path.relpath(path, REPO))
def test_every_expression_parses(path):
    with open(path) as handle:
        document = yaml.safe_load(handle)
    errors = []
    for where, text in strings(document):
        if not expressions(text):
            continue
        try:
            ENV.parse(text)
        except jinja2.TemplateSyntaxError as exc:
            errors.append("%s: %s (line %s of the string)" % ("/".join(where), exc.message, exc.lineno))
    assert not errors, "\n".join(errors)


def test_the_check_finds_a_comment_inside_an_expression():
    with pytest.raises(jinja2.TemplateSyntaxError):
        ENV.parse("{{ {'a': 1,\n  # a comment\n  'b': 2} }}")
