"""The TOML reader against Python's tomllib: random documents, the same verdict and the same values.

The reader (plugins/module_utils/_toml.py) runs on targets with Python 3.6, which has no TOML;
its documentation says it refuses what is not TOML. tomllib (Python 3.11+) is the reference:
every generated document must be refused by both or accepted by both with equal values.
The documents are built from the grammar's pieces, valid and nearly valid (dates out of the
calendar, stray carriage returns, bad escapes, redefined tables...), so most land near a rule.
The seed is fixed: a failure names the documents and both verdicts, and reruns the same.
"""

import datetime
import math
import random
import re

import pytest

from ansible_collections.container_storage.devicemapper.plugins.module_utils import _toml

tomllib = pytest.importorskip("tomllib", reason="needs tomllib (Python 3.11+) as the reference reader")

SEED = 28
DOCUMENTS = 6000

# ---------------------------------------------------------------- the generator

KEY_NAMES = ["a", "b", "c", "x"]
CHARS = ["a", "Z", " ", "\t", "#", "=", "'", '"', "\\", ".", ",", "[", "]", "{", "}", "\u00e9", "\u2028",
         "\x85", "\x00", "\x01", "\x1f", "\x7f", "\r", "\n", "\ufeff", "\U0001F600"]
ESCAPES = ["\\n", "\\t", "\\b", "\\f", "\\r", '\\"', "\\\\", "\\e", "\\x41", "\\a", "\\ ", "\\u00e9", "\\u00E9",
           "\\uD800", "\\uDFFF", "\\u12", "\\U0001F600", "\\U00110000", "\\U0010FFFF", "\\/"]
SAFE_CHARS = [char for char in CHARS if char in "aZ \t#=.,[]{}\u00e9\u2028\x85\U0001F600"]
VALID_ESCAPES = ("\\n", "\\t", "\\b", "\\f", "\\r", '\\"', "\\\\", "\\u00e9", "\\u00E9", "\\U0001F600",
                 "\\U0010FFFF")
SAFE_ESCAPES = [escape for escape in ESCAPES if escape in VALID_ESCAPES]
NEWLINES = ["\n"] * 12 + ["\r\n"] * 3 + ["\r", "\r\r\n", "\n\r"]


