"""Text that reaches a terminal (DESIGN.md 4): control and bidirectional characters never do.

An ESC in a campaign name can clear an operator's screen or rewrite their terminal's title, a CR can
overwrite what was printed before it, and U+202E turns ``txt.exe`` into what reads as ``exe.txt``.
People's input refuses them (``unsafe_character``, used by the models' validators), and anything that got
in before (documents stored by an older version, profile attributes, provider errors, trigger contexts)
is shown escaped by ``printable``, at every place that prints user text.
"""

from __future__ import annotations

import re
import unicodedata

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""Bidirectional marks, embeddings, overrides and isolates: they reorder what is shown around them."""
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_IN_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
"""The same, less tab and newline: descriptions may keep their lines."""
_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _pattern(multiline: bool) -> re.Pattern[str]:
    return _UNSAFE_IN_TEXT if multiline else _UNSAFE


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0x9F else f"<U+{code:04X}>"


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control and bidirectional character made visible (``\\x1b``, ``\\r``,
    ``<U+202E>``); ``multiline`` keeps tabs and newlines for text shown on several lines."""
    pattern = _pattern(multiline)
    if pattern.search(text) is None:  # the usual case: nothing to copy
        return text
    return pattern.sub(_visible, text)


def json_escaped(json_text: str) -> str:
    """JSON text with every control and bidirectional character written as a ``\\uXXXX`` escape: the same
    data for a program that reads it, inert on a terminal that shows it (``json.dumps`` leaves DEL, C1
    controls and bidi characters raw; JSON's own tabs and newlines between tokens are kept)."""
    return _UNSAFE_IN_TEXT.sub(lambda match: f"\\u{ord(match.group()):04x}", json_text)


def character_name(char: str) -> str:
    """``U+202E (RIGHT-TO-LEFT OVERRIDE)``: how an error names a character a person cannot see."""
    name = unicodedata.name(char, "") or {"\x1b": "ESCAPE", "\r": "CARRIAGE RETURN", "\n": "LINE FEED",
                                          "\t": "TAB", "\x00": "NUL", "\x7f": "DELETE"}.get(char, "a control character")
    return f"U+{ord(char):04X} ({name})"


def unsafe_character(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be stored, naming the first control or bidirectional character and its
    1-based position, or None when it is clean."""
    match = _pattern(multiline).search(text)
    if match is None:
        return None
    allowed = "; line breaks and tabs are fine" if multiline else ""
    return (f"contains {character_name(match.group())} at character {match.start() + 1}: "
            f"control and bidirectional characters are not allowed{allowed}; remove it")


def single_line(text: str | None) -> str | None:
    """A pydantic validator for names: no control character at all, not even a newline."""
    problem = text and unsafe_character(text)
    if problem:
        raise ValueError(problem)
    return text


def multi_line(text: str | None) -> str | None:
    """A pydantic validator for descriptions: newlines and tabs are kept, other controls refused."""
    problem = text and unsafe_character(text, multiline=True)
    if problem:
        raise ValueError(problem)
    return text
