"""Select part of a graph: around a node, for a population, by relation, along a path.

A *fact* here is one edge between two entities: an ``rdf:Statement`` node with its
truthy triple (from ``kg build``), or a bare triple between two entities (RDF from
elsewhere). Selection works on facts and returns an RDF subgraph holding the selected
facts, the entities they connect, and, unless ``provenance=False``, their statement,
evidence and document nodes, so it can be exported or drawn like the whole graph.

Filters combine: ``relations`` and ``population`` narrow the facts first; ``around``
and ``path`` then work on what is left.
"""

from __future__ import annotations

import difflib
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import PROV, SKOS
from rdflib.term import Node

from .errors import UsageError
from .network import STRUCTURAL, entities, local_name
from .vocab import KG, OA, PREFIXES, QUALIFIERS


@dataclass(frozen=True)
class Selection:
    """What to select; empty means everything."""

    around: str | None = None
    depth: int = 1
    population: str | None = None
    relations: tuple[str, ...] = ()
    path: tuple[str, str] | None = None
    undirected: bool = False
    #: a CONSTRUCT (or DESCRIBE) query, named or a .rq file, whose result the other
    #: options then select from
    query: str | None = None

    def is_empty(self) -> bool:
        return not (self.around or self.population or self.relations or self.path
                    or self.query)

    def filters(self) -> bool:
        """True if any option other than ``query`` is set."""
        return bool(self.around or self.population or self.relations or self.path)


@dataclass(frozen=True)
class Fact:
    subject: URIRef
    predicate: URIRef
    object: URIRef
    statement: URIRef | None = None
    populations: frozenset[Node] = field(default_factory=frozenset)
    negated: bool = False


# --------------------------------------------------------------------------- names


class NameIndex:
    """Find an entity by IRI, CURIE, id, label or alternative label, ignoring case."""

    def __init__(self, graph: Graph, nodes: Iterable[URIRef] | None = None) -> None:
        self.graph = graph
        self.by_name: dict[str, set[URIRef]] = defaultdict(set)
        for node in nodes if nodes is not None else entities(graph):
            names = {str(node), local_name(node)}
            names.update(str(o) for o in graph.objects(node, RDFS.label))
            names.update(str(o) for o in graph.objects(node, SKOS.altLabel))
            for name in names:
                self.by_name[name.casefold()].add(node)

    def resolve(self, name: str, option: str = "NODE") -> URIRef:
        """The one entity ``name`` designates, or a UsageError with the closest matches."""
        key = _expand_curie(name.strip()).casefold()
        found = self.by_name.get(key) or self.by_name.get(name.strip().casefold())
        if found and len(found) == 1:
            return next(iter(found))
        if found:
            choices = ", ".join(sorted(self._display(n) for n in found))
            raise UsageError(f"{option} {name!r} is ambiguous: it names {choices}; "
                             "give the id or IRI")
        close = difflib.get_close_matches(name.casefold(), list(self.by_name), n=5, cutoff=0.6)
        hint = ""
        if close:
            shown = sorted({self._display(n) for c in close for n in self.by_name[c]})
            hint = f"; closest matches: {', '.join(shown)}"
        raise UsageError(f"{option}: no entity named {name!r}{hint}")

    def _display(self, node: URIRef) -> str:
        label = self.graph.value(node, RDFS.label)
        return f"{local_name(node)} ({label})" if label is not None else local_name(node)


def _expand_curie(name: str) -> str:
    prefix, sep, rest = name.partition(":")
    if sep and prefix in PREFIXES and not rest.startswith("//"):
        return str(PREFIXES[prefix]) + rest
    return name


def resolve_relation(graph: Graph, name: str) -> URIRef:
    """A relation by local name (``causes``), CURIE (``kg:causes``) or IRI."""
    candidates = {p for _, p, _ in graph if isinstance(p, URIRef)}
    expanded = _expand_curie(name)
    for p in candidates:
        if str(p) == expanded or local_name(p) == name:
            return p
    known = sorted({local_name(p) for p in candidates
                    if str(p).startswith(str(KG)) and p not in QUALIFIERS.values()})
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else f"; known: {', '.join(known)}"
    raise UsageError(f"--relation: no relation {name!r} in the graph{hint}")


# --------------------------------------------------------------------------- facts


