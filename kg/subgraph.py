"""Select part of a graph: around a node, for a population, by relation, along a path.

A *fact* here is one edge between two entities: an ``rdf:Statement`` node with its
truthy triple (from ``kg build``), or a bare triple between two entities (RDF from
elsewhere). Selection works on facts and returns an RDF subgraph holding the selected
facts, the entities they connect, and, unless ``provenance=False``, their statement,
evidence and document nodes, so it can be exported or drawn like the whole graph.

Filters combine: ``relations`` and ``population`` narrow the facts first; ``around``
and ``path`` then work on what is left.

:func:`select` works on an rdflib graph; :func:`select_on` gives the same subgraph of
a backend (an Oxigraph store, a SPARQL endpoint) without copying the whole store: it
fetches a small skeleton of the graph (statements, types, names and the links between
entities) to choose the facts, then only the triples the subgraph holds, with SPARQL
queries.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import PROV, SKOS
from rdflib.term import Node

from .errors import QueryError, UsageError
from .network import ATTRIBUTES, MACHINERY, STRUCTURAL, entities, local_name
from .vocab import KG, OA, PREFIXES, QUALIFIERS, bind_prefixes

if TYPE_CHECKING:
    from .queries import Term
    from .store import Backend

Triple = tuple[Node, Node, Node]


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

    def describe(self) -> str | None:
        """What the selection keeps, in words ("paths from diuretics to leg cramp"), for
        a page's title or a notebook's caption; None for the whole graph."""
        parts = []
        if self.query:
            parts.append(f"what {self.query} makes")
        if self.population:
            parts.append(f"facts for {self.population}")
        if self.relations:
            parts.append("relations " + ", ".join(self.relations))
        if self.around:
            steps = "" if self.depth == 1 else f", {self.depth} steps"
            parts.append(f"around {self.around}{steps}")
        if self.path:
            parts.append(f"paths from {self.path[0]} to {self.path[1]}")
        return "; ".join(parts) or None


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


def resolve_relation(graph: Graph, name: str,
                     predicates: Iterable[Node] | None = None) -> URIRef:
    """A relation by local name (``causes``), CURIE (``kg:causes``) or IRI, among the
    predicates of ``graph`` (or ``predicates``, when ``graph`` holds only part of it)."""
    used = predicates if predicates is not None else (p for _, p, _ in graph)
    candidates = {p for p in used if isinstance(p, URIRef)}
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


#: Relations that describe an entity (where in the body it is, what it is a kind of,
#: which nutrient it lacks) rather than say something about a population: under a
#: population they are kept only for an entity that takes part in another kept fact.
DESCRIPTIVE = frozenset({KG.associatedAnatomy, KG.subtypeOf, KG.deficiencyOf})


def for_population(all_facts: Iterable[Fact], population: Node, pops: set[Node],
                   general: set[Node]) -> list[Fact]:
    """The facts that concern ``population`` (see :func:`concerns`), and of the
    descriptive ones (:data:`DESCRIPTIVE`) only those whose subject takes part in one
    of the others: "flatfoot is in the foot" only where flatfoot is a cause shown."""
    kept = [f for f in all_facts if concerns(f, population, pops, general)]
    return describing_only_shown(kept)


def describing_only_shown(kept: list[Fact]) -> list[Fact]:
    """``kept`` less the descriptive facts about an entity no other fact of it names."""
    taking_part = {n for f in kept if f.predicate not in DESCRIPTIVE
                   for n in (f.subject, f.object)}
    return [f for f in kept if f.predicate not in DESCRIPTIVE or f.subject in taking_part]


def specific(fact: Fact, population: Node) -> bool:
    """True if ``fact`` is stated for ``population`` or names it as subject or object:
    what holds for that population and not for everyone."""
    return population in fact.populations or population in (fact.subject, fact.object)


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


def select_facts(graph: Graph, selection: Selection, *,
                 predicates: Callable[[], Iterable[Node]] | None = None,
                 ) -> tuple[list[Fact], set[URIRef]]:
    """The facts ``selection`` keeps, and the entities to include (their endpoints, plus
    the ``around`` node and path ends even when they have no fact left).

    ``predicates`` gives every predicate of the whole graph, for ``--relation``, when
    ``graph`` is a skeleton of it (see :func:`select_on`)."""
    all_facts = facts(graph)
    index = NameIndex(graph)
    chosen = all_facts
    extra: set[URIRef] = set()
    if selection.population:  # first: which descriptions to keep depends on every fact
        pop = index.resolve(selection.population, "--population")
        pops, general = populations(graph)
        if pop not in pops:
            raise UsageError(f"--population: {selection.population!r} is not a population")
        chosen = for_population(chosen, pop, pops, general)
        extra.add(pop)
    if selection.relations:
        known = list(predicates()) if predicates is not None else None
        wanted = {resolve_relation(graph, r, known) for r in selection.relations}
        chosen = [f for f in chosen if f.predicate in wanted]
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
    chosen, nodes = _choose(graph, selection)
    return _subgraph(_GraphReader(graph), chosen, nodes, provenance,
                     Graph(namespace_manager=graph.namespace_manager))


def select_on(backend: Backend, selection: Selection, provenance: bool = True) -> Graph:
    """The subgraph ``select(backend.graph(), selection, provenance)`` gives, without
    copying the whole store into rdflib.

    The facts are chosen on a skeleton of the graph fetched from ``backend`` (its
    statements, types, names and the links between entities: a quarter to a third of
    a build); then SELECT queries fetch the triples the subgraph holds, a batch of nodes
    at a time. An empty selection with provenance is the whole graph
    (``backend.graph()``). With ``selection.query`` the other options select from the
    graph that query makes (checked like any query). A blank node cannot be named in a
    query: a selection on a backend leaves out what hangs off one (kg's builds have
    none).
    """
    if selection.query:
        return select(construct(backend, selection.query), replace(selection, query=None),
                      provenance)
    if not selection.filters() and provenance:
        return backend.graph()
    reader = _BackendReader(backend)
    chosen, nodes = _choose(reader.skeleton(), selection, predicates=reader.predicates)
    return _subgraph(reader, chosen, nodes, provenance, bind_prefixes(Graph(store=LEAN_STORE)))


def construct(source: Graph | Backend, query: str) -> Graph:
    """The graph a CONSTRUCT or DESCRIBE query (named, a ``.rq`` file or text) makes
    from ``source`` (an rdflib graph or a backend), checked like every query (no
    SERVICE, FROM or update)."""
    from .queries import resolve, run, run_query

    result = (run(source, query) if isinstance(source, Graph)
              else run_query(source, resolve(query)))
    if result.graph is None:
        raise UsageError(f"--query: {query} is a {result.type} query; selection needs a "
                         "CONSTRUCT or DESCRIBE")
    return result.graph


def _choose(graph: Graph, selection: Selection,
            predicates: Callable[[], Iterable[Node]] | None = None,
            ) -> tuple[list[Fact], set[URIRef]]:
    """The facts and entities ``selection`` keeps: all of them when it filters none."""
    if selection.filters():
        return select_facts(graph, selection, predicates=predicates)
    return facts(graph), entities(graph)


def _subgraph(reader: _Reader, chosen: list[Fact], nodes: set[URIRef], provenance: bool,
              out: Graph) -> Graph:
    """``out`` with the facts ``chosen`` and, read from ``reader``, what :func:`select`
    keeps of them and of their entities ``nodes``."""
    used_terms: set[Node] = set()
    for s, p, o in _literals_and_types(reader.triples_of(nodes)):
        out.add((s, p, o))
        if p == RDF.type:
            used_terms.add(o)
    for f in chosen:
        if not f.negated:
            out.add((f.subject, f.predicate, f.object))
        used_terms.add(f.predicate)
    if provenance:
        statements: set[Node] = {f.statement for f in chosen if f.statement is not None}
        statements |= reader.definitions(nodes)  # definitions are facts too
        for triple in _closures(reader, statements):
            out.add(triple)
        values = {v for qualifier in QUALIFIERS.values() for v in out.objects(None, qualifier)}
        for triple in _literals_and_types(reader.triples_of(values)):
            out.add(triple)
    for s, p, o in reader.triples_of(used_terms):
        if p in (RDFS.label, RDFS.comment) or (
                p == RDF.type and o in (OWL.Class, OWL.ObjectProperty)):
            out.add((s, p, o))
    return out


def _literals_and_types(triples: Iterable[Triple]) -> Iterator[Triple]:
    """The triples whose object is a literal or whose predicate is rdf:type."""
    return (t for t in triples if isinstance(t[2], Literal) or t[1] == RDF.type)


def _closures(reader: _Reader, statements: Iterable[Node]) -> Iterator[Triple]:
    """The triples of statement nodes, of their evidence, and of the evidence's
    selectors and source documents."""
    evidence: set[Node] = set()
    for triple in reader.triples_of(statements):
        if triple[1] == PROV.wasDerivedFrom:
            evidence.add(triple[2])
        yield triple
    parts: set[Node] = set()
    for triple in reader.triples_of(evidence):
        if triple[1] in (OA.hasSelector, OA.hasSource):
            parts.add(triple[2])
        yield triple
    yield from reader.triples_of(parts)


class _Reader(Protocol):
    """Where :func:`_subgraph` reads the triples it copies."""

    def triples_of(self, nodes: Iterable[Node]) -> Iterator[Triple]:
        """Every triple whose subject is one of ``nodes``."""

    def definitions(self, nodes: Iterable[Node]) -> set[Node]:
        """The statements whose subject is one of ``nodes`` and whose predicate is
        skos:definition."""


@dataclass(frozen=True)
class _GraphReader:
    """Triples from an rdflib graph."""

    graph: Graph

    def triples_of(self, nodes: Iterable[Node]) -> Iterator[Triple]:
        for node in nodes:
            yield from self.graph.triples((node, None, None))

    def definitions(self, nodes: Iterable[Node]) -> set[Node]:
        return {st for node in nodes for st in self.graph.subjects(RDF.subject, node)
                if self.graph.value(st, RDF.predicate) == SKOS.definition}


# --------------------------------------------------------------------------- on a backend

#: how many nodes one query names (a VALUES block of some 30 kB)
BATCH = 500
#: the rdflib store of the graphs :func:`select_on` makes: the default store without
#: contexts, a tenth smaller and a fifth faster to fill (600k triples: 556 MB, not 625)
LEAN_STORE = "SimpleMemory"

#: characters an IRI written <...> in a query may not hold
_NOT_IN_IRI = re.compile(r"[<>\"{}|^`\\\x00-\x20]")


@dataclass
class _BackendReader:
    """Triples from a backend, by SELECT queries (on batches of nodes)."""

    backend: Backend
    #: pyoxigraph's IRIs as rdflib's, made once: one object per IRI however many triples
    #: hold it (a graph keeps the objects it is given), and fewer conversions
    iris: dict[Term, URIRef] = field(default_factory=dict)

    def triples_of(self, nodes: Iterable[Node]) -> Iterator[Triple]:
        for batch in _batches(nodes):
            yield from self.triples(
                f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {batch} }} ?s ?p ?o }}")

    def definitions(self, nodes: Iterable[Node]) -> set[Node]:
        return {st for batch in _batches(nodes) for st, in self.solutions(
            f"SELECT ?st WHERE {{ VALUES ?node {{ {batch} }} "
            "?st rdf:subject ?node ; rdf:predicate skos:definition }")}

    def skeleton(self) -> Graph:
        """What choosing facts reads of the graph: every type of the nodes that have a
        type other than machinery (so that statements and ontology terms are told from
        entities), the statements' types and every subject, predicate, object,
        population and negation of a statement, the triples between two IRIs that are
        not machinery (truthy facts, bare links), and every label and alternative label.

        :func:`facts`, :func:`~kg.network.entities`, :class:`NameIndex` and
        :func:`populations` give the same on it as on the whole graph;
        :func:`resolve_relation` needs :meth:`predicates` as well.
        """
        graph = Graph(store=LEAN_STORE)
        for text in _skeleton_queries():
            for triple in self.triples(text):
                graph.add(triple)
        return graph

    def predicates(self) -> list[Node]:
        """Every predicate of the graph."""
        return [p for p, in self.solutions("SELECT DISTINCT ?p WHERE { ?s ?p ?o }")]

    def triples(self, text: str) -> Iterator[Triple]:
        """The solutions of kg's own ``SELECT ?s ?p ?o`` query ``text``."""
        return ((s, p, o) for s, p, o in self.solutions(text))

    def solutions(self, text: str) -> Iterator[tuple[Node, ...]]:
        """The solutions of kg's own SELECT query ``text`` (no variable left unbound),
        as rdflib terms."""
        from .check import trusted

        for solution in self.backend.run(trusted(text, "SELECT")).solutions:
            yield tuple(self.term(value) for value in solution)

    def term(self, value: Term | None) -> Node:
        """A pyoxigraph term as rdflib's: the same object each time for an IRI."""
        from .results import to_rdflib

        if value is None:
            raise QueryError(f"{self.backend.label} left a variable unbound in a query "
                             "that binds them all")
        known = self.iris.get(value)
        if known is not None:
            return known
        term = to_rdflib(value)
        assert term is not None  # only None converts to None
        if isinstance(term, URIRef):
            self.iris[value] = term
        return term