class Generator(object):
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.wild = True

    def pick(self, items, wild=()):
        """One of items, or of wild (the pieces that break a rule) in a wild document."""
        return self.rnd.choice(list(items) + (list(wild) if self.wild else []))

    def chance(self, probability):
        return self.rnd.random() < probability

    def ws(self):
        return self.pick(["", "", "", " ", "  ", "\t", " \t"])

    def digits(self, count, alphabet="0123456789"):
        return "".join(self.pick(alphabet) for _count in range(count))

    def underscored(self, text):
        if not text or not self.chance(0.25):
            return text
        if not self.wild:
            if len(text) < 2 or not text[0].isdigit() or not text[-1].isdigit() or "_" in text:
                return text
            position = self.rnd.randint(1, len(text) - 1)
            return text[:position] + "_" + text[position:]
        position = self.rnd.randint(0, len(text))
        return text[:position] + self.pick(["_", "_", "__"]) + text[position:]

    # ------------------------------------------------ scalars

    def integer(self):
        kind = self.pick(["dec", "dec", "dec", "hex", "oct", "bin"])
        sign = self.pick(["", "", "+", "-"])
        if kind == "dec":
            body = self.pick(["0"], ["00", "01", ""]) if self.chance(0.2) else str(self.rnd.randint(0, 10 ** 20))
            return sign + self.underscored(body)
        prefix, alphabet = {"hex": ("0x", "0123456789abcdefABCDEF"), "oct": ("0o", "01234567"),
                            "bin": ("0b", "01")}[kind]
        if self.wild:
            alphabet += self.pick(["", "g", "8", "2"])
            if self.chance(0.1):
                prefix = prefix.upper()
        if not self.wild or not self.chance(0.15):
            sign = ""
        return sign + prefix + self.underscored(self.digits(self.rnd.randint(0 if self.wild else 1, 6), alphabet))

    def floating(self):
        if self.chance(0.2):
            return self.pick(["", "+", "-"]) + self.pick(["inf", "nan"], ["Inf", "NaN", "infinity", "nan0", "in"])
        sign = self.pick(["", "", "+", "-"])
        whole = self.pick(["0", "1", "12", "3_1"], ["00", "01", ""])
        text = sign + self.underscored(whole)
        fraction = self.chance(0.7)
        if fraction:
            text += "." + self.underscored(self.pick(["0", "5", "25"], ["", "1e2", "_5"]))
        if self.chance(0.5) or not fraction:
            text += self.pick(["e", "E"]) + self.pick(["", "+", "-"]) + self.underscored(
                self.pick(["1", "10", "0", "01", "308", "400"], [""]))
        return text

    def datetime(self):
        year = self.pick(["1979", "2000", "1900", "2024", "0000", "0001", "9999", "197"])
        month = "%02d" % self.rnd.randint(0, 13)
        day = "%02d" % self.pick([1, 9, 10, 27, 28, 29, 30, 31, 32, 0])
        date = "%s-%s-%s" % (year, month, day)
        hour = "%02d" % self.pick([0, 7, 12, 23, 24])
        minute = "%02d" % self.pick([0, 32, 59, 60])
        time = "%s:%s" % (hour, minute)
        if not self.chance(0.05):  # seconds are required in TOML 1.0
            time += ":" + "%02d" % self.pick([0, 1, 59, 60, 61])
        if self.chance(0.3):
            time += "." + self.digits(self.pick([0, 1, 3, 6, 7, 9]))
        offset = self.pick(["", "", "Z", "z", "+00:00", "-07:00", "+23:59", "+24:00", "-07:60", "+0700", "+07"])
        shape = self.pick(["datetime", "datetime", "date", "time"])
        if shape == "date":
            return date
        if shape == "time":
            return time
        return date + self.pick(["T", "T", "t", " ", "_", "  "]) + time + offset

    # ------------------------------------------------ strings

    def string_body(self, multiline):
        parts = []
        for _count in range(self.rnd.randint(0, 6)):
            roll = self.rnd.random()
            if roll < 0.4:
                parts.append(self.pick(["abc", "x y", "\u00e9t\u00e9", "tab\there"]))
            elif roll < 0.7:
                parts.append(self.pick(CHARS if self.wild else SAFE_CHARS))
            elif roll < 0.85:
                parts.append(self.pick(ESCAPES if self.wild else SAFE_ESCAPES))
            elif multiline:
                parts.append(self.pick(["\n", "\r\n", "\\\n", "\\  \n  ", "\\\r\n", "\\ \t", '""', "''",
                                        "'''", '"""']))
            elif self.wild:
                parts.append(self.pick(["\\", "'", '"']))
        return "".join(parts)

    def string(self):
        kind = self.pick(["basic", "basic", "literal", "multi_basic", "multi_literal"])
        if kind == "basic":
            return '"%s"' % self.string_body(False)
        if kind == "literal":
            return "'%s'" % self.string_body(False).replace("'", "")
        quote = '"""' if kind == "multi_basic" else "'''"
        start = self.pick(["", "", "\n", "\r\n", "\r"])
        end = quote + self.pick(["", "", "", quote[0], quote[0] * 2, quote[0] * 3])
        return quote + start + self.string_body(True) + end

    # ------------------------------------------------ keys and values

    def simple_key(self):
        roll = self.rnd.random()
        name = self.pick(KEY_NAMES)
        if roll < 0.7:
            return name
        if roll < 0.8:
            return '"%s"' % self.pick([name, "", "a.b", "\\u0061"], ["\x01", "\\q"])
        if roll < 0.9 or not self.wild:
            return "'%s'" % self.pick([name, "", "a.b", "\\n"])
        return self.pick(["1", "-", "_", "true", "a b", "\u00e9", "a\tb", "1.2", "+a", '"""a"""'])

    def key(self):
        parts = [self.simple_key() for _count in range(self.pick([1, 1, 1, 2, 2, 3]))]
        return ("%s.%s" % (self.ws(), self.ws())).join(parts) if self.chance(0.2) else ".".join(parts)

    def value(self, depth=0):
        roll = self.rnd.random()
        if depth < 2 and roll < 0.12:
            return self.array(depth + 1)
        if depth < 2 and roll < 0.22:
            return self.inline_table(depth + 1)
        if roll < 0.45:
            return self.integer()
        if roll < 0.6:
            return self.floating()
        if roll < 0.72:
            return self.datetime()
        if roll < 0.76:
            return self.pick(["true", "false"], ["True", "tru", "falsey"])
        if roll < 0.78 and self.wild:
            return self.pick(["", "a", "=", "1 2", "[", "{"])
        return self.string()

    def array(self, depth):
        items = [self.value(depth) for _count in range(self.rnd.randint(0, 3))]
        separators = []
        for _count in items:
            separator = self.ws() + "," + self.ws()
            if self.chance(0.15):
                separator += self.pick(["\n", "\r\n", " # note\n", "\r"]) + self.ws()
            if self.chance(0.03):
                separator = self.pick(["", ",,", " "])
            separators.append(separator)
        text = "[" + self.ws()
        for index, item in enumerate(items):
            text += item
            if index < len(items) - 1 or self.chance(0.3):
                text += separators[index]
        return text + self.ws() + "]"

    def inline_table(self, depth):
        pairs = ["%s%s=%s%s" % (self.key(), self.ws(), self.ws(), self.value(depth))
                 for _count in range(self.rnd.randint(0, 3))]
        text = "{" + self.ws() + (self.ws() + "," + self.ws()).join(pairs)
        if pairs and self.chance(0.08):
            text += ","
        if self.chance(0.04):
            text += self.pick(["\n", " # c\n"])
        return text + self.ws() + "}"

    # ------------------------------------------------ lines and documents

    def comment(self):
        return "#" + "".join(self.pick(SAFE_CHARS, ["\r", "\x7f", "\x00", "\x85"])
                             for _count in range(self.rnd.randint(0, 4)))

    def statement(self):
        roll = self.rnd.random()
        if roll < 0.55:
            text = "%s%s%s=%s%s" % (self.ws(), self.key(), self.ws(), self.ws(), self.value())
        elif roll < 0.75:
            text = "%s[%s%s%s]" % (self.ws(), self.ws(), self.key(), self.ws())
        elif roll < 0.85:
            text = "%s[[%s%s%s]]" % (self.ws(), self.ws(), self.key(), self.ws())
        elif roll < 0.95:
            text = self.ws() + self.comment()
        else:
            text = self.ws()
        if self.chance(0.15):
            text += self.ws() + self.comment()
        return text

    def document(self):
        self.wild = self.chance(0.5)
        lines = [self.statement() for _count in range(self.rnd.randint(1, 7))]
        text = ""
        for index, line in enumerate(lines):
            text += line
            if index < len(lines) - 1 or self.chance(0.7):
                text += self.pick(["\n"] * 4 + ["\r\n"], NEWLINES)
        if self.wild and self.chance(0.2) and text:
            # one byte inserted, removed or doubled anywhere
            position = self.rnd.randrange(len(text))
            text = self.pick([
                text[:position] + self.pick(CHARS) + text[position:],
                text[:position] + text[position + 1:],
                text[:position] + text[position] + text[position:],
            ])
        return text


