"""Convert an RDF graph of kg facts into a NetworkX multigraph.

rdflib's own NetworkX helpers put literals and classes in as nodes and drop the
predicate labels. This converter keeps what a graph tool needs:

* one node per entity IRI, with ``label``, ``types`` and its other literals as
  attributes (never a node per literal or per class, unless asked);
* one edge per fact: ``predicate`` (IRI), ``relation`` (local name), ``label`` (the
  relation's label), ``statement`` and ``evidence`` (IRIs), ``quote`` (the evidence
  text) and the fact's qualifiers, in a :class:`networkx.MultiDiGraph` keyed by the
  statement's IRI, so two facts between the same nodes stay two edges.

A triple between two entities with no statement node (RDF from elsewhere) still
becomes an edge, without evidence. networkx is imported here only, never by
``kg --help``.

Multi-valued attributes are ``"; "``-joined strings by default, since GraphML and
GEXF hold only scalars; ``to_networkx(..., lists=True)`` gives them as lists instead
(for JSON and Python users): always lists for the keys in :data:`NODE_LISTS` and
:data:`EDGE_LISTS`, a list for any other key only when it has several values.
:func:`evidence` gives the evidence of one statement as records (quote, offsets,
document), for the exports that need one row per quote.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, SKOS, VOID
from rdflib.term import Node

from .prefixes import curie
from .vocab import KG, OA, QUALIFIERS

if TYPE_CHECKING:
    import networkx as nx

#: Classes whose instances are machinery, not entities: never nodes.
MACHINERY = frozenset({
    RDF.Statement, KG.Evidence, KG.Document, OA.TextQuoteSelector, OA.TextPositionSelector,
    OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
    OWL.Ontology, RDF.Property, RDFS.Class, VOID.Dataset, VOID.Linkset, DCAT.Dataset,
})
#: SKOS mapping predicates: their objects become the ``xrefs`` attribute, not nodes.
MAPPING_PREDICATES = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch,
                      SKOS.relatedMatch)
#: Predicates that never become edges.
STRUCTURAL = frozenset({
    RDF.type, RDF.subject, RDF.predicate, RDF.object, PROV.wasDerivedFrom, OA.hasSource,
    OA.hasSelector, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range,
    OWL.inverseOf, *QUALIFIERS.values(), *MAPPING_PREDICATES,
})
#: Literal-valued predicates stored under a short attribute name.
ATTRIBUTES: dict[Node, str] = {
    RDFS.label: "label",
    SKOS.altLabel: "alt_labels",
    SKOS.definition: "definition",
    RDFS.comment: "comment",
}
SEPARATOR = "; "
#: Node attributes that are lists with ``lists=True``, whatever their number of values.
NODE_LISTS = frozenset({"alt_labels", "types", "xrefs"})
#: Edge attributes that are lists with ``lists=True``: one entry per evidence for
#: ``evidence``, ``document``, ``quote``, ``quote_start`` and ``quote_end``, in the
#: same order; one per value for the qualifiers.
EDGE_LISTS = frozenset({"evidence", "document", "quote", "quote_start", "quote_end",
                        *QUALIFIERS})


def local_name(iri: Node) -> str:
    """The part of an IRI after its last ``#`` or ``/``."""
    s = str(iri)
    return s.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if ("#" in s or "/" in s) else s


def _label(graph: Graph, node: Node) -> str:
    label = graph.value(node, RDFS.label)
    return str(label) if label is not None else local_name(node)


def entities(graph: Graph) -> set[URIRef]:
    """The IRIs that are entities: typed with a non-machinery class, or linked by a
    non-structural predicate to one, and never statements, evidence or ontology terms."""
    machinery = {s for s, o in graph.subject_objects(RDF.type) if o in MACHINERY}
    out: set[URIRef] = set()
    for s, o in graph.subject_objects(RDF.type):
        if isinstance(s, URIRef) and s not in machinery and o not in MACHINERY:
            out.add(s)
    for s, p, o in graph:
        if p in STRUCTURAL or not isinstance(s, URIRef) or not isinstance(o, URIRef):
            continue
        if s in machinery or o in machinery or p in ATTRIBUTES:
            continue
        out.update((s, o))
    return out


def to_networkx(graph: Graph, nodes: Iterable[URIRef] | None = None, *,
                literal_nodes: bool = False, class_nodes: bool = False,
                lists: bool = False) -> nx.MultiDiGraph:
    """Convert ``graph`` (or only ``nodes`` of it) to a :class:`networkx.MultiDiGraph`.

    ``literal_nodes`` adds a node per literal value (edges labelled by predicate);
    ``class_nodes`` adds a node per class with ``rdf:type`` edges; ``lists`` gives
    multi-valued attributes as lists instead of ``"; "``-joined strings.
    """
    import networkx as nx

    keep = entities(graph) if nodes is None else set(nodes)
    g = nx.MultiDiGraph()
    for node in sorted(keep, key=str):
        g.add_node(str(node), **node_attributes(graph, node, lists=lists))

    statements: dict[tuple[Node, Node, Node], list[Node]] = defaultdict(list)
    for st in graph.subjects(RDF.type, RDF.Statement):
        spo = (graph.value(st, RDF.subject), graph.value(st, RDF.predicate),
               graph.value(st, RDF.object))
        if spo[0] in keep and spo[2] in keep:
            statements[spo].append(st)  # type: ignore[index]

    edges: list[tuple[str, str, str, dict[str, Any]]] = []
    seen: set[tuple[Node, Node, Node]] = set()
    for spo, sts in statements.items():
        seen.add(spo)
        for st in sts:
            edges.append((str(spo[0]), str(spo[2]), str(st),
                          edge_attributes(graph, spo, st, lists=lists)))
    for s, p, o in graph:
        if (s, p, o) in seen or p in STRUCTURAL or s not in keep:
            continue
        if o in keep:
            key = f"{s} {p} {o}"
            edges.append((str(s), str(o), key, edge_attributes(graph, (s, p, o), None)))
        elif literal_nodes and isinstance(o, Literal):
            lit = f"literal:{o.n3()}"
            g.add_node(lit, label=str(o), types=["Literal"] if lists else "Literal")
            edges.append((str(s), lit, f"{s} {p} {lit}",
                          {"predicate": str(p), "relation": local_name(p),
                           "label": _label(graph, p)}))
    if class_nodes:
        for node in keep:
            for cls in graph.objects(node, RDF.type):
                g.add_node(str(cls), label=_label(graph, cls),
                           types=["Class"] if lists else "Class")
                edges.append((str(node), str(cls), f"{node} type {cls}",
                              {"predicate": str(RDF.type), "relation": "type", "label": "type"}))
    for u, v, key, attrs in sorted(edges, key=lambda e: (e[0], e[1], e[2])):
        g.add_edge(u, v, key=key, **attrs)
    return g


