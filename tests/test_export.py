"""Export formats, each read back with the library its users would use."""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import re
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner
from rdflib import RDF, RDFS, Graph, URIRef
from rdflib.compare import isomorphic

from kg.cli import cli
from kg.export import (
    CSV_COLUMNS,
    CSV_NODE_COLUMNS,
    FORMATS,
    KGX_EDGE_COLUMNS,
    NEO4J_ARRAY_DELIMITER,
    NEO4J_NODE_COLUMNS,
    NEO4J_RELATIONSHIP_COLUMNS,
)
from kg.network import to_networkx
from kg.subgraph import Selection, select
from kg.vocab import KG, KGR

PATH = ("--path", "diuretics", "leg cramp")
CHILDREN = ("--population", "children")


def run(build_dir: Path, *args: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(cli, ["export", "--build-dir", str(build_dir), *args])
    return result.exit_code, result.stdout_bytes, result.stderr


def expected(graph: Graph, provenance: bool = True, **sel: object) -> Graph:
    return select(graph, Selection(**sel), provenance=provenance)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt,rdf_format", [("ttl", "turtle"), ("nt", "nt"),
                                            ("jsonld", "json-ld")])
def test_rdf_formats_are_isomorphic_to_the_selection(build_dir: Path, graph: Graph,
                                                     fmt: str, rdf_format: str) -> None:
    code, out, _ = run(build_dir, *PATH, "--format", fmt)
    assert code == 0
    got = Graph().parse(data=out, format=rdf_format)
    assert isomorphic(got, expected(graph, path=("diuretics", "leg cramp")))
    assert set(got.subjects(RDF.type, RDF.Statement))
    code, out, _ = run(build_dir, *PATH, "--format", fmt, "--no-provenance")
    bare = Graph().parse(data=out, format=rdf_format)
    assert isomorphic(bare, expected(graph, provenance=False, path=("diuretics", "leg cramp")))
    assert not set(bare.subjects(RDF.type, RDF.Statement))
    assert (KGR["diuretics"], KG.causes, KGR["magnesium-deficiency"]) in bare


def _same_network(read: nx.MultiDiGraph, want: nx.MultiDiGraph) -> None:
    assert set(read.nodes) == set(want.nodes)
    assert sorted((u, v) for u, v in read.edges()) == sorted((u, v) for u, v in want.edges())
    for node, attrs in want.nodes(data=True):
        assert read.nodes[node]["label"] == attrs["label"]
        assert read.nodes[node]["types"] == attrs["types"]


def test_graphml_for_gephi(build_dir: Path, graph: Graph, tmp_path: Path) -> None:
    target = tmp_path / "children.graphml"
    code, _, err = run(build_dir, *CHILDREN, "--format", "graphml", "-o", str(target))
    assert code == 0 and "wrote" in err
    read = nx.read_graphml(target, force_multigraph=True)
    want = to_networkx(expected(graph, population="children"))
    _same_network(read, want)
    quotes = [d["quote"] for _, _, d in read.edges(data=True) if d["relation"] == "causes"
              and d.get("population") == "children"]
    assert "A major reason for children's seizures is hypothermia, such cases are very " \
           "common in the winter." in quotes


def test_gexf(build_dir: Path, graph: Graph, tmp_path: Path) -> None:
    target = tmp_path / "g.gexf"
    assert run(build_dir, *PATH, "--format", "gexf", "-o", str(target))[0] == 0
    read = nx.read_gexf(target)
    want = to_networkx(expected(graph, path=("diuretics", "leg cramp")))
    assert set(read.nodes) == set(want.nodes)
    assert read.number_of_edges() == want.number_of_edges()


