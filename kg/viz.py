"""The educators' graph: an RDF graph as one self-contained, interactive HTML page.

The page works with no network at all: vis-network's script and style sheet (the
copies bundled with pyvis) are inlined, the graph travels as JSON in a
``<script type="application/json">`` element that the page reads with ``JSON.parse``,
and a Content-Security-Policy lets only the page's own two scripts run and no
request leave. pyvis's own template is not used (it loads Bootstrap from a CDN, its
Jinja environment does not autoescape, and its tooltips switch to ``innerHTML``), nor
its ``add_node`` (quadratic in the number of nodes): the node and edge lists are
built here directly from :func:`kg.network.to_networkx`.

Three steps, each usable alone::

    graph = read_graph("graph.ttl")        # or "-" for standard input; any RDF syntax
    view = build_view(graph)               # JSON-ready data, laid out, capped at max_nodes
    html = render(view, title="Leg cramps")

:func:`render_html` does the last two at once. The graph passed in is drawn as it
is: cutting a subgraph out (``--around``, ``--population``...) happens before.

Layout: every node gets a deterministic position here (a radial layout of each
connected component, the components packed in rows), in linear time. Up to
:data:`PHYSICS_MAX_NODES` nodes, the neighbours of a hub (the most connected node, with
at least :data:`HUB_MIN_NEIGHBOURS`) are grouped by the kind of relation that links
them to it, each group in a sector of its own, and these positions are final (the page
can fold a group into one node); a small graph without a hub is refined by the browser
with a bounded number of force-directed iterations. Above that size the positions are
final, so a graph of thousands of nodes draws at once and stays responsive.

The page offers the stories of :mod:`kg.stories`, and for each population what is
specific to it (see :func:`kg.subgraph.specific`) apart from what holds for everyone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from . import __version__
from .errors import DataError, UsageError, display_path
from .files import MAX_INPUT_BYTES, read_regular

if TYPE_CHECKING:
    import networkx as nx
    from rdflib import Graph
    from rdflib.term import Node

    from .stories import Story
    from .subgraph import Selection

#: Show at most this many entities unless told otherwise (the most connected ones).
DEFAULT_MAX_NODES = 5000
#: Up to this many nodes the browser refines the layout with physics (bounded).
PHYSICS_MAX_NODES = 500
#: Force-directed iterations the browser may spend before the first draw: this many
#: for a small graph, fewer as it grows (the cost of one is about linear in nodes).
STABILIZATION_ITERATIONS = 300


def _iterations(nodes: int) -> int:
    return max(60, min(STABILIZATION_ITERATIONS, 40_000 // max(nodes, 1)))

#: RDF syntaxes ``read_graph`` accepts: option value -> rdflib parser name.
INPUT_FORMATS: dict[str, str] = {
    "ttl": "turtle",
    "nt": "nt",
    "jsonld": "json-ld",
    "xml": "xml",
    "trig": "trig",
    "nq": "nquads",
    "n3": "n3",
}

_SYNTAX_NAMES = {"turtle": "Turtle", "nt": "N-Triples", "json-ld": "JSON-LD", "xml": "RDF/XML",
                 "trig": "TriG", "nquads": "N-Quads", "n3": "Notation3"}

#: Friendly names of the kinds of relation the page filters by, in the order shown,
#: and the kg relations (local names in the kg namespace) of each. A relation not
#: listed here is a kind of its own, named by its label.
RELATION_KINDS: dict[str, tuple[str, ...]] = {
    "causes": ("causes", "hasCause"),
    "risk factors": ("hasRiskFactor",),
    "symptoms and signs": ("hasSymptom", "indicates"),
    "treatments": ("hasTreatment", "improves"),
    "prevention": ("hasPrevention", "prevents"),
    "first aid": ("hasFirstAid",),
    "specialists": ("hasSpecialist",),
    "anatomy": ("associatedAnatomy",),
    "who is affected": ("affects", "endangers"),
    "nutrients": ("deficiencyOf",),
    "kinds of": ("subtypeOf",),
    "severity": ("hasSeverityLevel",),
}

#: Colours of the top-level kg classes (a family: a class and its subclasses share
#: a hue, and differ by shape and shade). Other families take FALLBACK_COLOURS.
FAMILY_COLOURS: dict[str, str] = {
    "HealthProblem": "#d1495b",
    "Factor": "#ed8b2f",
    "Substance": "#3f9c4a",
    "Population": "#8e5fb8",
    "AnatomicalStructure": "#a0673f",
    "BodyFunction": "#b3a91f",
    "Intervention": "#2f72c4",
    "Specialist": "#1aa3a3",
    "Context": "#7d8793",
    "Severity": "#d66bb0",
    "Frequency": "#5b6fa8",
}
FALLBACK_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
                    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
UNTYPED_COLOUR = "#9aa3ad"
#: vis-network shapes with the label below them, one per class within a family.
SHAPES = ("dot", "diamond", "square", "triangle", "triangleDown", "star", "hexagon")

_SKOS = "http://www.w3.org/2004/02/skos/core#"
#: Predicates that link an entity to the same or a similar thing elsewhere (ICD-10,
#: HPO, MeSH, Wikidata...): listed on the entity, never drawn as edges.
XREFS: dict[str, str] = {
    _SKOS + "exactMatch": "exact match",
    _SKOS + "closeMatch": "close match",
    _SKOS + "broadMatch": "broader match",
    _SKOS + "narrowMatch": "narrower match",
    _SKOS + "relatedMatch": "related match",
    "http://www.w3.org/2002/07/owl#sameAs": "same as",
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": "see also",
}

_VIS_DIR = "lib/vis-9.1.2"


# --------------------------------------------------------------------------- input


def read_graph(source: str | Path, fmt: str | None = None, *,
               stdin: IO[bytes] | None = None) -> Graph:
    """Parse an RDF file, or standard input when ``source`` is ``"-"``.

    ``fmt`` is a key of :data:`INPUT_FORMATS`; without it the syntax comes from the
    file name, else from the content (JSON-LD, RDF/XML), else Turtle (which reads
    N-Triples too). Raises :class:`DataError` with one line naming the input.
    """
    if fmt is not None and fmt not in INPUT_FORMATS:
        raise UsageError(f"unknown RDF format {fmt!r}; choose from {', '.join(INPUT_FORMATS)}")
    if str(source) == "-":
        name = "<stdin>"
        stream = stdin
        if stream is None:
            import sys

            stream = sys.stdin.buffer
        try:
            data = stream.read(MAX_INPUT_BYTES + 1)
        except OSError as exc:
            raise DataError(f"{name}: cannot read ({exc.strerror})") from None
        if len(data) > MAX_INPUT_BYTES:
            raise DataError(f"{name}: larger than {MAX_INPUT_BYTES // 1024**2} MiB")
    else:
        path = Path(source)
        name = display_path(path)
        data = read_regular(path)
    parser = INPUT_FORMATS[fmt] if fmt else _guess_format(str(source), data)

    from rdflib import Graph

    from .vocab import bind_prefixes

    if parser == "json-ld":
        _refuse_remote_contexts(name, data)
    graph = bind_prefixes(Graph())
    try:
        graph.parse(data=data, format=parser)
    except Exception as exc:  # rdflib's parsers raise many exception types
        syntax = _SYNTAX_NAMES.get(parser, parser)
        raise DataError(f"{name}: not valid {syntax}: {_one_line(exc)}") from None
    return graph


def _refuse_remote_contexts(name: str, data: bytes) -> None:
    """rdflib's JSON-LD parser fetches a remote ``@context`` (or ``@import``) over the
    network; kg makes no request for an input file, so such a file is refused."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise DataError(f"{name}: not valid JSON-LD: {_one_line(exc)}") from None
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                remote = [v for v in (value if isinstance(value, list) else [value])
                          if isinstance(v, str)]
                if key in ("@context", "@import") and remote:
                    raise DataError(f"{name}: refers to a remote JSON-LD context "
                                    f"{remote[0]!r}, which kg does not fetch; inline it")
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