def _skeleton_queries() -> tuple[str, ...]:
    machinery = ", ".join(_iris(MACHINERY))
    not_links = ", ".join(_iris(STRUCTURAL | ATTRIBUTES.keys()))
    return (
        "SELECT ?s ?p ?o WHERE { { SELECT DISTINCT ?s WHERE { ?s a ?type "
        f"FILTER(?type NOT IN ({machinery})) }} }} VALUES ?p {{ rdf:type }} ?s ?p ?o }}",

        "SELECT ?s ?p ?o WHERE { { ?s a rdf:Statement BIND(rdf:type AS ?p) "
        "BIND(rdf:Statement AS ?o) } UNION { VALUES ?p { rdf:subject rdf:predicate rdf:object "
        "kg:population kg:negated } ?s ?p ?o } }",

        "SELECT ?s ?p ?o WHERE { { SELECT ?s ?p ?o WHERE { ?s ?p ?o "
        f"FILTER(isIRI(?s) && isIRI(?o) && ?p NOT IN ({not_links})) }} }} "
        f"FILTER NOT EXISTS {{ ?s a ?m FILTER(?m IN ({machinery})) }} "
        f"FILTER NOT EXISTS {{ ?o a ?m FILTER(?m IN ({machinery})) }} }}",

        "SELECT ?s ?p ?o WHERE { VALUES ?p { rdfs:label skos:altLabel } ?s ?p ?o }",
    )


def _batches(nodes: Iterable[Node]) -> Iterator[str]:
    """The IRIs of ``nodes``, written for a VALUES block, BATCH at a time (a literal is
    the subject of nothing, and a blank node cannot be named)."""
    iris = _iris(n for n in nodes if isinstance(n, URIRef))
    for start in range(0, len(iris), BATCH):
        yield " ".join(iris[start:start + BATCH])


def _iris(terms: Iterable[Node]) -> list[str]:
    """Each IRI of ``terms`` written ``<iri>``, sorted; a QueryError for one that SPARQL
    cannot write."""
    out = []
    for term in terms:
        if _NOT_IN_IRI.search(str(term)):
            raise QueryError(f"cannot name {str(term)!r} in a query: not a valid IRI")
        out.append(f"<{term}>")
    return sorted(out)
