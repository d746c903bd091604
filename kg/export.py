"""Serialise a graph to the formats researchers' tools read.

Formats live in a small registry (:data:`FORMATS`): adding one is one entry. RDF
formats serialise the graph as it is; the others go through the NetworkX converter
(:mod:`kg.network`): entity nodes, one edge per fact. A format may write several
files (KGX writes ``nodes.tsv`` and ``edges.tsv``); it then goes to a directory.

This module imports nothing heavy at load time, so the CLI can list the formats
in its help without loading rdflib or networkx.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UsageError

if TYPE_CHECKING:
    import networkx as nx
    from rdflib import Graph


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    media_type: str
    description: str
    #: graph -> {file name: bytes}; the single-file formats use the name ""
    write_files: Callable[[Graph], dict[str, bytes]]
    rdf: bool = True

    @property
    def multi_file(self) -> bool:
        return self.extension == "/"

    def write(self, graph: Graph) -> bytes:
        """The bytes of a single-file format."""
        files = self.write_files(graph)
        if set(files) != {""}:
            raise UsageError(f"format {self.name} writes several files: give -o DIRECTORY")
        return files[""]


def _single(func: Callable[[Graph], bytes]) -> Callable[[Graph], dict[str, bytes]]:
    return lambda graph: {"": func(graph)}


def _nx(graph: Graph) -> nx.MultiDiGraph:
    from .network import to_networkx

    return to_networkx(graph)


def _ttl(graph: Graph) -> bytes:
    from .build import graph_lines, serialize_ttl

    return serialize_ttl(graph_lines(graph))


def _nt(graph: Graph) -> bytes:
    from .build import serialize_nt

    return serialize_nt(graph)


def _jsonld(graph: Graph) -> bytes:
    from .vocab import PREFIXES

    context = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
    data: bytes = graph.serialize(format="json-ld", context=context, auto_compact=True,
                                  sort_keys=True, indent=2, encoding="utf-8")
    return data


def _rdfxml(graph: Graph) -> bytes:
    data: bytes = graph.serialize(format="pretty-xml", encoding="utf-8")
    return data


def _graphml(graph: Graph) -> bytes:
    import networkx as nx

    g = _nx(graph)
    g.graph["name"] = "kg"
    return ("\n".join(nx.generate_graphml(g, named_key_ids=True)) + "\n").encode("utf-8")


def _gexf(graph: Graph) -> bytes:
    import networkx as nx

    return ("\n".join(nx.generate_gexf(_nx(graph))) + "\n").encode("utf-8")


def _node_link(graph: Graph) -> bytes:
    import networkx as nx

    data = nx.node_link_data(_nx(graph), edges="edges")
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


#: columns of the CSV export, one row per fact
CSV_COLUMNS = ("subject", "subject_label", "relation", "relation_label", "object",
               "object_label", "population", "context", "severity", "frequency", "negated",
               "quote", "note", "fact", "statement", "evidence")


def _csv(graph: Graph) -> bytes:
    g = _nx(graph)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for u, v, attrs in g.edges(data=True):
        writer.writerow({**attrs, "subject": u, "subject_label": g.nodes[u].get("label", ""),
                         "relation": attrs.get("relation", ""),
                         "relation_label": attrs.get("label", ""), "object": v,
                         "object_label": g.nodes[v].get("label", "")})
    return buf.getvalue().encode("utf-8")


#: kg classes -> Biolink categories, most specific first (KGX nodes.tsv)
BIOLINK_CATEGORIES = {
    "NutrientDeficiency": "biolink:Disease",
    "Disease": "biolink:Disease",
    "Condition": "biolink:DiseaseOrPhenotypicFeature",
    "SignOrSymptom": "biolink:PhenotypicFeature",
    "Nutrient": "biolink:ChemicalEntity",
    "Medication": "biolink:Drug",
    "Substance": "biolink:ChemicalEntity",
    "Population": "biolink:PopulationOfIndividualOrganisms",
    "AnatomicalStructure": "biolink:AnatomicalEntity",
    "BodyFunction": "biolink:PhysiologicalProcess",
    "Treatment": "biolink:Treatment",
    "LifestyleChange": "biolink:Treatment",
    "FirstAid": "biolink:Procedure",
    "DiagnosticStep": "biolink:Procedure",
    "LifestyleFactor": "biolink:Behavior",
    "PhysicalFactor": "biolink:Exposure",
    "PhysiologicalState": "biolink:PhenotypicFeature",
}
#: kg relations -> Biolink predicates; the kg relation stays in original_predicate
BIOLINK_PREDICATES = {
    "causes": "biolink:causes",
    "hasSymptom": "biolink:has_phenotype",
    "hasTreatment": "biolink:treated_by",
    "hasFirstAid": "biolink:treated_by",
    "subtypeOf": "biolink:subclass_of",
    "associatedAnatomy": "biolink:located_in",
}
KGX_NODE_COLUMNS = ("id", "category", "name", "description", "synonym", "iri")
KGX_EDGE_COLUMNS = ("id", "subject", "predicate", "object", "original_predicate",
                    "qualifiers", "publications", "evidence_quote", "statement")


def _curie(iri: str) -> str:
    from .prefixes import curie

    return curie(iri)


def _tsv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, delimiter="\t", lineterminator="\n",
                            extrasaction="ignore", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _kgx(graph: Graph) -> dict[str, bytes]:
    g = _nx(graph)
    nodes = []
    for node, attrs in g.nodes(data=True):
        types = attrs.get("types", "").split("; ")
        category = next((BIOLINK_CATEGORIES[t] for t in types if t in BIOLINK_CATEGORIES),
                        "biolink:NamedThing")
        nodes.append({"id": _curie(node), "category": category, "name": attrs.get("label", ""),
                      "description": attrs.get("definition", ""),
                      "synonym": attrs.get("alt_labels", "").replace("; ", "|"), "iri": node})
    edges = []
    for u, v, key, attrs in g.edges(keys=True, data=True):
        relation = attrs.get("relation", "")
        qualifiers = "|".join(f"{k}={attrs[k]}" for k in ("population", "context", "severity",
                                                            "frequency", "negated")
                              if k in attrs)
        edges.append({"id": attrs.get("fact", key), "subject": _curie(u),
                      "predicate": BIOLINK_PREDICATES.get(relation, "biolink:related_to"),
                      "object": _curie(v), "original_predicate": _curie(attrs["predicate"]),
                      "qualifiers": qualifiers,
                      "publications": attrs.get("document", "").replace("; ", "|"),
                      "evidence_quote": attrs.get("quote", ""),
                      "statement": attrs.get("statement", "")})
    return {"nodes.tsv": _tsv(KGX_NODE_COLUMNS, nodes), "edges.tsv": _tsv(KGX_EDGE_COLUMNS, edges)}


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("ttl", ".ttl", "text/turtle", "Turtle", _single(_ttl)),
        Format("nt", ".nt", "application/n-triples", "N-Triples, one triple a line, sorted",
               _single(_nt)),
        Format("jsonld", ".jsonld", "application/ld+json",
               "JSON-LD, compacted with kg's prefixes", _single(_jsonld)),
        Format("rdfxml", ".rdf", "application/rdf+xml", "RDF/XML", _single(_rdfxml)),
        Format("graphml", ".graphml", "application/graphml+xml",
               "GraphML for Gephi, Cytoscape, yEd (entity nodes, one edge per fact)",
               _single(_graphml), rdf=False),
        Format("gexf", ".gexf", "application/gexf+xml", "GEXF for Gephi", _single(_gexf),
               rdf=False),
        Format("json", ".json", "application/json", "NetworkX node-link JSON (d3, networkx)",
               _single(_node_link), rdf=False),
        Format("csv", ".csv", "text/csv",
               "CSV, one row per fact with labels, qualifiers and the evidence quote",
               _single(_csv), rdf=False),
        Format("kgx", "/", "text/tab-separated-values",
               "KGX TSV (nodes.tsv and edges.tsv in a directory) for the Biolink tool chain",
               _kgx, rdf=False),
    )
}


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}") from None


def export(graph: Graph, fmt: str) -> bytes:
    """``graph`` serialised in the single-file format ``fmt`` (a key of :data:`FORMATS`)."""
    return get_format(fmt).write(graph)


def export_files(graph: Graph, fmt: str) -> dict[str, bytes]:
    """``graph`` in format ``fmt`` as {file name: bytes} ("" for a single-file format)."""
    return get_format(fmt).write_files(graph)


def save(files: dict[str, bytes], output: Path | None, fmt: Format,
         protected: Iterable[Path] = ()) -> list[Path]:
    """Write an export: to standard output when ``output`` is None, else atomically to
    the file ``output`` (or into the directory ``output`` for a multi-file format),
    never over one of ``protected`` (kg's inputs and build files). Returns the paths
    written."""
    from .files import check_output, write_atomic, write_stdout

    protected = tuple(protected)
    if output is None:
        if fmt.multi_file:
            raise UsageError(f"format {fmt.name} writes several files: give -o DIRECTORY")
        write_stdout(files[""])
        return []
    check_output(output, protected)
    for name in files:
        if name:
            check_output(output / name, protected)
    if fmt.multi_file:
        if output.exists() and not output.is_dir():
            raise UsageError(f"--output: {output} is a file; format {fmt.name} needs a "
                             "directory")
        if not output.parent.is_dir():
            raise UsageError(f"--output: directory {output.parent} does not exist")
        output.mkdir(exist_ok=True)
        for name, data in sorted(files.items()):
            write_atomic(output / name, data)
        return [output / name for name in sorted(files)]
    if output.is_dir():
        raise UsageError(f"--output: {output} is a directory; give a file name")
    if not output.parent.is_dir():
        raise UsageError(f"--output: directory {output.parent} does not exist")
    write_atomic(output, files[""])
    return [output]