def test_node_link_json_gives_multi_valued_fields_as_lists(build_dir: Path, graph: Graph
                                                          ) -> None:
    code, out, _ = run(build_dir, *PATH, "--format", "json")
    data = json.loads(out)
    read = nx.node_link_graph(data, edges="edges")
    want = to_networkx(expected(graph, path=("diuretics", "leg cramp")), lists=True)
    assert set(read.nodes) == set(want.nodes)
    assert sorted(read.edges()) == sorted(want.edges())
    for node, attrs in read.nodes(data=True):
        assert attrs == want.nodes[node]
        assert isinstance(attrs["types"], list) and isinstance(attrs.get("alt_labels", []), list)
    assert read.nodes[str(KGR["magnesium-deficiency"])]["alt_labels"] == [
        "Hypomagnesemia", "lack of magnesium"]
    facts = [d for _, _, d in read.edges(data=True) if "statement" in d]
    assert facts
    for d in facts:
        assert all(isinstance(d[k], list) for k in ("evidence", "quote", "quote_start",
                                                      "quote_end", "document"))
        assert len(d["evidence"]) == len(d["quote"]) == len(d["quote_start"]) >= 1
        assert all(isinstance(v, list) for k, v in d.items() if k in ("population", "context"))
    diuretic = next(d for u, _, d in read.edges(data=True) if u == str(KGR["diuretics"]))
    assert "the action of diuretics (after pregnancy)" in diuretic["quote"]
    assert isinstance(diuretic["population"], list) and diuretic["population"]


def test_json_lists_on_a_fact_with_two_quotes(graph: Graph, source_text: str) -> None:
    data = json.loads(FORMATS["json"].write(graph))
    two = [e for e in data["edges"] if len(e.get("quote", [])) == 2]
    assert two, "the seed has facts with two quotes"
    for e in two:
        for quote, start, end in zip(e["quote"], e["quote_start"], e["quote_end"],
                                     strict=True):
            assert source_text[start:end] == quote
        assert "; " not in "".join(e["evidence"])


def _csv_files(build_dir: Path, tmp_path: Path, *args: str) -> tuple[Path, Path]:
    target = tmp_path / "facts.csv"
    code, _, err = run(build_dir, *args, "-o", str(target))
    assert code == 0, err
    assert err.count("wrote") == 2 and (tmp_path / "facts_nodes.csv").exists()
    return target, tmp_path / "facts_nodes.csv"


