"""kg validate: SHACL shapes, grounding, coverage and freshness, each shown to fail."""

from __future__ import annotations

from pathlib import Path

from rdflib import RDF, RDFS, Literal, URIRef

import kg
from kg.store import Build, load_build
from kg.validate import ValidationReport
from kg.vocab import KG, KGR, OA

from .conftest import DATA


def _fresh(build_dir: Path) -> Build:
    """A private copy of the session build that a test may change."""
    return load_build(build_dir)


def _corpus(data_dir: Path):  # type: ignore[no-untyped-def]
    from kg.vocab import load_ontology, vocabulary

    return kg.load_corpus(data_dir, vocabulary(load_ontology(data_dir / "ontology.ttl")))


def test_the_build_conforms(built: Build) -> None:
    report = kg.validate_build(built, DATA, _corpus(DATA))
    assert report.conforms, report.text()
    assert set(report.checked) == {"freshness", "shapes", "grounding", "coverage"}
    assert all(n > 0 for n in report.checked.values())
    assert report.checked["grounding"] > 100
    assert report.text().endswith("conforms")


def test_shapes_catch_a_missing_label(build_dir: Path) -> None:
    b = _fresh(build_dir)
    b.graph.remove((KGR["leg-cramp"], RDFS.label, None))
    report = kg.validate_build(b, DATA)
    assert report.problems["shapes"] == [
        "kgr:leg-cramp rdfs:label: every entity needs one English rdfs:label"]


def test_shapes_catch_domain_and_range(build_dir: Path) -> None:
    b = _fresh(build_dir)
    b.graph.add((KGR["pain"], KG.deficiencyOf, KGR["leg"]))
    problems = kg.validate_build(b, DATA).problems["shapes"]
    assert any("kgr:pain is used as subject of kg:deficiencyOf but is not a "
               "kg:NutrientDeficiency" in p for p in problems)
    assert any("kgr:leg is used as object of kg:deficiencyOf but is not a kg:Nutrient" in p
               for p in problems)


def test_shapes_catch_an_untyped_entity(build_dir: Path) -> None:
    b = _fresh(build_dir)
    b.graph.remove((KGR["neurologist"], RDF.type, None))
    problems = kg.validate_build(b, DATA).problems["shapes"]
    assert any("kgr:neurologist is used as object of kg:hasSpecialist" in p for p in problems)


def test_shapes_catch_a_fact_without_evidence(build_dir: Path) -> None:
    b = _fresh(build_dir)
    st = URIRef("https://w3id.org/health-kg/doc/leg-cramps/fact/thyroid-disease-causes-cramps")
    b.graph.remove((st, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"), None))
    problems = kg.validate_build(b, DATA).problems["shapes"]
    assert any("every fact needs evidence" in p for p in problems)


def test_shapes_catch_a_missing_truthy_triple(build_dir: Path) -> None:
    b = _fresh(build_dir)
    b.graph.remove((KGR["thyroid-disease"], KG.causes, KGR["leg-cramp"]))
    problems = kg.validate_build(b, DATA).problems["shapes"]
    assert any("truthy triple is missing" in p for p in problems)


_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")


def _position(b: Build, fact: str) -> URIRef:
    ev = URIRef(f"https://w3id.org/health-kg/doc/leg-cramps/fact/{fact}/evidence/1")
    return URIRef(f"{ev}/position")


def test_grounding_catches_shifted_offsets(build_dir: Path) -> None:
    b = _fresh(build_dir)
    pos = _position(b, "thyroid-disease-causes-cramps")
    start = b.graph.value(pos, OA.start).toPython()  # type: ignore[union-attr]
    b.graph.set((pos, OA.start, Literal(start + 1, datatype=_INTEGER)))
    problems = kg.validate_build(b, DATA, shapes=False).problems["grounding"]
    assert len(problems) == 1
    assert "not the quote" in problems[0] and "thyroid-disease-causes-cramps" in problems[0]


def test_grounding_catches_a_changed_source(build_dir: Path, data_copy: Path) -> None:
    src = data_copy / "sources" / "leg-cramps.txt"
    src.write_bytes(src.read_bytes().replace(b"epilepsy", b"Epilepsy"))
    report = kg.validate_build(_fresh(build_dir), data_copy, shapes=False)
    assert any("has changed" in p for p in report.problems["grounding"])
    assert any("sources/leg-cramps.txt: changed since the build" in p
               for p in report.problems["freshness"])


def test_coverage_catches_a_sentence_without_facts(data_copy: Path, tmp_path: Path) -> None:
    facts = data_copy / "facts" / "leg-cramps.yaml"
    text = facts.read_text()
    start = text.index("  - id: flat-feet-in-children\n")
    end = text.index("  - id: ointment-relieves-pain\n")
    facts.write_text(text[:start] + text[end:])
    kg.build_graph(data_copy, tmp_path / "b")
    report = kg.validate_build(load_build(tmp_path / "b"), data_copy, _corpus(data_copy),
                               shapes=False)
    assert report.problems["coverage"] == [
        "sources/leg-cramps.txt:28: no fact quotes 'Flatfoot serves another important cause "
        "of leg cramps during childhood.' (add a fact, or list it under 'unannotated' with a "
        "reason)"]


def test_report_text_lists_problems() -> None:
    report = ValidationReport()
    report.checked["grounding"] = 3
    report.add("grounding", "something is off")
    assert not report.conforms
    assert report.text().splitlines() == [
        "grounding: 1 problem(s) (3 checked)", "  - something is off", "does NOT conform"]


def test_a_negated_fact_may_sit_beside_an_affirmed_one(build_dir: Path) -> None:
    """One document may deny what another asserts: the truthy triple stays, and a
    negated statement alone must not leave one."""
    b = _fresh(build_dir)
    g = b.graph
    st = URIRef("https://w3id.org/health-kg/doc/leg-cramps/fact/thyroid-disease-causes-cramps")
    denial = URIRef(str(st) + "-denied")
    for p, o in g.predicate_objects(st):
        g.add((denial, p, o))
    g.add((denial, KG.negated, Literal(True)))
    assert "shapes" not in kg.validate_build(b, DATA).problems
    g.remove((st, None, None))  # now only the denial is left, beside the truthy triple
    problems = kg.validate_build(b, DATA).problems["shapes"]
    assert any("present although every statement of it is negated" in p for p in problems)


def test_shapes_check_the_salience_qualifier(build_dir: Path) -> None:
    b = _fresh(build_dir)
    st = URIRef("https://w3id.org/health-kg/doc/leg-cramps/fact/magnesium-deficiency-main-cause")
    assert (st, KG.salience, KGR["main-cause"]) in b.graph
    assert "shapes" not in kg.validate_build(b, DATA).problems
    b.graph.add((st, KG.salience, KGR["leg-cramp"]))
    problems = kg.validate_build(b, DATA).problems["shapes"]
    assert problems == ["kg:salience: kgr:leg-cramp is used as object of kg:salience but is "
                        "not a kg:Salience"]
