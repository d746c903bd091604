"""Named queries, parameter binding, safety checks, result formats, the Python API and
the 'kg queries' / 'kg query' commands."""

from __future__ import annotations

import io
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph
import pytest
import rdflib.plugins.sparql
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS, SKOS
from rdflib.query import Result

import kg
from kg import check as check_module
from kg import queries
from kg.check import check
from kg.cli import cli
from kg.errors import DataError, QueryError, QueryRefused, UsageError
from kg.queries import (
    MAX_QUERY_BYTES,
    PARAM_TYPES,
    QUERY_FORMS,
    RESULT_FORMATS,
    QueryResult,
    bind_values,
    execute,
    load_queries,
    parse_query,
    run,
    run_query,
    serialize,
    standalone,
    to_rdflib,
)
from kg.store import Build, MemoryBackend
from kg.vocab import KG, KGR

from .conftest import REPO

QUERIES = REPO / "queries"
NAMED = load_queries(QUERIES)


class Listener:
    """A TCP socket listening on 127.0.0.1 that counts the connections made to it.

    A connection completes in the kernel's backlog whether or not it is accepted, so
    counting after the fact, without a thread, sees every connection attempt."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    # were a refusal to fail, rdflib's outbound call would hang on the silent listener:
    # the default socket timeout bounds it, and the count catches it
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(2.0)
    lst = Listener()
    yield lst
    socket.setdefaulttimeout(previous)
    lst.close()


def rows(built: Build, name: str, **params: object) -> list[dict[str, str]]:
    """The rows of a query, every value as a string ('' when unbound)."""
    return [{k: "" if v is None else str(v) for k, v in row.items()}
            for row in built.query(name, **params)]


def column(table: list[dict[str, str]], key: str) -> set[str]:
    return {row[key] for row in table}


# --------------------------------------------------------------------------- the named queries


def test_at_least_twelve_named_queries() -> None:
    assert len(NAMED) >= 12
    assert not (QUERIES / ".gitkeep").exists()


@pytest.mark.parametrize("name", sorted(NAMED))
def test_every_named_query_declares_itself_and_answers(built: Build, name: str) -> None:
    text = (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
    assert text.startswith("# title: ")
    query = NAMED[name]
    assert query.title and query.description and query.form in QUERY_FORMS
    for param in query.params:
        assert param.type in PARAM_TYPES
        assert param.default is not None  # so that the query runs as it is
        assert f"${param.name}" in text
    result = built.query(name)
    if query.form == "ASK":
        assert result.boolean is True
    elif query.form in ("CONSTRUCT", "DESCRIBE"):
        assert result.graph is not None and len(result.graph) > 0
        assert all(triple in built.graph for triple in result.graph)
    else:
        assert result.rows and result.vars
        assert all(set(row) == set(result.vars) for row in result.rows)


def test_causes_by_category(built: Build, graph: Graph) -> None:
    table = rows(built, "causes-by-category")
    direct = {str(s) for s in graph.subjects(KG.causes, KGR["leg-cramp"])}
    assert column(table, "cause") == direct
    assert len(table) == len(direct)  # one row per cause
    by_label = {r["causeLabel"]: r for r in table}
    assert by_label["magnesium deficiency"]["category"] == "nutrient deficiency"
    assert "pregnant women" in by_label["magnesium deficiency"]["statedFor"]
    assert by_label["thyroid disease"]["category"] == "disease"
    assert by_label["excess caffeine"]["statedFor"] == "people in general (night)"
    assert by_label["cold exposure"]["statedFor"] == "children (winter)"
    assert {"nutrient deficiency", "disease", "lifestyle factor", "physical factor",
            "physiological state"} <= column(table, "category")


def test_pregnancy_causes_by_trimester(built: Build) -> None:
    table = rows(built, "pregnancy-causes")
    found = {(r["causeLabel"], r["effectLabel"], r["contextLabel"]) for r in table}
    for deficiency in ("magnesium", "potassium", "calcium", "vitamin B"):
        assert ("diuretics", f"{deficiency} deficiency", "postpartum period") in found
        assert ("parathyroid gland dysfunction", f"{deficiency} deficiency",
                "first trimester") in found
        assert ("fetal growth", f"{deficiency} deficiency", "second trimester") in found
        assert (f"{deficiency} deficiency", "leg cramp", "") in found
    for cause in ("hypoglycemia", "supine hypotensive syndrome", "chronic venous insufficiency"):
        assert (cause, "leg cramp", "") in found
    assert ("eclampsia", "convulsive seizure", "") in found
    order = [r["contextLabel"] for r in table if r["contextLabel"]]
    assert order == sorted(order, key=["first trimester", "second trimester",
                                       "postpartum period"].index)
    populations = {r["causeLabel"]: r["populationLabel"] for r in table}
    assert populations["diuretics"] == "women after childbirth"
    assert populations["fetal growth"] == "pregnant women"


def test_children_causes(built: Build) -> None:
    table = {r["factorLabel"]: r for r in rows(built, "children-causes")}
    assert table["cold exposure"]["contextLabel"] == "winter"
    assert table["cold exposure"]["frequencyLabel"] == "very common"
    assert table["flatfoot (pes planus)"]["contextLabel"] == "childhood"
    assert {"awkward posture", "staying long in the same position"} <= set(table)
    assert table["period of growth"]["relation"] == "risk factor"


def test_causes_for_population_through_the_python_api(build_dir: Path) -> None:
    result = kg.load(build_dir).query("causes-for-population", population="kgr:children")
    assert isinstance(result, QueryResult) and result.type == "SELECT"
    causes = {str(row["causeLabel"]) for row in result}
    assert causes == {"cold exposure", "flatfoot (pes planus)", "awkward posture",
                      "staying long in the same position"}
    records = result.records()
    assert all(isinstance(r["cause"], str) and r["cause"].startswith(str(KGR)) for r in records)
    assert {r["statedFor"] for r in records} == {"this population"}
    wider = kg.load(build_dir).query("causes-for-population", population=KGR.children,
                                     include_general=True)
    general = {str(r["causeLabel"]) for r in wider if str(r["statedFor"]) == "people in general"}
    assert "magnesium deficiency" in general and causes <= {str(r["causeLabel"]) for r in wider}


def test_causes_for_pregnant_women_by_default(built: Build) -> None:
    found = {(r["causeLabel"], r["effectLabel"], r["contextLabel"])
             for r in rows(built, "causes-for-population")}
    assert ("parathyroid gland dysfunction", "calcium deficiency", "first trimester") in found
    # diuretics are blamed "after pregnancy": for women after childbirth, not pregnant women
    assert "diuretics" not in {cause for cause, _, _ in found}
    after = {(r["causeLabel"], r["contextLabel"])
             for r in rows(built, "causes-for-population", population="kgr:postpartum-women")}
    assert after == {("diuretics", "postpartum period")}


MAGNESIUM_SYMPTOMS = {"memory impairment", "anxiety", "precordial pain", "abdominal pain",
                      "deterioration of the nails", "deterioration of the hair", "dental caries",
                      "dysmenorrhea"}


def test_symptoms_pointing_to_magnesium_deficiency(built: Build) -> None:
    table = rows(built, "symptoms-pointing-to")
    assert column(table, "symptomLabel") == MAGNESIUM_SYMPTOMS
    populations = {r["symptomLabel"]: r["populationLabel"] for r in table}
    assert populations["dysmenorrhea"] == "women"
    assert {populations[s] for s in MAGNESIUM_SYMPTOMS - {"dysmenorrhea"}} == {""}
    assert rows(built, "symptoms-pointing-to", condition="kgr:leg-cramp") == []


def test_deficiency_symptoms(built: Build) -> None:
    table = rows(built, "deficiency-symptoms")
    magnesium = [r for r in table if r["deficiencyLabel"] == "magnesium deficiency"]
    assert column(magnesium, "symptomLabel") == MAGNESIUM_SYMPTOMS
    assert column(magnesium, "nutrientLabel") == {"magnesium"}
    nutrients = {r["deficiencyLabel"]: r["nutrientLabel"] for r in table}
    assert nutrients["potassium deficiency"] == "potassium"
    assert nutrients["vitamin B6 deficiency"] == "vitamin B6"


def test_cause_chains(built: Build) -> None:
    table = rows(built, "cause-chains")
    chains = {(r["causeLabel"], r["intermediateLabel"], r["effectLabel"]) for r in table}
    assert ("diuretics", "magnesium deficiency", "leg cramp") in chains
    assert ("poor diet", "magnesium deficiency", "memory impairment") in chains
    assert ("excessive jogging", "overexertion of the legs", "leg cramp") in chains
    assert ("heart failure", "impaired blood flow", "leg cramp") in chains
    assert "leg cramp" not in column(table, "intermediateLabel")
    diuretics = [r for r in table if r["causeLabel"] == "diuretics"]
    assert column(diuretics, "contextLabel") == {"postpartum period"}


def test_what_to_do(built: Build) -> None:
    table = {r["interventionLabel"]: r for r in rows(built, "what-to-do")}
    first_aid = {k: r["contextLabel"] for k, r in table.items() if r["kind"] == "first aid"}
    assert first_aid == {
        "calf stretch (pulling the toes towards oneself)": "during an attack",
        "gentle massage of the cramped muscle": "during an attack",
        "pricking the cramped muscle": "during an attack",
        "pinching the cramped muscle": "during an attack",
        "walking about for a while": "during an attack",
        "lying with the legs raised": "after an attack",
    }
    assert table["lying with the legs raised"]["improvesLabel"] == "blood flow"
    assert table["stopping smoking"]["kind"] == "lifestyle change"
    assert "children's analgesic ointment for sprains" not in table  # it treats the pain
    assert table["moderate exercise"]["relation"] == str(KG.hasPrevention)
    assert table["determining the cause of the cramps"]["kind"] == "diagnostic step"
    assert {"foot massage with a warming ointment", "relaxing baths",
            "multivitamin and mineral complexes"} <= {k for k, r in table.items()
                                                      if r["kind"] == "treatment"}


def test_specialists(built: Build, source_text: str) -> None:
    table = rows(built, "specialists")
    by_label = {r["specialistLabel"]: r["populationLabel"] for r in table}
    assert by_label == {"general practitioner": "", "neurologist": "", "endocrinologist": "",
                        "phlebologist": "", "pediatrician": "children"}
    assert all(r["quote"] in source_text for r in table)


def test_night_factors(built: Build) -> None:
    table = rows(built, "night-factors")
    causes = {r["subjectLabel"] for r in table if r["relationLabel"] == "causes"}
    assert causes == {"awkward posture", "excess caffeine", "excess nicotine"}
    assert all(r["frequencyLabel"] == "common" for r in table)
    assert ("leg cramp", "children") in {(r["subjectLabel"], r["objectLabel"]) for r in table}


def test_shared_causes(built: Build) -> None:
    table = {r["causeLabel"]: r for r in rows(built, "shared-causes")}
    assert set(table["magnesium deficiency"]["statedFor"].split(", ")) == {
        "people in general", "people of all ages", "pregnant women"}
    assert set(table["awkward posture"]["statedFor"].split(", ")) == {
        "people in general", "children"}
    assert "hypoglycemia" in table
    assert "cold exposure" not in table  # children only
    assert all(int(r["populations"]) > 1 for r in table.values())


def test_evidence_quotes_are_the_source_text(built: Build, source_text: str) -> None:
    table = rows(built, "evidence")
    assert column(table, "quote") == {"the action of diuretics (after pregnancy)",
                                      "These drawbacks are provoked by"}
    assert column(table, "objectLabel") == {"magnesium deficiency", "potassium deficiency",
                                            "calcium deficiency", "vitamin B deficiency"}
    for entity in ("kgr:leg-cramp", "kgr:eclampsia", "kgr:magnesium-deficiency"):
        table = rows(built, "evidence", entity=entity)
        assert len(table) > 2
        for row in table:
            assert source_text[int(row["start"]):int(row["end"])] == row["quote"]


def test_entity_xrefs(built: Build, graph: Graph) -> None:
    table = {r["entity"]: r for r in rows(built, "entity-xrefs")}
    assert set(table) == {str(s) for s in graph.subjects(RDFS.label, None)
                          if str(s).startswith(str(KGR))}
    assert "spazmofiliya" in table[str(KGR.spasmophilia)]["altLabels"].split(" | ")
    assert "CRF" in table[str(KGR["chronic-renal-failure"])]["altLabels"].split(" | ")
    assert "https://schema.org/MedicalCondition" in table[str(KGR["leg-cramp"])]["kindAlignedTo"]
    for entity, row in table.items():
        mapped = {str(o) for p in (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch,
                                   SKOS.narrowMatch, SKOS.relatedMatch)
                  for o in graph.objects(URIRef(entity), p)}
        assert set(row["xrefs"].split()) == mapped, entity


def test_about_entity(built: Build) -> None:
    table = rows(built, "about-entity")
    found = {(r["direction"], r["property"], r["value"]) for r in table}
    assert ("out", str(KG.deficiencyOf), str(KGR.magnesium)) in found
    assert ("out", str(KG.causes), str(KGR["leg-cramp"])) in found
    assert ("in", str(KG.causes), str(KGR.diuretics)) in found
    indicated = {r["valueLabel"] for r in table
                 if r["direction"] == "in" and r["property"] == str(KG.indicates)}
    assert indicated == MAGNESIUM_SYMPTOMS
    assert rows(built, "about-entity", entity="kgr:no-such-thing") == []


def test_entity_graph_is_a_grounded_subgraph(built: Build, graph: Graph,
                                             source_text: str) -> None:
    from rdflib.namespace import PROV

    from kg.vocab import OA

    result = built.query("entity-graph", entity="kgr:eclampsia")
    assert result.type == "CONSTRUCT" and result.graph is not None
    sub = result.graph
    assert (KGR.eclampsia, KG.causes, KGR.seizure) in sub
    assert all(t in graph for t in sub)
    evidence = set(sub.objects(None, PROV.wasDerivedFrom))
    assert len(evidence) >= 4
    for ev in evidence:
        selectors = list(sub.objects(ev, OA.hasSelector))
        [quote] = [sub.value(s, OA.exact) for s in selectors if (s, OA.exact, None) in sub]
        [start] = [sub.value(s, OA.start) for s in selectors if (s, OA.start, None) in sub]
        [end] = [sub.value(s, OA.end) for s in selectors if (s, OA.end, None) in sub]
        assert source_text[int(start):int(end)] == str(quote)


def test_does_cause(built: Build) -> None:
    assert built.query("does-cause").boolean is True
    assert bool(built.query("does-cause", cause="kgr:excessive-jogging"))  # two steps
    assert built.query("does-cause", cause="kgr:leg-cramp", effect="kgr:diuretics").boolean \
        is False


def test_anatomy(built: Build) -> None:
    table = rows(built, "anatomy")
    most = {r["anatomyLabel"] for r in table
            if r["entityLabel"] == "leg cramp" and r["frequencyLabel"] == "in most cases"}
    assert most == {"gastrocnemius muscle", "toes", "foot"}
    assert ("thyroid disease", "thyroid gland") in {(r["entityLabel"], r["anatomyLabel"])
                                                    for r in table}


def test_find_entity(built: Build) -> None:
    assert column(rows(built, "find-entity", text="SPAZMO"), "label") == {"spasmophilia"}
    assert column(rows(built, "find-entity", text="crf"), "label") == {"chronic renal failure"}
    # the one word for cramps and seizures finds both
    assert {"leg cramp", "convulsive seizure"} <= column(
        rows(built, "find-entity", text="seizures"), "label")
    assert column(rows(built, "find-entity"), "entity") == {str(KGR.magnesium),
                                                           str(KGR["magnesium-deficiency"])}


# --------------------------------------------------------------------------- binding


PAYLOADS = [
    'x" } ; DROP ALL ; #',
    "x' } ; DROP ALL ; #",
    '") } SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } #',
    # ends the string on an engine that reads \U0000005C as a backslash inside strings
    # (Oxigraph) where the old escaping relied on its expansion before parsing
    '" } SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } #',
    '"""\n} LOAD <http://127.0.0.1:9/> #',
    "back\\slash \\\" and \\u0022",
    "\\u0022) } SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } #",
    "\\U0000005C\\u005C\\1234\\uFFFFFFFF \\",
    "tab\tnew\nline\rcarriage",
    "ünïcødé ✓ 𝄞",
    "\\u0041 \\\\u0041 \\U00000041 u\\U\\",
    "",
]