def _guess_format(name: str, data: bytes) -> str:
    if name != "-":
        from rdflib.util import guess_format

        guessed = guess_format(name)
        if guessed:
            return guessed
    head = data.lstrip()[:200]
    if head.startswith((b"{", b"[")):
        return "json-ld"
    if head.startswith((b"<?xml", b"<rdf:RDF")):
        return "xml"
    return "turtle"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


# --------------------------------------------------------------------------- the view


@dataclass(frozen=True)
class View:
    """What the page shows: JSON-ready ``data``, and the counts the CLI reports."""

    data: dict[str, Any]
    nodes: int
    edges: int
    total_nodes: int
    total_edges: int
    warnings: tuple[str, ...] = field(default=())

    @property
    def truncated(self) -> bool:
        return self.nodes < self.total_nodes

    @property
    def facts(self) -> int:
        """The edges drawn that are facts (with evidence); the others are links between
        entities such as skos:related, which ``kg stats`` does not count as facts."""
        return sum(1 for edge in self.data.get("edges", ()) if edge.get("ev"))

    def counts(self) -> str:
        """"N entities, M facts" (and the other links, if any), as the page says it."""
        links = self.edges - self.facts
        more = f", {links} other link{'s' if links != 1 else ''}" if links else ""
        return f"{self.nodes} entities, {self.facts} facts{more}"


class _Terms:
    """Lookups in the graph, falling back to an ontology for class and relation terms."""

    def __init__(self, graph: Graph, ontology: Graph | None) -> None:
        self.graph = graph
        self.ontology = ontology
        self._labels: dict[Node, str] = {}

    def objects(self, subject: Node, predicate: Node) -> list[Node]:
        found = list(self.graph.objects(subject, predicate))
        if not found and self.ontology is not None:
            found = list(self.ontology.objects(subject, predicate))
        return found

    def label(self, term: Node) -> str:
        from rdflib import RDFS

        from .network import local_name

        if term not in self._labels:
            self._labels[term] = best_literal(self.objects(term, RDFS.label)) or local_name(term)
        return self._labels[term]