def _values(key: str, values: list[str], always_list: frozenset[str],
            lists: bool) -> str | list[str]:
    if not lists:
        return SEPARATOR.join(values)
    return values if key in always_list or len(values) > 1 else values[0]


def node_attributes(graph: Graph, node: Node, *, lists: bool = False) -> dict[str, Any]:
    """Attributes of an entity node: strings (GraphML and GEXF take only scalars), or
    with ``lists`` the multi-valued ones as lists."""
    attrs: dict[str, list[str]] = defaultdict(list)
    for p, o in graph.predicate_objects(node):
        if isinstance(o, Literal):
            attrs[ATTRIBUTES.get(p, local_name(p))].append(str(o))
    types = sorted(local_name(t) for t in graph.objects(node, RDF.type))
    for p in MAPPING_PREDICATES:
        for o in graph.objects(node, p):
            attrs["xrefs"].append(curie(str(o)))
    out: dict[str, Any] = {k: _values(k, sorted(v), NODE_LISTS, lists)
                           for k, v in attrs.items()}
    out["iri"] = str(node)
    out["types"] = types if lists else SEPARATOR.join(types)
    out.setdefault("label", local_name(node))
    return out


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence of a statement: the quote and where it is."""

    iri: str
    document: str  #: the document's IRI ("" if unknown)
    quote: str  #: ``oa:exact`` ("" if none)
    start: int | None  #: ``oa:start``: 0-based offset of the quote in the document
    end: int | None  #: ``oa:end``: exclusive


def _number(graph: Graph, node: Node, prop: Node) -> int | None:
    value = graph.value(node, prop)
    if isinstance(value, Literal):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    return None


def evidence(graph: Graph, statement: Node) -> list[Evidence]:
    """The evidence of ``statement`` (sorted by IRI), one record per evidence node."""
    out = []
    for ev in sorted(graph.objects(statement, PROV.wasDerivedFrom), key=str):
        quote, start, end = "", None, None
        for sel in graph.objects(ev, OA.hasSelector):
            exact = graph.value(sel, OA.exact)
            if exact is not None:
                quote = str(exact)
            if graph.value(sel, OA.start) is not None:
                start, end = _number(graph, sel, OA.start), _number(graph, sel, OA.end)
        docs = sorted(str(d) for d in graph.objects(ev, OA.hasSource))
        out.append(Evidence(str(ev), docs[0] if docs else "", quote, start, end))
    return out


def edge_attributes(graph: Graph, spo: tuple[Node, Node, Node],
                    statement: Node | None, *, lists: bool = False) -> dict[str, Any]:
    """Attributes of the edge for one fact (statement None: a bare triple): strings,
    or with ``lists`` the multi-valued ones as lists."""
    _, p, _ = spo
    attrs: dict[str, Any] = {"predicate": str(p), "relation": local_name(p),
                             "label": _label(graph, p)}
    if statement is None:
        return attrs
    attrs["statement"] = str(statement)
    ident = graph.value(statement, DCTERMS.identifier)
    if ident is not None:
        attrs["fact"] = str(ident)
    evidences = evidence(graph, statement)
    evidence_iris = [e.iri for e in evidences]
    documents = sorted({e.document for e in evidences if e.document})
    quotes = [e.quote for e in evidences if e.quote]
    if lists:
        attrs["evidence"] = evidence_iris
        attrs["document"] = [e.document for e in evidences]
        attrs["quote"] = [e.quote for e in evidences]
        attrs["quote_start"] = [e.start for e in evidences]
        attrs["quote_end"] = [e.end for e in evidences]
    else:
        attrs["evidence"] = SEPARATOR.join(evidence_iris)
        attrs["document"] = SEPARATOR.join(documents)
        attrs["quote"] = SEPARATOR.join(quotes)
    for key, prop in QUALIFIERS.items():
        values = sorted(_label(graph, v) for v in graph.objects(statement, prop))
        if values:
            attrs[key] = _values(key, values, EDGE_LISTS, lists)
    if graph.value(statement, KG.negated) == Literal(True):
        attrs["negated"] = True if lists else "true"
    note = graph.value(statement, SKOS.editorialNote)
    if note is not None:
        attrs["note"] = str(note)
    return attrs