ECHO = "# param: v string\nSELECT ?out WHERE { BIND($v AS ?out) }\n"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_string_parameters_are_inert(built: Build, payload: str, listener: Listener) -> None:
    """On both engines (Oxigraph, which reads \\u escapes inside strings only, and rdflib,
    which expands them in the whole text first, as the SPARQL spec says), a value comes
    back exactly, as one literal, and never reaches past it."""
    payload = payload.replace("127.0.0.1:9", f"127.0.0.1:{listener.port}")
    [row] = built.query(ECHO, v=payload).rows
    assert row["out"] == Literal(payload)
    [row] = run(built.graph, ECHO, {"v": payload}).rows
    assert row["out"] == Literal(payload)
    if payload:
        assert rows(built, "find-entity", text=payload) == []
    assert listener.connections() == 0


def test_iri_parameters_reject_anything_but_an_iri(built: Build, listener: Listener) -> None:
    hostile = f"https://x.org/> }} SERVICE <{listener.url}> {{ ?s ?p ?o }} #"
    for value in (hostile, "kgr:a b", "kgr:x>", "<https://x.org/a{b}>", "nocolon", "kgx:foo",
                  ""):
        with pytest.raises(UsageError, match=r"^parameter 'entity' \(iri\): "):
            built.query("about-entity", entity=value)
    assert listener.connections() == 0
    with pytest.raises(UsageError, match="unknown prefix 'kgx'.*kgr"):
        built.query("about-entity", entity="kgx:foo")


