"""Compile a corpus of curated facts and the ontology into one RDF graph.

The graph has three layers:

* truthy triples, one per fact (``kgr:magnesium-deficiency kg:causes kgr:leg-cramp``);
* an ``rdf:Statement`` node per fact, with its qualifiers and its provenance;
* evidence nodes (PROV-O + W3C Web Annotation selectors) pointing into the source.

Every IRI is derived from ids in the facts files, there are no blank nodes, and
the output is sorted, so the same inputs give byte-identical files.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS
from rdflib.term import Node

from . import __version__
from . import ntriples as nt
from .describe import DATASET_FILE, description, load_dataset_info
from .errors import DataError, UsageError
from .facts import Corpus, Document, Quote, load_corpus
from .files import exclusive_lock, fsync_dir, read_regular
from .infer import INFERRED_GRAPH, INFERRED_NT, infer, reasoner
from .mappings import MAPPINGS, load_mappings
from .paths import GRAPH_NT, GRAPH_TTL, LOCK, MANIFEST, OBJECTS, ONTOLOGY, check_data_dir
from .vocab import KG, KGD, KGR, OA, PREFIXES, QUALIFIERS, bind_prefixes, load_ontology, vocabulary

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
#
# Triples are made as N-Triples lines by string formatting (kg.ntriples), not as
# rdflib terms: a corpus of 10,000 documents gives a million of them.


class _T:
    """The N-Triples form of the terms the build writes again and again."""

    rdf_type = nt.iri(str(RDF.type))
    statement = nt.iri(str(RDF.Statement))
    subject = nt.iri(str(RDF.subject))
    predicate = nt.iri(str(RDF.predicate))
    object = nt.iri(str(RDF.object))
    identifier = nt.iri(str(DCTERMS.identifier))
    derived = nt.iri(str(PROV.wasDerivedFrom))
    evidence = nt.iri(str(KG.Evidence))
    has_source = nt.iri(str(OA.hasSource))
    has_selector = nt.iri(str(OA.hasSelector))
    quote_selector = nt.iri(str(OA.TextQuoteSelector))
    position_selector = nt.iri(str(OA.TextPositionSelector))
    exact = nt.iri(str(OA.exact))
    prefix = nt.iri(str(OA.prefix))
    suffix = nt.iri(str(OA.suffix))
    start = nt.iri(str(OA.start))
    end = nt.iri(str(OA.end))
    label = nt.iri(str(RDFS.label))
    alt_label = nt.iri(str(SKOS.altLabel))
    definition = nt.iri(str(SKOS.definition))
    related = nt.iri(str(SKOS.related))
    note = nt.iri(str(SKOS.editorialNote))
    negated = nt.iri(str(KG.negated))
    true = nt.boolean(True)
    # xsd:integer, not xsd:nonNegativeInteger: stores such as Oxigraph keep only the
    # primitive type, and the graph must come back from any store as it went in
    integer = str(XSD.integer)


def _en(text: str) -> str:
    return nt.literal(text, lang="en")


def _evidence(statement: str, doc_id: str, quotes: tuple[Quote, ...]) -> Iterator[str]:
    """Lines for the evidence of a statement whose IRI (no brackets) is ``statement``."""
    t, line = _T, nt.line
    st = nt.iri(statement)
    doc = nt.iri(str(document_iri(doc_id)))
    for n, q in enumerate(quotes, start=1):
        ev_iri = f"{statement}/evidence/{n}"
        ev, quote_sel, pos_sel = (nt.iri(ev_iri), nt.iri(ev_iri + "/quote"),
                                  nt.iri(ev_iri + "/position"))
        yield line(st, t.derived, ev)
        yield line(ev, t.rdf_type, t.evidence)
        yield line(ev, t.has_source, doc)
        yield line(ev, t.has_selector, quote_sel)
        yield line(ev, t.has_selector, pos_sel)
        yield line(quote_sel, t.rdf_type, t.quote_selector)
        yield line(quote_sel, t.exact, nt.literal(q.exact))
        yield line(quote_sel, t.prefix, nt.literal(q.prefix))
        yield line(quote_sel, t.suffix, nt.literal(q.suffix))
        yield line(pos_sel, t.rdf_type, t.position_selector)
        yield line(pos_sel, t.start, nt.integer(q.start, t.integer))
        yield line(pos_sel, t.end, nt.integer(q.end, t.integer))


def _statement(st: str, s: str, p: str, o: str, ident: str) -> Iterator[str]:
    t, line = _T, nt.line
    yield line(st, t.rdf_type, t.statement)
    yield line(st, t.subject, s)
    yield line(st, t.predicate, p)
    yield line(st, t.object, o)
    yield line(st, t.identifier, nt.literal(ident))


def _document(doc: Document) -> Iterator[tuple[URIRef, URIRef, URIRef | Literal]]:
    d = document_iri(doc.id)
    yield d, RDF.type, KG.Document
    yield d, DCTERMS.identifier, Literal(doc.id)
    yield d, DCTERMS.title, Literal(doc.title, lang="en")
    yield d, DCTERMS.language, Literal(doc.language, datatype=XSD.language)
    yield d, DCTERMS["format"], Literal("text/plain; charset=utf-8")
    yield d, KG.sha256, Literal(doc.sha256)
    yield d, KG.sourcePath, Literal(doc.source)
    yield d, KG.characterCount, Literal(len(doc.text), datatype=XSD.integer)
    yield d, KG.machineTranslated, Literal(doc.machine_translated)
    if doc.translated_from:
        yield d, KG.translatedFrom, Literal(doc.translated_from, datatype=XSD.language)
    if doc.note:
        yield d, SKOS.editorialNote, Literal(doc.note, lang="en")


def rdflib_lines(triples: Iterable[tuple[Node, Node, Node]]) -> Iterator[str]:
    """N-Triples lines for triples of rdflib terms."""
    for s, p, o in triples:
        yield nt.line(nt.rdflib_term(s), nt.rdflib_term(p), nt.rdflib_term(o))


def corpus_lines(corpus: Corpus) -> Iterator[str]:
    """Every triple the facts of ``corpus`` give, as N-Triples lines (no ontology)."""
    t, line = _T, nt.line
    for doc in corpus.documents:
        yield from rdflib_lines(_document(doc))
    for entity in corpus.entities.values():
        e = nt.iri(str(entity_iri(entity.id)))
        for cls in entity.types:
            yield line(e, t.rdf_type, nt.iri(str(KG[cls])))
        yield line(e, t.label, _en(entity.label))
        for alt in entity.alt:
            yield line(e, t.alt_label, _en(alt))
        for other in entity.related:
            yield line(e, t.related, nt.iri(str(entity_iri(other))))
        if entity.definition:
            d = entity.definition
            yield line(e, t.definition, _en(d.text))
            st = str(definition_iri(d.document, entity.id))
            yield from _statement(nt.iri(st), e, t.definition, _en(d.text),
                                  f"definition/{entity.id}")
            yield from _evidence(st, d.document, d.quotes)
    relations: dict[str, str] = {}
    qualifiers = {key: nt.iri(str(prop)) for key, prop in QUALIFIERS.items()}
    for fact in corpus.facts:
        p = relations.get(fact.relation) or relations.setdefault(
            fact.relation, nt.iri(str(KG[fact.relation])))
        s, o = nt.iri(str(entity_iri(fact.subject))), nt.iri(str(entity_iri(fact.object)))
        if not fact.negated:
            yield line(s, p, o)
        st_iri = str(fact_iri(fact.document, fact.id))
        st = nt.iri(st_iri)
        yield from _statement(st, s, p, o, fact.id)
        for key, value in fact.qualifiers:
            yield line(st, qualifiers[key], nt.iri(str(entity_iri(value))))
        if fact.negated:
            yield line(st, t.negated, t.true)
        if fact.note:
            yield line(st, t.note, _en(fact.note))
        yield from _evidence(st_iri, fact.document, fact.quotes)


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
    #: triples in inferred.nt (see kg.infer), and the seconds their reasoning took
    inferred: int = 0
    inference_seconds: float = 0.0


@dataclass(frozen=True)
class Compiled:
    """A compiled data directory: the graph as sorted N-Triples, and the corpus."""

    nt: bytes
    lines: list[str]  # sorted
    corpus: Corpus
    inputs: tuple[Path, ...]
    #: the ontology as read (what kg.infer reasons with)
    ontology: Graph | None = None

    def graph(self) -> Graph:
        """Parse the compiled graph into rdflib (slow for a large corpus)."""
        g = bind_prefixes(Graph())
        g.parse(data=self.nt, format="nt")
        return g


def compile_data(data_dir: Path, progress: Callable[[int], None] | None = None) -> Compiled:
    """Read the data directory and compile its graph, ontology included."""
    check_data_dir(data_dir)
    ontology = load_ontology(data_dir / ONTOLOGY)
    if any(isinstance(term, BNode) for triple in ontology for term in triple):
        raise DataError(f"{data_dir / ONTOLOGY}: blank nodes are not allowed (the build must "
                        "be byte-identical); give every node an IRI")
    corpus = load_corpus(data_dir, vocabulary(ontology), progress)
    lines = set(rdflib_lines(ontology))
    lines.update(corpus_lines(corpus))
    inputs = [data_dir / ONTOLOGY, *corpus.inputs]
    mappings = None
    if (data_dir / MAPPINGS).is_file():
        mappings = load_mappings(data_dir / MAPPINGS, set(corpus.entities))
        inputs.append(data_dir / MAPPINGS)
        for m in mappings.mappings:
            lines.add(nt.line(nt.iri(str(entity_iri(m.entity))), nt.iri(m.predicate),
                              nt.iri(m.object)))
    if (data_dir / DATASET_FILE).is_file():
        info = load_dataset_info(data_dir / DATASET_FILE, set(corpus.entities))
        inputs.append(data_dir / DATASET_FILE)
        lines.update(rdflib_lines(description(len(lines), info, corpus, mappings)))
    ordered = nt.sort_lines(lines)
    return Compiled(nt=nt.encode(ordered), lines=ordered, corpus=corpus,
                    inputs=tuple(sorted(set(inputs))), ontology=ontology)


def compile_graph(data_dir: Path) -> tuple[Graph, Corpus]:
    """Read the data directory and return the graph (ontology included) and the corpus."""
    compiled = compile_data(data_dir)
    return compiled.graph(), compiled.corpus


def graph_lines(graph: Graph) -> list[str]:
    """The sorted, distinct N-Triples lines of an rdflib graph, written by kg.ntriples
    (as the build writes its own): one string per triple, no serialiser's copies."""
    memo: dict[Node, str] = {}

    def term(node: Node) -> str:
        text = memo.get(node)
        if text is None:
            text = memo[node] = nt.rdflib_term(node)
        return text

    return nt.sort_lines({nt.line(term(s), term(p), term(o)) for s, p, o in graph})


