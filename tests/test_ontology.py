"""The ontology is the public contract: every term documented, typed and aligned."""

from __future__ import annotations

import pytest
from rdflib import OWL, RDF, RDFS, BNode, Graph, URIRef
from rdflib.namespace import SKOS

from kg.vocab import KG, SCHEMA, WDT, load_ontology, vocabulary

from .conftest import DATA


@pytest.fixture(scope="module")
def onto() -> Graph:
    return load_ontology(DATA / "ontology.ttl")


def _terms(onto: Graph, kind: URIRef) -> list[URIRef]:
    return sorted(t for t in onto.subjects(RDF.type, kind)
                  if isinstance(t, URIRef) and t.startswith(str(KG)))


def test_no_blank_nodes(onto: Graph) -> None:
    assert not any(isinstance(t, BNode) for triple in onto for t in triple)


def test_every_term_has_an_english_label_and_comment(onto: Graph) -> None:
    terms = (_terms(onto, OWL.Class) + _terms(onto, OWL.ObjectProperty)
             + _terms(onto, OWL.DatatypeProperty))
    assert len(terms) > 40
    for term in terms:
        labels = [lbl for lbl in onto.objects(term, RDFS.label) if lbl.language == "en"]
        comments = [c for c in onto.objects(term, RDFS.comment) if c.language == "en"]
        assert len(labels) == 1 and comments, term


def test_every_property_has_a_domain_and_a_range(onto: Graph) -> None:
    for prop in _terms(onto, OWL.ObjectProperty) + _terms(onto, OWL.DatatypeProperty):
        assert onto.value(prop, RDFS.domain) is not None, prop
        assert onto.value(prop, RDFS.range) is not None, prop


def test_classes_the_design_asks_for(onto: Graph) -> None:
    wanted = {"Condition", "SignOrSymptom", "NutrientDeficiency", "Disease", "LifestyleFactor",
              "PhysicalFactor", "PhysiologicalState", "Nutrient", "Population",
              "AnatomicalStructure", "Treatment", "FirstAid", "LifestyleChange", "Specialist",
              "TimeOfDay", "Season", "Trimester"}
    assert wanted <= set(vocabulary(onto).classes)


@pytest.mark.parametrize("ours,schema_term,wikidata", [
    ("hasCause", "cause", "P828"),
    ("hasSymptom", "signOrSymptom", "P780"),
    ("hasRiskFactor", "riskFactor", "P5642"),
    ("hasTreatment", "possibleTreatment", "P2176"),
    ("hasSpecialist", "relevantSpecialty", "P1995"),
])
def test_alignments_to_schema_and_wikidata(onto: Graph, ours: str, schema_term: str,
                                           wikidata: str) -> None:
    supers = set(onto.objects(KG[ours], RDFS.subPropertyOf))
    assert SCHEMA[schema_term] in supers
    assert WDT[wikidata] in supers


def test_causes_is_the_inverse_of_has_cause(onto: Graph) -> None:
    assert (KG.causes, OWL.inverseOf, KG.hasCause) in onto
    assert (KG.associatedAnatomy, RDFS.subPropertyOf, SCHEMA.associatedAnatomy) in onto
    assert (KG.subtypeOf, RDFS.subPropertyOf, SKOS.broader) in onto


def test_vocabulary_knows_qualifiers_and_subclasses(onto: Graph) -> None:
    vocab = vocabulary(onto)
    assert set(vocab.qualifiers) == {"population", "context", "severity", "frequency",
                                     "salience"}
    assert vocab.is_a(("Trimester",), "Context")
    assert vocab.is_a(("NutrientDeficiency",), "HealthProblem")
    assert not vocab.is_a(("Population",), "HealthProblem")