def test_iri_spellings(built: Build) -> None:
    full = str(KGR["magnesium-deficiency"])
    expected = rows(built, "about-entity")
    for spelling in ("kgr:magnesium-deficiency", full, f"<{full}>", f"  {full} ",
                     URIRef(full)):
        assert rows(built, "about-entity", entity=spelling) == expected


@pytest.mark.parametrize("kind,value,term", [
    ("integer", "42", Literal(42)),
    ("integer", 7, Literal(7)),
    ("decimal", "2.50", Literal("2.50", datatype=URIRef("http://www.w3.org/2001/XMLSchema#decimal"))),
    ("boolean", "true", Literal(True)),
    ("boolean", "0", Literal(False)),
    ("iri", "urn:isbn:0451450523", URIRef("urn:isbn:0451450523")),
])
def test_typed_parameters(built: Build, kind: str, value: object, term: object) -> None:
    query = parse_query(f"# param: v {kind}\nSELECT ?out WHERE {{ BIND($v AS ?out) }}", name="t")
    assert to_rdflib(query.params[0].term(value)) == term
    [row] = built.query(query, v=value).rows  # the bound value comes back as it went in
    assert row["out"].eq(term)  # type: ignore[union-attr]


@pytest.mark.parametrize("kind,value", [
    ("integer", "4.2"), ("integer", "x"), ("integer", True), ("decimal", "1e3"),
    ("decimal", "nan"), ("boolean", "yes"), ("string", 5),
])
def test_ill_typed_values_name_the_parameter(kind: str, value: object) -> None:
    query = parse_query(f"# param: v {kind}\nSELECT ?out WHERE {{ BIND($v AS ?out) }}", name="t")
    with pytest.raises(UsageError, match=rf"^parameter 'v' \({kind}\): "):
        query.bind({"v": value})


