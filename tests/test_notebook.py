"""The notebook API: HTML views, DataFrames, select/to_networkx/show, and the README's
Python examples run as a real Jupyter notebook (nbclient, an ipykernel) whose outputs
are then drawn in Chromium."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import kg
from kg.notebook import MAX_HTML_ROWS, Frame, Subgraph
from kg.store import Build
from kg.vocab import KG, KGR

from .conftest import REPO, viz_benchmark

README = (REPO / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- results


def test_select_result_as_dataframe(built: Build) -> None:
    result = built.query("causes-for-population", population="kgr:children")
    df = result.to_dataframe()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(result.vars)
    assert len(df) == len(result.solutions) > 0
    assert "kgr:hypothermia" in set(df["cause"])
    assert "cold exposure" in set(df["causeLabel"])  # literals as plain strings
    full = result.to_dataframe(curies=False)
    assert str(KGR.hypothermia) in set(full["cause"])


def test_dataframe_keeps_python_values_and_unbound(built: Build) -> None:
    df = built.query("SELECT ?n ?x WHERE { VALUES (?n ?x) { (1 UNDEF) (2 kgr:leg-cramp) } }"
                     ).to_dataframe()
    assert df["n"].tolist() == [1, 2]
    assert df["x"].isna().tolist() == [True, False]


def test_graph_result_as_dataframe(built: Build) -> None:
    df = built.query("entity-graph", entity="kgr:eclampsia").to_dataframe()
    assert list(df.columns) == ["subject", "predicate", "object"]
    assert ((df["subject"] == "kgr:eclampsia") & (df["predicate"] == "kg:causes")
            & (df["object"] == "kgr:seizure")).any()


def test_ask_result_has_no_table(built: Build) -> None:
    result = built.query("does-cause", cause="kgr:diuretics")
    with pytest.raises(kg.UsageError, match="use .boolean"):
        result.to_dataframe()
    assert "<strong>yes</strong>" in result._repr_html_()


def test_result_html_is_escaped_and_capped(built: Build) -> None:
    result = built.query('SELECT ?v ?i WHERE { VALUES ?v { "<script>alert(1)</script>" } '
                         "BIND(kgr:leg-cramp AS ?i) }")
    out = result._repr_html_()
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "<code>kgr:leg-cramp</code>" in out
    assert f'title="{KGR["leg-cramp"]}"' in out
    many = built.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    shown = many._repr_html_()
    assert shown.count("<tr>") == MAX_HTML_ROWS + 1  # the header and the first rows
    assert f"{len(many.solutions) - MAX_HTML_ROWS:,} more rows" in shown


def test_build_html(built: Build) -> None:
    out = built._repr_html_()
    assert html.escape(str(built.path)) in out
    assert f"{built.manifest['facts']:,}" in out and "graph.nt" in out


# --------------------------------------------------------------------------- subgraphs


def test_select_and_to_networkx(built: Build) -> None:
    part = kg.select(built, population="children")
    assert isinstance(part, Subgraph) and part.title == "facts for children"
    facts = part.facts()
    assert (KGR.hypothermia, KG.causes, KGR["leg-cramp"]) in facts
    g = kg.to_networkx(part)
    assert str(KGR.hypothermia) in g and str(KGR["leg-cramp"]) in g
    assert g.number_of_edges() >= len(facts) > 0
    df = part.to_dataframe()
    assert "cold exposure" in set(df["subjectLabel"])
    assert "<code>kgr:hypothermia</code>" in part._repr_html_()
    # the same selection from an rdflib graph, from the build's directory, by id or label
    assert set(kg.select(built.graph, population="children").facts()) == set(facts)
    assert set(kg.select(built.path, population="Kids").facts()) == set(facts)
    assert kg.select(built, around="eclampsia", provenance=False).title.startswith("around")


def test_select_errors_are_kg_errors(built: Build) -> None:
    with pytest.raises(kg.UsageError, match="no entity named"):
        kg.select(built, around="no such thing")
    with pytest.raises(kg.UsageError, match="empty"):
        kg.select(built, population=" ")
    with pytest.raises(kg.UsageError, match="cannot convert"):
        kg.to_networkx("not a graph")


def test_defaults_work_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KG_BUILD_DIR", raising=False)
    kg.build_graph()  # the shipped data, into ./build
    assert (tmp_path / "build" / "graph.nt").is_file()
    built = kg.load()
    assert built.path == Path("build")
    assert kg.validate_build(built).conforms


def test_show_outside_ipython_returns_a_sandboxed_frame(built: Build) -> None:
    shown = kg.show(kg.select(built, around="eclampsia"), height=300)
    assert isinstance(shown, Frame)
    out = shown._repr_html_()
    assert out.startswith("<iframe srcdoc=")
    sandbox = re.search(r'sandbox="([^"]*)"', out)
    assert sandbox is not None and "allow-scripts" in sandbox.group(1)
    assert "allow-same-origin" not in sandbox.group(1)
    assert "height: 300px" in out
    # the page is inside the attribute, escaped: no raw markup leaks into the notebook
    assert out.count("<script") == 0 and "&lt;script" in out
    with pytest.raises(kg.UsageError, match="cannot draw"):
        kg.show(42)


# --------------------------------------------------------------------------- a notebook


def _readme_blocks() -> list[str]:
    """The Python examples of the README's sections on Python (not the endpoint's, which
    need a server), in order: what a notebook user copies."""
    blocks = []
    for section in re.split(r"^(?=#+ )", README, flags=re.M):
        heading = section.split("\n", 1)[0]
        if "Python" in heading:
            blocks += re.findall(r"```python\n(.*?)```", section, re.S)
    return blocks


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The README's Python blocks run as a notebook, headless, in an empty directory."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    blocks = _readme_blocks()
    assert len(blocks) >= 2
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(block) for block in blocks]
    where = tmp_path_factory.mktemp("notebook")
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(where)}})
    client.execute()
    return {"nb": nb, "dir": where}


def _outputs(nb: Any, mime: str) -> list[str]:
    return [str(out["data"][mime]) for cell in nb.cells for out in cell.get("outputs", [])
            if out.get("output_type") in ("execute_result", "display_data")
            and mime in out.get("data", {})]


def test_readme_runs_as_a_notebook(executed: dict[str, Any]) -> None:
    nb = executed["nb"]
    errors = [out for cell in nb.cells for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert errors == []
    assert (executed["dir"] / "build" / "graph.nt").is_file()  # it ran where it was opened
    text = "".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream")
    assert "cold exposure" in text and "facts for children" in text


def test_notebook_shows_a_dataframe_and_the_inline_graph(executed: dict[str, Any]) -> None:
    htmls = _outputs(executed["nb"], "text/html")
    assert any('class="dataframe"' in h and "causeLabel" in h for h in htmls)
    assert sum(h.startswith("<iframe srcdoc=") for h in htmls) == 1


def test_the_inline_graph_draws_offline_in_chromium(executed: dict[str, Any], browser: Any,
                                                    tmp_path: Path) -> None:
    """The notebook's iframe output, as a browser shows it: the graph is drawn inside the
    sandboxed frame, nothing is fetched, no error is logged."""
    bench = viz_benchmark()
    [iframe] = [h for h in _outputs(executed["nb"], "text/html")
                if h.startswith("<iframe srcdoc=")]
    page_file = tmp_path / "notebook-output.html"
    page_file.write_text(f"<!doctype html><meta charset=utf-8><body>{iframe}</body>",
                         encoding="utf-8")
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    try:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        attempted = bench.block_network(page)
        page.goto(page_file.as_uri())
        frame = page.wait_for_selector("iframe").content_frame()
        assert frame is not None
        frame.wait_for_selector("html[data-ready=true]", state="attached", timeout=60_000)
        nodes = frame.evaluate("network.body.data.nodes.getIds()")
        assert str(KGR.hypothermia) in nodes and str(KGR["leg-cramp"]) in nodes
        # the frame is cut off from the page around it (an opaque origin)
        assert frame.evaluate("(() => { try { return !!parent.document; } "
                              "catch (e) { return 'blocked'; } })()") == "blocked"
        assert errors == [] and attempted == []
    finally:
        page.close()
