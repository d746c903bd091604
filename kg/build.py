"""Compile a corpus of curated facts and the ontology into one RDF graph.

The graph has three layers:

* truthy triples, one per fact (``kgr:magnesium-deficiency kg:causes kgr:leg-cramp``);
* an ``rdf:Statement`` node per fact, with its qualifiers and its provenance;
* evidence nodes (PROV-O + W3C Web Annotation selectors) pointing into the source.

Every IRI is derived from ids in the facts files, there are no blank nodes, and
the output is sorted, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from . import __version__
from .describe import DATASET_FILE, description, load_dataset_info
from .errors import DataError
from .facts import Corpus, Document, Quote, load_corpus
from .mappings import MAPPINGS, load_mappings
from .paths import ONTOLOGY, check_data_dir
from .vocab import KG, KGD, KGR, OA, QUALIFIERS, bind_prefixes, load_ontology, vocabulary

GRAPH_NT = "graph.nt"
GRAPH_TTL = "graph.ttl"
MANIFEST = "manifest.json"

Triple = tuple[URIRef, URIRef, URIRef | Literal]


# --------------------------------------------------------------------------- IRIs


def entity_iri(entity_id: str) -> URIRef:
    return KGR[entity_id]


def document_iri(doc_id: str) -> URIRef:
    return KGD[doc_id]


def fact_iri(doc_id: str, fact_id: str) -> URIRef:
    return URIRef(f"{KGD}{doc_id}/fact/{fact_id}")


def definition_iri(doc_id: str, entity_id: str) -> URIRef:
    return URIRef(f"{KGD}{doc_id}/definition/{entity_id}")


# --------------------------------------------------------------------------- triples


def _en(text: str) -> Literal:
    return Literal(text, lang="en")


def _evidence(statement: URIRef, doc_id: str, quotes: tuple[Quote, ...]) -> Iterator[Triple]:
    for n, q in enumerate(quotes, start=1):
        ev = URIRef(f"{statement}/evidence/{n}")
        quote_sel, pos_sel = URIRef(f"{ev}/quote"), URIRef(f"{ev}/position")
        yield statement, PROV.wasDerivedFrom, ev
        yield ev, RDF.type, KG.Evidence
        yield ev, OA.hasSource, document_iri(doc_id)
        yield ev, OA.hasSelector, quote_sel
        yield ev, OA.hasSelector, pos_sel
        yield quote_sel, RDF.type, OA.TextQuoteSelector
        yield quote_sel, OA.exact, Literal(q.exact)
        yield quote_sel, OA.prefix, Literal(q.prefix)
        yield quote_sel, OA.suffix, Literal(q.suffix)
        yield pos_sel, RDF.type, OA.TextPositionSelector
        yield pos_sel, OA.start, Literal(q.start, datatype=XSD.nonNegativeInteger)
        yield pos_sel, OA.end, Literal(q.end, datatype=XSD.nonNegativeInteger)


def _statement(
    st: URIRef, s: URIRef, p: URIRef, o: URIRef | Literal, ident: str
) -> Iterator[Triple]:
    yield st, RDF.type, RDF.Statement
    yield st, RDF.subject, s
    yield st, RDF.predicate, p
    yield st, RDF.object, o
    yield st, DCTERMS.identifier, Literal(ident)


def _document(doc: Document) -> Iterator[Triple]:
    d = document_iri(doc.id)
    yield d, RDF.type, KG.Document
    yield d, DCTERMS.identifier, Literal(doc.id)
    yield d, DCTERMS.title, _en(doc.title)
    yield d, DCTERMS.language, Literal(doc.language, datatype=XSD.language)
    yield d, DCTERMS["format"], Literal("text/plain; charset=utf-8")
    yield d, KG.sha256, Literal(doc.sha256)
    yield d, KG.sourcePath, Literal(doc.source)
    yield d, KG.characterCount, Literal(len(doc.text), datatype=XSD.nonNegativeInteger)
    yield d, KG.machineTranslated, Literal(doc.machine_translated)
    if doc.translated_from:
        yield d, KG.translatedFrom, Literal(doc.translated_from, datatype=XSD.language)
    if doc.note:
        yield d, SKOS.editorialNote, _en(doc.note)


def corpus_triples(corpus: Corpus) -> Iterator[Triple]:
    """Every triple the facts of ``corpus`` give (the ontology not included)."""
    for doc in corpus.documents:
        yield from _document(doc)
    for entity in corpus.entities.values():
        e = entity_iri(entity.id)
        for t in entity.types:
            yield e, RDF.type, KG[t]
        yield e, RDFS.label, _en(entity.label)
        for alt in entity.alt:
            yield e, SKOS.altLabel, _en(alt)
        if entity.definition:
            d = entity.definition
            yield e, SKOS.definition, _en(d.text)
            st = definition_iri(d.document, entity.id)
            yield from _statement(st, e, SKOS.definition, _en(d.text), f"definition/{entity.id}")
            yield from _evidence(st, d.document, d.quotes)
    for fact in corpus.facts:
        s, p, o = entity_iri(fact.subject), KG[fact.relation], entity_iri(fact.object)
        if not fact.negated:
            yield s, p, o
        st = fact_iri(fact.document, fact.id)
        yield from _statement(st, s, p, o, fact.id)
        for key, value in fact.qualifiers:
            yield st, QUALIFIERS[key], entity_iri(value)
        if fact.negated:
            yield st, KG.negated, Literal(True)
        if fact.note:
            yield st, SKOS.editorialNote, _en(fact.note)
        yield from _evidence(st, fact.document, fact.quotes)


# --------------------------------------------------------------------------- building


@dataclass(frozen=True)
class BuildResult:
    build_dir: Path
    triples: int
    documents: int
    entities: int
    facts: int
    seconds: float
    files: tuple[Path, ...]


def compile_graph(data_dir: Path) -> tuple[Graph, Corpus]:
    """Read the data directory and return the graph (ontology included) and the corpus."""
    check_data_dir(data_dir)
    ontology = load_ontology(data_dir / ONTOLOGY)
    if any(isinstance(term, BNode) for triple in ontology for term in triple):
        raise DataError(f"{data_dir / ONTOLOGY}: blank nodes are not allowed (the build must "
                        "be byte-identical); give every node an IRI")
    corpus = load_corpus(data_dir, vocabulary(ontology))
    mappings = None
    if (data_dir / MAPPINGS).is_file():
        mappings = load_mappings(data_dir / MAPPINGS, set(corpus.entities))
    graph = bind_prefixes(Graph())
    for triple in ontology:
        graph.add(triple)
    for triple in corpus_triples(corpus):
        graph.add(triple)
    for m in mappings.mappings if mappings else ():
        graph.add((entity_iri(m.entity), URIRef(m.predicate), URIRef(m.object)))
    if (data_dir / DATASET_FILE).is_file():
        info = load_dataset_info(data_dir / DATASET_FILE, set(corpus.entities))
        for triple in description(len(graph), info, corpus, mappings):
            graph.add(triple)
    return graph, corpus


def serialize_nt(graph: Graph) -> bytes:
    """Sorted N-Triples: the canonical, byte-stable form of a graph without blank nodes."""
    lines = graph.serialize(format="nt", encoding="utf-8").splitlines()
    return b"\n".join(sorted(set(line for line in lines if line.strip()))) + b"\n"


def serialize_ttl(nt: bytes) -> bytes:
    """Turtle from sorted N-Triples, re-read so that rdflib writes it in a fixed order."""
    g = bind_prefixes(Graph())
    g.parse(data=nt, format="nt")
    return g.serialize(format="turtle", encoding="utf-8")


def build(data_dir: Path, build_dir: Path) -> BuildResult:
    """Compile ``data_dir`` into ``build_dir``: graph.nt, graph.ttl and manifest.json.

    Everything is computed before anything is written, and each file replaces the
    old one atomically, so a failed build leaves the previous build as it was.
    """
    t0 = time.perf_counter()
    graph, corpus = compile_graph(data_dir)
    nt = serialize_nt(graph)
    ttl = serialize_ttl(nt)
    manifest = {
        "kg_version": __version__,
        "triples": len(graph),
        "documents": len(corpus.documents),
        "entities": len(corpus.entities),
        "facts": len(corpus.facts),
        "inputs": {
            p.relative_to(data_dir).as_posix(): _sha256(p.read_bytes())
            for p in sorted({data_dir / ONTOLOGY, *corpus.inputs,
                             *(data_dir / f for f in (MAPPINGS, DATASET_FILE)
                               if (data_dir / f).is_file())})
        },
        "outputs": {GRAPH_NT: _sha256(nt), GRAPH_TTL: _sha256(ttl)},
    }
    body = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    build_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for name, data in ((GRAPH_NT, nt), (GRAPH_TTL, ttl), (MANIFEST, body)):
        write_atomic(build_dir / name, data)
        files.append(build_dir / name)
    return BuildResult(build_dir=build_dir, triples=len(graph), documents=len(corpus.documents),
                       entities=len(corpus.entities), facts=len(corpus.facts),
                       seconds=time.perf_counter() - t0, files=tuple(files))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