def best_literal(values: Iterable[Node]) -> str | None:
    """The English value of a list of literals if there is one, else an untagged one,
    else any (the first in sorted order, so the choice is stable)."""
    from rdflib import Literal

    literals = sorted((v for v in values if isinstance(v, Literal)), key=lambda v: str(v))
    for wanted in ("en", None):
        for lit in literals:
            lang = lit.language.split("-")[0].lower() if lit.language else None
            if lang == wanted:
                return str(lit)
    return str(literals[0]) if literals else None


def build_view(graph: Graph, *, max_nodes: int | None = DEFAULT_MAX_NODES,
               ontology: Graph | None = None, stories: Sequence[Story] = (),
               strict_stories: bool = False) -> View:
    """The data the page draws from ``graph``.

    Entities and facts come from :func:`kg.network.to_networkx`; cross-references
    (``skos:exactMatch``, ``skos:closeMatch``...) to things outside the graph are
    shown on their entity, not as nodes. With more than ``max_nodes`` entities
    (``None`` or 0: no limit) the most connected ones are kept. ``ontology`` supplies
    class and relation labels and the class hierarchy when ``graph`` lacks them, so
    that a subgraph keeps the colours and shapes of the whole graph. ``stories`` are
    the guided tours the page offers (:mod:`kg.stories`): with ``strict_stories`` a
    story naming a fact the graph lacks is an error, else it is left out.
    """
    from rdflib import RDF, URIRef

    from .network import entities, to_networkx
    from .stories import resolve
    from .subgraph import DESCRIPTIVE, Fact, concerns, specific
    from .subgraph import populations as population_sets
    from .vocab import QUALIFIERS

    terms = _Terms(graph, ontology)
    keep = {e for e in entities(graph) if not _only_a_cross_reference(graph, e)}
    full = to_networkx(graph, keep)
    full.remove_edges_from([(u, v, k) for u, v, k, p in full.edges(keys=True, data="predicate")
                            if p in XREFS])
    total_nodes, total_edges = full.number_of_nodes(), full.number_of_edges()
    shown = _cap(full, max_nodes)
    warnings = []
    if shown.number_of_nodes() < total_nodes:
        warnings.append(f"showing the {shown.number_of_nodes()} most connected of "
                        f"{total_nodes} entities (--max-nodes)")

    # classes: colour by family, shape by class within it
    node_types = {n: [t for t in graph.objects(URIRef(n), RDF.type) if isinstance(t, URIRef)]
                  for n in shown.nodes}
    classes = _Classes(terms, {t for ts in node_types.values() for t in ts})

    # relations and their kinds
    relations: dict[str, int] = {}
    relation_rows: list[dict[str, Any]] = []
    kinds: dict[str, dict[str, Any]] = {}
    kind_of = {str(_kg(name)): kind for kind, names in RELATION_KINDS.items() for name in names}
    kind_order = {kind: i for i, kind in enumerate(RELATION_KINDS)}

    def relation_index(predicate: str) -> int:
        if predicate not in relations:
            label = terms.label(URIRef(predicate))
            kind = kind_of.get(predicate, label)
            relations[predicate] = len(relation_rows)
            row: dict[str, Any] = {"iri": predicate, "label": label, "kind": kind}
            if URIRef(predicate) in DESCRIPTIVE:
                row["desc"] = True  # shown under a population only for entities shown
            relation_rows.append(row)
            kinds.setdefault(kind, {"label": kind, "count": 0})
        return relations[predicate]

    evidence = _Evidence(graph)
    all_populations, general = population_sets(graph)
    population_rows: dict[Node, dict[str, Any]] = {}
    facts: list[Fact] = []
    edges: list[dict[str, Any]] = []
    pair_count: Counter[tuple[str, str]] = Counter()
    for u, v, key, attrs in sorted(shown.edges(keys=True, data=True),
                                   key=lambda e: (e[0], e[1], e[2])):
        pair = (u, v) if u <= v else (v, u)
        rel = relation_index(attrs["predicate"])
        kinds[relation_rows[rel]["kind"]]["count"] += 1
        edge: dict[str, Any] = {"id": key, "from": u, "to": v, "rel": rel,
                                "dup": pair_count[pair]}
        pair_count[pair] += 1
        statement = attrs.get("statement")
        quals: frozenset[Node] = frozenset()
        if statement is not None:
            st = URIRef(statement)
            quals = frozenset(graph.objects(st, _kg("population")))
            qualifiers: dict[str, list[str]] = {}
            values: set[str] = set()
            for name, prop in QUALIFIERS.items():
                found = sorted(graph.objects(st, prop), key=str)
                values.update(str(o) for o in found if str(o) in shown)
                if name != "population" and found:
                    qualifiers[name] = sorted(terms.label(o) for o in found)
            if qualifiers:
                edge["qual"] = qualifiers
            if values:
                edge["qn"] = sorted(values)  # qualifier values that are nodes of the graph
            if attrs.get("negated") == "true":
                edge["neg"] = True
            if attrs.get("note"):
                edge["note"] = attrs["note"]
            if attrs.get("fact"):
                edge["fact"] = attrs["fact"]
            edge["ev"] = evidence.of(st)
        for pop in quals:
            population_rows.setdefault(pop, {"iri": str(pop), "label": terms.label(pop),
                                             "option": pop not in general, "count": 0,
                                             "stated": 0, "about": 0})
        facts.append(Fact(URIRef(u), URIRef(attrs["predicate"]), URIRef(v),
                          statement=URIRef(statement) if statement else None,
                          populations=quals))
        edges.append(edge)

    # how many facts are specific to each population: stated for it ('kg stats' counts
    # these), or about it (it is their subject or object)
    for fact in facts:
        for pop in fact.populations | ({fact.subject, fact.object} & all_populations):
            if pop in population_rows:
                row = population_rows[pop]
                row["count"] += 1
                row["stated" if pop in fact.populations else "about"] += 1
    # the population filter: the same rule as 'kg export --population' (kg.subgraph)
    pop_list = sorted(population_rows.values(), key=lambda r: (not r["option"], r["label"]))
    pop_index = {row["iri"]: i for i, row in enumerate(pop_list)}
    options = [(pop_index[row["iri"]], URIRef(row["iri"])) for row in pop_list if row["option"]]
    for edge, fact in zip(edges, facts, strict=True):
        if fact.populations:
            edge["pop"] = sorted(pop_index[str(p)] for p in fact.populations)
        concerned = [i for i, pop in options if concerns(fact, pop, all_populations, general)]
        if len(concerned) < len(options):
            edge["for"] = concerned
        mine = [i for i, pop in options if specific(fact, pop)]
        if mine:
            edge["sp"] = mine  # the populations this fact is specific to

    kind_rank = {str(_kg(name)): i for i, names in enumerate(RELATION_KINDS.values())
                 for name in names}
    groups = hub_groups(shown, kind_rank)
    # a story is checked against the whole graph: a page capped by max_nodes leaves out
    # the stories it cannot play
    story_rows = _stories(stories, edges, strict_stories and shown.number_of_nodes() == total_nodes,
                          resolve)

    positions = layout(shown, groups)
    degree = dict(shown.degree())
    nodes = []
    for n in sorted(shown.nodes):
        iri = URIRef(n)
        types = sorted((classes.index[t] for t in node_types[n]),
                       key=lambda i: (-classes.rows[i]["depth"], classes.rows[i]["label"]))
        x, y = positions[n]
        node: dict[str, Any] = {"id": n, "label": terms.label(iri), "types": types,
                                "deg": degree[n], "x": round(x, 1), "y": round(y, 1)}
        alt = sorted({str(a) for a in graph.objects(iri, _skos("altLabel"))} - {node["label"]})
        if alt:
            node["alt"] = alt
        definition = best_literal(graph.objects(iri, _skos("definition")))
        if definition:
            node["def"] = definition
            node["defEv"] = evidence.of_definition(iri)
        xrefs = [_xref(graph, label, o) for p, label in XREFS.items()
                 for o in sorted(graph.objects(iri, URIRef(p)), key=str)
                 if isinstance(o, URIRef)]
        if xrefs:
            node["xrefs"] = xrefs
        nodes.append(node)
        for i in types:
            classes.rows[i]["count"] += 1

    kind_rows = sorted(kinds.values(), key=lambda k: (kind_order.get(k["label"], len(kind_order)),
                                                      k["label"]))
    data = {
        "generator": f"kg {__version__}",
        "documents": _documents(graph),
        "classes": classes.rows,
        "families": classes.families,
        "relations": relation_rows,
        "kinds": kind_rows,
        "populations": pop_list,
        "groups": [{"hub": hub, "kind": relation_rows[relations[members[0][1]]]["kind"]
                    if members[0][1] in relations else "", "members": [m for m, _ in members]}
                   for hub, grouping in groups.items() for members in grouping],
        "stories": story_rows,
        "evidence": evidence.rows,
        "nodes": nodes,
        "edges": edges,
        # physics: may the reader turn it on; settle: does the browser refine the layout
        # before the first draw (not when kg has grouped a hub's neighbours)
        "layout": {"physics": shown.number_of_nodes() <= PHYSICS_MAX_NODES,
                   "settle": shown.number_of_nodes() <= PHYSICS_MAX_NODES and not groups,
                   "iterations": _iterations(shown.number_of_nodes()),
                   "smooth": shown.number_of_edges() <= 4 * PHYSICS_MAX_NODES},
        "counts": {"nodes": shown.number_of_nodes(), "edges": shown.number_of_edges(),
                   "totalNodes": total_nodes, "totalEdges": total_edges},
    }
    return View(data=data, nodes=shown.number_of_nodes(), edges=shown.number_of_edges(),
                total_nodes=total_nodes, total_edges=total_edges, warnings=tuple(warnings))