def test_unknown_and_missing_parameters(built: Build) -> None:
    with pytest.raises(UsageError, match="has no parameter 'popluation': it takes population"):
        built.query("causes-for-population", popluation="kgr:children")
    with pytest.raises(UsageError, match="takes no parameters"):
        built.query("anatomy", entity="kgr:leg")
    query = parse_query("# param: v iri\nASK { $v ?p ?o }", name="t")
    with pytest.raises(UsageError, match="needs parameter 'v'"):
        query.bind()


@pytest.mark.parametrize("text,expected", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT * WHERE { VALUES ?v { 1 } ?s ?p ?o }"),
    ("ASK { ?s ?p ?o }", "ASK { VALUES ?v { 1 } ?s ?p ?o }"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
     "CONSTRUCT { ?s ?p ?o } WHERE { VALUES ?v { 1 } ?s ?p ?o }"),
    ("SELECT (EXISTS { ?a ?b ?c } AS ?e) WHERE { ?s ?p ?o }",
     "SELECT (EXISTS { ?a ?b ?c } AS ?e) WHERE { VALUES ?v { 1 } ?s ?p ?o }"),
    ('# WHERE { in a comment\nSELECT ("WHERE {" AS ?w) WHERE { }',
     '# WHERE { in a comment\nSELECT ("WHERE {" AS ?w) WHERE { VALUES ?v { 1 } }'),
    ("SELECT ?s WHERE { ?s <urn:p> '} WHERE {' }",
     "SELECT ?s WHERE { VALUES ?v { 1 } ?s <urn:p> '} WHERE {' }"),
    ("SELECT * { { SELECT ?s WHERE { ?s ?p ?o } } }",
     "SELECT * { VALUES ?v { 1 } { SELECT ?s WHERE { ?s ?p ?o } } }"),
])
def test_values_go_at_the_start_of_the_where_clause(text: str, expected: str) -> None:
    one = pyoxigraph.Literal(1)
    assert bind_values(text, {"v": one}).replace(str(one), "1") == expected


def test_a_query_without_where_clause_cannot_take_parameters() -> None:
    with pytest.raises(QueryError, match="no WHERE clause"):
        bind_values("DESCRIBE <urn:x>", {"v": pyoxigraph.Literal(1)})


def test_bound_text_is_a_plain_query(built: Build) -> None:
    """What --show prints runs as it is, here or elsewhere: no $name, no param line."""
    text = NAMED["evidence"].bind({"entity": "kgr:eclampsia"})
    assert "# bound parameter: entity iri kgr:diuretics" in text
    assert "$entity" not in re.sub(r"#.*", "", text)
    assert "VALUES ?entity { <https://w3id.org/health-kg/resource/eclampsia> }" in text
    assert [{k: "" if v is None else str(v) for k, v in r.items()} for r in built.query(text)] == \
        rows(built, "evidence", entity="kgr:eclampsia")
    assert NAMED["anatomy"].bind() == NAMED["anatomy"].text  # nothing to bind


def test_an_empty_graph_result(built: Build) -> None:
    result = built.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s a kg:NoSuchClass ; ?p ?o }")
    assert result.graph is not None and len(result.graph) == 0 and not result
    assert serialize(result, "ttl") == b""
    assert len(Graph().parse(data=serialize(result, "jsonld"), format="json-ld")) == 0


