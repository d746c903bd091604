"""The string-level N-Triples and Turtle writers round-trip through rdflib."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg import ntriples as nt
from kg.errors import DataError
from kg.vocab import PREFIXES

TRICKY = [
    'plain', 'with "quotes"', "back\\slash", "new\nline\r\n", "tab\there", "ünïcødé • ✓",
    'looks typed"^^<http://x>', "ends with >", "", "'single'", "a . b ; c , d",
]


def _graph() -> tuple[list[str], Graph]:
    lines, g = [], Graph()
    s = "https://w3id.org/health-kg/resource/x"
    for i, text in enumerate(TRICKY):
        p = f"https://w3id.org/health-kg/ontology#p{i}"
        lines.append(nt.line(nt.iri(s), nt.iri(p), nt.literal(text)))
        g.add((URIRef(s), URIRef(p), Literal(text)))
        lines.append(nt.line(nt.iri(s), nt.iri(p), nt.literal(text, lang="en")))
        g.add((URIRef(s), URIRef(p), Literal(text, lang="en")))
    dt = "http://www.w3.org/2001/XMLSchema#nonNegativeInteger"
    lines.append(nt.line(nt.iri(s), nt.iri(s), nt.integer(7, dt)))
    g.add((URIRef(s), URIRef(s), Literal("7", datatype=URIRef(dt))))
    for target in ("https://id.who.int/icd/release/10/2019/R25.2",
                   "http://purl.obolibrary.org/obo/HP_0003394",
                   "https://w3id.org/health-kg/doc/d/fact/f/evidence/1",
                   "https://w3id.org/health-kg/resource/ends-with-dot."):
        lines.append(nt.line(nt.iri(s), nt.iri(nt.RDF_TYPE), nt.iri(target)))
        g.add((URIRef(s), URIRef(nt.RDF_TYPE), URIRef(target)))
    return lines, g


def test_ntriples_round_trip() -> None:
    lines, want = _graph()
    data = nt.serialize_lines(lines)
    assert isomorphic(Graph().parse(data=data, format="nt"), want)
    assert data == nt.serialize_lines(reversed(lines))  # order-independent


def test_turtle_round_trip() -> None:
    lines, want = _graph()
    sorted_lines = nt.serialize_lines(lines).decode().splitlines()
    ttl = nt.turtle(sorted_lines, {p: str(ns) for p, ns in PREFIXES.items()})
    assert isomorphic(Graph().parse(data=ttl, format="turtle"), want)
    text = ttl.decode()
    assert "ICD10:R25.2" in text and "HP:0003394" in text
    assert "<https://w3id.org/health-kg/resource/ends-with-dot.>" in text  # not a pname
    assert "@prefix wd:" not in text  # only the prefixes used


@pytest.mark.parametrize("bad", ["http://x/a b", "http://x/<a>", 'http://x/"', "http://x/\n"])
def test_bad_iris_are_refused(bad: str) -> None:
    with pytest.raises(DataError, match="not a valid IRI"):
        nt.iri(bad)


def test_empty_graph_serialises() -> None:
    from rdflib import Graph

    from kg.build import serialize_nt, serialize_ttl

    data = serialize_ttl(serialize_nt(Graph()))
    assert len(Graph().parse(data=data, format="turtle")) == 0
