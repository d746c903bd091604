"""Write N-Triples and Turtle directly from strings, fast and byte-stable.

The build makes a million triples for a corpus of 10,000 documents; going through
rdflib terms and serialisers for that takes minutes. Here a triple is a line of
N-Triples built by string formatting, the graph is the sorted set of its lines, and
Turtle is written from those sorted lines, grouping by subject, with kg's prefixes.
Both outputs parse back (with rdflib or Oxigraph) to the same graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .errors import DataError

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

# IRIREF may not contain these (N-Triples and Turtle grammar)
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
_ESCAPE = re.compile(r'[\\"\n\r]')
# a blank node label N-Triples can write (a safe subset of BLANK_NODE_LABEL)
_BNODE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
# a Turtle local name we can write unescaped (a safe subset of PN_LOCAL)
_LOCAL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$")


def iri(value: str) -> str:
    """``<value>``, refusing characters an IRI may not hold."""
    if _BAD_IRI.search(value):
        raise DataError(f"not a valid IRI: {value!r}")
    return f"<{value}>"


def literal(value: str, lang: str | None = None, datatype: str | None = None) -> str:
    """A literal in N-Triples form: language-tagged, typed, or a plain string."""
    quoted = '"' + _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], value) + '"'
    if lang:
        return f"{quoted}@{lang}"
    if datatype and datatype != XSD + "string":
        return f"{quoted}^^<{datatype}>"
    return quoted


def integer(value: int, datatype: str = XSD + "integer") -> str:
    return literal(str(value), datatype=datatype)


def boolean(value: bool) -> str:
    return literal("true" if value else "false", datatype=XSD + "boolean")


def rdflib_term(term: object) -> str:
    """An rdflib URIRef, Literal or BNode in N-Triples form (for triples that come from
    rdflib: the ontology, the dataset description, graphs to export)."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return iri(str(term))
    if isinstance(term, Literal):
        dt = str(term.datatype) if term.datatype is not None else None
        return literal(str(term), lang=term.language, datatype=dt)
    if isinstance(term, BNode) and _BNODE.fullmatch(str(term)):
        return f"_:{term}"
    raise DataError(f"not an RDF term kg can write: {term!r}")


def line(s: str, p: str, o: str) -> str:
    """One N-Triples line (no newline) from three formatted terms."""
    return f"{s} {p} {o} ."


def serialize_lines(lines: Iterable[str]) -> bytes:
    """Sorted, de-duplicated N-Triples."""
    return encode(sort_lines(lines))


def sort_lines(lines: Iterable[str]) -> list[str]:
    """The distinct lines, sorted: the canonical order of kg's outputs."""
    return sorted(lines if isinstance(lines, (set, frozenset)) else set(lines))


def encode(sorted_lines: list[str]) -> bytes:
    return ("\n".join(sorted_lines) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- Turtle


def _split(nt_line: str) -> tuple[str, str, str]:
    """(subject, predicate, object) of a line this module wrote (IRI subjects and
    predicates, so the first two spaces separate the terms)."""
    s, p, rest = nt_line.split(" ", 2)
    return s, p, rest[:-2]  # drop " ."


class _Abbreviator:
    """Write IRIs as prefixed names where kg's prefixes allow, memoised: a large graph
    repeats its predicates, classes and entities on every line."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.by_namespace = {ns: prefix for prefix, ns in prefixes.items()}
        self.used: set[str] = set()
        self.memo: dict[str, tuple[str, str | None]] = {}

    def __call__(self, term: str) -> str:
        hit = self.memo.get(term)
        if hit is None:
            hit = self.memo[term] = self._abbreviate(term)
        if hit[1] is not None:
            self.used.add(hit[1])
        return hit[0]

    def _abbreviate(self, term: str) -> tuple[str, str | None]:
        """(the term as written, the prefix it uses or None)."""
        if term.startswith("<"):
            value = term[1:-1]
            # a namespace ends with '#', '/' or '_' (OBO): try the last of each
            for sep in ("#", "/", "_"):
                cut = value.rfind(sep) + 1
                if cut:
                    prefix = self.by_namespace.get(value[:cut])
                    local = value[cut:]
                    if prefix is not None and (local == "" or _LOCAL.match(local)):
                        return f"{prefix}:{local}", prefix
            return term, None
        if term.endswith(">") and '"^^<' in term:
            lexical, _, dt = term.rpartition("^^<")
            short, prefix = self._abbreviate("<" + dt)
            return f"{lexical}^^{short}", prefix
        return term, None


def turtle(sorted_lines: Iterable[str], prefixes: dict[str, str]) -> bytes:
    """Turtle for N-Triples lines sorted by subject (as :func:`serialize_lines` gives)."""
    short = _Abbreviator(prefixes)
    rdf_type = f"<{RDF_TYPE}>"
    body: list[str] = []
    for subject, rows in _by_subject(sorted_lines):
        rows.sort(key=lambda row: row[0] != rdf_type)  # "a" first, the rest as sorted
        parts: list[str] = []
        for predicate, objects in rows:
            p = "a" if predicate == rdf_type else short(predicate)
            objs = ",\n        ".join(short(o) for o in objects)
            parts.append(f"{p} {objs}")
        body.append(short(subject) + " " + " ;\n    ".join(parts) + " .\n")
    if not body:
        return b""
    head = [f"@prefix {p}: <{prefixes[p]}> ." for p in sorted(short.used)]
    return ("\n".join(head) + "\n\n" + "\n".join(body)).encode("utf-8")


def _by_subject(lines: Iterable[str]) -> Iterator[tuple[str, list[tuple[str, list[str]]]]]:
    current: str | None = None
    rows: list[tuple[str, list[str]]] = []
    for nt_line in lines:
        s, p, o = _split(nt_line)
        if s != current:
            if current is not None:
                yield current, rows
            current, rows = s, []
        if rows and rows[-1][0] == p:
            rows[-1][1].append(o)
        else:
            rows.append((p, [o]))
    if current is not None:
        yield current, rows