# ---------------------------------------------------------------- comparing

_OUR_DATETIME = re.compile(
    r"(?:(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d))?[Tt ]?"
    r"(?:(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)(?:\.(?P<frac>\d+))?)?"
    r"(?P<z>[Zz]|(?P<sign>[+-])(?P<oh>\d\d):(?P<om>\d\d))?\Z")


def _our_datetime(text):
    """The moment the reader's text names, in the shape _their_datetime gives tomllib's object."""
    match = _OUR_DATETIME.match(text)
    assert match, "the reader returned %r as a date or time" % text
    parts = match.groupdict()
    date = (int(parts["y"]), int(parts["mo"]), int(parts["d"])) if parts["y"] else None
    time = None
    if parts["h"]:
        micro = int((parts["frac"] or "")[:6].ljust(6, "0"))
        time = (int(parts["h"]), int(parts["mi"]), int(parts["s"]), micro)
    offset = None
    if parts["z"]:
        offset = 0 if parts["z"] in "Zz" else (1 if parts["sign"] == "+" else -1) * (
            int(parts["oh"]) * 60 + int(parts["om"]))
    return ("moment", date, time, offset)


def _their_datetime(value):
    if isinstance(value, datetime.datetime):
        offset = None
        if value.tzinfo is not None:
            offset = int(value.utcoffset().total_seconds() // 60)
        return ("moment", (value.year, value.month, value.day),
                (value.hour, value.minute, value.second, value.microsecond), offset)
    if isinstance(value, datetime.date):
        return ("moment", (value.year, value.month, value.day), None, None)
    return ("moment", None, (value.hour, value.minute, value.second, value.microsecond), None)


def comparable(value, ours):
    """A value as plain data whose == is TOML's: types strict, nan equal to nan, -0.0 not 0.0,
    dates as the moment they name (the reader keeps their text, tomllib makes objects)."""
    if isinstance(value, dict):
        return ("table", sorted((key, comparable(item, ours)) for key, item in value.items()))
    if isinstance(value, list):
        return ("array", [comparable(item, ours) for item in value])
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        assert not ours, "the reader returned a %s" % type(value).__name__
        return _their_datetime(value)
    if isinstance(value, _toml.DateTimeText):
        assert ours
        return _our_datetime(value)
    assert isinstance(value, str), "unexpected %r" % (value,)
    return ("string", value)


def verdicts(text):
    """(ours, theirs): each 'refused' or the comparable value; another exception of ours is a bug."""
    try:
        document = _toml.parse(text)
    except _toml.TomlError:
        ours = "refused"
    except Exception as exc:  # noqa: BLE001 - any other exception is a bug in the reader
        ours = "crashed: %r" % exc
    else:
        ours = comparable(_toml.plain(document.data), True)
    try:
        theirs = comparable(tomllib.loads(text), False)
    except tomllib.TOMLDecodeError:
        theirs = "refused"
    return ours, theirs


def test_the_reader_agrees_with_tomllib_on_random_documents():
    generator = Generator(SEED)
    disagreements = []
    accepted = 0
    for number in range(DOCUMENTS):
        text = generator.document()
        ours, theirs = verdicts(text)
        if ours != theirs:
            disagreements.append("document %d %r:\n  reader:  %s\n  tomllib: %s" % (
                number, text, ours if isinstance(ours, str) else "accepted %r" % (ours,),
                theirs if isinstance(theirs, str) else "accepted %r" % (theirs,)))
        elif theirs != "refused":
            accepted += 1
    assert not disagreements, "%d of %d documents:\n%s" % (
        len(disagreements), DOCUMENTS, "\n".join(disagreements[:25]))
    # the generator must keep producing both kinds, or the test proves little
    assert DOCUMENTS * 0.2 < accepted < DOCUMENTS * 0.8, accepted


# The examples and what the random documents found, kept as named cases.
@pytest.mark.parametrize("text", [
    "d = 1979-02-30\n",
    "d = 1900-02-29\n",
    "d = 1979-04-31T00:00:00Z\n",
    "d = 0000-01-01\n",
    "t = 07:32:60\n",
    "d = 1979-05-27T07:32:60Z\n",
    "a = 1 # comment\r\r\n",
    "# comment\r\r\n",
    "# comment\r",
])
def test_the_reader_refuses_what_tomllib_refuses(text):
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    with pytest.raises(_toml.TomlError):
        _toml.parse(text)


@pytest.mark.parametrize("text", [
    "d = 2000-02-29\n",
    "d = 1979-05-27T07:32:59.9999999+23:59\n",
])
def test_the_reader_accepts_what_tomllib_accepts(text):
    assert verdicts(text)[0] == verdicts(text)[1] != "refused"
