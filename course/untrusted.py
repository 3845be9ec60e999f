"""Untrusted text: cleaned once, where it enters, and guarded again at every sink.

Untrusted text is anything a submission or a student controls: error messages, type
and class names, printed output, and file and folder names. It enters the grader in
two places only: the sandbox's result channel (course.grading.sandbox.channel) and
the names of submitted files and folders (course.grading.submission,
course.instructor.submissions). Both call `clean` (or `name`) on it, so every later
stage holds text that

- is valid Unicode: lone surrogates (from a hostile message, or the surrogate escapes
  Python gives undecodable bytes in file names) become U+FFFD;
- holds no control characters but newline and tab, and no terminal escape sequence
  (the whole sequence is removed, not only its ESC: nothing can retitle the terminal,
  clear the screen or move the cursor to forge a line);
- holds no bidirectional overrides (nothing reads differently from how it sorts).

Names are stricter: one line, normalised to NFC (so an NFC and an NFD spelling of one
name are the same name), no invisible format characters.

Each sink still applies its own guard, for defence in depth and because some rules
depend on the sink: `terminal`, `csv_cell` (formula injection, OWASP), `xml` (characters
XML 1.0 cannot carry), `html`.
"""
from __future__ import annotations

import html as _html
import re
import unicodedata

REPLACEMENT = "\ufffd"

# Whole escape sequences first: CSI (ESC [ or 0x9b ... final byte), OSC / DCS / SOS / PM /
# APC strings (up to BEL or ST), then any other two-character ESC sequence.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)"
    r"|\x1b[ -/]*[0-~]?",
    re.DOTALL,
)
_SURROGATES = re.compile("[\ud800-\udfff]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all C0/C1 and DEL but \t and \n
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean(text: object) -> str:
    """Untrusted text made safe to hold and to show (see the module docstring)."""
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    elif not isinstance(text, str):
        text = str(text)
    text = _SURROGATES.sub(REPLACEMENT, text)
    text = text.replace("\r\n", "\n")
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub("", text)
    return _BIDI.sub("", text)


def name(text: object) -> str:
    """A file or folder name from a student: clean, NFC, one line, no invisible characters."""
    text = clean(text)
    text = unicodedata.normalize("NFC", text)
    text = "".join(REPLACEMENT if c in "\n\t" else c for c in text
                   if unicodedata.category(c) != "Cf")
    return text


def terminal(text: object) -> str:
    """For a terminal (idempotent on text that was cleaned at the boundary)."""
    return clean(text)


def csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP CSV injection).

    Numbers pass unchanged; text starting with = + - @ TAB or CR gets a leading '.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = clean(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def xml(text: object) -> str:
    """Text XML 1.0 can carry: characters it cannot hold at all are dropped."""
    return _NOT_XML.sub("", clean(text))


def html(text: object) -> str:
    """Escaped for HTML element text or a quoted attribute."""
    return _html.escape(clean(text), quote=True)
