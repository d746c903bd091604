"""Selecting subgraphs: names, populations, neighbourhoods, relations, paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import RDF, RDFS, Graph, Literal, URIRef

from kg.check import Checked
from kg.cli import cli
from kg.errors import QueryError, QueryRefused, UsageError
from kg.queries import QueryResult
from kg.store import Backend, Build, EndpointBackend, MemoryBackend
from kg.subgraph import Fact, NameIndex, Selection, select, select_facts, select_on
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
    assert ("fetal-growth", "causes", "magnesium-deficiency") in got
    assert ("eclampsia", "endangers", "pregnant-women") in got
    assert ("eclampsia", "endangers", "fetus") not in got
    assert ("hypothermia", "causes", "leg-cramp") not in got
    assert ("leg-cramp", "hasSpecialist", "pediatrician") not in got


def test_descriptive_facts_only_for_entities_shown(graph: Graph) -> None:
    """'kg export --population' keeps anatomy and kinds-of facts only for entities that
    take part in another kept fact: not flatfoot -> foot for pregnant women."""
    got = {(f.subject, f.predicate, f.object)
           for f in select_facts(graph, Selection(population="pregnant women"))[0]}
    assert (KGR["flat-feet"], KG.associatedAnatomy, KGR["foot"]) not in got
    assert (KGR["heart-pain"], KG.associatedAnatomy, KGR["heart"]) in got
    children = {(f.subject, f.predicate, f.object)
                for f in select_facts(graph, Selection(population="children"))[0]}
    assert (KGR["flat-feet"], KG.associatedAnatomy, KGR["foot"]) in children
    ends = {n for s, p, o in children if p not in (KG.associatedAnatomy, KG.subtypeOf,
                                                     KG.deficiencyOf) for n in (s, o)}
    assert all(s in ends for s, p, _ in children
               if p in (KG.associatedAnatomy, KG.subtypeOf, KG.deficiencyOf))


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
    # diuretics -> each deficiency they cause (the data says which) -> leg cramp
    steps = {o for s, p, o in triples(facts) if s == "diuretics"}
    assert {"magnesium-deficiency", "potassium-deficiency"} <= steps
    assert triples(facts) == ({("diuretics", "causes", d) for d in steps}
                              | {(d, "causes", "leg-cramp") for d in steps})
    # every statement of a step is kept: magnesium deficiency is stated several times
    assert sum(1 for f in facts if f.subject == KGR["magnesium-deficiency"]) >= 3


def test_path_follows_direction_unless_undirected(graph: Graph) -> None:
    with pytest.raises(UsageError, match="no path from leg-cramp to diuretics.*--undirected"):
        select_facts(graph, Selection(path=("leg cramp", "diuretics")))
    facts, _ = select_facts(graph, Selection(path=("leg cramp", "diuretics"),
                                             undirected=True))
    assert ("diuretics", "causes", "magnesium-deficiency") in triples(facts)


def test_combined_population_relation_around(graph: Graph) -> None:
    sel = Selection(population="pregnant-women", relations=("causes",), around="fetal-growth")
    got = triples(select_facts(graph, sel)[0])
    assert ("fetal-growth", "causes", "magnesium-deficiency") in got
    assert all("fetal-growth" in (s, o) and p == "causes" for s, p, o in got)


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


# --------------------------------------------------------------------------- on a backend

SELECTIONS = {
    "around-depth-0": Selection(around="eclampsia", depth=0),
    "around": Selection(around="eclampsia"),
    "around-depth-2": Selection(around="eclampsia", depth=2),
    "population": Selection(population="children"),
    "relations": Selection(relations=("causes", "kg:hasSymptom")),
    "path": Selection(path=("diuretics", "leg cramp")),
    "path-undirected": Selection(path=("leg cramp", "diuretics"), undirected=True),
    "query": Selection(query="entity-graph"),
    "query-around": Selection(query="entity-graph", around="magnesium deficiency", depth=0),
    "combined": Selection(population="pregnant women", relations=("causes",),
                          around="diuretics"),
    "everything": Selection(),
}


@pytest.fixture(scope="module")
def endpoint(oxigraph_server: str, build_dir: Path) -> Backend:
    """The real Oxigraph server, loaded with the build through the Graph Store Protocol."""
    EndpointBackend(oxigraph_server + "/store").load(build_dir / "graph.nt")
    return EndpointBackend(oxigraph_server + "/query")


@pytest.fixture(scope="module", params=["memory", "store", "endpoint"])
def backend(request: pytest.FixtureRequest, built: Build) -> Backend:
    if request.param == "memory":
        return MemoryBackend(built)
    name = "oxigraph_store" if request.param == "store" else "endpoint"
    found: Backend = request.getfixturevalue(name)
    return found


@dataclass
class Counting:
    """A backend that counts the solutions and triples it gives, and will not give the
    whole graph."""

    backend: Backend
    label: str = "counting"
    fetched: int = 0
    queries: list[str] = field(default_factory=list)

    def run(self, query: Checked, max_rows: int | None = None) -> QueryResult:
        result = self.backend.run(query, max_rows)
        self.queries.append(query.text)
        self.fetched += len(result.solutions) + (len(result.graph) if result.graph else 0)
        return result

    def graph(self) -> Graph:
        raise AssertionError("the whole graph was asked for")


@pytest.mark.parametrize("provenance", [True, False], ids=["provenance", "no-provenance"])
@pytest.mark.parametrize("selection", SELECTIONS.values(), ids=SELECTIONS.keys())
def test_select_on_a_backend_is_select_on_the_graph(backend: Backend, graph: Graph,
                                                    selection: Selection,
                                                    provenance: bool) -> None:
    want = select(graph, selection, provenance)
    got = select_on(backend, selection, provenance)
    assert len(want) > 0
    assert set(got) == set(want)
    assert dict(got.namespaces())["kgr"] == URIRef(str(KGR))


@pytest.mark.parametrize("selection", [SELECTIONS["around"], SELECTIONS["path"],
                                       Selection(relations=("causes",)),
                                       Selection()], ids=["around", "path", "relation", "all"])
def test_select_on_never_copies_the_whole_graph(oxigraph_store: Backend, graph: Graph,
                                                selection: Selection) -> None:
    counting = Counting(oxigraph_store)
    got = select_on(counting, selection, provenance=selection != Selection())
    assert set(got) == set(select(graph, selection, selection != Selection()))
    assert counting.fetched < len(graph)  # the skeleton and the subgraph, not the graph


def test_kg_export_from_a_real_oxigraph_server(endpoint: EndpointBackend, graph: Graph,
                                               build_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.nt"
    result = CliRunner().invoke(cli, ["export", "--endpoint", endpoint.url, "--around",
                                      "eclampsia", "--depth", "2", "--format", "nt", "-o",
                                      str(target), "--build-dir", str(build_dir)])
    assert result.exit_code == 0, result.output
    got = Graph().parse(target, format="nt")
    assert set(got) == set(select(graph, Selection(around="eclampsia", depth=2)))


@pytest.mark.parametrize("selection", [
    Selection(around="eclampsya"),
    Selection(around="leg cramp", depth=-1),
    Selection(relations=("hasSymptoms",)),
    Selection(population="winter"),
    Selection(population="pregnant womn"),
    Selection(path=("leg cramp", "diuretics")),
    Selection(query="about-entity"),  # a SELECT, not a CONSTRUCT
    Selection(query="no-such-query"),
], ids=["name", "depth", "relation", "not-a-population", "population-name", "no-path",
        "select-query", "unknown-query"])
def test_select_on_fails_as_select(backend: Backend, graph: Graph,
                                   selection: Selection) -> None:
    with pytest.raises(UsageError) as want:
        select(graph, selection)
    with pytest.raises(UsageError) as got:
        select_on(backend, selection)
    assert str(got.value) == str(want.value)


def test_a_query_to_select_from_is_checked(oxigraph_store: Backend, tmp_path: Path) -> None:
    rq = tmp_path / "remote.rq"
    rq.write_text("CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/> "
                  "{ ?s ?p ?o } }", encoding="utf-8")
    counting = Counting(oxigraph_store)
    with pytest.raises(QueryRefused, match="SERVICE is not allowed"):
        select_on(counting, Selection(query=str(rq), around="leg cramp"))
    assert counting.queries == []


def test_an_iri_that_would_break_a_query_is_refused(oxigraph_store: Backend) -> None:
    from kg.subgraph import _BackendReader

    reader = _BackendReader(Counting(oxigraph_store))
    bad = URIRef("https://w3id.org/health-kg/resource/x> ?p ?o } #")
    with pytest.raises(QueryError, match="not a valid IRI"):
        list(reader.triples_of([KGR["leg-cramp"], bad]))