def facts(graph: Graph) -> list[Fact]:
    """Every fact between two entities of ``graph``, statements first."""
    ents = entities(graph)
    out: list[Fact] = []
    covered: set[tuple[Node, Node, Node]] = set()
    for st in graph.subjects(RDF.type, RDF.Statement):
        s, p, o = (graph.value(st, RDF.subject), graph.value(st, RDF.predicate),
                   graph.value(st, RDF.object))
        if not (isinstance(s, URIRef) and isinstance(p, URIRef) and isinstance(o, URIRef)):
            continue  # a definition or other literal-valued statement
        if s not in ents or o not in ents:
            continue
        covered.add((s, p, o))
        out.append(Fact(s, p, o, statement=st,  # type: ignore[arg-type]
                        populations=frozenset(graph.objects(st, KG.population)),
                        negated=graph.value(st, KG.negated) == Literal(True)))
    for s, p, o in graph:
        if (s, p, o) in covered or p in STRUCTURAL or p in _LITERAL_PREDICATES:
            continue
        if s in ents and o in ents:
            out.append(Fact(s, p, o))  # type: ignore[arg-type]
    return sorted(out, key=lambda f: (str(f.subject), str(f.predicate), str(f.object),
                                      str(f.statement)))


_LITERAL_PREDICATES = frozenset({RDFS.label, SKOS.altLabel, SKOS.definition, RDFS.comment})


def populations(graph: Graph) -> tuple[set[Node], set[Node]]:
    """(every population, the general ones) of ``graph``, by their classes."""
    pops, general = set(), set()
    for node, cls in graph.subject_objects(RDF.type):
        if cls == KG.GeneralPopulation:
            general.add(node)
        if cls in (KG.Population, KG.GeneralPopulation):
            pops.add(node)
    return pops, general


def concerns(fact: Fact, population: Node, pops: set[Node], general: set[Node]) -> bool:
    """True if ``fact`` concerns ``population`` and not only another one.

    A fact concerns it when its population qualifiers (if any) include it or a general
    population, and neither its subject nor its object is another, non-general population
    ("eclampsia endangers the fetus" concerns only the fetus)."""
    if fact.populations and not (population in fact.populations or fact.populations & general):
        return False
    return all(end == population or end in general or end not in pops
               for end in (fact.subject, fact.object))


# --------------------------------------------------------------------------- selecting


def select_facts(graph: Graph, selection: Selection) -> tuple[list[Fact], set[URIRef]]:
    """The facts ``selection`` keeps, and the entities to include (their endpoints, plus
    the ``around`` node and path ends even when they have no fact left)."""
    all_facts = facts(graph)
    index = NameIndex(graph)
    chosen = all_facts
    extra: set[URIRef] = set()
    if selection.relations:
        wanted = {resolve_relation(graph, r) for r in selection.relations}
        chosen = [f for f in chosen if f.predicate in wanted]
    if selection.population:
        pop = index.resolve(selection.population, "--population")
        pops, general = populations(graph)
        if pop not in pops:
            raise UsageError(f"--population: {selection.population!r} is not a population")
        chosen = [f for f in chosen if concerns(f, pop, pops, general)]
        extra.add(pop)
    if selection.around:
        if selection.depth < 0:
            raise UsageError("--depth must be 0 or more")
        centre = index.resolve(selection.around, "--around")
        ball = _ball(chosen, centre, selection.depth)
        chosen = [f for f in chosen if f.subject in ball and f.object in ball]
        extra.add(centre)
    if selection.path:
        a = index.resolve(selection.path[0], "--path")
        b = index.resolve(selection.path[1], "--path")
        chosen = _shortest_path_facts(chosen, a, b, selection.undirected)
        extra.update((a, b))
    nodes = {n for f in chosen for n in (f.subject, f.object)} | extra
    return chosen, nodes


def _adjacency(chosen: list[Fact], undirected: bool) -> dict[Node, set[Node]]:
    adj: dict[Node, set[Node]] = defaultdict(set)
    for f in chosen:
        adj[f.subject].add(f.object)
        if undirected:
            adj[f.object].add(f.subject)
    return adj


def _ball(chosen: list[Fact], centre: URIRef, depth: int) -> set[Node]:
    """Nodes within ``depth`` fact-edges of ``centre``, ignoring direction."""
    adj = _adjacency(chosen, undirected=True)
    seen: dict[Node, int] = {centre: 0}
    queue: deque[Node] = deque([centre])
    while queue:
        node = queue.popleft()
        if seen[node] == depth:
            continue
        for nxt in sorted(adj[node], key=str):
            if nxt not in seen:
                seen[nxt] = seen[node] + 1
                queue.append(nxt)
    return set(seen)


