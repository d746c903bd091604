"""Fault injection: a fault in the middle of 'kg build' (EIO, ENOSPC on a rename or an
fsync), two builds at once, 'kg load' killed mid-load. Each leaves the previous state
whole and queryable, and reports one line."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import kg
from kg.cli import cli
from kg.infer import INFERRED_NT
from kg.paths import GRAPH_NT, GRAPH_TTL, MANIFEST
from kg.store import load_build

KG = [sys.executable, "-m", "kg"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def snapshot(build: Path) -> dict[str, bytes]:
    return {name: (build / name).read_bytes()
            for name in (GRAPH_NT, GRAPH_TTL, INFERRED_NT, MANIFEST)}


def relabel(data: Path, label: str) -> None:
    """Change the data so that the next build differs from the last."""
    facts = data / "facts" / "leg-cramps.yaml"
    text = facts.read_text(encoding="utf-8")
    facts.write_text(text.replace("    label: leg cramp\n", f"    label: {label}\n", 1)
                     if "    label: leg cramp\n" in text else
                     text.replace("    label: leg cramp ", f"    label: {label}\n", 1),
                     encoding="utf-8")


def failing(real: Callable[..., Any], at: int, code: int) -> Callable[..., Any]:
    """``real``, raising OSError(code) at its ``at``-th call."""
    calls = [0]

    def fake(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == at:
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)

    return fake


#: (function, call) -> whether the build is committed when that call fails: three
#: outputs (graph.nt, graph.ttl, inferred.nt) moved to .objects, then the manifest (the
#: commit), then the plain names
FAULTS = [("replace", 1, False), ("replace", 2, False), ("replace", 3, False),
          ("replace", 4, False), ("replace", 5, True), ("replace", 7, True),
          ("fsync", 1, False), ("fsync", 2, False), ("fsync", 3, False), ("fsync", 4, False),
          ("fsync", 5, False), ("fsync", 6, True)]


@pytest.mark.parametrize("code", [errno.EIO, errno.ENOSPC])
@pytest.mark.parametrize("func,at,committed", FAULTS)
def test_a_fault_during_the_build_leaves_a_whole_build(data_copy: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       func: str, at: int, committed: bool,
                                                       code: int) -> None:
    out = tmp_path / "build"
    kg.build_graph(data_copy, out)
    before = snapshot(out)
    relabel(data_copy, "leg cramp changed")
    with monkeypatch.context() as m:
        m.setattr(os, func, failing(getattr(os, func), at, code))
        status, _, err = run("build", "--data", str(data_copy), "--build-dir", str(out))
    assert status == 1 and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("Error")]) == 1, err
    assert os.strerror(code) in err
    assert ("is committed" if committed else "the previous build is unchanged") in err
    built = load_build(out)  # whole: every output matches the manifest
    assert built.output(GRAPH_TTL)
    if committed:
        assert b"leg cramp changed" in built.data()
    else:
        assert snapshot(out) == before  # byte-identical
    assert not list(out.glob(".new-*"))
    status, table, err = run("query", "causes-by-category", "--build-dir", str(out),
                             "--format", "tsv")
    assert status == 0 and table.count("\n") > 5, err
    kg.build_graph(data_copy, out)  # and the next build goes through
    assert b"leg cramp changed" in load_build(out).data()


def test_readers_use_the_committed_copy_when_a_plain_name_is_stale(build_dir: Path,
                                                                    tmp_path: Path) -> None:
    out = tmp_path / "build"
    shutil.copytree(build_dir, out)
    good = (out / GRAPH_NT).read_bytes()
    (out / GRAPH_NT).unlink()
    (out / GRAPH_NT).write_bytes(b"<urn:a> <urn:b> <urn:c> .\n")  # a previous build's
    assert load_build(out).data() == good


def test_validate_refuses_a_mixed_build(data_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    kg.build_graph(data_copy, out)
    shutil.rmtree(out / ".objects")
    ttl = (out / GRAPH_TTL).read_bytes()
    (out / GRAPH_TTL).unlink()
    (out / GRAPH_TTL).write_bytes(ttl + b"\n# another build's\n")
    status, report, _ = run("validate", "--no-shapes", "--data", str(data_copy),
                            "--build-dir", str(out))
    assert status == 1 and "graph.ttl" in report and "does not match" in report


def test_two_builds_at_once_serialise(data_copy: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(data_copy, other)
    relabel(other, "leg cramp other")
    out = tmp_path / "build"
    expected = {}
    for data in (data_copy, other):
        kg.build_graph(data, tmp_path / "ref")
        expected[data] = snapshot(tmp_path / "ref")
    for _ in range(3):
        procs = [subprocess.Popen([*KG, "build", "--data", str(d), "--build-dir", str(out)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for d in (data_copy, other, data_copy, other)]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        final = snapshot(out)
        assert final in expected.values()  # one build's files, never a mix
        outputs = json.loads(final[MANIFEST])["outputs"]
        assert {p.name for p in (out / ".objects").iterdir()} >= {
            outputs[n] + Path(n).suffix for n in (GRAPH_NT, GRAPH_TTL)}
        assert not list(out.glob(".new-*"))


# --------------------------------------------------------------------------- kg load --store

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def _count(store: Path, build: Path) -> int:
    status, out, err = run("query", "-e", COUNT, "--store", f"oxigraph:{store}",
                           "--build-dir", str(build), "--format", "csv")
    assert status == 0, err
    return int(out.split()[-1])


@pytest.fixture(scope="module")
def large_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic build large enough (about 220k triples) to kill its load midway."""
    base = tmp_path_factory.mktemp("large")
    subprocess.run([sys.executable, str(Path(__file__).resolve().parent.parent / "benchmarks"
                                        / "synth.py"), "--documents", "2000", "--out",
                    str(base / "data")], check=True, capture_output=True)
    kg.build_graph(base / "data", base / "build")
    return base / "build"


