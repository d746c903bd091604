"""Check a built graph: SHACL shapes, grounding in the sources, and coverage.

* **shapes**: ``data/shapes.ttl`` with pyshacl (statements have evidence, entities a
  label and an ontology type, every relation its domain and range);
* **grounding**: each document's SHA-256 is that of its file today, and every quote
  is the text at its offsets, with its prefix and suffix around it;
* **coverage**: every sentence of every source is touched by a quote, or listed under
  ``unannotated`` in its facts file with a reason;
* **freshness**: the build was made from the data directory's files as they are now.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from . import text as textmod
from .errors import KgError
from .facts import Corpus
from .files import UnreadableInput, read_regular
from .paths import SHAPES
from .store import Build
from .vocab import KG, OA, load_ontology


@dataclass
class ValidationReport:
    """Problems found, by check; it conforms when there are none."""

    problems: dict[str, list[str]] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def conforms(self) -> bool:
        return not any(self.problems.values())

    def add(self, check: str, problem: str) -> None:
        self.problems.setdefault(check, []).append(problem)

    def text(self) -> str:
        lines = []
        for check, n in self.checked.items():
            found = self.problems.get(check, [])
            status = "ok" if not found else f"{len(found)} problem(s)"
            lines.append(f"{check}: {status} ({n} checked)")
            lines += [f"  - {p}" for p in found]
        lines.append("conforms" if self.conforms else "does NOT conform")
        return "\n".join(lines)


def validate(build: Build, data_dir: Path, corpus: Corpus | None = None,
             shapes: bool = True) -> ValidationReport:
    """Run every check on ``build`` against the inputs in ``data_dir``."""
    report = ValidationReport()
    _freshness(build, data_dir, report)
    if shapes:
        _shapes(build.graph, data_dir / SHAPES, report)
    _grounding(build.graph, data_dir, report)
    if corpus is not None:
        _coverage(corpus, report)
    return report


# --------------------------------------------------------------------------- checks


def _freshness(build: Build, data_dir: Path, report: ValidationReport) -> None:
    inputs: dict[str, str] = build.manifest.get("inputs", {})
    report.checked["freshness"] = len(inputs)
    for rel, digest in sorted(inputs.items()):
        path = data_dir / rel
        if not path.exists():
            report.add("freshness", f"{rel}: used by the build but missing from {data_dir}")
            continue
        try:
            data = read_regular(path)
        except UnreadableInput as exc:
            report.add("freshness", f"{rel}: {exc.problem}")
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            report.add("freshness", f"{rel}: changed since the build; run 'kg build'")
    outputs: dict[str, str] = build.manifest.get("outputs", {})
    report.checked["freshness"] += len(outputs)
    for name in sorted(outputs):  # every output, not only the graph.nt just read
        try:
            build.output(name)
        except KgError as exc:
            report.add("freshness", f"{name}: {exc}")


def _shapes(graph: Graph, shapes_path: Path, report: ValidationReport) -> None:
    from pyshacl import validate as shacl_validate  # heavy: imported only here

    shapes = load_ontology(shapes_path)
    conforms, results, _ = shacl_validate(graph, shacl_graph=shapes, inference="none",
                                          advanced=True, allow_warnings=True)
    report.checked["shapes"] = sum(1 for _ in shapes.subjects(RDF.type, _SH.NodeShape))
    if conforms:
        return
    found = []
    for result in results.subjects(RDF.type, _SH.ValidationResult):
        focus = results.value(result, _SH.focusNode)
        path = results.value(result, _SH.resultPath)
        message = _IRI.sub(lambda m: _short(graph, URIRef(m.group(0))),
                           str(results.value(result, _SH.resultMessage)))
        value = results.value(result, _SH.value)
        parts = [_short(graph, focus)]
        if path is not None:
            parts.append(_short(graph, path))
        text = f"{' '.join(parts)}: {message}"
        if value is not None and value != focus and _short(graph, value) not in message:
            text += f" (value {_short(graph, value)})"
        found.append(text)
    for text in sorted(found):
        report.add("shapes", text)


_IRI = re.compile(r"https?://[^\s<>\"{}]+")


class _SH:
    _ns = "http://www.w3.org/ns/shacl#"
    NodeShape = URIRef(_ns + "NodeShape")
    ValidationResult = URIRef(_ns + "ValidationResult")
    focusNode = URIRef(_ns + "focusNode")
    resultPath = URIRef(_ns + "resultPath")
    resultMessage = URIRef(_ns + "resultMessage")
    value = URIRef(_ns + "value")


def _grounding(graph: Graph, data_dir: Path, report: ValidationReport) -> None:
    texts: dict[Node, str | None] = {}
    for doc in sorted(graph.subjects(RDF.type, KG.Document), key=str):
        texts[doc] = _document_text(graph, doc, data_dir, report)
    count = 0
    for ev in sorted(graph.subjects(RDF.type, KG.Evidence), key=str):
        count += 1
        source = graph.value(ev, OA.hasSource)
        text = texts.get(source) if source is not None else None
        if text is None:
            if source not in texts:
                report.add("grounding", f"{_short(graph, ev)}: source {source} is not a document "
                           "of the graph")
            continue
        for problem in _check_quote(graph, ev, text):
            report.add("grounding", f"{_short(graph, ev)}: {problem}")
    report.checked["grounding"] = count + len(texts)


def _document_text(graph: Graph, doc: Node, data_dir: Path,
                   report: ValidationReport) -> str | None:
    rel = graph.value(doc, KG.sourcePath)
    digest = graph.value(doc, KG.sha256)
    if rel is None or digest is None:
        report.add("grounding", f"{_short(graph, doc)}: no kg:sourcePath or kg:sha256")
        return None
    path = data_dir / str(rel)
    try:
        raw = read_regular(path)
    except UnreadableInput as exc:
        report.add("grounding", f"{_short(graph, doc)}: source file {exc}")
        return None
    if hashlib.sha256(raw).hexdigest() != str(digest):
        report.add("grounding", f"{_short(graph, doc)}: {rel} has changed: its SHA-256 is no "
                   "longer the one recorded at build time")
        return None
    return raw.decode("utf-8")


def _check_quote(graph: Graph, ev: Node, text: str) -> Iterator[str]:
    exact = prefix = suffix = start = end = None
    for sel in graph.objects(ev, OA.hasSelector):
        if (sel, RDF.type, OA.TextQuoteSelector) in graph:
            exact = _str(graph.value(sel, OA.exact))
            prefix = _str(graph.value(sel, OA.prefix))
            suffix = _str(graph.value(sel, OA.suffix))
        elif (sel, RDF.type, OA.TextPositionSelector) in graph:
            start, end = _int(graph.value(sel, OA.start)), _int(graph.value(sel, OA.end))
    if exact is None or start is None or end is None:
        yield "needs a quote selector with oa:exact and a position selector with start and end"
        return
    if not 0 <= start < end <= len(text):
        yield f"offsets {start}-{end} lie outside the text ({len(text)} characters)"
        return
    if text[start:end] != exact:
        yield f"the text at {start}-{end} is {text[start:end]!r}, not the quote {exact!r}"
    if prefix is not None and not text[:start].endswith(prefix):
        yield f"oa:prefix does not precede the quote at {start}"
    if suffix is not None and not text[end:].startswith(suffix):
        yield f"oa:suffix does not follow the quote at {end}"


def _coverage(corpus: Corpus, report: ValidationReport) -> None:
    spans: dict[str, list[tuple[int, int]]] = {d.id: [] for d in corpus.documents}
    for fact in corpus.facts:
        spans[fact.document] += [(q.start, q.end) for q in fact.quotes]
    for entity in corpus.entities.values():
        if entity.definition:
            spans[entity.definition.document] += [(q.start, q.end)
                                                  for q in entity.definition.quotes]
    checked = 0
    for doc in corpus.documents:
        covered = spans[doc.id] + [span for span, _ in doc.unannotated]
        for start, end in textmod.sentence_spans(doc.text):
            checked += 1
            if not any(s < end and start < e for s, e in covered):
                line = doc.text.count("\n", 0, start) + 1
                sentence = doc.text[start:end]
                clipped = sentence if len(sentence) <= 100 else sentence[:97] + "..."
                report.add("coverage", f"{doc.source}:{line}: no fact quotes {clipped!r} "
                           "(add a fact, or list it under 'unannotated' with a reason)")
    report.checked["coverage"] = checked


# --------------------------------------------------------------------------- helpers


def _short(graph: Graph, node: Node | None) -> str:
    if isinstance(node, URIRef):
        try:
            return graph.namespace_manager.normalizeUri(node)
        except ValueError:
            return f"<{node}>"
    return repr(str(node)) if isinstance(node, Literal) else str(node)


def _str(node: Node | None) -> str | None:
    return None if node is None else str(node)


def _int(node: Node | None) -> int | None:
    if isinstance(node, Literal):
        try:
            return int(node.toPython())
        except (TypeError, ValueError):
            return None
    return None
