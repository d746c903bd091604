"""Safe inputs and outputs (kg.files): -o never over kg's inputs, writes through
symlinks atomically; inputs only as regular files under a size cap; one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import kg
from kg import files
from kg.cli import cli
from kg.errors import UsageError
from kg.files import UnreadableInput, check_output, read_regular, write_atomic

from .conftest import REPO

KG = [sys.executable, "-m", "kg"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def project(data_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A private data directory and its build."""
    build = tmp_path / "build"
    kg.build_graph(data_copy, build)
    return data_copy, build


def run(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("Error")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --------------------------------------------------------------------------- -o


def _inputs(data: Path, build: Path) -> list[Path]:
    return [data / "sources" / "leg-cramps.txt", data / "facts" / "leg-cramps.yaml",
            data / "ontology.ttl", data / "shapes.ttl", build / "graph.nt",
            build / "graph.ttl", build / "manifest.json"]


@pytest.mark.parametrize("command", [["export", "--format", "nt"], ["viz"]])
def test_output_never_overwrites_an_input(runner: CliRunner, project: tuple[Path, Path],
                                          command: list[str], tmp_path: Path) -> None:
    data, build = project
    for target in _inputs(data, build):
        before = target.read_bytes()
        code, _, err = run(runner, *command, "--data", str(data), "--build-dir", str(build),
                           "-o", str(target))
        assert code == 2, err
        assert target.name in one_line_error(err) and "kg's inputs" in err
        assert target.read_bytes() == before
    link = tmp_path / "link.txt"
    link.symlink_to(data / "facts" / "leg-cramps.yaml")
    before = link.read_bytes()
    code, _, err = run(runner, *command, "--data", str(data), "--build-dir", str(build),
                       "-o", str(link))
    assert code == 2 and "link.txt" in one_line_error(err)
    assert link.is_symlink() and link.read_bytes() == before


def test_output_refuses_the_queries_directory(runner: CliRunner, project: tuple[Path, Path]
                                              ) -> None:
    data, build = project
    rq = next((REPO / "queries").glob("*.rq"))
    before = rq.read_bytes()
    code, _, err = run(runner, "export", "--data", str(data), "--build-dir", str(build),
                       "-o", str(rq))
    assert code == 2 and rq.name in one_line_error(err)
    assert rq.read_bytes() == before


def test_kgx_refuses_a_directory_of_inputs(runner: CliRunner, project: tuple[Path, Path]
                                          ) -> None:
    data, build = project
    code, _, err = run(runner, "export", "--format", "kgx", "--data", str(data),
                       "--build-dir", str(build), "-o", str(data / "facts"))
    assert code == 2 and "facts" in one_line_error(err)
    assert not (data / "facts" / "nodes.tsv").exists()


@pytest.mark.parametrize("command", [["export", "--format", "nt"], ["viz"]])
def test_output_through_a_symlink_writes_its_target(runner: CliRunner,
                                                    project: tuple[Path, Path],
                                                    command: list[str], tmp_path: Path
                                                    ) -> None:
    data, build = project
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "target"
    target.write_text("old")
    link = tmp_path / "link"
    link.symlink_to(target)
    code, _, err = run(runner, *command, "--data", str(data), "--build-dir", str(build),
                       "-o", str(link))
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != b"old" and target.stat().st_size > 1000
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["target"]  # no temp left


def test_output_to_standard_output_stays(runner: CliRunner, project: tuple[Path, Path]) -> None:
    data, build = project
    code, out, _ = run(runner, "export", "--format", "nt", "--data", str(data),
                       "--build-dir", str(build))
    assert code == 0 and out.encode() == (build / "graph.nt").read_bytes()


def test_check_output_and_write_atomic(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    with pytest.raises(UsageError, match="kg's inputs"):
        check_output(inputs / "sub" / "x", [inputs])
    check_output(tmp_path / "free", [inputs])
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "new-file")
    write_atomic(dangling, b"data")
    assert dangling.is_symlink() and (tmp_path / "new-file").read_bytes() == b"data"


# --------------------------------------------------------------------------- reading


def test_read_regular_refuses_odd_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    cases = {tmp_path: "directory", fifo: "not a regular file", loop: "symlink loop",
             Path("/dev/zero"): "not a regular file", tmp_path / "none": "no such file",
             tmp_path / "none" / "x": "no such file"}
    for path, problem in cases.items():
        with pytest.raises(UnreadableInput, match=problem):
            read_regular(path)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    with pytest.raises(UnreadableInput, match="larger than"):
        read_regular(big, cap=100)
    assert read_regular(big, cap=101) == b"x" * 101
    assert files.MAX_INPUT_BYTES == 64 * 1024**2


def _odd_paths(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "odd-fifo"
    os.mkfifo(fifo)
    loop = tmp_path / "odd-loop"
    loop.symlink_to(loop)
    zero = tmp_path / "odd-zero"
    zero.symlink_to("/dev/zero")
    folder = tmp_path / "odd-dir"
    folder.mkdir()
    return {"fifo": fifo, "loop": loop, "zero": zero, "dir": folder}


@pytest.mark.parametrize("kind", ["fifo", "loop", "zero", "dir"])
def test_odd_facts_files_are_one_line(runner: CliRunner, data_copy: Path, tmp_path: Path,
                                      kind: str) -> None:
    odd = _odd_paths(tmp_path)[kind]
    (data_copy / "facts" / "odd.yaml").symlink_to(odd)
    code, _, err = run(runner, "build", "--data", str(data_copy), "--build-dir",
                       str(tmp_path / "b"))
    assert code == 1 and "odd.yaml" in one_line_error(err)


@pytest.mark.parametrize("kind", ["fifo", "loop", "zero", "dir"])
def test_odd_sources_and_ontology_are_one_line(runner: CliRunner, data_copy: Path,
                                               tmp_path: Path, kind: str) -> None:
    odd = _odd_paths(tmp_path)[kind]
    source = data_copy / "sources" / "leg-cramps.txt"
    source.unlink()
    source.symlink_to(odd)
    code, _, err = run(runner, "build", "--data", str(data_copy), "--build-dir",
                       str(tmp_path / "b"))
    assert code == 1 and "leg-cramps" in one_line_error(err)
    ontology = data_copy / "ontology.ttl"
    ontology.unlink()
    ontology.symlink_to(odd)
    code, _, err = run(runner, "build", "--data", str(data_copy), "--build-dir",
                       str(tmp_path / "b"))
    assert code == 1 and "ontology.ttl" in one_line_error(err)


@pytest.mark.parametrize("kind", ["fifo", "loop", "zero", "dir"])
def test_odd_viz_inputs_are_one_line(runner: CliRunner, tmp_path: Path, kind: str) -> None:
    odd = _odd_paths(tmp_path)[kind]
    for source in (odd, Path("/dev/zero")):
        code, _, err = run(runner, "viz", "--input", str(source), "-o",
                           str(tmp_path / "out.html"))
        assert code == 1 and source.name in one_line_error(err)


def test_a_build_dir_below_a_file_is_a_usage_error(runner: CliRunner, tmp_path: Path,
                                                   build_dir: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, _, err = run(runner, "build", "--build-dir", str(afile / "sub"))
    assert code == 2 and "afile" in one_line_error(err)
    for command in (["stats"], ["validate"], ["export"], ["viz"]):
        code, _, err = run(runner, *command, "--build-dir", str(afile / "sub"))
        assert code in (1, 2) and "afile" in one_line_error(err)


def test_nan_and_empty_names_are_refused(runner: CliRunner, build_dir: Path) -> None:
    for args in (["serve", "--timeout", "nan"], ["serve", "--timeout", "inf"],
                 ["query", "x", "--timeout", "nan"]):
        code, _, err = run(runner, *args, "--build-dir", str(build_dir))
        assert code == 2 and "--timeout" in one_line_error(err)
    for option in ("--around", "--population", "--relation"):
        code, _, err = run(runner, "export", option, " ", "--build-dir", str(build_dir))
        assert code == 2 and option in err and "empty" in err


@pytest.mark.parametrize("command", [["export", "--format", "nt"], ["viz", "-o", "-"],
                                     ["query", "causes-by-category"], ["stats"]])
def test_a_full_or_closed_standard_output_is_one_line(build_dir: Path, command: list[str]
                                                      ) -> None:
    args = [*KG, *command, "--build-dir", str(build_dir)]
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(args, stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=120)
    assert proc.returncode == 1 and "No space left" in one_line_error(proc.stderr)
    proc = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          timeout=120, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 1 and "standard output is closed" in one_line_error(proc.stderr)


def test_output_to_a_device_is_refused(runner: CliRunner, build_dir: Path) -> None:
    code, _, err = run(runner, "export", "--build-dir", str(build_dir), "-o", "/dev/full")
    assert code == 2 and "/dev/full" in one_line_error(err)
