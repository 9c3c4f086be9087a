# -*- coding: utf-8 -*-
# Copyright (c) container_storage.devicemapper contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A TOML 1.0 reader that remembers where each table and key is, and a line editor.

Modules run on the target with Python 3.6 and the standard library, which has
no TOML (``tomllib`` is 3.11+), so this file reads TOML itself. It is not a
general round-trip library: it parses the whole document strictly (a file it
cannot read is never edited), returns the values, and records for every
``[table]`` header and every ``key = value`` line the lines they occupy. The
editor then changes only those lines; every other byte of the file, comments
included, stays as it was. Callers re-parse the edited text and compare the
values with what they meant to write (see ``_containerd``).

Private to the collection: not a public API, may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import math
import re


class TomlError(ValueError):
    """The text is not valid TOML; ``line`` is 1-based."""

    def __init__(self, message, line):
        super(TomlError, self).__init__("line %d: %s" % (line, message))
        self.line = line
        self.reason = message


# How a table came to exist: TOML forbids some redefinitions depending on it.
IMPLICIT = "implicit"     # a parent of a [header] that was never defined itself
HEADER = "header"         # defined by its own [header]
DOTTED = "dotted"         # made by a dotted key (a.b = 1)
INLINE = "inline"         # an inline table { ... }: closed to any addition
AOT = "array-of-tables"   # [[header]]


class Table(dict):
    """A dict that knows how it was defined."""

    def __init__(self, kind):
        super(Table, self).__init__()
        self.kind = kind


class StaticArray(list):
    """An array value ``[1, 2]``: [[header]] must not append to it."""


class TablesArray(list):
    """An array of tables made by ``[[header]]``."""


class DateTimeText(str):
    """A date, time or date-time value, kept as its text (nothing here needs a datetime object);
    a type of its own so that it never equals the string of the same text."""

    def __eq__(self, other):
        return isinstance(other, DateTimeText) and str.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = str.__hash__


class Header(object):
    """A ``[table]`` or ``[[table]]`` line: its key path and line number (0-based)."""

    def __init__(self, path, line, array, text):
        self.path = tuple(path)
        self.line = line
        self.array = array
        self.text = text


class Entry(object):
    """A ``key = value`` statement.

    ``table`` is the path of the table whose section it is in, ``key`` the
    (possibly dotted) key path as written, ``first``/``last`` its 0-based
    line numbers (a multi-line string or array spans several).
    """

    def __init__(self, table, key, value, first, last, header):
        self.table = tuple(table)
        self.key = tuple(key)
        self.value = value
        self.first = first
        self.last = last
        self.header = header

    @property
    def path(self):
        return self.table + self.key


class Document(object):
    def __init__(self, text, data, headers, entries):
        self.text = text
        self.data = data
        self.headers = headers
        self.entries = entries

    def header_for(self, path):
        """The ``[path]`` header line, or None."""
        for header in self.headers:
            if header.path == tuple(path) and not header.array:
                return header
        return None

    def section_entries(self, header):
        """The statements of the section that ``header`` starts."""
        return [entry for entry in self.entries if entry.header is header]

    def lookup(self, path):
        """The value at ``path`` (a tuple of keys) or None; an array of tables yields its list."""
        node = self.data
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    def table_kind(self, path):
        value = self.lookup(path)
        return value.kind if isinstance(value, Table) else None


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_WS = " \t"
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}
# Control characters TOML forbids in strings and comments (tab is allowed).
_CONTROL = re.compile(u"[\x00-\x08\x0a-\x1f\x7f]")
_DEC_INT = re.compile(r"[+-]?(?:0|[1-9](?:_?[0-9])*)\Z")
_HEX_INT = re.compile(r"0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*\Z")
_OCT_INT = re.compile(r"0o[0-7](?:_?[0-7])*\Z")
_BIN_INT = re.compile(r"0b[01](?:_?[01])*\Z")
_FLOAT = re.compile(r"[+-]?(?:0|[1-9](?:_?[0-9])*)"
                    r"(?:\.[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?\Z")
_SPECIAL_FLOAT = re.compile(r"[+-]?(?:inf|nan)\Z")
_DATE = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
# Seconds up to 59: Python's datetime, and so tomllib, has no leap second.
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_DATETIME = re.compile(r"(?:%s(?:[Tt ]%s%s?)?|%s)\Z" % (_DATE, _TIME, _OFFSET, _TIME))
# A scalar that is not a string: runs up to a delimiter.
_SCALAR = re.compile(r"[0-9A-Za-z_+.:-]+(?: [0-9][0-9:.+Zz-]*)?")


