"""Serialise a graph to the formats researchers' tools read.

Formats live in a small registry (:data:`FORMATS`): adding one is one entry, which
declares the file-name extensions that choose it (:func:`choose_format`). RDF formats
serialise the graph as it is; the others go through the NetworkX converter
(:mod:`kg.network`): entity nodes, one edge per fact. A format may write several
files: companions beside its main file (CSV: ``x.csv`` and ``x_nodes.csv``), or a
directory of files (KGX: ``nodes.tsv`` and ``edges.tsv``; Neo4j: ``nodes.csv`` and
``relationships.csv``).

This module imports nothing heavy at load time, so the CLI can list the formats
in its help without loading rdflib or networkx.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    import networkx as nx
    from rdflib import Graph


@dataclass(frozen=True)
class Format:
    name: str
    #: file-name extensions (lower case, with the dot) that choose this format when
    #: ``kg export -o`` has no ``--format``; none for a format that writes a directory
    extensions: tuple[str, ...]
    media_type: str
    description: str
    #: graph -> {file name: bytes}. A single-file format uses the name "" for its file;
    #: other names are companion files beside it (``x.csv`` -> ``x_nodes.csv``) or, for
    #: a directory format, the files in the directory.
    write_files: Callable[[Graph], dict[str, bytes]]
    rdf: bool = True
    #: True: the files go into the directory ``-o`` names (KGX, Neo4j)
    directory: bool = False

    @property
    def multi_file(self) -> bool:
        """True for a format that writes a directory of files."""
        return self.directory

    @property
    def extension(self) -> str:
        """The main extension ("/" for a directory format)."""
        return self.extensions[0] if self.extensions else "/"

    def write(self, graph: Graph) -> bytes:
        """The bytes of the main file of a single-file format (companions left out)."""
        files = self.write_files(graph)
        if "" not in files:
            raise UsageError(f"format {self.name} writes several files: give -o DIRECTORY")
        return files[""]

    def paths(self, output: Path, names: Iterable[str]) -> dict[str, Path]:
        """Where each of the files ``names`` goes when ``-o`` is ``output``."""
        if self.directory:
            return {name: output / name for name in names}
        return {name: output if not name else
                output.with_name(f"{output.stem}_{name}{output.suffix}") for name in names}


#: how a multi-valued field is joined in one CSV cell (as in GraphML and GEXF)
SEPARATOR = "; "


def _single(func: Callable[[Graph], bytes]) -> Callable[[Graph], dict[str, bytes]]:
    return lambda graph: {"": func(graph)}


def _nx(graph: Graph, lists: bool = False) -> nx.MultiDiGraph:
    from .network import to_networkx

    return to_networkx(graph, lists=lists)


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

    data = nx.node_link_data(_nx(graph, lists=True), edges="edges")
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _table(columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _joined(value: Any) -> str:
    """A list as one "; "-joined cell (CSV); a scalar as is."""
    if isinstance(value, list):
        return SEPARATOR.join(str(v) for v in value)
    return "" if value is None else str(value)


#: columns of the CSV export (``x.csv``): one row per quote of each fact, so that a
#: fact with two quotes has two rows with the same ``fact`` and ``statement``
#: (``df.groupby("statement")`` gives one group per fact); a fact without evidence
#: has one row with an empty quote
CSV_COLUMNS = ("subject", "subject_label", "relation", "relation_label", "object",
               "object_label", "population", "context", "severity", "frequency", "salience",
               "negated", "quote", "quote_start", "quote_end", "document", "note", "fact",
               "statement", "evidence")
#: columns of the CSV nodes file (``x_nodes.csv``): one row per entity; ``id`` is the
#: IRI that the ``subject`` and ``object`` columns of ``x.csv`` name
CSV_NODE_COLUMNS = ("id", "curie", "label", "types", "alt_labels", "definition", "xrefs")


def _csv_rows(g: nx.MultiDiGraph) -> Iterator[dict[str, Any]]:
    for u, v, attrs in g.edges(data=True):
        row = {key: _joined(value) for key, value in attrs.items()}
        row.update(subject=u, subject_label=g.nodes[u].get("label", ""),
                   relation_label=attrs.get("label", ""), object=v,
                   object_label=g.nodes[v].get("label", ""),
                   negated="true" if attrs.get("negated") else "false")
        quotes = list(zip(attrs.get("evidence", []), attrs.get("quote", []),
                          attrs.get("quote_start", []), attrs.get("quote_end", []),
                          attrs.get("document", []), strict=True))
        if not quotes:
            yield {**row, "evidence": "", "quote": "", "quote_start": "", "quote_end": "",
                   "document": ""}
        for evidence, quote, start, end, document in quotes:
            yield {**row, "evidence": evidence, "quote": quote, "quote_start": _joined(start),
                   "quote_end": _joined(end), "document": document}


def _csv(graph: Graph) -> dict[str, bytes]:
    from .prefixes import curie

    g = _nx(graph, lists=True)
    nodes = ({"id": node, "curie": curie(node), **{k: _joined(v) for k, v in attrs.items()}}
             for node, attrs in g.nodes(data=True))
    return {"": _table(CSV_COLUMNS, _csv_rows(g)), "nodes": _table(CSV_NODE_COLUMNS, nodes)}


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
#: kg qualifiers -> Biolink edge properties (KGX edges.tsv); the others (context,
#: salience) have no Biolink slot that fits all their values and go to kg_* columns
BIOLINK_QUALIFIERS = {
    "population": "population_context_qualifier",
    "frequency": "frequency_qualifier",
    "severity": "severity_qualifier",
}
#: Every fact of kg is a statement a human curator read in a text and wrote down:
#: ``knowledge_assertion`` (KnowledgeLevelEnum: "a statement of purported fact put forth
#: by an agent as true", here the article's author, not a prediction, a statistical
#: association or a logical entailment) made by a ``manual_agent`` (AgentTypeEnum: "a
#: human agent responsible for generating a statement of knowledge"). Not
#: ``text_mining_agent``: no program recognised the concepts or relations; ``kg build``
#: only computes the offsets of quotes a curator chose, and the curator corrects the
#: machine translation where it garbles the meaning (see ``kg_curator_note``).
KNOWLEDGE_LEVEL = "knowledge_assertion"
AGENT_TYPE = "manual_agent"
KGX_NODE_COLUMNS = ("id", "category", "name", "description", "synonym", "xref", "iri")
#: One row per fact. kgx keys the edges of a graph it loads in memory by (subject,
#: predicate, object), so facts that share them (a fact stated for two populations)
#: become one edge there; streaming (``kgx validate``, ``kgx transform --stream``)
#: sees every row. (A ``key`` column would keep them apart, but kgx 2.6 then fails.)
KGX_EDGE_COLUMNS = ("id", "subject", "predicate", "object", "original_predicate",
                    "knowledge_level", "agent_type", "negated",
                    *BIOLINK_QUALIFIERS.values(), "kg_context", "kg_salience",
                    "supporting_text", "subject_location_in_text", "object_location_in_text",
                    "publications", "kg_quote_start", "kg_quote_end", "kg_curator_note")
#: KGX's list delimiter in TSV
KGX_LIST_DELIMITER = "|"


def _curie(iri: str) -> str:
    from .prefixes import curie

    return curie(iri)


def _plain(value: Any, delimiter: str) -> str:
    """One value for a delimiter-separated list cell with no quoting or escaping (KGX
    TSV, Neo4j arrays): tabs and line breaks become spaces (as KGX itself does) and the
    list delimiter inside a value becomes a broken bar."""
    text = "" if value is None else str(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ").replace(
        delimiter, "\u00a6")


def _kgx_cell(value: Any) -> str:
    if isinstance(value, list):
        return KGX_LIST_DELIMITER.join(_plain(v, KGX_LIST_DELIMITER) for v in value)
    return _plain(value, KGX_LIST_DELIMITER)


def _tsv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    """KGX TSV: kgx reads it with pandas and ``quoting=QUOTE_NONE``, so no cell is
    quoted; multi-valued cells are ``|``-separated."""
    lines = ["\t".join(columns)]
    lines += ["\t".join(_kgx_cell(row.get(c, "")) for c in columns) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def mention(text: str, names: Iterable[str]) -> tuple[int, int] | None:
    """The first place in ``text`` where one of ``names`` occurs as whole words (any
    case, the longest name at the earliest place), as 0-based (start, end)."""
    import re

    best: tuple[int, int] | None = None
    for name in sorted({n for n in names if n.strip()}, key=len, reverse=True):
        found = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE)
        if found and (best is None or found.start() < best[0]):
            best = found.span()
    return best


def _names(attrs: dict[str, Any]) -> list[str]:
    return [attrs.get("label", ""), *attrs.get("alt_labels", [])]


def _location(quotes: list[str], attrs: dict[str, Any]) -> list[int]:
    span = mention(quotes[0], _names(attrs)) if quotes else None
    return list(span) if span else []


def _kgx(graph: Graph) -> dict[str, bytes]:
    from rdflib import URIRef

    from .vocab import QUALIFIERS

    g = _nx(graph, lists=True)
    nodes = []
    for node, attrs in g.nodes(data=True):
        category = next((cat for cls, cat in BIOLINK_CATEGORIES.items()
                         if cls in attrs["types"]), "biolink:NamedThing")
        nodes.append({"id": _curie(node), "category": [category], "name": attrs["label"],
                      "description": attrs.get("definition", ""),
                      "synonym": attrs.get("alt_labels", []),
                      "xref": attrs.get("xrefs", []), "iri": node})
    edges = []
    for u, v, key, attrs in g.edges(keys=True, data=True):
        relation = attrs.get("relation", "")
        quotes = [q for q in attrs.get("quote", []) if q]
        edge = {"id": _curie(attrs.get("statement", key)), "subject": _curie(u),
                "predicate": BIOLINK_PREDICATES.get(relation, "biolink:related_to"),
                "object": _curie(v), "original_predicate": _curie(attrs["predicate"]),
                "knowledge_level": KNOWLEDGE_LEVEL, "agent_type": AGENT_TYPE,
                "negated": "True" if attrs.get("negated") else "",
                "supporting_text": quotes,
                "subject_location_in_text": _location(quotes, g.nodes[u]),
                "object_location_in_text": _location(quotes, g.nodes[v]),
                "publications": sorted({d for d in attrs.get("document", []) if d}),
                "kg_quote_start": attrs.get("quote_start", []),
                "kg_quote_end": attrs.get("quote_end", []),
                "kg_curator_note": attrs.get("note", "")}
        if "statement" in attrs:
            statement = URIRef(attrs["statement"])
            for qualifier, prop in QUALIFIERS.items():
                values = sorted(_curie(str(o)) for o in graph.objects(statement, prop))
                edge[BIOLINK_QUALIFIERS.get(qualifier, f"kg_{qualifier}")] = values
        edges.append(edge)
    return {"nodes.tsv": _tsv(KGX_NODE_COLUMNS, nodes), "edges.tsv": _tsv(KGX_EDGE_COLUMNS, edges)}


#: Neo4j's ``neo4j-admin database import`` array delimiter used in our files (its
#: default is ";", which occurs in the text): pass ``--array-delimiter="|"``
NEO4J_ARRAY_DELIMITER = "|"
#: headers of the Neo4j import files; ``name:type[]`` columns are arrays
NEO4J_NODE_COLUMNS = ("iri:ID", ":LABEL", "name", "curie", "types:string[]",
                      "alt_labels:string[]", "definition", "xrefs:string[]")
NEO4J_RELATIONSHIP_COLUMNS = (
    ":START_ID", ":END_ID", ":TYPE", "relation", "label", "predicate", "fact", "statement",
    "negated:boolean", "population:string[]", "context:string[]", "severity:string[]",
    "frequency:string[]", "salience:string[]", "quotes:string[]", "quote_starts:int[]",
    "quote_ends:int[]", "documents:string[]", "evidence:string[]", "note")


def neo4j_type(relation: str) -> str:
    """A kg relation as a Neo4j relationship type: ``hasSymptom`` -> ``HAS_SYMPTOM``."""
    import re

    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", relation).upper() or "RELATED_TO"


def _neo4j_cell(value: Any) -> str:
    """Arrays (and labels) joined by the array delimiter; line breaks become spaces,
    since neo4j-admin refuses multi-line fields unless told otherwise."""
    if isinstance(value, list):
        return NEO4J_ARRAY_DELIMITER.join(_plain(v, NEO4J_ARRAY_DELIMITER) for v in value)
    return _joined(value).replace("\r", " ").replace("\n", " ")


def _neo4j(graph: Graph) -> dict[str, bytes]:
    from .prefixes import curie

    g = _nx(graph, lists=True)
    nodes = []
    for node, attrs in g.nodes(data=True):
        row = {"iri:ID": node, ":LABEL": ["Entity", *attrs["types"]], "name": attrs["label"],
               "curie": curie(node), "types:string[]": attrs["types"],
               "alt_labels:string[]": attrs.get("alt_labels", []),
               "definition": attrs.get("definition", ""),
               "xrefs:string[]": attrs.get("xrefs", [])}
        nodes.append({k: _neo4j_cell(v) for k, v in row.items()})
    rels = []
    for u, v, attrs in g.edges(data=True):
        row = {":START_ID": u, ":END_ID": v, ":TYPE": neo4j_type(attrs.get("relation", "")),
               "negated:boolean": "true" if attrs.get("negated") else "false",
               "quotes:string[]": attrs.get("quote", []),
               "quote_starts:int[]": attrs.get("quote_start", []),
               "quote_ends:int[]": attrs.get("quote_end", []),
               "documents:string[]": attrs.get("document", []),
               "evidence:string[]": attrs.get("evidence", [])}
        for column in NEO4J_RELATIONSHIP_COLUMNS:
            name = column.split(":")[0]
            if name and column not in row:
                row[column] = attrs.get(name, "")
        rels.append({k: _neo4j_cell(v) for k, v in row.items()})
    return {"nodes.csv": _table(NEO4J_NODE_COLUMNS, nodes),
            "relationships.csv": _table(NEO4J_RELATIONSHIP_COLUMNS, rels)}


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("ttl", (".ttl",), "text/turtle", "Turtle", _single(_ttl)),
        Format("nt", (".nt",), "application/n-triples", "N-Triples, one triple a line, sorted",
               _single(_nt)),
        Format("jsonld", (".jsonld",), "application/ld+json",
               "JSON-LD, compacted with kg's prefixes", _single(_jsonld)),
        Format("rdfxml", (".rdf", ".owl"), "application/rdf+xml", "RDF/XML", _single(_rdfxml)),
        Format("graphml", (".graphml",), "application/graphml+xml",
               "GraphML for Gephi, Cytoscape, yEd (entity nodes, one edge per fact)",
               _single(_graphml), rdf=False),
        Format("gexf", (".gexf",), "application/gexf+xml", "GEXF for Gephi", _single(_gexf),
               rdf=False),
        Format("json", (".json",), "application/json",
               "NetworkX node-link JSON (d3, networkx), multi-valued fields as lists",
               _single(_node_link), rdf=False),
        Format("csv", (".csv",), "text/csv",
               "CSV, one row per quote of each fact with labels and qualifiers, and a "
               "nodes file beside it (x.csv, x_nodes.csv)", _csv, rdf=False),
        Format("kgx", (), "text/tab-separated-values",
               "KGX TSV (nodes.tsv and edges.tsv in a directory) for the Biolink tool chain",
               _kgx, rdf=False, directory=True),
        Format("neo4j", (), "text/csv",
               "CSV for neo4j-admin database import (nodes.csv and relationships.csv in a "
               "directory)", _neo4j, rdf=False, directory=True),
    )
}
#: extension -> the format it chooses
EXTENSIONS: dict[str, Format] = {ext: f for f in FORMATS.values() for ext in f.extensions}
#: the format of ``kg export`` with neither ``--format`` nor ``-o``
DEFAULT_FORMAT = "ttl"


def get_format(name: str) -> Format:
    try:
        return FORMATS[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}") from None


def choose_format(name: str | None, output: Path | None) -> Format:
    """The format of an export: ``name`` if given, else the one the extension of
    ``output`` names, else (no ``output``) :data:`DEFAULT_FORMAT`. A ``name`` that
    contradicts the extension of ``output`` (``--format ttl -o x.graphml``) and an
    ``output`` whose extension names no format (without ``name``) are usage errors;
    an unknown extension with an explicit ``name`` is the user's choice."""
    ext = output.suffix.lower() if output is not None else ""
    owner = EXTENSIONS.get(ext)
    if name is not None:
        fmt = get_format(name)
        if output is not None and owner is not None and owner is not fmt:
            raise UsageError(f"--format {fmt.name} contradicts the extension of {output} "
                             f"({ext} is {owner.name}); drop --format or rename the output")
        return fmt
    if output is None:
        return FORMATS[DEFAULT_FORMAT]
    if owner is None:
        known = ", ".join(EXTENSIONS)
        raise UsageError(f"cannot tell the format from the name {output}: give --format "
                         f"(kgx and neo4j write a directory) or end it in one of {known}")
    return owner


