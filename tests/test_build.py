"""kg build: the graph's layers, grounding of every quote, determinism, atomic output."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import RDF, BNode, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import PROV

import kg
from kg.errors import FactsError
from kg.infer import INFERRED_NT
from kg.paths import GRAPH_NT, GRAPH_TTL, MANIFEST
from kg.vocab import KG, KGR, OA

from .conftest import DATA, REPO


def test_build_writes_the_four_files(build_dir: Path) -> None:
    """graph.nt, graph.ttl, inferred.nt (kg.infer) and the manifest; beside them: the
    lock and the committed copies, named by their SHA-256."""
    assert sorted(p.name for p in build_dir.iterdir()) == [".lock", ".objects", GRAPH_NT,
                                                           GRAPH_TTL, INFERRED_NT, MANIFEST]
    outputs = json.loads((build_dir / MANIFEST).read_text())["outputs"]
    assert sorted(outputs) == [GRAPH_NT, GRAPH_TTL, INFERRED_NT]
    assert sorted(p.name for p in (build_dir / ".objects").iterdir()) == sorted(
        outputs[name] + Path(name).suffix for name in (GRAPH_NT, GRAPH_TTL, INFERRED_NT))
    for name in (GRAPH_NT, GRAPH_TTL, INFERRED_NT):
        assert (build_dir / name).samefile(build_dir / ".objects" /
                                           (outputs[name] + Path(name).suffix))


def test_turtle_and_ntriples_hold_the_same_graph(build_dir: Path, graph: Graph) -> None:
    ttl = Graph().parse(build_dir / GRAPH_TTL, format="turtle")
    assert isomorphic(ttl, graph)


def test_no_blank_nodes(graph: Graph) -> None:
    assert not any(isinstance(t, BNode) for triple in graph for t in triple)


def test_every_fact_has_a_truthy_triple_and_a_statement(graph: Graph) -> None:
    corpus = kg.load_corpus(DATA, _vocab())
    for fact in corpus.facts:
        s, p, o = KGR[fact.subject], KG[fact.relation], KGR[fact.object]
        assert (s, p, o) in graph, fact.id
        st = URIRef(f"https://w3id.org/health-kg/doc/{fact.document}/fact/{fact.id}")
        assert (st, RDF.type, RDF.Statement) in graph
        assert (st, RDF.subject, s) in graph and (st, RDF.predicate, p) in graph
        assert (st, RDF.object, o) in graph
        assert len(list(graph.objects(st, PROV.wasDerivedFrom))) == len(fact.quotes)


def test_every_quote_is_the_text_at_its_offsets(graph: Graph, source_text: str) -> None:
    evidence = list(graph.subjects(RDF.type, KG.Evidence))
    assert len(evidence) > 100
    for ev in evidence:
        selectors = list(graph.objects(ev, OA.hasSelector))
        quote = next(s for s in selectors if (s, RDF.type, OA.TextQuoteSelector) in graph)
        pos = next(s for s in selectors if (s, RDF.type, OA.TextPositionSelector) in graph)
        exact = str(graph.value(quote, OA.exact))
        start = graph.value(pos, OA.start).toPython()  # type: ignore[union-attr]
        end = graph.value(pos, OA.end).toPython()  # type: ignore[union-attr]
        assert source_text[start:end] == exact
        assert source_text[:start].endswith(str(graph.value(quote, OA.prefix)))
        assert source_text[end:].startswith(str(graph.value(quote, OA.suffix)))


def test_prefix_and_suffix_complete_the_sentence(graph: Graph) -> None:
    st = URIRef("https://w3id.org/health-kg/doc/leg-cramps/fact/poor-diet-in-pregnancy"
                "--magnesium-deficiency")
    ev = graph.value(st, PROV.wasDerivedFrom)
    quote = next(s for s in graph.objects(ev, OA.hasSelector)
                 if (s, RDF.type, OA.TextQuoteSelector) in graph)
    sentence = "".join(str(graph.value(quote, p)) for p in (OA.prefix, OA.exact, OA.suffix))
    assert sentence.startswith("These drawbacks are provoked by malnutrition, disruption")
    assert sentence.endswith("the action of diuretics (after pregnancy).")


def test_document_node_records_the_source(graph: Graph) -> None:
    doc = URIRef("https://w3id.org/health-kg/doc/leg-cramps")
    raw = (DATA / "sources" / "leg-cramps.txt").read_bytes()
    assert str(graph.value(doc, KG.sha256)) == hashlib.sha256(raw).hexdigest()
    assert graph.value(doc, KG.machineTranslated).toPython() is True  # type: ignore[union-attr]
    assert str(graph.value(doc, KG.translatedFrom)) == "ru"
    assert graph.value(doc, KG.characterCount).toPython() == len(raw.decode())  # type: ignore


def test_source_is_the_shared_file_byte_for_byte() -> None:
    shared = REPO.parent / "shared" / "sources" / "leg-cramps.txt"
    if not shared.is_file():
        pytest.skip("no ../shared next to this checkout")
    assert (DATA / "sources" / "leg-cramps.txt").read_bytes() == shared.read_bytes()


def _build_in_subprocess(out: Path, seed: str) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run([sys.executable, "-m", "kg", "build", "--data", str(DATA),
                    "--build-dir", str(out)], check=True, env=env, capture_output=True)


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _build_in_subprocess(a, "1")
    _build_in_subprocess(b, "2")
    for name in (GRAPH_NT, GRAPH_TTL, MANIFEST):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_failed_build_leaves_the_previous_build(tmp_path: Path, data_copy: Path) -> None:
    out = tmp_path / "build"
    kg.build_graph(data_copy, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    facts = data_copy / "facts" / "leg-cramps.yaml"
    facts.write_text(facts.read_text().replace("quote: tooth decay\n", "quote: no such\n"))
    with pytest.raises(FactsError):
        kg.build_graph(data_copy, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_build_never_modifies_sources(tmp_path: Path, data_copy: Path) -> None:
    before = {p: p.read_bytes() for p in data_copy.rglob("*") if p.is_file()}
    kg.build_graph(data_copy, tmp_path / "out")
    assert {p: p.read_bytes() for p in data_copy.rglob("*") if p.is_file()} == before


def test_ontology_blank_nodes_are_refused(data_copy: Path, tmp_path: Path) -> None:
    onto = data_copy / "ontology.ttl"
    onto.write_text(onto.read_text() + "\nkg:x rdfs:seeAlso [ rdfs:label \"b\" ] .\n")
    with pytest.raises(kg.DataError, match="blank nodes"):
        kg.build_graph(data_copy, tmp_path / "out")


def _vocab():  # type: ignore[no-untyped-def]
    from kg.vocab import load_ontology, vocabulary

    return vocabulary(load_ontology(DATA / "ontology.ttl"))


def test_outputs_are_readable_like_any_new_file(tmp_path: Path) -> None:
    out = tmp_path / "b"
    kg.build_graph(DATA, out)
    mask = os.umask(0)
    os.umask(mask)
    for name in (GRAPH_NT, GRAPH_TTL, INFERRED_NT, MANIFEST):
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~mask, name


def test_progress_is_reported_per_facts_file(tmp_path: Path) -> None:
    calls: list[int] = []
    kg.build_graph(DATA, tmp_path / "b", progress=calls.append)
    assert calls == [1] * len(list((DATA / "facts").glob("*.yaml")))