class _Parser(object):
    def __init__(self, text):
        if not isinstance(text, str):
            raise TypeError("TOML text must be str")
        self.text = text
        self.pos = 0
        self.line = 0

    # ------------------------------------------------------------ basics

    def error(self, message, line=None):
        raise TomlError(message, (self.line if line is None else line) + 1)

    def peek(self, count=1):
        return self.text[self.pos:self.pos + count]

    def eof(self):
        return self.pos >= len(self.text)

    def advance(self, count=1):
        chunk = self.text[self.pos:self.pos + count]
        self.line += chunk.count("\n")
        self.pos += count
        return chunk

    def skip_ws(self):
        while not self.eof() and self.text[self.pos] in _WS:
            self.pos += 1

    def skip_comment(self):
        if self.peek() == "#":
            end = self.text.find("\n", self.pos)
            comment = self.text[self.pos:len(self.text) if end == -1 else end]
            if end != -1 and comment.endswith("\r"):
                comment = comment[:-1]  # the \r of the line's \r\n, and only that one
                end -= 1
            if _CONTROL.search(comment[1:]):
                self.error("control character in a comment")
            self.pos = len(self.text) if end == -1 else end

    def expect_line_end(self, what):
        self.skip_ws()
        self.skip_comment()
        if self.eof():
            return
        if self.peek(2) == "\r\n":
            self.advance(2)
        elif self.peek() == "\n":
            self.advance()
        else:
            self.error("unexpected %r after %s (one statement per line)" % (self.peek(), what))

    def skip_blank(self):
        """Whitespace, comments and newlines between statements or array items."""
        while not self.eof():
            char = self.peek()
            if char in _WS:
                self.pos += 1
            elif char == "#":
                self.skip_comment()
            elif char == "\n":
                self.advance()
            elif self.peek(2) == "\r\n":
                self.advance(2)
            else:
                return

    # ------------------------------------------------------------ document

    def parse(self):
        root = Table(HEADER)
        current = root
        current_path = ()
        current_header = None
        headers = []
        entries = []
        while True:
            self.skip_blank()
            if self.eof():
                break
            if self.peek() == "[":
                line = self.line
                start = self.pos
                array = self.peek(2) == "[["
                self.advance(2 if array else 1)
                self.skip_ws()
                path = self.parse_key()
                self.skip_ws()
                closing = "]]" if array else "]"
                if self.peek(len(closing)) != closing:
                    self.error("table header not closed with %s" % closing)
                self.advance(len(closing))
                text = self.text[start:self.pos]
                self.expect_line_end("a table header")
                current = self.open_table(root, path, array, line)
                current_path = tuple(path)
                current_header = Header(path, line, array, text)
                headers.append(current_header)
                continue
            first = self.line
            key, value = self.parse_key_value(current, first)
            entries.append(Entry(current_path, key, value, first, self.line, current_header))
            self.expect_line_end("a value")
        return Document(self.text, root, headers, entries)

    def open_table(self, root, path, array, line):
        node = root
        for index, key in enumerate(path):
            last = index == len(path) - 1
            existing = node.get(key)
            if not last:
                if existing is None:
                    existing = node[key] = Table(IMPLICIT)
                elif isinstance(existing, TablesArray):
                    existing = existing[-1]
                elif not isinstance(existing, Table):
                    self.error("%s is a value, not a table" % _dotted(path[:index + 1]), line)
                if existing.kind == INLINE:
                    self.error("%s is an inline table and cannot be extended"
                               % _dotted(path[:index + 1]), line)
                node = existing
                continue
            if array:
                if existing is None:
                    existing = node[key] = TablesArray()
                elif not isinstance(existing, TablesArray):
                    self.error("%s is already defined and is not an array of tables"
                               % _dotted(path), line)
                table = Table(AOT)
                existing.append(table)
                return table
            if existing is None:
                table = node[key] = Table(HEADER)
                return table
            if isinstance(existing, Table) and existing.kind == IMPLICIT:
                existing.kind = HEADER
                return existing
            self.error("table %s is defined twice" % _dotted(path), line)
        return node

    def parse_key_value(self, table, line):
        key = self.parse_key()
        self.skip_ws()
        if self.peek() != "=":
            self.error("expected '=' after the key %s" % _dotted(key))
        self.advance()
        self.skip_ws()
        value = self.parse_value()
        node = table
        for index, part in enumerate(key[:-1]):
            existing = node.get(part)
            if existing is None:
                existing = node[part] = Table(DOTTED)
            elif isinstance(existing, Table) and existing.kind == IMPLICIT:
                existing.kind = DOTTED  # from now on no [header] may define it
            elif not isinstance(existing, Table) or existing.kind != DOTTED:
                self.error("key %s: %s is already defined and cannot be extended by a dotted key"
                           % (_dotted(key), _dotted(key[:index + 1])), line)
            node = existing
        if key[-1] in node:
            self.error("key %s is defined twice" % _dotted(key), line)
        node[key[-1]] = value
        return key, value

    def parse_key(self):
        parts = []
        while True:
            self.skip_ws()
            char = self.peek()
            if char == '"':
                if self.peek(3) == '"""':
                    self.error("a key cannot be a multi-line string")
                parts.append(self.parse_basic_string())
            elif char == "'":
                if self.peek(3) == "'''":
                    self.error("a key cannot be a multi-line string")
                parts.append(self.parse_literal_string())
            else:
                match = _BARE_KEY.match(self.text, self.pos)
                if not match:
                    self.error("expected a key, found %r" % (char or "end of file"))
                parts.append(match.group(0))
                self.pos = match.end()
            self.skip_ws()
            if self.peek() != ".":
                return parts
            self.advance()

    # ------------------------------------------------------------ values

    def parse_value(self):
        char = self.peek()
        if char == '"':
            if self.peek(3) == '"""':
                return self.parse_multiline_basic()
            return self.parse_basic_string()
        if char == "'":
            if self.peek(3) == "'''":
                return self.parse_multiline_literal()
            return self.parse_literal_string()
        if char == "[":
            return self.parse_array()
        if char == "{":
            return self.parse_inline_table()
        return self.parse_scalar()

    def parse_scalar(self):
        match = _SCALAR.match(self.text, self.pos)
        if not match:
            self.error("expected a value, found %r" % (self.peek() or "end of file"))
        raw = match.group(0)
        # "1979-05-27 07:32:00" is one datetime; "1 2" is not a value at all.
        if " " in raw and not _DATETIME.match(raw):
            raw = raw.split(" ")[0]
        self.pos += len(raw)
        if raw == "true":
            return True
        if raw == "false":
            return False
        if _DEC_INT.match(raw):
            return int(raw.replace("_", ""))
        for pattern, base in ((_HEX_INT, 16), (_OCT_INT, 8), (_BIN_INT, 2)):
            if pattern.match(raw):
                return int(raw[2:].replace("_", ""), base)
        if _SPECIAL_FLOAT.match(raw):
            return float(raw)
        if _FLOAT.match(raw) and ("." in raw or "e" in raw or "E" in raw):
            return float(raw.replace("_", ""))
        if _DATETIME.match(raw):
            if raw[4:5] == "-" and not _is_calendar_date(raw[:10]):
                self.error("%r is not a date of the calendar" % raw)
            return DateTimeText(raw)
        self.error("%r is not a TOML value (strings need quotes)" % raw)

    def parse_basic_string(self):
        self.advance()  # opening quote
        out = []
        while True:
            if self.eof():
                self.error("string not closed")
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(out)
            if char == "\n":
                self.error("newline in a one-line string")
            if char == "\\":
                out.append(self.parse_escape())
                continue
            if _CONTROL.match(char):
                self.error("control character in a string")
            out.append(char)
            self.pos += 1

    def parse_escape(self):
        code = self.peek(2)[1:]
        if code in _ESCAPES:
            self.pos += 2
            return _ESCAPES[code]
        if code in ("u", "U"):
            width = 4 if code == "u" else 8
            digits = self.text[self.pos + 2:self.pos + 2 + width]
            if len(digits) != width or not re.match(r"[0-9A-Fa-f]+\Z", digits):
                self.error("\\%s needs %d hex digits" % (code, width))
            number = int(digits, 16)
            if number > 0x10FFFF or 0xD800 <= number <= 0xDFFF:
                self.error("\\%s%s is not a Unicode scalar value" % (code, digits))
            self.pos += 2 + width
            return chr(number)
        self.error("invalid escape \\%s" % code)

    def parse_literal_string(self):
        self.advance()
        end = self.text.find("'", self.pos)
        newline = self.text.find("\n", self.pos)
        if end == -1 or (newline != -1 and newline < end):
            self.error("string not closed")
        value = self.text[self.pos:end]
        if _CONTROL.search(value):
            self.error("control character in a string")
        self.pos = end + 1
        return value

    def parse_multiline_basic(self):
        self.advance(3)
        if self.peek() == "\n":
            self.advance()
        elif self.peek(2) == "\r\n":
            self.advance(2)
        out = []
        while True:
            if self.eof():
                self.error("multi-line string not closed")
            if self.peek(3) == '"""':
                # up to two more quotes may close it: """a"""" is 'a"'
                extra = 0
                while extra < 2 and self.text[self.pos + 3 + extra:self.pos + 4 + extra] == '"':
                    extra += 1
                out.append('"' * extra)
                self.advance(3 + extra)
                return "".join(out)
            char = self.text[self.pos]
            if char == "\\":
                rest = self.text[self.pos + 1:]
                stripped = rest.lstrip(_WS)
                if stripped.startswith("\n") or stripped.startswith("\r\n"):
                    # line-ending backslash: drop whitespace and newlines up to the next text
                    self.advance(1)
                    while not self.eof() and (self.peek() in _WS + "\n" or self.peek(2) == "\r\n"):
                        self.advance(2 if self.peek(2) == "\r\n" else 1)
                    continue
                out.append(self.parse_escape())
                continue
            if char == "\n":
                out.append("\n")
                self.advance()
                continue
            if self.peek(2) == "\r\n":
                out.append("\n")  # a newline in the value is \n, as tomllib has it
                self.advance(2)
                continue
            if _CONTROL.match(char):
                self.error("control character in a string")
            out.append(char)
            self.pos += 1

    def parse_multiline_literal(self):
        self.advance(3)
        if self.peek() == "\n":
            self.advance()
        elif self.peek(2) == "\r\n":
            self.advance(2)
        end = self.text.find("'''", self.pos)
        if end == -1:
            self.error("multi-line string not closed")
        extra = 0
        while extra < 2 and self.text[end + 3 + extra:end + 4 + extra] == "'":
            extra += 1
        value = self.text[self.pos:end + extra]
        if _CONTROL.search(value.replace("\r\n", "").replace("\n", "")):
            self.error("control character in a string")
        self.advance(end + extra + 3 - self.pos)
        return value.replace("\r\n", "\n")

    def parse_array(self):
        self.advance()
        items = StaticArray()
        while True:
            self.skip_blank()
            if self.peek() == "]":
                self.advance()
                return items
            if self.eof():
                self.error("array not closed")
            items.append(self.parse_value())
            self.skip_blank()
            if self.peek() == ",":
                self.advance()
                continue
            if self.peek() == "]":
                self.advance()
                return items
            self.error("expected ',' or ']' in an array, found %r" % (self.peek() or "end of file"))

    def parse_inline_table(self):
        line = self.line
        self.advance()
        table = Table(DOTTED)  # dotted keys inside may extend each other
        self.skip_ws()
        if self.peek() == "}":
            self.advance()
            table.kind = INLINE
            return table
        while True:
            self.skip_ws()
            if self.peek() in ("\n", "\r"):
                self.error("newline inside an inline table")
            self.parse_key_value(table, self.line)
            self.skip_ws()
            if self.peek() == ",":
                self.advance()
                self.skip_ws()
                if self.peek() == "}":
                    self.error("trailing comma in an inline table")
                continue
            if self.peek() == "}":
                self.advance()
                _freeze(table)
                return table
            self.error("expected ',' or '}' in an inline table started on line %d" % (line + 1))


