"""An API's answer as JSON: decoded, or refused saying what it is instead.

The two API sources (``census``, ``comtrade``) save their answers as the APIs give them; the
fetch (orchestration/fetch/) checks an answer with these functions before it writes it, and
the parsers read the saved file with them again (a person may have saved an answer by hand).
Each fault is an :class:`AnswerError` in plain words: the fetch adds the URL, a parser the file.
"""

from __future__ import annotations

import json

from . import sniff as sniffing


class AnswerError(ValueError):
    """An answer that is not what the API documents; the message says what it is instead, and
    ``where`` the place in the answer (``row 12``), when there is one."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def _looks_like(data: bytes) -> str | None:
    """What an answer that is no JSON looks like, in words, when it is something recognisable."""
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    if start.startswith(b"<"):
        if b"<html" in data[: sniffing.HEAD].lower() or start.startswith(b"<!doctype html"):
            return "an HTML page (the service's error or sign-in page, not its data)"
        return "an XML document, not JSON"
    if data.startswith(b"PK\x03\x04"):
        return "a zip archive, not JSON"
    if b"\x00" in data[:512]:
        return "binary data, not JSON"
    return None


def decode(data: bytes) -> object:
    """The JSON value of ``data`` (UTF-8, a byte-order mark allowed); an :class:`AnswerError`
    when it is empty, a page or other file, cut off before its end, or no JSON at all."""
    if not data.strip():
        raise AnswerError("the answer is empty (no bytes)")
    looks = _looks_like(data)
    if looks:
        raise AnswerError(f"the answer is {looks}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnswerError(f"the answer is not UTF-8 text (byte {exc.start}): not JSON") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if not text[exc.pos :].strip() or _unclosed(text):
            raise AnswerError(
                f"the answer ends early, after {len(text)} characters, in the middle of its JSON "
                f"({exc.msg}): it was cut off"
            ) from None
        raise AnswerError(
            f"the answer is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


def _unclosed(text: str) -> bool:
    """Whether JSON text ends inside a string, or with an array or object still open: cut off."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return in_string or depth > 0


def kind_of(value: object) -> str:
    """A JSON value's kind in words (for 'expected …, found …')."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