def test_standalone_declares_the_base_and_the_prefixes_it_uses() -> None:
    text = NAMED["specialists"].bind()
    out = standalone(text)
    assert out.startswith("BASE <https://w3id.org/health-kg/resource/>\n"
                          "PREFIX kg: <https://w3id.org/health-kg/ontology#>\n")
    assert "PREFIX oa: <http://www.w3.org/ns/oa#>" in out
    assert "PREFIX kgr:" not in out and "PREFIX schema:" not in out  # not used
    own = "PREFIX kg: <urn:mine#>\nSELECT * WHERE { ?s kg:p ?o }"
    assert standalone(own) == "BASE <https://w3id.org/health-kg/resource/>\n\n" + own


# --------------------------------------------------------------------------- the loader


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.rq"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "# title: T\n# description: D\n# param: e iri kgr:leg\n\nSELECT ?p WHERE { $e ?p ?o }\n"


@pytest.mark.parametrize("text,problem", [
    ("# description: D\nSELECT * WHERE { ?s ?p ?o }", r":1: the header has no '# title:' line"),
    ("# title: T\nSELECT * WHERE { ?s ?p ?o }", r":1: the header has no '# description:'"),
    ("# title: T\n# description: D\n# author: me\nSELECT * WHERE { ?s ?p ?o }",
     r":3: unknown header field 'author'"),
    ("# title: T\n# title: U\n# description: D\nSELECT * {}", r":2: 'title' given twice"),
    ("# title: T\n# description: D\n# param: e iri\nSELECT * WHERE { ?s ?p ?o }",
     r"parameter 'e' is declared but the query never uses \$e"),
    ("# title: T\n# description: D\nSELECT * WHERE { $s ?p ?o }",
     r"uses \$s but declares no parameter 's'"),
    ("# title: T\n# description: D\n# param: s iri\nSELECT ?s WHERE { $s ?p ?o }",
     r"parameter 's' is also written \?s"),
    ("# title: T\n# description: D\n# param: s uri\nSELECT * WHERE { $s ?p ?o }",
     r":3: parameter 's': unknown type 'uri'"),
    ("# title: T\n# description: D\n# param: s integer ten\nSELECT * WHERE { $s ?p ?o }",
     r":3: bad default: parameter 's' \(integer\): 'ten' is not an integer"),
    ("# title: T\n# description: D\n# param: s\nSELECT * WHERE { $s ?p ?o }",
     r":3: a parameter is declared as '# param: NAME TYPE \[DEFAULT\]'"),
    ("# title: T\n# description: D\n# param: s iri\n# param: s iri\nSELECT * { $s ?p ?o }",
     r"parameter 's' is declared twice"),
    ("# title: T\n# description: D\nPREFIX x: <urn:x>\n", r"no SELECT, ASK, CONSTRUCT"),
])
def test_the_loader_checks_headers_and_parameters(tmp_path: Path, text: str,
                                                  problem: str) -> None:
    write(tmp_path, "q", text)
    with pytest.raises(DataError, match=r"q\.rq" + (problem if problem.startswith(":")
                                                    else r".*" + problem)):
        load_queries(tmp_path)


def test_the_loader_reads_a_good_file(tmp_path: Path) -> None:
    write(tmp_path, "good", GOOD.replace("# description: D", "# description: D\n#   more"))
    [query] = load_queries(tmp_path).values()
    assert (query.name, query.title, query.description) == ("good", "T", "D more")
    assert str(query.params[0]) == "e iri [kgr:leg]"
    assert "$e" not in re.sub(r"#.*", "", query.bind().replace("$e ?p", ""))


def test_dollar_signs_in_strings_and_comments_are_not_parameters(tmp_path: Path) -> None:
    write(tmp_path, "q", '# title: T\n# description: costs $5\n'
                         'SELECT * WHERE { ?s ?p "$x" } # $y\n')
    assert load_queries(tmp_path)["q"].params == ()


def test_query_names_are_checked(tmp_path: Path) -> None:
    write(tmp_path, "Bad_Name", GOOD)
    with pytest.raises(DataError, match="lower-case words joined by '-'"):
        load_queries(tmp_path)


def test_a_file_outside_the_queries_directory_needs_no_header(tmp_path: Path,
                                                              built: Build) -> None:
    path = write(tmp_path, "Mine", "# notes: anything\nSELECT ?l WHERE { kgr:leg rdfs:label ?l }")
    assert [str(r["l"]) for r in built.query(path)] == ["leg"]


def test_an_unknown_name_suggests_the_closest(built: Build) -> None:
    with pytest.raises(UsageError, match="no query named 'causes-by-categry' "
                                         r"\(did you mean 'causes-by-category'\?\)"):
        built.query("causes-by-categry")


# --------------------------------------------------------------------------- safety


REFUSED_SERVICE = [
    "SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT <{url}> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <{url}> { ?s ?p ?x } } }",
    "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <{url}> { ?s ?p ?o } } }",
    "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <{url}> { ?s ?p ?o } } } }",
    "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <{url}> { ?s ?p ?o } } }",
    "ASK { MINUS { SERVICE <{url}> { ?s ?p ?o } } }",
    "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "DESCRIBE ?s WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "SELECT (EXISTS { SERVICE <{url}> { ?a ?b ?c } } AS ?e) WHERE { ?s ?p ?o }",
    "SELECT * WHERE { BIND(<{url}> AS ?u) SERVICE ?u { ?s ?p ?o } }",
]
REFUSED_DATASET = [
    "SELECT * FROM <{url}> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <{url}> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "ASK FROM <{url}> { ?s ?p ?o }",
    "CONSTRUCT { ?s ?p ?o } FROM <{url}> WHERE { ?s ?p ?o }",
    "DESCRIBE <urn:x> FROM <{url}>",
]
REFUSED_UPDATES = [
    "LOAD <{url}>",
    "LOAD SILENT <{url}> INTO GRAPH <urn:g>",
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "DELETE DATA { <urn:a> <urn:b> <urn:c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "PREFIX x: <urn:x#> INSERT { ?s x:p 1 } WHERE { ?s ?p ?o }",
    "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "CLEAR ALL",
    "DROP DEFAULT",
    "CREATE GRAPH <urn:g>",
    "ADD DEFAULT TO <urn:g>",
    "MOVE DEFAULT TO <urn:g>",
    "COPY DEFAULT TO <urn:g>",
    "insert data { <urn:a> <urn:b> <urn:c> }",
]