def _is_calendar_date(text):
    """A YYYY-MM-DD that exists: years 1 to 9999 (as Python's datetime, and so tomllib), days of the month."""
    try:
        datetime.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


def _freeze(table):
    table.kind = INLINE
    for value in table.values():
        if isinstance(value, Table):
            _freeze(value)


def _dotted(path):
    return ".".join(render_key(part) for part in path)


def parse(text):
    """Parse TOML ``text``; raise ``TomlError`` (with a line number) when it is not valid TOML."""
    if text.startswith(u"\ufeff"):
        raise TomlError("byte order mark at the start of the file", 1)
    return _Parser(text).parse()


def plain(value):
    """The parsed value as plain dicts and lists (for comparing documents)."""
    if isinstance(value, dict):
        return dict((key, plain(item)) for key, item in value.items())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def same_value(left, right):
    """Whether two parsed values (as ``plain`` gives them) are the same TOML value.

    Types are strict (``true`` is not ``1``, ``1.0`` is not ``1``, a date is not the string of
    its text); a float is the IEEE 754 value TOML means, so a ``nan`` equals a ``nan`` of the
    same sign and ``-0.0`` is not ``0.0``. Python's ``==`` gets all of these wrong.
    """
    if isinstance(left, dict) or isinstance(right, dict):
        return (isinstance(left, dict) and isinstance(right, dict) and set(left) == set(right)
                and all(same_value(left[key], right[key]) for key in left))
    if isinstance(left, list) or isinstance(right, list):
        return (isinstance(left, list) and isinstance(right, list) and len(left) == len(right)
                and all(same_value(a, b) for a, b in zip(left, right)))
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        if math.copysign(1.0, left) != math.copysign(1.0, right):
            return False
        return math.isnan(left) and math.isnan(right) or left == right
    return left == right


