"""The kg command through click's CliRunner, and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import isomorphic

from kg.cli import cli

from .conftest import DATA, REPO


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_build_validate_stats(runner: CliRunner, tmp_path: Path) -> None:
    out = str(tmp_path / "b")
    code, _, err = invoke(runner, "build", "--data", str(DATA), "--build-dir", out)
    assert code == 0 and "built" in err and "facts" in err
    code, stdout, _ = invoke(runner, "validate", "--data", str(DATA), "--build-dir", out)
    assert code == 0
    assert stdout.strip().endswith("conforms")
    code, stdout, _ = invoke(runner, "stats", "--build-dir", out)
    assert code == 0
    assert "facts by population:" in stdout and "pregnant women" in stdout


def test_stats_json(runner: CliRunner, build_dir: Path, graph: Graph) -> None:
    code, stdout, _ = invoke(runner, "stats", "--format", "json", "--build-dir", str(build_dir))
    assert code == 0
    counts = json.loads(stdout)
    assert counts["triples"] == len(graph)
    assert counts["relations"]["causes"] >= 40
    assert counts["classes"]["Specialist"] == 5
    assert {"pregnant women", "children", "women", "(general)"} <= set(counts["populations"])
    [doc] = counts["documents"]
    assert doc["id"] == "leg-cramps" and doc["facts"] == counts["facts"]


@pytest.mark.parametrize("fmt,parse_as", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_export_round_trips(runner: CliRunner, build_dir: Path, graph: Graph, fmt: str,
                            parse_as: str, tmp_path: Path) -> None:
    code, stdout, _ = invoke(runner, "export", "--format", fmt, "--build-dir", str(build_dir))
    assert code == 0
    assert isomorphic(Graph().parse(data=stdout, format=parse_as), graph)
    target = tmp_path / f"graph.{fmt}"
    code, _, err = invoke(runner, "export", "--format", fmt, "-o", str(target),
                          "--build-dir", str(build_dir))
    assert code == 0 and "wrote" in err
    assert isomorphic(Graph().parse(target, format=parse_as), graph)


def test_commands_without_a_build_say_so(runner: CliRunner, tmp_path: Path) -> None:
    for command in ("stats", "export", "validate"):
        code, _, err = invoke(runner, command, "--build-dir", str(tmp_path / "none"))
        assert code == 1
        assert err.strip().splitlines() == [
            f"Error: no build in {tmp_path / 'none'}: run 'kg build' first (or pass --build-dir)"]


def test_bad_facts_file_is_one_line_and_exit_1(runner: CliRunner, data_copy: Path,
                                               tmp_path: Path) -> None:
    facts = data_copy / "facts" / "leg-cramps.yaml"
    text = facts.read_text()
    line = text[: text.index("    relation: hasSpecialist\n")].count("\n") + 1
    facts.write_text(text.replace("    relation: hasSpecialist\n", "    relation: hasDoctor\n", 1))
    code, stdout, err = invoke(runner, "build", "--data", str(data_copy),
                               "--build-dir", str(tmp_path / "b"))
    assert code == 1
    assert stdout == ""
    [message] = err.strip().splitlines()
    assert message.startswith("Error: ") and f"leg-cramps.yaml:{line}:" in message
    assert "unknown relation 'hasDoctor'" in message
    assert not (tmp_path / "b" / "graph.nt").exists()


def test_validate_failure_exits_1(runner: CliRunner, data_copy: Path, tmp_path: Path) -> None:
    out = str(tmp_path / "b")
    assert invoke(runner, "build", "--data", str(data_copy), "--build-dir", out)[0] == 0
    src = data_copy / "sources" / "leg-cramps.txt"
    src.write_bytes(src.read_bytes() + b"\nA new sentence.\n")
    code, stdout, err = invoke(runner, "validate", "--no-shapes", "--data", str(data_copy),
                               "--build-dir", out)
    assert code == 1
    assert "does NOT conform" in stdout and "changed since the build" in stdout
    assert err.strip() == "Error: the graph does not conform (see the report above)"


def test_bad_data_dir(runner: CliRunner, tmp_path: Path) -> None:
    code, _, err = invoke(runner, "build", "--data", str(tmp_path), "--build-dir",
                          str(tmp_path / "b"))
    assert code == 1 and "has no ontology.ttl" in err


def test_export_to_missing_directory_is_a_usage_error(runner: CliRunner, build_dir: Path,
                                                      tmp_path: Path) -> None:
    code, _, err = invoke(runner, "export", "-o", str(tmp_path / "no" / "x.ttl"),
                          "--build-dir", str(build_dir))
    assert code == 2 and "does not exist" in err


def test_unknown_format_is_a_usage_error(runner: CliRunner, build_dir: Path) -> None:
    result = runner.invoke(cli, ["export", "--format", "owl", "--build-dir", str(build_dir)])
    assert result.exit_code == 2 and "'owl' is not one of" in result.stderr


def test_every_command_has_help(runner: CliRunner) -> None:
    assert cli.help
    for name, command in cli.commands.items():
        assert command.help, name
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and "--build-dir" in result.stdout


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout + proc.stderr


def test_python_dash_m_kg_from_another_directory(tmp_path: Path) -> None:
    out = _run([sys.executable, "-m", "kg", "build"], cwd=tmp_path)
    assert "built" in out and (tmp_path / "build" / "graph.nt").is_file()
    assert "facts" in _run([sys.executable, "-m", "kg", "stats"], cwd=tmp_path)


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    code = ("import sys; from kg.cli import cli; from click.testing import CliRunner; "
            "CliRunner().invoke(cli, ['--help']); "
            "print(sorted(m for m in ('rdflib', 'networkx', 'pyvis', 'pyshacl', 'yaml') "
            "if m in sys.modules))")
    assert _run([sys.executable, "-c", code], cwd=tmp_path).strip() == "[]"


def test_a_named_query_on_the_build_never_loads_rdflib(build_dir: Path, tmp_path: Path) -> None:
    """The cold path of 'kg query': the build's graph goes into an in-memory Oxigraph
    store, the query's check comes from kg's cache after the first run, and the results
    are written without rdflib. The first run checks with rdflib and gives the same
    answer."""
    env = {**os.environ, "KG_CACHE_DIR": str(tmp_path / "cache")}
    args = ["query", "causes-for-population", "-p", "population", "kgr:children",
            "--format", "tsv", "--build-dir", str(build_dir)]
    code = ("import sys; from kg.cli import main; sys.argv = ['kg', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('loaded:', sorted(m for m in ('rdflib', 'networkx', 'pyvis', 'pyshacl', "
            "'yaml') if m in sys.modules), file=sys.stderr)")
    outputs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=True)
        outputs.append((proc.stdout, proc.stderr.strip()))
    (first, first_loaded), (second, second_loaded) = outputs
    assert first == second and first.count("\n") > 2
    assert first_loaded == "loaded: ['rdflib']"  # the check, once
    assert second_loaded == "loaded: []"
    assert len(list((tmp_path / "cache" / "checked").iterdir())) == 1


def test_installed_wheel_ships_its_data(tmp_path: Path) -> None:
    """Build the wheel, unpack it outside the repository, and run kg from there."""
    wheel_dir = tmp_path / "wheel"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(wheel_dir), str(REPO)], cwd=tmp_path)
    [wheel] = wheel_dir.glob("kg-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(site)
    for shipped in ("kg/_data/ontology.ttl", "kg/_data/shapes.ttl",
                    "kg/_data/sources/leg-cramps.txt", "kg/_data/facts/leg-cramps.yaml",
                    "kg/py.typed"):
        assert shipped in names
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {"PYTHONPATH": str(site), "KG_DATA": "", "KG_BUILD_DIR": ""}
    out = _run([sys.executable, "-c", "import kg.paths as p; print(p.default_data_dir())"],
               cwd=work, env=env)
    assert out.strip() == str(site / "kg" / "_data")
    _run([sys.executable, "-m", "kg", "build"], cwd=work, env=env)
    assert "conforms" in _run([sys.executable, "-m", "kg", "validate"], cwd=work, env=env)