def export(graph: Graph, fmt: str) -> bytes:
    """``graph`` serialised in the single-file format ``fmt`` (a key of :data:`FORMATS`);
    for CSV, the facts table without its nodes file."""
    return get_format(fmt).write(graph)


def export_files(graph: Graph, fmt: str) -> dict[str, bytes]:
    """``graph`` in format ``fmt`` as {file name: bytes} ("" for the main file of a
    single-file format)."""
    return get_format(fmt).write_files(graph)


def save(files: dict[str, bytes], output: Path | None, fmt: Format,
         protected: Iterable[Path] = ()) -> list[Path]:
    """Write an export: to standard output when ``output`` is None (the main file only:
    a CSV's nodes file needs ``-o``), else atomically to the file ``output`` and its
    companions beside it (``x_nodes.csv``), or into the directory ``output`` for a
    directory format, never over one of ``protected`` (kg's inputs and build files).
    Returns the paths written."""
    from .files import check_output, write_atomic, write_stdout

    protected = tuple(protected)
    if output is None:
        if fmt.directory:
            raise UsageError(f"format {fmt.name} writes several files: give -o DIRECTORY")
        write_stdout(files[""])
        return []
    paths = fmt.paths(output, files)
    check_output(output, protected)
    for path in paths.values():
        check_output(path, protected)
    if fmt.directory:
        if output.exists() and not output.is_dir():
            raise UsageError(f"--output: {output} is a file; format {fmt.name} needs a "
                             "directory")
        if not output.parent.is_dir():
            raise UsageError(f"--output: directory {output.parent} does not exist")
        output.mkdir(exist_ok=True)
    else:
        if output.is_dir():
            raise UsageError(f"--output: {output} is a directory; give a file name")
        if not output.parent.is_dir():
            raise UsageError(f"--output: directory {output.parent} does not exist")
        for path in paths.values():
            if path.is_dir():
                raise UsageError(f"--output: {path} is a directory")
    written = []
    for name in sorted(files, key=lambda n: (n != "", n)):
        write_atomic(paths[name], files[name])
        written.append(paths[name])
    return written