# ---------------------------------------------------------------- writing

def render_key(key):
    """A key as TOML writes it: bare when it can be, else a basic string."""
    if _BARE_KEY.match(key) and _BARE_KEY.match(key).end() == len(key):
        return key
    return render_string(key)


def render_string(value, literal=False):
    """A one-line string; ``literal`` asks for '...' (used only when the text allows it)."""
    if literal and "'" not in value and not _CONTROL.search(value) and "\t" not in value:
        return "'%s'" % value
    out = []
    for char in value:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif _CONTROL.match(char):
            out.append("\\u%04X" % ord(char))
        else:
            out.append(char)
    return '"%s"' % "".join(out)


def render_value(value, literal=False):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return render_string(value, literal)
    raise TypeError("cannot render %r" % (value,))


def render_header(path, quote='"'):
    """``[a."b.c"]``: parts that need quoting get ``quote`` (" or ')."""
    parts = []
    for part in path:
        if _BARE_KEY.match(part) and _BARE_KEY.match(part).end() == len(part):
            parts.append(part)
        else:
            parts.append(render_string(part, literal=(quote == "'")))
    return "[%s]" % ".".join(parts)


class LineEditor(object):
    """Replace, insert and delete whole lines of a text, addressed by their original numbers.

    Edits never overlap; they are applied together by ``text()``, so line
    numbers from the parsed document stay valid while edits are collected.
    """

    def __init__(self, text):
        # Only "\n" ends a line in TOML; str.splitlines would also split on
        # U+2028 or \x85, which may stand inside a string or a comment.
        parts = text.split("\n")
        self.lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
        self.replaced = {}    # first line -> (last line, new lines)
        self.inserted = {}    # before line n (len(lines) = at the end) -> new lines

    @property
    def newline(self):
        for line in self.lines:
            if line.endswith("\r\n"):
                return "\r\n"
        return "\n"

    def replace(self, first, last, new_lines):
        for start, span in self.replaced.items():
            if not (last < start or first > span[0]):
                raise ValueError("overlapping edits at lines %d-%d" % (first + 1, last + 1))
        self.replaced[first] = (last, list(new_lines))

    def delete(self, first, last):
        self.replace(first, last, [])

    def insert(self, before, new_lines):
        self.inserted.setdefault(before, []).extend(new_lines)

    def text(self):
        newline = self.newline
        lines = list(self.lines)
        if lines and not lines[-1].endswith("\n") and (len(lines) in self.inserted):
            lines[-1] += newline
        out = []
        index = 0
        while index <= len(lines):
            for new in self.inserted.get(index, []):
                out.append(new + newline)
            if index == len(lines):
                break
            if index in self.replaced:
                last, new_lines = self.replaced[index]
                ending = lines[last][len(lines[last].rstrip("\r\n")):] or newline
                out.extend(line + ending for line in new_lines)
                index = last + 1
                continue
            out.append(lines[index])
            index += 1
        return "".join(out)


def indent_of(line):
    return line[:len(line) - len(line.lstrip(_WS))]


def trailing_comment(line_text):
    """The ``# comment`` at the end of a one-line statement (with the spaces before it), or ''.

    Found by re-parsing the statement, so a '#' inside a string is not taken for one.
    """
    parser = _Parser(line_text.rstrip("\r\n"))
    parser.skip_ws()
    parser.parse_key()
    parser.skip_ws()
    parser.advance()  # '='
    parser.skip_ws()
    parser.parse_value()
    rest = parser.text[parser.pos:]
    return rest.rstrip() if rest.strip().startswith("#") else ""