@pytest.mark.parametrize("template,message", [
    *((t, "SERVICE is not allowed") for t in REFUSED_SERVICE),
    *((t, "FROM / FROM NAMED is not allowed") for t in REFUSED_DATASET),
    *((t, r"SPARQL Update \(\w+\) is not allowed: the graph is read-only")
      for t in REFUSED_UPDATES),
])
def test_refused_before_evaluation(built: Build, graph: Graph, listener: Listener,
                                   template: str, message: str) -> None:
    before = len(graph)
    text = template.replace("{url}", listener.url)
    with pytest.raises(QueryRefused, match=message):
        built.query(text)
    assert listener.connections() == 0
    assert len(graph) == before
    assert rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS is False


def test_the_listener_does_see_connections(listener: Listener) -> None:
    socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()
    assert listener.connections() == 1


def test_queries_that_name_a_url_without_fetching_it(built: Build, listener: Listener) -> None:
    for text in (f"DESCRIBE <{listener.url}>",
                 f"SELECT * WHERE {{ <{listener.url}> ?p ?o }}",
                 f"ASK {{ FILTER(STRSTARTS(STR(<{listener.url}>), 'http')) }}"):
        built.query(text)
    assert listener.connections() == 0


def test_query_text_size_is_capped(built: Build) -> None:
    head = "ASK { ?s ?p ?o }\n#"
    at_limit = head + "x" * (MAX_QUERY_BYTES - len(head))
    assert built.query(at_limit).boolean is True
    with pytest.raises(QueryError, match=r"query too long: 65,537 bytes \(the limit is 65,536\)"):
        built.query(at_limit + "x")


@pytest.mark.parametrize("text,message", [
    ("SELEC * WHERE { ?s ?p ?o }", r"^malformed query: .* at line 1, column 1$"),
    ("SELECT * WHERE {\n  ?s ?p \n}", r"^malformed query: .* at line 2, column 3$"),
    ("SELECT * WHERE { ?s nope:p ?o }", r"^malformed query: Unknown namespace prefix : nope$"),
    ("   # only a comment\n", r"^empty query$"),
    ('ASK { ?s ?p "\\uD800" }', r"^malformed query: \\uD800 names no Unicode character"),
    ('ASK { ?s ?p "\\U00110000" }', r"^malformed query: \\U00110000 names no Unicode"),
    ('ASK { ?s ?p "\\u005Cu0041" }', r"^malformed query: line 1: a codepoint escape made a "
                                      r"backslash in front of another"),
    ("SELECT * WHERE { BIND(1 AS ?x) BIND(2 AS ?x) }", r"^query failed: error at 1:"),
    ("SELECT *\nWHERE {\n BIND(1 AS ?x) BIND(2 AS ?x) }", r"^query failed: error at 3:"),
])
def test_bad_queries_are_one_line_query_errors(built: Build, text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message) as info:
        built.query(text)
    assert "\n" not in str(info.value)


def test_rdflib_evaluation_errors_are_query_errors(graph: Graph) -> None:
    with pytest.raises(QueryError, match=r"^query failed: ") as info:
        run(graph, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert "\n" not in str(info.value)


def test_checks_are_remembered_by_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(check_module, "_checked", {})
    text = "SELECT ?s WHERE { ?s a kg:Specialist }"
    assert queries.check(text).form == "SELECT"
    assert not (tmp_path / "checked").exists()  # text from outside stays in memory
    monkeypatch.setattr(check_module, "_checked", {})
    assert queries.check(text, persist=True).form == "SELECT"
    [entry] = (tmp_path / "checked").iterdir()
    assert entry.read_text() == "SELECT"

    def fail(text: str) -> None:
        raise AssertionError("checked again")

    monkeypatch.setattr(check_module, "prepare", fail)
    assert queries.check(text).form == "SELECT"  # from this process's memory
    monkeypatch.setattr(check_module, "_checked", {})
    assert queries.check(text, persist=True).form == "SELECT"  # from the cache directory
    entry.write_text("garbage")
    monkeypatch.setattr(check_module, "_checked", {})
    with pytest.raises(AssertionError, match="checked again"):  # a bad entry is not trusted
        queries.check(text, persist=True)


def test_refusals_are_never_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path))
    for _ in range(2):
        with pytest.raises(QueryRefused):
            queries.check("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
                          persist=True)
        with pytest.raises(QueryError):
            queries.check("SELECT * WHERE {", persist=True)
    assert not (tmp_path / "checked").exists()