def _kg(name: str) -> Node:
    from .vocab import KG

    return KG[name]


def _skos(name: str) -> Node:
    from rdflib.namespace import SKOS

    return SKOS[name]


def _xref(graph: Graph, relation: str, target: Node) -> dict[str, Any]:
    """A cross-reference: its relation, IRI, CURIE and label where the graph has them."""
    from rdflib import RDFS

    row: dict[str, Any] = {"rel": relation, "iri": str(target)}
    try:
        row["curie"] = graph.namespace_manager.curie(str(target), generate=False)
    except (KeyError, ValueError):
        pass
    label = best_literal(graph.objects(target, RDFS.label))
    if label:
        row["label"] = label
    return row


def _only_a_cross_reference(graph: Graph, node: Node) -> bool:
    """True for an untyped IRI that the graph mentions only as a cross-reference."""
    if next(graph.predicate_objects(node), None) is not None:
        return False
    return all(str(p) in XREFS for _, p in graph.subject_predicates(node))


def _stories(stories: Sequence[Story], edges: list[dict[str, Any]], strict: bool,
             resolve: Callable[..., list[list[str]] | None]) -> list[dict[str, Any]]:
    """The stories as the page plays them: each step's edge ids (see kg.stories)."""
    fact_ids: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        if edge.get("fact"):
            fact_ids[edge["fact"]].append(edge["id"])
    rows = []
    for story in stories:
        steps = resolve(story, fact_ids, strict=strict)
        if steps is None:
            continue
        row: dict[str, Any] = {"id": story.id, "title": story.title,
                               "steps": [{"text": step.text, "edges": found}
                                         for step, found in zip(story.steps, steps,
                                                                strict=True)]}
        if story.summary:
            row["summary"] = story.summary
        if story.population:
            row["population"] = story.population
        rows.append(row)
    return rows


