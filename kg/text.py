"""Plain-text helpers: sentence spans and quote location.

Offsets are 0-based Python string indices (Unicode code points), end exclusive,
the unit of W3C Web Annotation's TextPositionSelector.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? : or ; followed by white space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")
_LEAD = re.compile(r"[\s\u2022*\-]*")  # white space and list bullets before a sentence

#: prefix and suffix of a quote are cut to at most this many characters
CONTEXT_LIMIT = 400


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) spans of the sentences and list items of ``text``.

    A list item ("  • thyroid disease;") and a heading are sentences of their own.
    Leading bullets and white space are not part of a sentence.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _SENTENCE_END.finditer(text):
        _add_span(text, pos, match.start(), spans)
        pos = match.end()
    _add_span(text, pos, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    lead = _LEAD.match(text, start, end)
    start = lead.end() if lead else start
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def find_all(text: str, needle: str) -> list[int]:
    """Every start offset of ``needle`` in ``text`` (overlapping matches too)."""
    found: list[int] = []
    i = text.find(needle)
    while i != -1:
        found.append(i)
        i = text.find(needle, i + 1)
    return found


def context(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> tuple[str, str]:
    """The rest of the sentence(s) around ``text[start:end]``: (prefix, suffix)."""
    sent_start = max((s for s, _ in spans if s <= start), default=0)
    sent_end = min((e for _, e in spans if e >= end), default=len(text))
    sent_start = max(sent_start, start - CONTEXT_LIMIT)
    sent_end = min(sent_end, end + CONTEXT_LIMIT)
    return text[sent_start:start], text[end:sent_end]