def test_an_empty_cache_dir_setting_turns_the_cache_off(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_CACHE_DIR", "")
    assert queries.cache_dir() is None
    assert queries.check("ASK { ?s ?p ?o }").form == "ASK"
    monkeypatch.delenv("KG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert queries.cache_dir() == tmp_path / "kg"


def test_a_named_query_is_checked_before_binding(built: Build, listener: Listener) -> None:
    """The template's check covers every binding: a hostile value stays a value."""
    query = parse_query("# param: v string\nSELECT ?o WHERE { BIND($v AS ?o) }", name="t")
    hostile = f'") }} SERVICE <{listener.url}> {{ ?s ?p ?o }} #'
    for _ in range(2):
        [row] = run_query(MemoryBackend(built), query, {"v": hostile}).rows
        assert str(row["o"]) == hostile
    assert listener.connections() == 0
    with pytest.raises(QueryError, match="query too long"):  # the bound text is capped too
        run_query(MemoryBackend(built), query, {"v": "x" * MAX_QUERY_BYTES})


def test_prefixes_are_predeclared_and_overridable(built: Build) -> None:
    assert built.query("ASK { kgr:leg-cramp a kg:Condition ; skos:altLabel ?x }").boolean
    assert not built.query("PREFIX kgr: <urn:other/> ASK { kgr:leg-cramp ?p ?o }").boolean


# --------------------------------------------------------------------------- formats


SELECT = ("SELECT ?entity ?label ?n WHERE { ?entity rdfs:label ?label ; a kg:Specialist "
          "OPTIONAL { ?entity skos:altLabel ?alt } BIND(IF(BOUND(?alt), STRLEN(?alt), ?unbound) "
          "AS ?n) } ORDER BY ?label")


@pytest.fixture(scope="module")
def select_result(built: Build) -> QueryResult:
    result = built.query(SELECT)
    assert len(result.rows) == 5 and any(r["n"] is None for r in result.rows)
    return result


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_w3c_formats_round_trip(select_result: QueryResult, fmt: str) -> None:
    parsed = Result.parse(io.BytesIO(serialize(select_result, fmt)), format=fmt)
    assert [str(v) for v in parsed.vars] == list(select_result.vars)
    got = [{str(k): v for k, v in b.items()} for b in parsed.bindings]
    want = [{k: v for k, v in row.items() if v is not None} for row in select_result.rows]
    assert got == want


def test_csv_format(select_result: QueryResult) -> None:
    import csv

    lines = serialize(select_result, "csv").decode("utf-8")
    assert lines.endswith("\r\n")
    table = list(csv.reader(io.StringIO(lines)))
    assert table[0] == ["entity", "label", "n"]
    assert [r[1] for r in table[1:]] == [str(r["label"]) for r in select_result.rows]


def test_table_format(select_result: QueryResult) -> None:
    text = serialize(select_result, "table").decode("utf-8").splitlines()
    assert text[0].split() == ["entity", "label", "n"]
    assert set(text[1]) == {"-", " "}
    assert text[2].startswith("kgr:endocrinologist") and "endocrinologist" in text[2]
    assert text[-1] == "(5 rows)"


def test_ask_formats(built: Build) -> None:
    result = built.query("does-cause")
    assert json.loads(serialize(result, "json")) == {"head": {}, "boolean": True}
    assert b"<boolean>true</boolean>" in serialize(result, "xml")
    assert serialize(result, "table") == b"true\n"
    assert Result.parse(io.BytesIO(serialize(result, "xml")), format="xml").askAnswer is True
    for fmt in ("csv", "tsv"):
        with pytest.raises(UsageError, match="cannot carry an ASK answer"):
            serialize(result, fmt)


@pytest.mark.parametrize("fmt,parse_as", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_graph_formats(built: Build, fmt: str, parse_as: str) -> None:
    result = built.query("entity-graph")
    assert result.graph is not None
    assert isomorphic(Graph().parse(data=serialize(result, fmt), format=parse_as), result.graph)
    with pytest.raises(UsageError, match="gives a graph"):
        serialize(result, "json")


def test_max_rows(graph: Graph) -> None:
    result = run(graph, "SELECT ?s WHERE { ?s ?p ?o }", max_rows=7)
    assert len(result.rows) == 7 and result.truncated
    assert serialize(result, "table").decode().endswith("(7 rows, cut at the row limit)\n")
    graph_result = run(graph, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", max_rows=3)
    assert graph_result.graph is not None and len(graph_result.graph) == 3
    assert graph_result.truncated
    assert not run(graph, "SELECT ?s WHERE { ?s a kg:Specialist }", max_rows=5).truncated


def test_default_format(built: Build) -> None:
    from kg.queries import default_format

    select, ask, graph = (built.query("anatomy"), built.query("does-cause"),
                          built.query("entity-graph"))
    assert [default_format(r, terminal=True) for r in (select, ask, graph)] == [
        "table", "table", "ttl"]
    assert [default_format(r, terminal=False) for r in (select, ask, graph)] == [
        "tsv", "table", "ttl"]


def test_execute_takes_a_checked_query(graph: Graph) -> None:
    query = check("SELECT ?l WHERE { kgr:leg rdfs:label ?l }")
    assert [str(r["l"]) for r in execute(graph, query).rows] == ["leg"]


# --------------------------------------------------------------------------- the commands


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def kg_cli(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_kg_queries_lists_names_titles_and_parameters(runner: CliRunner) -> None:
    code, out, _ = kg_cli(runner, "queries")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "FORM", "TITLE"]
    for name, query in NAMED.items():
        [line] = [line for line in lines if line.startswith(name + " ")]
        assert query.title in line and query.form in line
        assert all(str(p) in line for p in query.params)
    code, out, _ = kg_cli(runner, "queries", "--format", "json")
    listed = {q["name"]: q for q in json.loads(out)}
    assert set(listed) == set(NAMED)
    assert listed["causes-for-population"]["params"][0] == {
        "name": "population", "type": "iri", "default": "kgr:pregnant-women"}


def test_kg_query_named_with_a_parameter(runner: CliRunner, build_dir: Path) -> None:
    code, out, _ = kg_cli(runner, "query", "causes-for-population", "-p", "population",
                          "kgr:children", "--format", "json", "--build-dir", str(build_dir))
    assert code == 0
    labels = {b["causeLabel"]["value"] for b in json.loads(out)["results"]["bindings"]}
    assert "cold exposure" in labels and "diuretics" not in labels


def test_kg_query_writes_tsv_when_not_on_a_terminal(runner: CliRunner, build_dir: Path) -> None:
    code, out, _ = kg_cli(runner, "query", "specialists", "--build-dir", str(build_dir))
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split("\t") == ["?specialist", "?specialistLabel", "?populationLabel",
                                  "?quote"]
    assert len(lines) == 5 and '"pediatrician"@en' in out


def test_kg_query_table_text_file_and_graph(runner: CliRunner, build_dir: Path,
                                            tmp_path: Path) -> None:
    b = ("--build-dir", str(build_dir))
    code, out, _ = kg_cli(runner, "query", "-e", "SELECT ?l WHERE { kgr:leg rdfs:label ?l }",
                          "--format", "table", *b)
    assert code == 0 and out.splitlines() == ["l", "---", "leg", "(1 row)"]
    path = write(tmp_path, "mine", "# param: x iri kgr:leg\nSELECT ?l WHERE { $x rdfs:label ?l }")
    result = runner.invoke(cli, ["query", str(path), "-p", "x", "kgr:foot", "--format", "csv", *b])
    assert result.exit_code == 0 and result.stdout_bytes == b"l\r\nfoot\r\n"
    code, out, _ = kg_cli(runner, "query", "entity-graph", *b)
    assert code == 0 and (KGR["magnesium-deficiency"], KG.causes, KGR["leg-cramp"]) in \
        Graph().parse(data=out, format="turtle")
    code, out, _ = kg_cli(runner, "query", "does-cause", "-p", "cause", "kgr:leg-cramp", *b)
    assert code == 0 and out == "false\n"


def test_kg_query_show_and_max_rows(runner: CliRunner, build_dir: Path) -> None:
    code, out, _ = kg_cli(runner, "query", "specialists", "--show", "-p", "condition",
                          "kgr:eclampsia")
    assert code == 0
    assert "PREFIX kg: <https://w3id.org/health-kg/ontology#>" in out
    assert "VALUES ?condition { <https://w3id.org/health-kg/resource/eclampsia> }" in out
    check(out)  # what --show prints is a complete query
    code, out, err = kg_cli(runner, "query", "causes-by-category", "--max-rows", "2",
                            "--build-dir", str(build_dir))
    assert code == 0 and len(out.splitlines()) == 3 and "--max-rows 2" in err


@pytest.mark.parametrize("args,code,message", [
    (["causes-by-categry"], 2,
     "Error: no query named 'causes-by-categry' (did you mean 'causes-by-category'?); "
     "'kg queries' lists them"),
    (["-e", "SELEC * WHERE {}"], 1, "Error: malformed query: "),
    (["-e", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"], 1,
     "Error: SERVICE is not allowed"),
    (["-e", "DROP ALL"], 1, "Error: SPARQL Update (DROP) is not allowed"),
    (["about-entity", "-p", "entity", "not an iri"], 2, "Error: parameter 'entity' (iri): "),
    (["about-entity", "-p", "entty", "kgr:leg"], 2, "Error: query 'about-entity' has no "
                                                     "parameter 'entty'"),
    (["about-entity", "-p", "entity", "kgr:leg", "-p", "entity", "kgr:foot"], 2,
     "Error: -p entity given twice"),
    (["anatomy", "-e", "ASK {}"], 2, "Error: give one query"),
    ([], 2, "Error: give one query"),
    (["does-cause", "--format", "csv"], 2, "Error: csv cannot carry an ASK answer"),
    (["SELECT * WHERE {}"], 2, "Error: no query named 'SELECT * WHERE {}' and no such file"),
    (["-e", "# param: y string\nSELECT * WHERE { $x ?p $y }"], 1,
     "Error: -e: the query uses $x but declares no "),
])
def test_kg_query_mistakes_are_one_line(runner: CliRunner, build_dir: Path, args: list[str],
                                        code: int, message: str) -> None:
    result = runner.invoke(cli, ["query", *args, "--build-dir", str(build_dir)])
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert len([line for line in result.stderr.splitlines() if line.startswith("Error")]) == 1


def test_readme_querying_python_example_runs(build_dir: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Querying"):]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block is not None
    monkeypatch.chdir(build_dir.parent)
    monkeypatch.setenv("KG_BUILD_DIR", str(build_dir))  # kg.load() with no argument
    exec(compile(block.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "cold exposure" in out and "flatfoot" in out


def test_default_queries_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from kg.paths import default_queries_dir

    monkeypatch.delenv("KG_QUERIES", raising=False)
    assert default_queries_dir() == QUERIES
    monkeypatch.setenv("KG_QUERIES", str(tmp_path))
    assert default_queries_dir() == tmp_path


def test_the_wheel_ships_the_queries_and_the_page(tmp_path: Path, build_dir: Path) -> None:
    """Build the wheel, unpack it outside the repository, and query from there."""
    import subprocess
    import sys
    import zipfile

    def sh(*args: str, env: dict[str, str] | None = None) -> str:
        import os

        proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
       "-w", str(tmp_path / "wheel"), str(REPO))
    [wheel] = (tmp_path / "wheel").glob("kg-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    assert {f"kg/_queries/{name}.rq" for name in NAMED} <= names
    assert "kg/templates/sparql.html" in names
    env = {"PYTHONPATH": str(tmp_path / "site"), "KG_QUERIES": ""}
    out = sh(sys.executable, "-m", "kg", "query", "specialists", "--format", "csv",
             "--build-dir", str(build_dir), env=env)
    assert "phlebologist" in out
    out = sh(sys.executable, "-c", "import kg.paths as p; print(p.default_queries_dir())",
             env=env)
    assert out.strip() == str(tmp_path / "site" / "kg" / "_queries")


def test_result_format_names_are_known_to_the_cli() -> None:
    assert {"table", "tsv", "csv", "json", "xml"} == set(RESULT_FORMATS)