def test_a_load_killed_midway_leaves_the_previous_store(build_dir: Path, large_build: Path,
                                                        tmp_path: Path) -> None:
    store = tmp_path / "store"
    status, _, err = run("load", "--store", f"oxigraph:{store}", "--build-dir", str(build_dir))
    assert status == 0, err
    small = _count(store, build_dir)
    assert small == json.loads((build_dir / MANIFEST).read_text())["triples"]
    for _ in range(2):
        proc = subprocess.Popen([*KG, "load", "--store", f"oxigraph:{store}", "--build-dir",
                                 str(large_build)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        current = os.readlink(store / "current")
        while proc.poll() is None and not [p for p in store.glob(".load-*")
                                           if p.name != current]:
            time.sleep(0.005)
        os.kill(proc.pid, 9)
        proc.wait()
        assert proc.returncode == -9, "the load ended before it was killed"
        assert _count(store, build_dir) == small  # the previous data, whole
    status, _, err = run("load", "--store", f"oxigraph:{store}", "--build-dir",
                         str(large_build))
    assert status == 0, err
    assert _count(store, build_dir) == json.loads((large_build / MANIFEST).read_text())[
        "triples"]
    assert len(list(store.glob(".load-*"))) <= 2  # the killed loads' leftovers are gone


def test_a_store_loaded_by_an_earlier_kg_is_still_read(build_dir: Path, tmp_path: Path
                                                       ) -> None:
    import pyoxigraph

    store = tmp_path / "legacy"
    legacy = pyoxigraph.Store(str(store))
    legacy.bulk_load(path=str(build_dir / GRAPH_NT), format=pyoxigraph.RdfFormat.N_TRIPLES)
    legacy.flush()
    del legacy
    triples = json.loads((build_dir / MANIFEST).read_text())["triples"]
    assert _count(store, build_dir) == triples
    status, _, err = run("load", "--store", f"oxigraph:{store}", "--build-dir", str(build_dir))
    assert status == 0, err
    assert (store / "current").is_symlink() and _count(store, build_dir) == triples
