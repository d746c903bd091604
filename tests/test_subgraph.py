"""Selecting subgraphs: names, populations, neighbourhoods, relations, paths."""

from __future__ import annotations

import pytest
from rdflib import RDF, RDFS, Graph, Literal

from kg.errors import UsageError
from kg.subgraph import Fact, NameIndex, Selection, select, select_facts
from kg.vocab import KG, KGR


def triples(fs: list[Fact]) -> set[tuple[str, str, str]]:
    """(subject id, relation, object id) of each fact."""
    return {(f.subject.rsplit("/", 1)[1], f.predicate.rsplit("#", 1)[1],
             f.object.rsplit("/", 1)[1]) for f in fs}


@pytest.mark.parametrize("name", [
    "https://w3id.org/health-kg/resource/magnesium-deficiency",
    "kgr:magnesium-deficiency", "magnesium-deficiency", "magnesium deficiency",
    "Magnesium Deficiency", "hypomagnesemia", "LACK OF MAGNESIUM",
])
def test_a_node_is_named_by_iri_curie_id_label_or_alt_label(graph: Graph, name: str) -> None:
    assert NameIndex(graph).resolve(name) == KGR["magnesium-deficiency"]


def test_a_misspelt_name_gets_the_closest_matches(graph: Graph) -> None:
    with pytest.raises(UsageError) as info:
        NameIndex(graph).resolve("magnesum defficiency", "--around")
    message = str(info.value)
    assert message.startswith("--around: no entity named 'magnesum defficiency'")
    assert "magnesium-deficiency (magnesium deficiency)" in message


def test_an_ambiguous_name_lists_the_candidates() -> None:
    g = Graph()
    for node in ("a", "b"):
        g.add((KGR[node], RDF.type, KG.Condition))
        g.add((KGR[node], RDFS.label, Literal("same")))
    with pytest.raises(UsageError, match="'same' is ambiguous: it names a \\(same\\), "
                                         "b \\(same\\)"):
        NameIndex(g).resolve("same")


def test_population_children(graph: Graph) -> None:
    facts, nodes = select_facts(graph, Selection(population="children"))
    got = triples(facts)
    # stated for children
    assert ("hypothermia", "causes", "leg-cramp") in got
    assert ("flat-feet", "causes", "leg-cramp") in got
    assert ("leg-cramp", "hasSpecialist", "pediatrician") in got
    assert ("leg-cramp", "affects", "children") in got
    # stated for everyone
    assert ("thyroid-disease", "causes", "leg-cramp") in got
    assert ("leg-cramp", "affects", "all-ages") in got
    assert ("leg-cramp", "hasFirstAid", "calf-stretch") in got
    # stated only for other populations
    assert not any(s == "diuretics" or o in ("pregnant-women", "fetus", "women")
                   for s, _, o in got)
    assert ("magnesium-deficiency", "hasSymptom", "dysmenorrhea") not in got
    assert ("eclampsia", "causes", "seizure") not in got
    assert KGR["children"] in nodes


def test_population_pregnant_women(graph: Graph) -> None:
    got = triples(select_facts(graph, Selection(population="pregnant women"))[0])
    assert ("diuretics", "causes", "magnesium-deficiency") in got
    assert ("eclampsia", "endangers", "pregnant-women") in got
    assert ("eclampsia", "endangers", "fetus") not in got
    assert ("hypothermia", "causes", "leg-cramp") not in got
    assert ("leg-cramp", "hasSpecialist", "pediatrician") not in got


def test_population_must_be_a_population(graph: Graph) -> None:
    with pytest.raises(UsageError, match="'winter' is not a population"):
        select_facts(graph, Selection(population="winter"))


def test_around_with_depth(graph: Graph) -> None:
    facts, nodes = select_facts(graph, Selection(around="eclampsia"))
    assert triples(facts) == {
        ("eclampsia", "causes", "seizure"), ("eclampsia", "hasSymptom",
                                             "very-high-blood-pressure"),
        ("eclampsia", "hasSeverityLevel", "severe"), ("eclampsia", "endangers", "fetus"),
        ("eclampsia", "endangers", "pregnant-women")}
    deeper = triples(select_facts(graph, Selection(around="eclampsia", depth=2))[0])
    assert ("leg-cramp", "affects", "pregnant-women") in deeper
    assert ("leg-cramp", "hasSeverityLevel", "severe") in deeper
    lone, nodes = select_facts(graph, Selection(around="eclampsia", depth=0))
    assert lone == [] and nodes == {KGR["eclampsia"]}


def test_relation_filter(graph: Graph) -> None:
    facts, _ = select_facts(graph, Selection(relations=("hasSpecialist", "kg:hasFirstAid")))
    assert {f.predicate for f in facts} == {KG.hasSpecialist, KG.hasFirstAid}
    with pytest.raises(UsageError, match="did you mean hasSymptom"):
        select_facts(graph, Selection(relations=("hasSymptoms",)))


def test_path_diuretics_to_leg_cramp(graph: Graph) -> None:
    facts, nodes = select_facts(graph, Selection(path=("diuretics", "leg cramp")))
    assert triples(facts) == {
        ("diuretics", "causes", "magnesium-deficiency"),
        ("diuretics", "causes", "potassium-deficiency"),
        ("magnesium-deficiency", "causes", "leg-cramp"),
        ("potassium-deficiency", "causes", "leg-cramp")}
    # every statement of a step is kept: magnesium deficiency is stated several times
    assert sum(1 for f in facts if f.subject == KGR["magnesium-deficiency"]) >= 3


def test_path_follows_direction_unless_undirected(graph: Graph) -> None:
    with pytest.raises(UsageError, match="no path from leg-cramp to diuretics.*--undirected"):
        select_facts(graph, Selection(path=("leg cramp", "diuretics")))
    facts, _ = select_facts(graph, Selection(path=("leg cramp", "diuretics"),
                                             undirected=True))
    assert ("diuretics", "causes", "magnesium-deficiency") in triples(facts)


def test_combined_population_relation_around(graph: Graph) -> None:
    sel = Selection(population="pregnant-women", relations=("causes",), around="diuretics")
    assert triples(select_facts(graph, sel)[0]) == {
        ("diuretics", "causes", "magnesium-deficiency"),
        ("diuretics", "causes", "potassium-deficiency")}


def test_selected_rdf_is_a_subgraph_with_provenance(graph: Graph) -> None:
    sub = select(graph, Selection(path=("diuretics", "leg cramp")))
    assert all(t in graph for t in sub)
    assert (KGR["diuretics"], KG.causes, KGR["magnesium-deficiency"]) in sub
    statements = set(sub.subjects(RDF.type, RDF.Statement))
    facts, _ = select_facts(graph, Selection(path=("diuretics", "leg cramp")))
    assert {f.statement for f in facts} <= statements
    assert (KGR["thyroid-disease"], KG.causes, KGR["leg-cramp"]) not in sub
    bare = select(graph, Selection(path=("diuretics", "leg cramp")), provenance=False)
    assert not set(bare.subjects(RDF.type, RDF.Statement))
    assert len(bare) < len(sub)


def test_empty_selection_is_the_whole_graph(graph: Graph) -> None:
    assert select(graph, Selection()) is graph