def test_csv_one_row_per_quote_and_a_nodes_file(build_dir: Path, graph: Graph,
                                                tmp_path: Path) -> None:
    edges_csv, nodes_csv = _csv_files(build_dir, tmp_path, *PATH)
    with open(edges_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    want = to_networkx(expected(graph, path=("diuretics", "leg cramp")), lists=True)
    assert len(rows) == sum(max(1, len(d["quote"])) for _, _, d in want.edges(data=True))
    assert len({r["statement"] for r in rows}) == want.number_of_edges()
    diuretic = [r for r in rows if r["subject_label"] == "diuretics"]
    assert {"magnesium deficiency", "potassium deficiency"} <= {r["object_label"]
                                                                for r in diuretic}
    assert {r["fact"] for r in diuretic} == {
        r["fact"] for r in diuretic if r["quote"] == "the action of diuretics (after pregnancy)"}
    assert all("; " not in r["quote"] and "; " not in r["evidence"] for r in rows)
    assert all(r["context"] and r["population"] for r in diuretic)
    assert all(r["relation_label"] == "causes" for r in rows)
    with open(nodes_csv, newline="", encoding="utf-8") as f:
        nodes = {r["id"]: r for r in csv.DictReader(f)}
    assert tuple(next(iter(nodes.values()))) == CSV_NODE_COLUMNS
    assert set(nodes) == set(want.nodes)
    assert {r["subject"] for r in rows} | {r["object"] for r in rows} <= set(nodes)
    assert nodes[str(KGR["diuretics"])]["curie"] == "kgr:diuretics"


def test_csv_with_pandas_whole_graph(build_dir: Path, graph: Graph, tmp_path: Path,
                                     source_text: str) -> None:
    """What a pandas user does: read both files, one quote a row, group by fact, join
    the labels from the nodes file."""
    # pandas is a test extra: skipped without it, except in CI (KG_CI=1)
    pd = importlib.import_module("pandas") if os.environ.get("KG_CI") else pytest.importorskip(
        "pandas")
    edges_csv, nodes_csv = _csv_files(build_dir, tmp_path)
    df = pd.read_csv(edges_csv)
    nodes = pd.read_csv(nodes_csv)
    assert list(df.columns) == list(CSV_COLUMNS)
    assert str(df["negated"].dtype) == "bool"
    quoted = df[df["evidence"].notna()]  # a triple without a statement has no quote
    assert len(quoted) >= len(df) - 1
    assert str(quoted["quote_start"].dtype) in ("int64", "float64")
    for start, end, quote in zip(quoted["quote_start"].astype(int),
                                 quoted["quote_end"].astype(int), quoted["quote"], strict=True):
        assert source_text[start:end] == quote
    want = to_networkx(graph, lists=True)
    per_fact = df.groupby("statement").size()
    facts = [d for _, _, d in want.edges(data=True) if "statement" in d]
    assert len(per_fact) == len(facts)
    two = {d["statement"] for d in facts if len(d["quote"]) == 2}
    assert two and set(per_fact[per_fact == 2].index) == two
    merged = df.merge(nodes, left_on="subject", right_on="id", how="left")
    assert merged["label"].notna().all() and (merged["label"] == merged["subject_label"]).all()
    assert nodes["id"].is_unique


def test_csv_to_stdout_is_the_facts_table(build_dir: Path) -> None:
    code, out, _ = run(build_dir, *PATH, "--format", "csv")
    assert code == 0
    assert tuple(next(csv.reader(io.StringIO(out.decode())))) == CSV_COLUMNS


def test_neo4j_admin_import_files(build_dir: Path, graph: Graph, tmp_path: Path) -> None:
    out_dir = tmp_path / "neo4j"
    code, _, err = run(build_dir, "--format", "neo4j", "-o", str(out_dir))
    assert code == 0 and err.count("wrote") == 2
    with open(out_dir / "nodes.csv", newline="", encoding="utf-8") as f:
        node_rows = list(csv.reader(f))
    with open(out_dir / "relationships.csv", newline="", encoding="utf-8") as f:
        rel_rows = list(csv.reader(f))
    node_header, rel_header = node_rows.pop(0), rel_rows.pop(0)
    assert tuple(node_header) == NEO4J_NODE_COLUMNS
    assert tuple(rel_header) == NEO4J_RELATIONSHIP_COLUMNS
    # header conventions of neo4j-admin import: one :ID column (here stored as the
    # property iri), :LABEL, :START_ID/:END_ID/:TYPE, typed columns name:type[]
    assert sum(h.endswith(":ID") for h in node_header) == 1 and ":LABEL" in node_header
    assert rel_header[:3] == [":START_ID", ":END_ID", ":TYPE"]
    types = {"string", "int", "long", "float", "double", "boolean", "byte", "short",
             "char", "date", "datetime"}
    for h in node_header + rel_header:
        name, _, kind = h.partition(":")
        assert not kind or kind.removesuffix("[]") in types | {"ID", "LABEL", "START_ID",
                                                                "END_ID", "TYPE"}, h
        assert name == "" or name.isidentifier(), h
    width = len(node_header)
    assert all(len(r) == width for r in node_rows)
    ids = [r[0] for r in node_rows]
    assert len(ids) == len(set(ids)) == to_networkx(graph).number_of_nodes()
    assert all(len(r) == len(rel_header) for r in rel_rows)
    assert {r[0] for r in rel_rows} | {r[1] for r in rel_rows} <= set(ids)
    col = {h: i for i, h in enumerate(rel_header)}
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", r[2]) for r in rel_rows)
    assert {r[2] for r in rel_rows} >= {"CAUSES", "HAS_SYMPTOM"}
    assert {r[col["negated:boolean"]] for r in rel_rows} <= {"true", "false"}
    for r in rel_rows:  # arrays split on the array delimiter line up
        quotes = r[col["quotes:string[]"]].split(NEO4J_ARRAY_DELIMITER)
        starts = r[col["quote_starts:int[]"]].split(NEO4J_ARRAY_DELIMITER)
        assert len(quotes) == len(starts) and all(s.isdigit() for s in starts if s)
    labels = {r[0]: r[1].split(NEO4J_ARRAY_DELIMITER) for r in node_rows}
    assert labels[str(KGR["leg-cramp"])][0] == "Entity" and "Condition" in labels[
        str(KGR["leg-cramp"])]
    cold = next(r for r in rel_rows if r[0] == str(KGR["hypothermia"]))
    assert cold[2] == "CAUSES" and cold[col["population:string[]"]] == "children"


def test_kgx_writes_nodes_and_edges_tsv(build_dir: Path, graph: Graph, tmp_path: Path) -> None:
    out_dir = tmp_path / "kgx"
    code, _, err = run(build_dir, *CHILDREN, "--format", "kgx", "-o", str(out_dir))
    assert code == 0 and err.count("wrote") == 2
    with open(out_dir / "nodes.tsv", newline="") as f:
        nodes = {r["id"]: r for r in csv.DictReader(f, delimiter="\t",
                                                     quoting=csv.QUOTE_NONE)}
    with open(out_dir / "edges.tsv", newline="") as f:
        edges = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert tuple(edges[0]) == KGX_EDGE_COLUMNS
    want = to_networkx(expected(graph, population="children"))
    assert len(nodes) == want.number_of_nodes() and len(edges) == want.number_of_edges()
    assert nodes["kgr:leg-cramp"]["category"] == "biolink:DiseaseOrPhenotypicFeature"
    assert nodes["kgr:pediatrician"]["name"] == "pediatrician"
    cold = next(e for e in edges if e["subject"] == "kgr:hypothermia")
    assert cold["predicate"] == "biolink:causes" and cold["original_predicate"] == "kg:causes"
    assert cold["population_context_qualifier"] == "kgr:children"
    assert cold["publications"] == "https://w3id.org/health-kg/doc/leg-cramps"
    assert cold["knowledge_level"] == "knowledge_assertion"
    assert cold["agent_type"] == "manual_agent"
    assert cold["id"].startswith("kgd:leg-cramps/fact/")
    assert {e["subject"] for e in edges} <= set(nodes) and {e["object"] for e in edges} <= set(
        nodes)


def test_kgx_needs_a_directory(build_dir: Path) -> None:
    code, _, err = run(build_dir, "--format", "kgx")
    assert code == 2 and "give -o DIRECTORY" in err


@pytest.mark.parametrize("name", [n for n, f in FORMATS.items() if f.extensions])
def test_the_extension_chooses_the_format(build_dir: Path, tmp_path: Path, name: str) -> None:
    for ext in FORMATS[name].extensions:
        target = tmp_path / ("out" + ext.upper() if ext == ".owl" else "out" + ext)
        code, _, err = run(build_dir, *PATH, "-o", str(target))
        assert code == 0, err
        code, _, _ = run(build_dir, *PATH, "--format", name, "-o", str(tmp_path / "ref"))
        assert code == 0
        if name in ("ttl", "nt", "csv", "json", "graphml", "gexf"):
            assert target.read_bytes() == (tmp_path / "ref").read_bytes()


def test_graphml_from_the_extension_is_read_by_networkx(build_dir: Path, graph: Graph,
                                                        tmp_path: Path) -> None:
    target = tmp_path / "x.graphml"
    code, _, _ = run(build_dir, *CHILDREN, "-o", str(target))
    assert code == 0
    read = nx.read_graphml(target, force_multigraph=True)
    _same_network(read, to_networkx(expected(graph, population="children")))


@pytest.mark.parametrize("args,message", [
    (("--format", "ttl", "-o", "x.graphml"),
     "--format ttl contradicts the extension of x.graphml (.graphml is graphml)"),
    (("--format", "kgx", "-o", "x.csv"), "--format kgx contradicts the extension"),
    (("-o", "x.txt"), "cannot tell the format from the name x.txt: give --format"),
    (("-o", "outdir"), "cannot tell the format from the name outdir: give --format"),
])
def test_the_extension_and_the_format_must_agree(build_dir: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 args: tuple[str, ...], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(build_dir, *args)
    assert code == 2 and out == b""
    assert message in err
    assert len([line for line in err.splitlines() if line.startswith("Error:")]) == 1
    assert list(tmp_path.iterdir()) == []


def test_an_explicit_format_takes_any_other_name(build_dir: Path, graph: Graph,
                                                 tmp_path: Path) -> None:
    target = tmp_path / "graph.txt"
    assert run(build_dir, "--format", "nt", "-o", str(target))[0] == 0
    assert isomorphic(Graph().parse(target, format="nt"), graph)


def test_neighbourhood_to_turtle_file(build_dir: Path, graph: Graph, tmp_path: Path) -> None:
    target = tmp_path / "eclampsia.ttl"
    code, _, _ = run(build_dir, "--around", "Eclampsia", "--depth", "1", "-o", str(target))
    assert code == 0
    assert isomorphic(Graph().parse(target), expected(graph, around="Eclampsia"))


def test_misspelt_node_is_a_usage_error_with_suggestions(build_dir: Path) -> None:
    code, out, err = run(build_dir, "--around", "eclampsya")
    assert code == 2 and out == b""
    assert "no entity named 'eclampsya'; closest matches: eclampsia (eclampsia)" in err


def test_every_format_is_in_the_registry_and_exports(build_dir: Path, tmp_path: Path) -> None:
    for name, fmt in FORMATS.items():
        target = tmp_path / (name + fmt.extensions[0] if fmt.extensions else name)
        code, _, err = run(build_dir, *PATH, "--format", name, "-o", str(target))
        assert code == 0, (name, err)
        assert target.exists() and target.is_dir() == fmt.directory
        written = [line.removeprefix("wrote ") for line in err.splitlines()]
        assert len(written) == len(fmt.write_files(Graph())), name


def test_query_construct_is_a_starting_point(build_dir: Path, graph: Graph,
                                             tmp_path: Path) -> None:
    """--query runs a CONSTRUCT (named or a file), and the other options select from it."""
    rq = tmp_path / "causes.rq"
    rq.write_text("CONSTRUCT { ?s kg:causes ?o . ?s rdfs:label ?l . ?o rdfs:label ?m }\n"
                  "WHERE { ?s kg:causes ?o . ?s rdfs:label ?l . ?o rdfs:label ?m }\n")
    code, out, _ = run(build_dir, "--query", str(rq), "--format", "nt")
    got = Graph().parse(data=out, format="nt")
    assert set(got.predicates()) == {KG.causes, URIRef("http://www.w3.org/2000/01/rdf-schema#label")}
    assert len(list(got.triples((None, KG.causes, None)))) == len(
        list(graph.triples((None, KG.causes, None))))
    code, out, _ = run(build_dir, "--query", str(rq), "--around", "diuretics", "--format",
                       "csv")
    rows = list(csv.DictReader(io.StringIO(out.decode())))
    assert {r["object_label"] for r in rows} == {
        str(graph.value(o, RDFS.label)) for o in graph.objects(KGR["diuretics"], KG.causes)}
    assert {"magnesium deficiency", "potassium deficiency"} <= {r["object_label"] for r in rows}
    code, _, err = run(build_dir, "--query", "specialists")
    assert code == 2 and "is a SELECT query" in err
    rq.write_text("CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    code, _, err = run(build_dir, "--query", str(rq))
    assert code == 1 and "SERVICE is not allowed" in err


@pytest.mark.parametrize("fmt,output", [("nt", "graph.nt"), ("ttl", "graph.ttl")])
def test_the_whole_graph_exports_as_the_build_wrote_it(build_dir: Path, tmp_path: Path,
                                                       fmt: str, output: str) -> None:
    """One writer for N-Triples and Turtle: an export of the whole graph is the build's
    own file, byte for byte."""
    path = tmp_path / output
    code, _, err = run(build_dir, "--format", fmt, "-o", str(path))
    assert code == 0, err
    assert path.read_bytes() == (build_dir / output).read_bytes()
