"""Inference users can switch on: what the ontology entails about the facts.

The ontology says more than the facts spell out: ``kg:hasCause`` is the inverse of
``kg:causes``, ``kg:hasSymptom`` a sub-property of ``schema:signOrSymptom`` and
``wdt:P780``, ``kg:Disease`` a subclass of ``kg:Condition``, ``kg:HealthProblem`` and
``schema:MedicalCondition``... ``kg build`` has a reasoner, owlrl (OWL 2 RL), draw those
conclusions and writes them to ``inferred.nt``, apart from the asserted graph
(``graph.nt``), which it never changes. Queries see them only when asked
(``kg query --infer``, ``Build.query(..., infer=True)``, ``kg serve --infer``): the
engine then loads them into the named graph :data:`INFERRED_GRAPH` and queries the
default graph merged with it, so ``GRAPH <https://w3id.org/health-kg/graph/inferred>``
still tells an inferred triple from an asserted one.

What goes in, what comes out:

* **in**: the ontology, and the entity layer of the graph: each entity's ``rdf:type``
  and each truthy fact (``kgr:x kg:causes kgr:y``; a negated fact has none). Statement,
  evidence and document nodes stay out: their classes are asserted, and nothing about a
  fact's provenance is inferred.
* **out**: only new triples about entities that a researcher can use: an entity's
  classes (the ontology's, and the schema.org and Wikidata classes they are aligned to)
  and relations between entities (inverses, super-properties such as ``schema:cause``,
  ``wdt:P828``, ``skos:broader``). Left out: what OWL RL concludes for every resource
  (``x owl:sameAs x``, ``x a owl:Thing``, ``rdfs:Resource``), the closure of the
  ontology itself (``rdfs:subClassOf`` chains, property characteristics), and typing of
  literals. A triple the graph already asserts is not repeated.

Domains and ranges are part of owlrl's rules; for this data they add nothing the
subclasses do not, since ``kg build`` refuses a fact whose subject or object lacks the
class the relation's domain or range names.

Speed: the ontology's axioms (subclasses, sub-properties, inverses, equivalences,
domains, ranges; no blank nodes) each conclude from one fact or one type at a time, so
owlrl reasons once over the ontology and one *pattern* per relation and per class
(``?s kg:causes ?o``, ``?x a kg:Disease``), and kg writes its conclusions for every
fact and entity of that relation or class: the same triples as owlrl over the whole
graph (a test compares them), in a fraction of a second at a million triples. An
ontology with an axiom outside those (a transitive, symmetric or functional property, a
property chain, a restriction, disjointness...) is reasoned over in full instead
(``method`` says which).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .paths import INFERRED_NT as INFERRED_NT  # the build output (re-exported)
from .prefixes import NAMESPACES

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

    from .facts import Corpus

#: The named graph the engine loads the inferred triples into when inference is on.
INFERRED_GRAPH = "https://w3id.org/health-kg/graph/inferred"

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_OWL = "http://www.w3.org/2002/07/owl#"
_XSD = "http://www.w3.org/2001/XMLSchema#"
#: Vocabularies whose terms carry OWL RL's own semantics: nothing a researcher asks for
#: (owl:sameAs, owl:Thing, rdfs:Resource, rdfs:Class...) is kept from them.
_BUILT_IN = (_RDF, _RDFS, _OWL, _XSD)
_TYPE = _RDF + "type"

#: The ontology's axioms that conclude from one asserted triple at a time.
_ONE_PREMISE = frozenset({_TYPE, _RDFS + "subClassOf", _RDFS + "subPropertyOf",
                          _RDFS + "domain", _RDFS + "range", _OWL + "inverseOf",
                          _OWL + "equivalentClass", _OWL + "equivalentProperty",
                          _RDFS + "label", _RDFS + "comment", _RDFS + "seeAlso",
                          _RDFS + "isDefinedBy", _OWL + "versionInfo",
                          _OWL + "versionIRI", _OWL + "imports"})
#: The classes the ontology may give its own terms, in the one-premise case.
_DECLARATIONS = frozenset({_OWL + "Class", _RDFS + "Class", _OWL + "ObjectProperty",
                           _OWL + "DatatypeProperty", _OWL + "AnnotationProperty",
                           _RDF + "Property", _OWL + "Ontology"})
#: The names of the template individuals that stand for "any subject" and "any object".
_TEMPLATE = "urn:x-kg-infer:"


def mode(infer: bool) -> str:
    """One line that says which triples a query saw (for standard error, headers)."""
    if infer:
        return ("inference: on (asserted triples and the triples owlrl inferred from the "
                f"ontology, these also in GRAPH <{INFERRED_GRAPH}>)")
    return ("inference: off (asserted triples only; --infer adds what the ontology "
            "entails: inverse relations, schema.org and Wikidata properties, superclasses)")


@dataclass(frozen=True)
class Inferred:
    """What :func:`infer` concluded: sorted N-Triples lines, none of them asserted."""

    lines: list[str]
    #: ``patterns`` (owlrl over the ontology and one pattern per relation and class)
    #: or ``full`` (owlrl over the ontology and the whole entity layer)
    method: str
    seconds: float

    @property
    def nt(self) -> bytes:
        from . import ntriples as nt

        return nt.encode(self.lines) if self.lines else b""


def reasoner() -> str:
    """The reasoner and its version, for the manifest."""
    from importlib.metadata import version

    return f"owlrl {version('owlrl')}"


def entity_triples(corpus: Corpus) -> Iterable[tuple[str, str, str]]:
    """The entity layer of ``corpus`` as IRIs: types and truthy facts."""
    kg, kgr = NAMESPACES["kg"], NAMESPACES["kgr"]
    for entity in corpus.entities.values():
        for cls in entity.types:
            yield kgr + entity.id, _TYPE, kg + cls
    for fact in corpus.facts:
        if not fact.negated:
            yield kgr + fact.subject, kg + fact.relation, kgr + fact.object


def infer(ontology: Graph, corpus: Corpus, asserted: Collection[str],
          method: str | None = None) -> Inferred:
    """The triples owlrl infers from ``ontology`` and the entity layer of ``corpus``
    that are useful and not in ``asserted`` (the graph's N-Triples lines), as sorted
    N-Triples lines. ``method`` forces ``patterns`` or ``full`` (tests); by default,
    ``patterns`` when every axiom of the ontology concludes from one triple."""
    from . import ntriples as nt

    t0 = time.perf_counter()
    triples = list(entity_triples(corpus))
    if method is None:
        method = "patterns" if one_premise(ontology) else "full"
    if method == "patterns":
        found = _by_patterns(ontology, triples)
    elif method == "full":
        found = _in_full(ontology, triples)
    else:
        raise ValueError(f"unknown method {method!r}")
    lines = {nt.line(nt.iri(s), nt.iri(p), nt.iri(o)) for s, p, o in found}
    lines.difference_update(asserted)
    return Inferred(nt.sort_lines(lines), method, time.perf_counter() - t0)


def one_premise(ontology: Graph) -> bool:
    """True if every axiom of ``ontology`` concludes from one asserted triple: only
    subclasses, sub-properties, inverses, equivalences, domains, ranges, declarations
    and annotations (any property outside RDF, RDFS and OWL is an annotation to OWL RL)."""
    from rdflib import Literal, URIRef

    for s, p, o in ontology:
        if not isinstance(s, URIRef) or not isinstance(o, URIRef | Literal):
            return False  # a blank node: a restriction or a list
        ps = str(p)
        if ps == _TYPE:
            if str(o).startswith(_BUILT_IN) and str(o) not in _DECLARATIONS:
                return False  # owl:TransitiveProperty, owl:Restriction...
        elif ps.startswith(_BUILT_IN) and ps not in _ONE_PREMISE:
            return False  # owl:propertyChainAxiom, owl:disjointWith, owl:sameAs...
    return True


def _useful(p: str, o: str, individual: Collection[str]) -> bool:
    """Whether a conclusion ``(x, p, o)`` about an individual ``x`` is kept: a class
    that is not a built-in one, or a relation that is not built in, to an individual."""
    if p == _TYPE:
        return not o.startswith(_BUILT_IN)
    return not p.startswith(_BUILT_IN) and o in individual


def _closure(graph: Graph) -> None:
    """owlrl's OWL 2 RL closure of ``graph``, in place (no axiomatic triples, no
    datatype axioms: they only add what :func:`_useful` would drop)."""
    try:
        import owlrl  # type: ignore[import-untyped]
    except ImportError:
        from .errors import KgError

        raise KgError("kg build infers with owlrl, which is not installed: "
                      "pip install owlrl") from None

    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(graph)


#: The axioms that conclude about individuals, in the one-premise case.
_AXIOMS = frozenset({_RDFS + "subClassOf", _RDFS + "subPropertyOf", _RDFS + "domain",
                     _RDFS + "range", _OWL + "inverseOf", _OWL + "equivalentClass",
                     _OWL + "equivalentProperty"})


def _schema(ontology: Graph) -> Graph:
    """The ontology's axioms about individuals, without declarations and annotations:
    in the one-premise case no rule that concludes about an individual reads them, and
    owlrl would spend most of its time on what they entail about the ontology itself."""
    from rdflib import Graph

    schema = Graph()
    for triple in ontology:
        if str(triple[1]) in _AXIOMS:
            schema.add(triple)
    return schema


def _by_patterns(ontology: Graph, triples: list[tuple[str, str, str]]
                 ) -> set[tuple[str, str, str]]:
    """owlrl over the ontology and one pattern per relation (``s_i p o_i``) and per
    class (``c_j a C``), its conclusions about each pattern then written for every
    triple that matches it. Exact when every axiom concludes from one triple
    (:func:`one_premise`): each conclusion about an individual then follows from one
    of its triples alone."""
    from rdflib import URIRef

    predicates = sorted({p for _, p, _ in triples if p != _TYPE})
    classes = sorted({o for _, p, o in triples if p == _TYPE})
    graph = _schema(ontology)
    subject: dict[str, str] = {}
    obj: dict[str, str] = {}
    for i, p in enumerate(predicates):
        s, o = f"{_TEMPLATE}s{i}", f"{_TEMPLATE}o{i}"
        subject[p], obj[p] = s, o
        graph.add((URIRef(s), URIRef(p), URIRef(o)))
    instance: dict[str, str] = {}
    for j, c in enumerate(classes):
        instance[c] = x = f"{_TEMPLATE}c{j}"
        graph.add((URIRef(x), URIRef(_TYPE), URIRef(c)))
    _closure(graph)
    individuals = {*subject.values(), *obj.values(), *instance.values()}
    # what each template individual gets: (predicate, object) pairs
    about: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for s_node, p_node, o_node in graph:
        s_, p_, o_ = str(s_node), str(p_node), str(o_node)
        if s_ in individuals and isinstance(o_node, URIRef) and _useful(p_, o_, individuals):
            about[s_].append((p_, o_))
    found: set[tuple[str, str, str]] = set()
    for s, p, o in triples:
        names = ({instance[o]: s} if p == _TYPE else {subject[p]: s, obj[p]: o})
        for template, real in names.items():
            for q, value in about.get(template, ()):
                if q == _TYPE:
                    found.add((real, q, value))
                elif value in names:
                    found.add((real, q, names[value]))
    return found


def _in_full(ontology: Graph, triples: list[tuple[str, str, str]]
             ) -> set[tuple[str, str, str]]:
    """owlrl over the ontology and every triple of the entity layer (slow on a large
    corpus: for ontologies beyond :func:`one_premise`)."""
    from rdflib import Graph, URIRef

    graph = Graph()
    for triple in ontology:
        graph.add(triple)
    for s, p, o in triples:
        graph.add((URIRef(s), URIRef(p), URIRef(o)))
    _closure(graph)
    entities = {s for s, _, _ in triples} | {o for _, p, o in triples if p != _TYPE}
    return {(str(s), str(p), str(o)) for s, p, o in _iris(graph)
            if str(s) in entities and _useful(str(p), str(o), entities)}


def _iris(graph: Graph) -> Iterable[tuple[Node, Node, Node]]:
    from rdflib import URIRef

    return ((s, p, o) for s, p, o in graph
            if isinstance(s, URIRef) and isinstance(o, URIRef))