def serialize_nt(graph: Graph) -> bytes:
    """Sorted N-Triples: the canonical, byte-stable form of a graph without blank nodes."""
    return nt.encode(graph_lines(graph))


def serialize_ttl(ntriples: bytes | list[str]) -> bytes:
    """Turtle from sorted N-Triples (as :func:`serialize_nt` writes them), given as
    bytes or as the sorted list of lines."""
    lines = ([line for line in ntriples.decode("utf-8").splitlines() if line]
             if isinstance(ntriples, bytes) else ntriples)
    return nt.turtle(lines, {prefix: str(ns) for prefix, ns in PREFIXES.items()})


def build(data_dir: Path, build_dir: Path,
          progress: Callable[[int], None] | None = None) -> BuildResult:
    """Compile ``data_dir`` into ``build_dir``: graph.nt, graph.ttl, inferred.nt and
    manifest.json.

    inferred.nt holds what the ontology entails about the facts (owlrl; see
    :mod:`kg.infer`), never part of graph.nt: queries see it only with inference on.
    Everything is computed before anything is written, and the build is committed in
    one atomic step (see :func:`commit`), under a lock, so a failed or interrupted
    build leaves the previous build as it was, and two builds at once serialise.
    ``progress(1)`` is called after each facts file is read.
    """
    t0 = time.perf_counter()
    with _no_gc():
        compiled = compile_data(data_dir, progress)
        ttl = serialize_ttl(compiled.lines)
        assert compiled.ontology is not None  # compile_data keeps it
        inferred = infer(compiled.ontology, compiled.corpus, compiled.lines)
        inferred_nt = inferred.nt
    corpus = compiled.corpus
    manifest = {
        "kg_version": __version__,
        "triples": len(compiled.lines),
        "documents": len(corpus.documents),
        "entities": len(corpus.entities),
        "facts": len(corpus.facts),
        "inputs": {p.relative_to(data_dir).as_posix(): _sha256(read_regular(p))
                   for p in compiled.inputs},
        "outputs": {GRAPH_NT: _sha256(compiled.nt), GRAPH_TTL: _sha256(ttl),
                    INFERRED_NT: _sha256(inferred_nt)},
        "inferred": {"triples": len(inferred.lines), "graph": INFERRED_GRAPH,
                     "reasoner": reasoner(), "method": inferred.method},
    }
    try:
        build_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--build-dir {build_dir}: cannot create it ({exc.strerror})") from None
    commit(build_dir, {GRAPH_NT: compiled.nt, GRAPH_TTL: ttl, INFERRED_NT: inferred_nt},
           manifest)
    return BuildResult(build_dir=build_dir, triples=len(compiled.lines),
                       documents=len(corpus.documents), entities=len(corpus.entities),
                       facts=len(corpus.facts), seconds=time.perf_counter() - t0,
                       files=tuple(build_dir / name
                                   for name in (GRAPH_NT, GRAPH_TTL, INFERRED_NT, MANIFEST)),
                       inferred=len(inferred.lines), inference_seconds=inferred.seconds)