def _shortest_path_facts(chosen: list[Fact], a: URIRef, b: URIRef,
                         undirected: bool) -> list[Fact]:
    """The facts on every shortest path from ``a`` to ``b``."""
    adj = _adjacency(chosen, undirected)
    dist_a = _distances(adj, a)
    if b not in dist_a:
        how = "" if undirected else " following the relations' direction (try --undirected)"
        raise UsageError(f"--path: no path from {local_name(a)} to {local_name(b)}{how}")
    reverse: dict[Node, set[Node]] = defaultdict(set)
    for u, vs in adj.items():
        for v in vs:
            reverse[v].add(u)
    dist_b = _distances(reverse, b)
    total = dist_a[b]

    def on_path(u: Node, v: Node) -> bool:
        return (u in dist_a and v in dist_b and dist_a[u] + 1 + dist_b[v] == total)

    return [f for f in chosen
            if on_path(f.subject, f.object) or (undirected and on_path(f.object, f.subject))]


def _distances(adj: dict[Node, set[Node]], start: Node) -> dict[Node, int]:
    dist = {start: 0}
    queue: deque[Node] = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in adj.get(node, ()):
            if nxt not in dist:
                dist[nxt] = dist[node] + 1
                queue.append(nxt)
    return dist


# --------------------------------------------------------------------------- the subgraph


def select(graph: Graph, selection: Selection, provenance: bool = True) -> Graph:
    """The RDF subgraph ``selection`` picks out of ``graph``.

    With an empty selection and provenance, the whole graph. Otherwise: the selected
    facts' truthy triples; their entities' types, labels, alternative labels and
    definitions; the labels of the classes and relations used; and with provenance
    each fact's statement node, qualifiers, evidence and selectors, and the documents.
    """
    if selection.query:
        graph = construct(graph, selection.query)
    if not selection.filters() and provenance:
        return graph
    chosen, nodes = select_facts(graph, selection) if selection.filters() else (
        facts(graph), entities(graph))
    out = Graph(namespace_manager=graph.namespace_manager)
    used_terms: set[Node] = set()
    for node in nodes:
        for p, o in graph.predicate_objects(node):
            if isinstance(o, Literal) or p == RDF.type:
                out.add((node, p, o))
                if p == RDF.type:
                    used_terms.add(o)
    for f in chosen:
        if not f.negated:
            out.add((f.subject, f.predicate, f.object))
        used_terms.add(f.predicate)
        if provenance and f.statement is not None:
            for triple in _statement_closure(graph, f.statement):
                out.add(triple)
    if provenance:
        for node in nodes:  # definitions are facts too
            for st in graph.subjects(RDF.subject, node):
                if graph.value(st, RDF.predicate) == SKOS.definition:
                    for triple in _statement_closure(graph, st):
                        out.add(triple)
        for qualifier in QUALIFIERS.values():
            for value in set(out.objects(None, qualifier)):
                for p, o in graph.predicate_objects(value):
                    if isinstance(o, Literal) or p == RDF.type:
                        out.add((value, p, o))
    for term in used_terms:
        for p in (RDFS.label, RDFS.comment):
            for o in graph.objects(term, p):
                out.add((term, p, o))
        for kind in (OWL.Class, OWL.ObjectProperty):
            if (term, RDF.type, kind) in graph:
                out.add((term, RDF.type, kind))
    return out


def construct(graph: Graph, query: str) -> Graph:
    """The graph a CONSTRUCT or DESCRIBE query (named, a ``.rq`` file or text) makes
    from ``graph``, checked like every query (no SERVICE, FROM or update)."""
    from .queries import run

    result = run(graph, query)
    if result.graph is None:
        raise UsageError(f"--query: {query} is a {result.type} query; selection needs a "
                         "CONSTRUCT or DESCRIBE")
    return result.graph


def _statement_closure(graph: Graph, statement: Node) -> Iterator[tuple[Node, Node, Node]]:
    """A statement node, its evidence, selectors and source document."""
    yield from graph.triples((statement, None, None))
    for ev in graph.objects(statement, PROV.wasDerivedFrom):
        yield from graph.triples((ev, None, None))
        for sel in graph.objects(ev, OA.hasSelector):
            yield from graph.triples((sel, None, None))
        for doc in graph.objects(ev, OA.hasSource):
            yield from graph.triples((doc, None, None))
