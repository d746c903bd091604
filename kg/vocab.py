"""Namespaces, prefixes and the ontology as plain data.

:func:`vocabulary` reads ``ontology.ttl`` once and returns a :class:`Vocabulary`
of class and relation names, so the facts loader can check names, domains and
ranges without touching rdflib itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, RDF, RDFS, Graph, Namespace, URIRef

from .errors import DataError, first_line
from .files import read_regular
from .prefixes import NAMESPACES

KG = Namespace(NAMESPACES["kg"])
KGR = Namespace(NAMESPACES["kgr"])
KGD = Namespace(NAMESPACES["kgd"])
OA = Namespace(NAMESPACES["oa"])
SCHEMA = Namespace(NAMESPACES["schema"])
WD = Namespace(NAMESPACES["wd"])
WDT = Namespace(NAMESPACES["wdt"])

#: Prefixes bound in every graph kg writes (and predeclared for queries), as rdflib
#: namespaces (:data:`kg.prefixes.NAMESPACES` has them as strings).
PREFIXES: dict[str, Namespace] = {prefix: Namespace(ns) for prefix, ns in NAMESPACES.items()}

#: Qualifier keys of a fact in a facts file, and the ontology property of each.
QUALIFIERS: dict[str, URIRef] = {
    "population": KG.population,
    "context": KG.context,
    "severity": KG.severity,
    "frequency": KG.frequency,
    "salience": KG.salience,
}


@dataclass(frozen=True)
class Relation:
    """A relation a fact may use: its local name, domain and range class names."""

    name: str
    domain: str
    range: str


@dataclass(frozen=True)
class Vocabulary:
    """The ontology reduced to names: what the facts loader needs to check a file."""

    #: class local name -> the names of it and all its superclasses in the kg namespace
    classes: dict[str, frozenset[str]]
    relations: dict[str, Relation]
    qualifiers: dict[str, str] = field(default_factory=dict)  # key -> range class name

    def is_a(self, types: tuple[str, ...], cls: str) -> bool:
        """True if an entity of ``types`` is an instance of class ``cls``."""
        return any(cls in self.classes.get(t, frozenset()) for t in types)


def local(term: URIRef) -> str | None:
    """The local name of a term in the kg ontology namespace, else None."""
    s = str(term)
    return s[len(str(KG)) :] if s.startswith(str(KG)) else None


def bind_prefixes(graph: Graph) -> Graph:
    """Bind kg's prefixes on ``graph`` (replacing rdflib's defaults) and return it."""
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True, replace=True)
    return graph


def load_ontology(path: Path) -> Graph:
    """Parse ``ontology.ttl``; a syntax error becomes a one-line DataError."""
    data = read_regular(path)  # a regular file under the size cap, or one line
    graph = Graph()
    try:
        graph.parse(data=data, format="turtle", publicID=Path(path).absolute().as_uri())
    except Exception as exc:  # rdflib raises many parser exception types
        raise DataError(f"{path}: not valid Turtle: {first_line(exc)}") from None
    return graph


def vocabulary(ontology: Graph) -> Vocabulary:
    """Extract class and relation names from the ontology graph."""
    classes: dict[str, frozenset[str]] = {}
    for cls in ontology.subjects(RDF.type, OWL.Class):
        name = local(cls)  # type: ignore[arg-type]
        if name is None:
            continue
        supers = {
            n
            for s in ontology.transitive_objects(cls, RDFS.subClassOf)
            if (n := local(s)) is not None  # type: ignore[arg-type]
        }
        classes[name] = frozenset(supers | {name})

    relations: dict[str, Relation] = {}
    qualifiers: dict[str, str] = {}
    for prop in ontology.subjects(RDF.type, OWL.ObjectProperty):
        name = local(prop)  # type: ignore[arg-type]
        if name is None:
            continue
        domain = ontology.value(prop, RDFS.domain)
        rng = ontology.value(prop, RDFS.range)
        if domain == RDF.Statement:
            qualifiers[name] = local(rng) or ""  # type: ignore[arg-type]
            continue
        d, r = local(domain), local(rng)  # type: ignore[arg-type]
        if d is None or r is None:
            raise DataError(f"ontology: relation kg:{name} needs a kg: domain and range")
        relations[name] = Relation(name, d, r)
    return Vocabulary(classes=classes, relations=relations, qualifiers=qualifiers)