def commit(build_dir: Path, outputs: dict[str, bytes], manifest: dict[str, object]) -> None:
    """Write ``outputs`` and their manifest into ``build_dir`` as one atomic step.

    Under an exclusive lock (``build_dir/.lock``), each output is written and fsynced in
    a fresh directory ``build_dir/.new-*``, then moved to ``.objects/<sha256>.<ext>``
    (never changed once there). The manifest, which names every output by its SHA-256,
    is written last and renamed over the old one: that rename is the commit. Only then
    are the plain names (``graph.nt``, ``graph.ttl``...) replaced (hard links to the
    objects); a reader (:class:`kg.store.Build`) checks every output against the
    manifest and falls back to the object, so it never sees a mix of two builds. A
    fault before the commit leaves the previous build as it was; one after it leaves
    the new one whole.
    """
    body = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    digests = {name: _sha256(data) for name, data in outputs.items()}
    objects = build_dir / OBJECTS
    with exclusive_lock(build_dir / LOCK):  # builds wait for each other
        previous = _previous_outputs(build_dir)
        try:
            staging = Path(tempfile.mkdtemp(dir=build_dir, prefix=".new-"))
        except OSError as exc:
            raise DataError(f"cannot write into {build_dir} ({exc.strerror or exc}); the "
                            "previous build is unchanged") from None
        try:
            try:
                for name, data in outputs.items():
                    _write_synced(staging / name, data)
                objects.mkdir(exist_ok=True)
                for name in outputs:
                    os.replace(staging / name, objects / object_name(name, digests[name]))
                fsync_dir(objects)
                _write_synced(staging / MANIFEST, body)
                os.replace(staging / MANIFEST, build_dir / MANIFEST)  # the commit
            except OSError as exc:
                raise DataError(f"writing the build into {build_dir} failed "
                                f"({exc.strerror or exc}); the previous build is "
                                "unchanged") from None
            try:
                fsync_dir(build_dir)
                for name in outputs:  # the plain names, for people and other tools
                    link = staging / name
                    os.link(objects / object_name(name, digests[name]), link)
                    os.replace(link, build_dir / name)
                fsync_dir(build_dir)
                keep = {object_name(n, d) for n, d in (*digests.items(), *previous.items())}
                for old in objects.iterdir():
                    if old.name not in keep:
                        old.unlink(missing_ok=True)
            except OSError as exc:
                raise DataError(f"the build in {build_dir} is committed, but finishing it "
                                f"failed ({exc.strerror or exc}); kg reads the committed "
                                "copy") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def object_name(name: str, digest: str) -> str:
    """The name under ``.objects`` of the output ``name`` with SHA-256 ``digest``."""
    return f"{digest}{Path(name).suffix}"


def _previous_outputs(build_dir: Path) -> dict[str, str]:
    """The outputs (name -> SHA-256) of the build being replaced, kept for the readers
    that read its manifest just before the commit."""
    try:
        outputs = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))["outputs"]
        return {str(k): str(v) for k, v in outputs.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: the build makes millions of small acyclic
    objects, and collecting them costs a quarter of a large build's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
