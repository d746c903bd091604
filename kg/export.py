"""Serialise a graph to the formats researchers' tools read.

Formats live in a small registry (:data:`FORMATS`): adding one is one entry.
This module imports nothing heavy at load time, so the CLI can list the formats
in its help without loading rdflib.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import UsageError

if TYPE_CHECKING:
    from rdflib import Graph


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    media_type: str
    description: str
    write: Callable[[Graph], bytes]


def _ttl(graph: Graph) -> bytes:
    from .build import serialize_nt, serialize_ttl

    return serialize_ttl(serialize_nt(graph))


def _nt(graph: Graph) -> bytes:
    from .build import serialize_nt

    return serialize_nt(graph)


def _jsonld(graph: Graph) -> bytes:
    from .vocab import PREFIXES

    context = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
    data: bytes = graph.serialize(format="json-ld", context=context, auto_compact=True,
                                  sort_keys=True, indent=2, encoding="utf-8")
    return data


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("ttl", ".ttl", "text/turtle", "Turtle", _ttl),
        Format("nt", ".nt", "application/n-triples", "N-Triples, one triple a line, sorted", _nt),
        Format("jsonld", ".jsonld", "application/ld+json",
               "JSON-LD, compacted with kg's prefixes", _jsonld),
    )
}


def export(graph: Graph, fmt: str) -> bytes:
    """``graph`` serialised in format ``fmt`` (a key of :data:`FORMATS`)."""
    try:
        writer = FORMATS[fmt].write
    except KeyError:
        raise UsageError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}") from None
    return writer(graph)
