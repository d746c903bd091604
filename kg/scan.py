"""A small SPARQL scanner: enough to tell comments, strings, IRIs and language tags from
the code around them, so that a ``$name``, a ``{`` or a keyword inside a string or a
comment is never taken for code. It reads text that :func:`kg.check.canonical` made
(escapes expanded, line ends ``\\n``); rdflib's parser stays the judge of whether a
query is well formed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: The four query forms, as :attr:`kg.queries.QueryResult.type` spells them.
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
#: The keywords that start an update operation.
UPDATE_WORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD",
                          "MOVE", "COPY", "WITH"})

_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\r\n]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''
               | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               | '(?:[^'\\\r\n]|\\.)*'
               | "(?:[^"\\\r\n]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][0-9A-Za-z_\u00B7\u00C0-\U000EFFFF]+)
    | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<word>[A-Za-z_][\w.\-]*(?::[^\s{}()\[\];,<>"'\#/|^*+?!=&]*)?
             | :[^\s{}()\[\];,<>"'\#/|^*+?!=&]*)
    | (?P<open>[{(])
    | (?P<close>[})])
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int
    end: int


def tokens(text: str) -> Iterator[Token]:
    """The code tokens of ``text``: no comments, no white space."""
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind not in ("comment", "space"):
            yield Token(kind, m.group(), m.start(), m.end())


def query_form(text: str) -> str | None:
    """The first keyword of ``text`` that names a query form or an update operation
    (``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE``, ``INSERT``, ``LOAD``...)."""
    for tok in tokens(text):
        word = tok.text.upper()
        if tok.kind == "word" and (word in QUERY_FORMS or word in UPDATE_WORDS):
            return word
    return None


def where_start(text: str) -> int | None:
    """The offset just after the ``{`` that opens the WHERE clause of ``text``, or None.

    The clause is the first top-level group after the keyword WHERE; without the keyword
    (``ASK { ... }``, ``SELECT * { ... }``) it is the first top-level group, except in a
    CONSTRUCT, whose first group is the template.
    """
    depth = 0
    seen_where = False
    construct = query_form(text) == "CONSTRUCT"
    for tok in tokens(text):
        if tok.kind == "open":
            if depth == 0 and tok.text == "{" and (seen_where or not construct):
                return tok.end
            depth += 1
        elif tok.kind == "close":
            depth = max(depth - 1, 0)
        elif depth == 0 and tok.kind == "word" and tok.text.upper() == "WHERE":
            seen_where = True
    return None


def variables(text: str) -> tuple[set[str], set[str]]:
    """The names used as ``$name`` and as ``?name`` in the code of ``text``."""
    dollar: set[str] = set()
    question: set[str] = set()
    for tok in tokens(text):
        if tok.kind == "var":
            (dollar if tok.text[0] == "$" else question).add(tok.text[1:])
    return dollar, question