def _cap(g: nx.MultiDiGraph, max_nodes: int | None) -> nx.MultiDiGraph:
    """``g``, or its ``max_nodes`` most connected nodes (ties by IRI) and their edges."""
    if not max_nodes or g.number_of_nodes() <= max_nodes:
        return g
    ranked = sorted(g.degree(), key=lambda nd: (-nd[1], nd[0]))[:max_nodes]
    return g.subgraph(n for n, _ in ranked).copy()


def _documents(graph: Graph) -> list[dict[str, Any]]:
    from rdflib import RDF
    from rdflib.namespace import DCTERMS

    from .vocab import KG

    docs = []
    for doc in sorted(graph.subjects(RDF.type, KG.Document), key=str):
        title = best_literal(graph.objects(doc, DCTERMS.title))
        translated = graph.value(doc, KG.translatedFrom)
        docs.append({"iri": str(doc), "title": title or str(doc),
                     "machineTranslated": str(graph.value(doc, KG.machineTranslated)) == "true",
                     "translatedFrom": str(translated) if translated is not None else None})
    return docs


class _Classes:
    """Colour and shape for each class: a family (the top-level class above it) gives
    the hue, the class's place in its family the shape and the shade."""

    def __init__(self, terms: _Terms, used: set[Node]) -> None:
        from rdflib import OWL, RDF, RDFS

        self.terms = terms
        declared = set(terms.graph.subjects(RDF.type, OWL.Class))
        if terms.ontology is not None:
            declared |= set(terms.ontology.subjects(RDF.type, OWL.Class))
        # every declared class has its place in its family, used here or not, so that
        # a subgraph draws a class with the same shape and shade as the whole graph
        chains = {c: self._chain(c, declared, RDFS.subClassOf) for c in used | declared}
        self._ancestors: dict[Node, set[Node]] = {}
        family_of = {c: chain[-2] if len(chain) > 1 else chain[-1] for c, chain in chains.items()}
        families = sorted({family_of[c] for c in used},
                          key=lambda f: (str(f) not in _FAMILY_IRIS, terms.label(f)))
        self.families: list[dict[str, Any]] = []
        fallback = iter(FALLBACK_COLOURS * (1 + len(families) // len(FALLBACK_COLOURS)))
        family_index = {}
        for f in families:
            colour = _FAMILY_IRIS.get(str(f)) or next(fallback)
            family_index[f] = len(self.families)
            self.families.append({"iri": str(f), "label": terms.label(f), "color": colour})
        self.rows: list[dict[str, Any]] = []
        self.index: dict[Node, int] = {}
        members: dict[Node, list[Node]] = defaultdict(list)
        for c in used | declared:
            members[family_of[c]].append(c)
        for f in families:
            ordered = sorted(members[f], key=lambda c: (c != f, len(chains[c]),
                                                         terms.label(c), str(c)))
            base = self.families[family_index[f]]["color"]
            for i, c in enumerate(ordered):
                if c not in used:
                    continue
                self.index[c] = len(self.rows)
                self.rows.append({"iri": str(c), "label": terms.label(c),
                                  "family": family_index[f], "depth": len(chains[c]),
                                  "shape": SHAPES[i % len(SHAPES)],
                                  "color": _shade(base, i), "count": 0})

    def is_a(self, cls: Node, ancestor: Node) -> bool:
        """True if ``cls`` is ``ancestor`` or declared a subclass of it."""
        from rdflib import RDFS

        if cls not in self._ancestors:
            self._ancestors[cls] = set(_transitive(self.terms, cls, RDFS.subClassOf))
        return cls == ancestor or ancestor in self._ancestors[cls]

    def _chain(self, cls: Node, declared: set[Node], sub_class_of: Node) -> list[Node]:
        """``cls`` and its declared superclasses up to a root, following the first
        declared parent (in IRI order) at each step."""
        chain = [cls]
        while len(chain) < 32:
            parents = sorted((p for p in self.terms.objects(chain[-1], sub_class_of)
                              if p in declared and p not in chain), key=str)
            if not parents:
                break
            chain.append(parents[0])
        return chain


def _transitive(terms: _Terms, start: Node, predicate: Node) -> Iterable[Node]:
    todo, seen = [start], {start}
    while todo:
        for parent in terms.objects(todo.pop(), predicate):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
                yield parent


def _family_iris() -> dict[str, str]:
    base = "https://w3id.org/health-kg/ontology#"
    return {base + name: colour for name, colour in FAMILY_COLOURS.items()}


_FAMILY_IRIS = _family_iris()


def _shade(colour: str, step: int) -> str:
    """``colour`` made lighter or darker by ``step`` (0: unchanged)."""
    if step == 0:
        return colour
    amount = (0.22, -0.22, 0.4, -0.35, 0.55, -0.45)[(step - 1) % 6]
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    target = 255 if amount > 0 else 0
    mix = [round(c + (target - c) * abs(amount)) for c in (r, g, b)]
    return "#" + "".join(f"{c:02x}" for c in mix)


class _Evidence:
    """Evidence of statements as rows (prefix, exact, suffix, offsets, source), each
    distinct quote once, referred to by index."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.rows: list[dict[str, Any]] = []
        self._index: dict[tuple[Any, ...], int] = {}
        self._titles: dict[Node, str] = {}

    def of(self, statement: Node) -> list[int]:
        from rdflib.namespace import PROV

        out = []
        for ev in sorted(self.graph.objects(statement, PROV.wasDerivedFrom), key=str):
            row = self._row(ev)
            if row is not None:
                key = tuple(row.values())
                if key not in self._index:
                    self._index[key] = len(self.rows)
                    self.rows.append(row)
                out.append(self._index[key])
        return out

    def of_definition(self, entity: Node) -> list[int]:
        from rdflib import RDF

        for st in sorted(self.graph.subjects(RDF.subject, entity), key=str):
            if self.graph.value(st, RDF.predicate) == _skos("definition"):
                return self.of(st)
        return []

    def _row(self, ev: Node) -> dict[str, Any] | None:
        from rdflib.namespace import DCTERMS

        from .vocab import OA

        row: dict[str, Any] = {}
        for sel in sorted(self.graph.objects(ev, OA.hasSelector), key=str):
            for key, prop in (("prefix", OA.prefix), ("exact", OA.exact), ("suffix", OA.suffix),
                              ("start", OA.start), ("end", OA.end)):
                value = self.graph.value(sel, prop)
                if value is None:
                    continue
                if key in ("start", "end"):
                    if str(value).isdigit():
                        row[key] = int(str(value))
                else:
                    row[key] = str(value)
        if "exact" not in row:
            return None
        source = self.graph.value(ev, OA.hasSource)
        if source is not None:
            if source not in self._titles:
                self._titles[source] = best_literal(
                    self.graph.objects(source, DCTERMS.title)) or str(source)
            row["source"] = self._titles[source]
        return {k: row.get(k) for k in ("prefix", "exact", "suffix", "start", "end", "source")}


# --------------------------------------------------------------------------- layout


#: Distance between the rings of a radial layout, and the room each node needs on one.
RING = 170.0
SPACING = 90.0


#: A node with at least this many neighbours is a hub: its neighbours are grouped
#: by the kind of relation that links them to it, each group in a sector of its own.
HUB_MIN_NEIGHBOURS = 12

Groups = dict[str, list[list[tuple[str, str]]]]


def hub_groups(g: nx.MultiDiGraph, kind_rank: dict[str, int]) -> Groups:
    """For each hub (:data:`HUB_MIN_NEIGHBOURS`), its neighbours grouped by the kind of
    their relation to it (``kind_rank``: predicate -> rank of its kind; the first
    kind wins for a neighbour linked twice), as (neighbour, predicate) pairs. Only the
    most connected node of a graph of up to PHYSICS_MAX_NODES nodes is grouped."""
    if not g.number_of_nodes() or g.number_of_nodes() > PHYSICS_MAX_NODES:
        return {}
    hub = min(g.nodes, key=lambda n: (-len(set(g.predecessors(n)) | set(g.successors(n))), n))
    best: dict[str, tuple[int, str, str]] = {}
    for u, v, p in list(g.in_edges(hub, data="predicate")) + list(
            g.out_edges(hub, data="predicate")):
        other = u if v == hub else v
        if other == hub:
            continue
        rank = kind_rank.get(p, len(kind_rank))
        key = (rank, p if rank == len(kind_rank) else "", p)
        if other not in best or key < best[other]:
            best[other] = key
    if len(best) < HUB_MIN_NEIGHBOURS:
        return {}
    by_kind: dict[tuple[int, str], list[tuple[str, str]]] = defaultdict(list)
    for other, (rank, name, p) in best.items():
        by_kind[(rank, name)].append((other, p))
    return {hub: [sorted(members, key=lambda m: (-g.degree(m[0]), m[0]))
                  for _, members in sorted(by_kind.items())]}


def layout(g: nx.MultiDiGraph, groups: Groups | None = None) -> dict[str, tuple[float, float]]:
    """Deterministic positions for every node, in time linear in nodes and edges.

    Each connected component is laid out radially around its most connected node
    (breadth-first rings; each subtree gets an angle in proportion to its size, so
    related nodes stay together); components are packed in rows, largest first. The
    neighbours of a hub in ``groups`` (see :func:`hub_groups`) are placed group by
    group, with a gap between groups, on two staggered rings.
    """
    neighbours: dict[str, set[str]] = {n: set() for n in g.nodes}
    for u, v in g.edges():
        if u != v:
            neighbours[u].add(v)
            neighbours[v].add(u)
    seen: set[str] = set()
    components: list[tuple[float, dict[str, tuple[float, float]]]] = []
    for start in sorted(neighbours, key=lambda n: (-len(neighbours[n]), n)):
        if start in seen:
            continue
        placed = _radial(start, neighbours, seen, (groups or {}).get(start))
        radius = max((math.hypot(x, y) for x, y in placed.values()), default=0.0) + SPACING / 2
        components.append((radius, placed))

    positions: dict[str, tuple[float, float]] = {}
    area = sum((2 * r) ** 2 for r, _ in components)
    row_width = max(math.sqrt(area) * 1.2, 2 * components[0][0]) if components else 0.0
    x = y = row_height = 0.0
    for radius, placed in components:
        if x > 0 and x + 2 * radius > row_width:
            x, y, row_height = 0.0, y + row_height, 0.0
        cx, cy = x + radius, y + radius
        for n, (px, py) in placed.items():
            positions[n] = (cx + px, cy + py)
        x += 2 * radius
        row_height = max(row_height, 2 * radius)
    if positions:  # centre on the origin, where vis-network starts its view
        mid_x = (min(p[0] for p in positions.values()) + max(p[0] for p in positions.values())) / 2
        mid_y = (min(p[1] for p in positions.values()) + max(p[1] for p in positions.values())) / 2
        positions = {n: (px - mid_x, py - mid_y) for n, (px, py) in positions.items()}
    return positions


def _radial(root: str, neighbours: dict[str, set[str]], seen: set[str],
            grouping: list[list[tuple[str, str]]] | None = None,
            ) -> dict[str, tuple[float, float]]:
    """Radial layout of the component of ``root`` (marking its nodes in ``seen``)."""
    seen.add(root)
    order = [root]
    children: dict[str, list[str]] = {root: []}
    depth = {root: 0}
    first = [m for group in grouping or [] for m, _ in group]
    group_of = {m: i for i, group in enumerate(grouping or []) for m, _ in group}
    for node in order:  # breadth-first; ``order`` grows as we go
        ranked = sorted(neighbours[node], key=lambda n: (-len(neighbours[n]), n))
        if node == root and grouping:
            ranked = first + [n for n in ranked if n not in group_of]
        for nb in ranked:
            if nb not in seen:
                seen.add(nb)
                depth[nb] = depth[node] + 1
                children[node].append(nb)
                children[nb] = []
                order.append(nb)
    size = {n: 1.0 for n in order}
    for node in reversed(order):
        for child in children[node]:
            size[node] += size[child]
    # a group of a hub's neighbours takes the room of one more node on each side
    gap = {m for group in grouping or [] for m in (group[0][0], group[-1][0])}
    per_ring = Counter(depth.values())
    if grouping:  # the hub's neighbours stand on two staggered rings: a smaller radius
        per_ring[1] = round((per_ring[1] + len(grouping)) / 1.4) + 1
    # angles first: each subtree gets a share of its parent's span by its size
    span = {root: (0.0, 2 * math.pi)}
    angle = {root: 0.0}
    for node in order:
        lo, hi = span[node]
        weight = {c: size[c] + (0.5 if node == root and c in gap else 0.0)
                  for c in children[node]}
        total = sum(weight.values())
        at = lo
        for child in children[node]:
            share = (hi - lo) * weight[child] / total
            span[child] = (at, at + share)
            angle[child] = at + share / 2
            at += share
    # then radii: a ring is far enough out for its nodes, and for the crowdest family
    # on it (children in their parent's span), up to half as far again
    crowd: Counter[int] = Counter()
    for node in order:
        if len(children[node]) > 1 and node != root:
            width = span[node][1] - span[node][0]
            crowd[depth[node] + 1] = max(crowd[depth[node] + 1],
                                         round(len(children[node]) * SPACING / width))
    radius = [0.0]
    for d in range(1, max(per_ring) + 1):
        ring = max(radius[-1] + RING, per_ring[d] * SPACING / (2 * math.pi))
        radius.append(max(ring, min(crowd[d], 1.5 * ring)))
    placed = {root: (0.0, 0.0)}
    for node in order:
        for i, child in enumerate(children[node]):
            r = radius[depth[child]]
            if node == root and grouping and i % 2:
                r += RING * 0.55
            placed[child] = (r * math.cos(angle[child]), r * math.sin(angle[child]))
    return placed


# --------------------------------------------------------------------------- the page


def describe_selection(selection: Selection) -> str | None:
    """What a subgraph page shows, in words, for its title ("paths from diuretics to
    leg cramp"); None for the whole graph."""
    return selection.describe()


def render(view: View, title: str | None = None, shows: str | None = None) -> str:
    """The HTML page of ``view``: one self-contained file, UTF-8. ``shows`` says what
    part of the graph it is (see :func:`describe_selection`): it goes into the default
    title and the page's heading."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(loader=jinja2.PackageLoader("kg", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "separators": (",", ":"),
                                         "sort_keys": False}
    assets = _assets()
    scripts = [assets["vis.js"], assets["viz.js"]]
    csp = "; ".join([
        "default-src 'none'",
        "script-src " + " ".join(f"'sha256-{_sha256_b64(s)}'" for s in scripts),
        "style-src 'unsafe-inline'",
        "img-src data:",
        "font-src 'none'",
        "connect-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    ])
    docs = view.data["documents"]
    if title is None:
        title = (f"{docs[0]['title']}: knowledge graph" if len(docs) == 1
                 else f"Knowledge graph of {len(docs)} documents" if docs else "Knowledge graph")
        if shows:
            title = f"{title}, {shows}"
    return env.get_template("viz.html").render(
        title=title, shows=shows, csp=csp, data=view.data, counts=view.data["counts"],
        documents=docs,
        vis_css=Markup(assets["vis.css"]), viz_css=Markup(assets["viz.css"]),
        vis_js=Markup(assets["vis.js"]), viz_js=Markup(assets["viz.js"]),
    )


def render_html(graph: Graph, *, title: str | None = None,
                max_nodes: int | None = DEFAULT_MAX_NODES, ontology: Graph | None = None) -> str:
    """``graph`` as one self-contained interactive HTML page (see :func:`build_view`)."""
    return render(build_view(graph, max_nodes=max_nodes, ontology=ontology), title=title)


_ASSETS: dict[str, str] = {}
_RAW_TEXT_END = re.compile(r"</(script|style)|<!--", re.I)


def _assets() -> dict[str, str]:
    """vis-network's files (from the installed pyvis) and the page's own, checked to be
    safe to inline in a ``<script>`` or ``<style>`` element."""
    if not _ASSETS:
        import pyvis

        vis = resources.files(pyvis) / _VIS_DIR
        ours = resources.files("kg") / "templates"
        found = {
            "vis.js": (vis / "vis-network.min.js").read_text(encoding="utf-8"),
            "vis.css": (vis / "vis-network.css").read_text(encoding="utf-8"),
            "viz.js": (ours / "viz.js").read_text(encoding="utf-8"),
            "viz.css": (ours / "viz.css").read_text(encoding="utf-8"),
        }
        for name, text in found.items():
            # a source-map comment would make developer tools fetch a file
            text = re.sub(r"^\s*//[#@] sourceMappingURL=.*$", "", text, flags=re.M)
            text = re.sub(r"/\*[#@] sourceMappingURL=.*?\*/", "", text)
            if _RAW_TEXT_END.search(text):
                raise RuntimeError(f"{name} cannot be inlined: it contains '</script', "
                                   "'</style' or '<!--'")
            found[name] = text
        _ASSETS.update(found)
    return _ASSETS


def _sha256_b64(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def page_data(html: str) -> dict[str, Any]:
    """The graph data embedded in a page :func:`render` wrote (for tests and tools)."""
    match = re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', html, re.S)
    if match is None:
        raise DataError("not a kg graph page: no kg-data element")
    data: dict[str, Any] = json.loads(match.group(1))
    return data
