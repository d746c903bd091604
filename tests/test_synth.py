"""benchmarks/synth.py: the synthetic corpus builds, validates and is deterministic."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import kg
from kg.vocab import load_ontology, vocabulary

from .conftest import REPO

SCRIPT = REPO / "benchmarks" / "synth.py"
DOCUMENTS = 8


def _synth() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kg_benchmarks_synth", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _run(out: Path, seed: int, hash_seed: str) -> None:
    """The script as a fresh process (another PYTHONHASHSEED: no set-order leaks)."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    subprocess.run([sys.executable, str(SCRIPT), "--documents", str(DOCUMENTS), "--out",
                    str(out), "--seed", str(seed)], check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "data"
    summary = _synth().generate(DOCUMENTS, out, seed=7)
    assert summary.documents == DOCUMENTS
    assert summary.facts >= 3 * DOCUMENTS and summary.entities > 10
    return out


def test_layout(corpus_dir: Path) -> None:
    names = set(_files(corpus_dir))
    assert {"ontology.ttl", "shapes.ttl", "dataset.yaml"} <= names
    assert {f"sources/doc-{n:05d}.txt" for n in range(1, DOCUMENTS + 1)} <= names
    assert {f"facts/doc-{n:05d}.yaml" for n in range(1, DOCUMENTS + 1)} <= names
    assert (corpus_dir / "ontology.ttl").read_bytes() == (REPO / "data/ontology.ttl").read_bytes()


def test_builds_and_validates(corpus_dir: Path, tmp_path: Path) -> None:
    result = kg.build_graph(corpus_dir, tmp_path / "build")
    assert result.documents == DOCUMENTS
    corpus = kg.load_corpus(corpus_dir, vocabulary(load_ontology(corpus_dir / "ontology.ttl")))
    assert result.facts == len(corpus.facts)
    report = kg.validate_build(kg.load(tmp_path / "build"), corpus_dir, corpus)
    assert report.conforms, report.text()
    assert report.checked["coverage"] >= 8 * DOCUMENTS  # 8-20 sentences a document


def test_the_mix(corpus_dir: Path) -> None:
    corpus = kg.load_corpus(corpus_dir, vocabulary(load_ontology(corpus_dir / "ontology.ttl")))
    types = {t for e in corpus.entities.values() for t in e.types}
    assert len(types) >= 12 and {"Condition", "Disease", "Population"} & types
    assert len({f.relation for f in corpus.facts}) >= 6
    assert sum(bool(f.qualifiers) for f in corpus.facts) >= len(corpus.facts) // 5
    assert all(d.unannotated for d in corpus.documents)  # at least the title


def test_deterministic(corpus_dir: Path, tmp_path: Path) -> None:
    _run(tmp_path / "again", 7, hash_seed="12345")
    assert _files(tmp_path / "again") == _files(corpus_dir)


def test_another_seed_another_corpus(corpus_dir: Path, tmp_path: Path) -> None:
    _run(tmp_path / "other", 8, hash_seed="0")
    other = _files(tmp_path / "other")
    mine = _files(corpus_dir)
    assert other.keys() == mine.keys()
    assert other["sources/doc-00001.txt"] != mine["sources/doc-00001.txt"]
    assert other["facts/doc-00001.yaml"] != mine["facts/doc-00001.yaml"]
