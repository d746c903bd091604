"""The scale benchmarks of one command: build, load, query, export and draw synthetic
corpora of several sizes on both local backends, and write ``benchmarks/RESULTS.md``.

    .venv/bin/python benchmarks/run.py [--sizes 10 100 1000 10000] [--work DIR]
        [--out benchmarks/RESULTS.md] [--runs 3]

For each size: ``benchmarks/synth.py`` writes the corpus into ``--work`` (reused when it
was made with the same size, seed and generator), then, each step in a fresh process:

- ``kg build`` (wall time, triples/s, peak RSS) and ``kg load --store oxigraph:DIR``;
- a worker per backend (``memory``: the build in an in-memory Oxigraph store;
  ``oxigraph``: the embedded store, read-only) that times, in-process and after a
  warm-up, three named queries through ``kg.queries.run_checked``, interleaved with the
  same bound query text run by raw ``pyoxigraph.Store.query`` and raw rdflib
  ``Graph.query`` (so ratios hold on a noisy machine);
- another worker per backend for ``--around`` export (``kg.subgraph.select_on`` +
  Turtle) of the corpus's most used entity and ``kg viz`` (build_view + render) of a
  selection of about 500 entities, as the commands do them;

with each worker's peak RSS after each stage.

Then, on the repository's seed data, ``kg query NAME`` cold from the shell against a
plain rdflib script that parses ``build/graph.ttl`` and runs the same query text.
Progress goes to standard error; RESULTS.md gets the command, the machine, every
measurement and the issue's targets marked PASS or MISS.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from common import command_line, cpu_model

REPO = Path(__file__).resolve().parent.parent
SYNTH = REPO / "benchmarks" / "synth.py"
DEFAULT_OUT = REPO / "benchmarks" / "RESULTS.md"
DEFAULT_WORK = Path(tempfile.gettempdir()) / "kg-bench"

#: the three named queries timed on every corpus, with parameters that exist in the
#: synthetic corpora and in the seed article
QUERIES: tuple[tuple[str, dict[str, str]], ...] = (
    ("causes-by-category", {}),
    ("causes-for-population", {"population": "kgr:children"}),
    ("evidence", {"entity": "kgr:magnesium-deficiency"}),
)
#: the viz selection aims at this many entities (and --max-nodes caps it there)
VIZ_NODES = 500
#: a variant slower than this is timed once more after its warm-up, not --runs times
SLOW_SECONDS = 1.0
#: a variant whose warm-up takes this long is not run again: the warm-up is its time
SINGLE_SECONDS = 10.0
#: the issue's size for the 1M-triple targets (the 10,000-document corpus, ~1.07M)
MILLION = 900_000

# the headings of RESULTS.md (tests/test_bench.py looks for each)
H_BUILD = "## Build"
H_LOAD = "## Loading the backends"
H_QOX = "## Named queries: Oxigraph backend vs raw pyoxigraph"
H_QMEM = "## Named queries: raw rdflib vs kg's memory and Oxigraph backends"
H_EXPORT = "## --around export"
H_VIZ = "## kg viz of a ~500-entity selection"
H_MEMORY = "## Peak memory"
H_COLD = "## Seed: kg query cold vs a plain rdflib script"
H_TARGETS = "## Targets"
HEADINGS = (H_TARGETS, H_BUILD, H_LOAD, H_QOX, H_QMEM, H_EXPORT, H_VIZ, H_MEMORY, H_COLD)

_STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- processes

#: runs a command as its only child and writes its wall time and peak RSS (the max RSS
#: of the child and its descendants: RUSAGE_CHILDREN of a process with no other child)
_WRAPPER = """\
import json, resource, subprocess, sys, time
out, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
t0 = time.perf_counter()
try:
    rc = subprocess.run(cmd, timeout=timeout or None).returncode
except subprocess.TimeoutExpired:
    rc = None
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(out, "w") as f:
    json.dump({"wall": wall, "maxrss_kb": rss, "rc": rc}, f)
"""


@dataclass
class Step:
    """A command run in a fresh process."""

    wall: float
    maxrss_kb: int
    rc: int | None  # None: killed at the timeout
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


def measured(cmd: Sequence[str], *, cwd: Path | None = None, timeout: float = 0) -> Step:
    """Run ``cmd`` under the wrapper: wall time, peak RSS, exit code and output."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result_path = Path(f.name)
    try:
        proc = subprocess.run([sys.executable, "-c", _WRAPPER, str(result_path), str(timeout),
                               *cmd], cwd=cwd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"the measuring wrapper failed: {proc.stderr.strip()}")
        data = json.loads(result_path.read_text())
    finally:
        result_path.unlink(missing_ok=True)
    return Step(data["wall"], data["maxrss_kb"], data["rc"], proc.stdout, proc.stderr)


def wall(cmd: Sequence[str], cwd: Path) -> tuple[float, str]:
    """Wall time of ``cmd`` (a fresh process) and its standard output."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{shlex.join(cmd)} failed: {proc.stderr.strip()}")
    return seconds, proc.stdout


def kg_command() -> list[str]:
    """The ``kg`` console script next to this Python (what a user types), else -m kg."""
    script = Path(sys.executable).parent / "kg"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "kg"]


# --------------------------------------------------------------------------- timing


class _Timeout(BaseException):
    """Raised by SIGALRM in a query that runs too long (not an Exception, so that
    kg's own error handling lets it through)."""


def _alarm(signum: int, frame: object) -> None:
    raise _Timeout


@dataclass
class Sample:
    """Timings of one variant of one measurement."""

    times: list[float] = field(default_factory=list)
    warmup: float | None = None
    rows: int | None = None
    timed_out: bool = False
    skipped: str | None = None

    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def as_dict(self) -> dict[str, Any]:
        return {"times": self.times, "warmup": self.warmup, "rows": self.rows,
                "timed_out": self.timed_out, "skipped": self.skipped,
                "median": self.median()}


def _timed(fn: Callable[[], int], timeout: float) -> tuple[float, int | None]:
    """Seconds ``fn`` took and what it returned; (seconds, None) at the timeout."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    t0 = time.perf_counter()
    try:
        rows: int | None = fn()
    except _Timeout:
        rows = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return time.perf_counter() - t0, rows


def interleaved(variants: Sequence[tuple[str, Callable[[], int], str | None]], runs: int,
                timeout: float) -> dict[str, Sample]:
    """Time each variant: a warm-up round, then ``runs`` rounds, each round running
    every variant once in turn (so that all see the same machine).

    A variant slower than SLOW_SECONDS is timed once after its warm-up; one whose
    warm-up took SINGLE_SECONDS or more keeps the warm-up as its time; one that runs
    past ``timeout`` is stopped and marked. The third item of a variant names another
    variant: if that one timed out, this one is not run (it would too).
    """
    samples = {name: Sample() for name, _, _ in variants}
    for round_ in range(runs + 1):
        for name, fn, unless in variants:
            s = samples[name]
            if s.timed_out or s.skipped:
                continue
            if unless and samples[unless].timed_out:
                s.skipped = f"not run: {unless} timed out"
                continue
            if round_ > 0 and (s.warmup is not None and s.warmup >= SINGLE_SECONDS
                               or len(s.times) >= 1 and s.times[0] >= SLOW_SECONDS):
                continue
            seconds, rows = _timed(fn, timeout)
            if rows is None:
                s.timed_out = True
                s.times = [seconds]
                continue
            s.rows = rows
            if round_ == 0:
                s.warmup = seconds
                if seconds >= SINGLE_SECONDS:
                    s.times = [seconds]
            else:
                s.times.append(seconds)
    return samples


def repeated(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Time ``fn`` up to ``runs`` times (no warm-up; once if it takes SLOW_SECONDS)."""
    times: list[float] = []
    value: Any = None
    for _ in range(runs):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
        if times[0] >= SLOW_SECONDS:
            break
    return times, value


# --------------------------------------------------------------------------- workers


def _emit(kind: str, **data: Any) -> None:
    print(json.dumps({"kind": kind, **data}), flush=True)


def _rss_kb() -> int:
    """This process's peak resident memory, plus the private memory now (Private_Clean +
    Private_Dirty of ``smaps_rollup``) of its live children: the query processes kg's
    backends run queries in, which share the rest of their pages with this process."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) != os.getpid():
                continue
            rollup = (stat.parent / "smaps_rollup").read_text()
        except (OSError, ValueError, IndexError):
            continue
        own += sum(int(line.split()[1]) for line in rollup.splitlines()
                   if line.startswith(("Private_Clean:", "Private_Dirty:")))
    return own


def worker(spec: dict[str, Any]) -> None:
    """One backend on one build, in this (fresh) process: load or open, named queries.
    One JSON object per line on standard output."""
    from kg.queries import load_queries, run_checked, standalone
    from kg.store import MemoryBackend, OxigraphBackend, load_build

    backend_name: str = spec["backend"]
    runs: int = spec["runs"]
    timeout: float = spec["query_timeout"]
    _emit("rss", at="start", kb=_rss_kb())
    t0 = time.perf_counter()
    ox = OxigraphBackend(Path(spec["store"]))
    _emit("open", what="oxigraph", seconds=time.perf_counter() - t0)
    if backend_name == "memory":
        t0 = time.perf_counter()
        mem = MemoryBackend(load_build(Path(spec["build"])))
        mem.build.store  # noqa: B018 (the memory backend loads graph.nt into Oxigraph)
        _emit("open", what="memory", seconds=time.perf_counter() - t0)
        _emit("rss", at="memory", kb=_rss_kb())
        t0 = time.perf_counter()
        mem.build.graph  # noqa: B018 (the same graph parsed by rdflib, for raw rdflib)
        _emit("open", what="rdflib", seconds=time.perf_counter() - t0)
        # rdflib's graph is millions of Python objects that every full collection would
        # walk, slowing whatever else runs in this process; a process holding one engine
        # would not pay for that, so they leave the collector's care
        gc.freeze()
    _emit("rss", at="loaded", kb=_rss_kb())

    named = load_queries(REPO / "queries")
    for name, params in spec["queries"]:
        text = named[name].bind(params)
        full = standalone(text)

        def kg_ox(text: str = text) -> int:
            return len(run_checked(ox, text).rows)

        def raw_ox(full: str = full) -> int:
            n = 0
            for solution in ox.store.query(full):  # type: ignore[union-attr]
                tuple(solution)
                n += 1
            return n

        variants: list[tuple[str, Callable[[], int], str | None]]
        if backend_name == "memory":
            def kg_mem(text: str = text) -> int:
                return len(run_checked(mem, text).rows)

            def raw_rdflib(full: str = full) -> int:
                return len(list(mem.build.graph.query(full)))

            variants = [("raw rdflib", raw_rdflib, None), ("kg memory", kg_mem, "raw rdflib"),
                        ("kg oxigraph", kg_ox, None)]
        else:
            variants = [("kg oxigraph", kg_ox, None), ("raw pyoxigraph", raw_ox, None)]
        samples = interleaved(variants, runs, timeout)
        _emit("query", name=name, params=params,
              samples={k: v.as_dict() for k, v in samples.items()})
    _emit("rss", at="queries", kb=_rss_kb())
    sys.stdout.flush()
    os._exit(0)  # skip tearing down a million-triple rdflib graph (tens of seconds)


def select_worker(spec: dict[str, Any]) -> None:
    """``--around`` export and viz on one backend, in this (fresh) process, as ``kg
    export`` and ``kg viz`` do them: ``kg.subgraph.select_on``, which never copies the
    whole store (but for the whole graph, drawn when no depth reaches VIZ_NODES)."""
    from kg.export import export_files
    from kg.network import entities
    from kg.store import MemoryBackend, OxigraphBackend, load_build
    from kg.subgraph import Selection, select_on
    from kg.viz import build_view, render

    runs: int = spec["runs"]
    hub: str = spec["hub"]
    _emit("rss", at="start", kb=_rss_kb())
    t0 = time.perf_counter()
    backend = (OxigraphBackend(Path(spec["store"])) if spec["backend"] == "oxigraph"
               else MemoryBackend(load_build(Path(spec["build"]))))
    from kg.check import check

    backend.run(check("ASK { ?s ?p ?o }"))  # the query process loads or opens the store here
    _emit("open", what=spec["backend"], seconds=time.perf_counter() - t0)
    _emit("rss", at="opened", kb=_rss_kb())

    select_times, sel = repeated(lambda: select_on(backend, Selection(around=hub, depth=1)),
                                 runs)
    ttl_times, files = repeated(lambda: export_files(sel, "ttl"), runs)
    n_entities = len(set(entities(sel)))
    _emit("export", hub=hub, depth=1, select=select_times, ttl=ttl_times, triples=len(sel),
          entities=n_entities, bytes=len(files[""]))
    del files
    _emit("rss", at="export", kb=_rss_kb())

    # viz: the smallest --depth around the hub that reaches VIZ_NODES entities (or all the
    # graph's entities when it has fewer), capped at VIZ_NODES by --max-nodes; the whole
    # graph when no depth up to 3 does
    depth: int | None = 1
    vsel, reselect = sel, 0.0
    total: int | None = None
    while n_entities < VIZ_NODES:
        if total is None:
            total = len(entities(select_on(backend, Selection(), provenance=False)))
        if n_entities >= total:
            break
        t0 = time.perf_counter()
        if depth is not None and depth < 3:
            depth += 1
            vsel = select_on(backend, Selection(around=hub, depth=depth))
        else:
            depth, vsel = None, select_on(backend, Selection())
        reselect = time.perf_counter() - t0
        n_entities = len(set(entities(vsel)))
        if depth is None:
            break
    view_times, view = repeated(lambda: build_view(vsel, max_nodes=VIZ_NODES), runs)
    render_times, html = repeated(lambda: render(view), runs)
    _emit("viz", hub=hub, depth=depth, select=reselect, entities=n_entities,
          nodes=view.nodes, edges=view.edges, build_view=view_times,
          render=render_times, bytes=len(html.encode("utf-8")))
    _emit("rss", at="viz", kb=_rss_kb())
    sys.stdout.flush()
    os._exit(0)  # skip tearing down the graphs


@dataclass
class WorkerResult:
    backend: str
    step: Step
    events: list[dict[str, Any]]

    def first(self, kind: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e["kind"] == kind), None)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]

    def rss(self, at: str) -> int | None:
        return next((e["kb"] for e in self.events if e["kind"] == "rss" and e["at"] == at),
                    None)

    def opened(self, what: str) -> float | None:
        return next((e["seconds"] for e in self.events
                     if e["kind"] == "open" and e["what"] == what), None)

    @property
    def problem(self) -> str | None:
        if self.step.rc is None:
            return f"stopped at the timeout ({self.step.wall:.0f} s)"
        if self.step.rc != 0:
            last = self.step.stderr.strip().splitlines()
            return f"failed (exit {self.step.rc}): {last[-1] if last else ''}"
        return None


def run_worker(backend: str, build_dir: Path, store: Path, hub: str, args: argparse.Namespace,
               timeout: float, mode: str = "queries") -> WorkerResult:
    """Run :func:`worker` (``mode`` "queries") or :func:`select_worker` ("select") on
    ``backend`` in a fresh process, measured."""
    spec = {"mode": mode, "backend": backend, "build": str(build_dir), "store": str(store),
            "hub": hub, "runs": args.runs, "query_timeout": args.query_timeout,
            "queries": [[n, p] for n, p in QUERIES]}
    step = measured([sys.executable, str(Path(__file__).resolve()), "--worker",
                     json.dumps(spec)], timeout=timeout)
    events = [json.loads(line) for line in step.stdout.splitlines() if line.startswith("{")]
    result = WorkerResult(backend, step, events)
    if result.problem:
        log(f"  {backend} {mode} worker {result.problem}")
    return result


# --------------------------------------------------------------------------- per size


@dataclass
class SizeResult:
    documents: int
    corpus: str  # "generated in 4.2 s" or "reused"
    manifest: dict[str, Any]
    builds: list[Step]
    loads: list[Step]
    store_bytes: int
    hub: str
    #: by backend: the named queries, and --around export and viz
    workers: dict[str, WorkerResult]
    selections: dict[str, WorkerResult]

    @property
    def triples(self) -> int:
        return int(self.manifest["triples"])

    def build_median(self) -> float:
        return statistics.median(s.wall for s in self.builds)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def corpus(work: Path, documents: int, seed: int) -> tuple[Path, str]:
    """The synthetic data directory for ``documents``, generated unless already there."""
    out = work / f"corpus-{documents}"
    marker = out / ".bench.json"
    wanted = {"documents": documents, "seed": seed, "synth": _sha256(SYNTH)}
    if marker.is_file() and json.loads(marker.read_text()) == wanted:
        return out, "reused"
    if out.exists():
        shutil.rmtree(out)
    step = measured([sys.executable, str(SYNTH), "--documents", str(documents), "--out",
                     str(out), "--seed", str(seed)])
    if not step.ok:
        raise SystemExit(f"synth.py failed: {step.stderr.strip()}")
    marker.write_text(json.dumps(wanted))
    return out, f"generated in {step.wall:.1f} s"


def hub_of(data_dir: Path) -> str:
    """The corpus's most used entity: the first of ``examples`` in its dataset.yaml."""
    for line in (data_dir / "dataset.yaml").read_text(encoding="utf-8").splitlines():
        if line.startswith("examples:"):
            first = line.partition("[")[2].split(",")[0].strip(" ]'\"")
            if first:
                return first
    raise SystemExit(f"{data_dir}/dataset.yaml names no examples")


def run_size(documents: int, args: argparse.Namespace) -> SizeResult:
    work: Path = args.work
    log(f"size {documents}: corpus")
    data_dir, how = corpus(work, documents, args.seed)
    log(f"size {documents}: corpus {how}")
    build_dir = work / f"build-{documents}"
    store = work / f"oxigraph-{documents}"
    kg = kg_command()
    builds = []
    for i in range(args.runs):
        step = measured([*kg, "build", "--data", str(data_dir), "--build-dir", str(build_dir)])
        if not step.ok:
            raise SystemExit(f"kg build failed on {data_dir}: {step.stderr.strip()}")
        builds.append(step)
        log(f"size {documents}: kg build {i + 1}/{args.runs}: {step.wall:.2f} s, "
            f"{step.maxrss_kb / 1024:.0f} MiB")
    manifest = json.loads((build_dir / "manifest.json").read_text())
    manifest = {k: v for k, v in manifest.items() if not isinstance(v, dict)}
    loads = []
    for i in range(args.runs):
        step = measured([*kg, "load", "--store", f"oxigraph:{store}", "--build-dir",
                         str(build_dir)])
        if not step.ok:
            raise SystemExit(f"kg load failed: {step.stderr.strip()}")
        loads.append(step)
        log(f"size {documents}: kg load --store oxigraph {i + 1}/{args.runs}: "
            f"{step.wall:.2f} s")
    store_bytes = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    hub = hub_of(data_dir)
    workers: dict[str, dict[str, WorkerResult]] = {"queries": {}, "select": {}}
    for backend, timeout in (("oxigraph", args.worker_timeout),
                             ("memory", args.memory_timeout)):
        for mode, what in (("queries", "queries"), ("select", "--around export, viz")):
            log(f"size {documents}: {backend} backend: {what} (timeout {timeout:.0f} s)")
            done = run_worker(backend, build_dir, store, hub, args, timeout, mode)
            workers[mode][backend] = done
            log(f"size {documents}: {backend} backend: {what} done in {done.step.wall:.1f} s")
    return SizeResult(documents, how, manifest, builds, loads, store_bytes, hub,
                      workers["queries"], workers["select"])


# --------------------------------------------------------------------------- seed, cold

_PLAIN = """\
import sys
from rdflib import Graph

graph = Graph()
graph.parse(sys.argv[1], format="turtle")
with open(sys.argv[2], encoding="utf-8") as f:
    text = f.read()
for row in graph.query(text):
    print("\\t".join("" if term is None else term.n3() for term in row))
"""


@dataclass
class ColdRow:
    label: str
    kg: list[float]
    plain: list[float]
    kg_rows: int
    plain_rows: int

    @property
    def ratio(self) -> float:
        return statistics.median(self.kg) / statistics.median(self.plain)


@dataclass
class SeedResult:
    build: Step
    manifest: dict[str, Any]
    version: list[float]
    rows: list[ColdRow]
    runs: int


def run_seed(args: argparse.Namespace) -> SeedResult:
    seed_dir = args.work / "seed"
    seed_dir.mkdir(parents=True, exist_ok=True)
    kg = kg_command()
    log("seed: kg build")
    step = measured([*kg, "build", "--data", str(REPO / "data"), "--build-dir", "build"],
                    cwd=seed_dir)
    if not step.ok:
        raise SystemExit(f"kg build of the seed data failed: {step.stderr.strip()}")
    plain = seed_dir / "plain_rdflib.py"
    plain.write_text(_PLAIN, encoding="utf-8")
    commands: list[tuple[str, list[str], list[str]]] = []
    for name, params in QUERIES:
        p = [x for k, v in params.items() for x in ("-p", k, v)]
        show = [*kg, "query", name, *p, "--show", "--build-dir", "build"]
        _, text = wall(show, seed_dir)
        rq = seed_dir / f"{name}.rq"
        rq.write_text(text, encoding="utf-8")
        commands.append((shlex.join(["kg", "query", name, *p]),
                         [*kg, "query", name, *p, "--format", "tsv", "--build-dir", "build"],
                         [sys.executable, str(plain), "build/graph.ttl", rq.name]))
    runs = args.cold_runs
    log(f"seed: kg query cold vs plain rdflib, {runs} runs each")
    version = []
    rows = [ColdRow(label, [], [], 0, 0) for label, _, _ in commands]
    for _ in range(runs):
        version.append(wall([*kg, "--version"], seed_dir)[0])
        for row, (_, kg_cmd, plain_cmd) in zip(rows, commands, strict=True):
            seconds, out = wall(kg_cmd, seed_dir)
            row.kg.append(seconds)
            row.kg_rows = max(0, len(out.splitlines()) - 1)  # TSV has a header line
            seconds, out = wall(plain_cmd, seed_dir)
            row.plain.append(seconds)
            row.plain_rows = len(out.splitlines())
    for row in rows:
        log(f"seed: {row.label}: kg {statistics.median(row.kg):.3f} s, plain "
            f"{statistics.median(row.plain):.3f} s, ratio {row.ratio:.2f}")
    manifest = json.loads((seed_dir / "build" / "manifest.json").read_text())
    return SeedResult(step, manifest, version, rows, runs)


# --------------------------------------------------------------------------- report


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def sec(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:,.2f} s"


def mb(kb: int | None) -> str:
    return "-" if kb is None else f"{kb * 1024 / 1e6:,.0f} MB"


def size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB" if n_bytes >= 100_000 else f"{n_bytes / 1e3:,.0f} kB"


def med(values: Iterable[float]) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


def _process(w: WorkerResult) -> str:
    """The "whole process" and "wall" cells of a worker."""
    return (f"{mb(w.step.maxrss_kb)} | {sec(w.step.wall)}"
            f"{' (' + w.problem + ')' if w.problem else ''}")


def _sample_cell(s: dict[str, Any] | None, timeout: float) -> str:
    if s is None:
        return "-"
    if s["skipped"]:
        return str(s["skipped"])
    if s["timed_out"]:
        return f"> {timeout:.0f} s (timed out)"
    cell = ms(s["median"])
    n = len(s["times"])
    if s["warmup"] is not None and s["warmup"] >= SINGLE_SECONDS:
        cell += " (1 run, no warm-up)"
    elif n == 1 and s["times"][0] >= SLOW_SECONDS:
        cell += " (1 run)"
    return cell


def _time_of(s: dict[str, Any] | None) -> tuple[float | None, bool]:
    """(seconds, is a lower bound) of a sample; (None, False) if it was not run."""
    if s is None or s["skipped"] or not s["times"]:
        return None, False
    return (s["times"][0], True) if s["timed_out"] else (s["median"], False)


def _ratio(a: tuple[float | None, bool], b: tuple[float | None, bool]) -> str:
    if a[0] is None or b[0] is None:
        return "-"
    prefix = ">" if a[1] and not b[1] else ""
    return f"{prefix}{a[0] / b[0]:.2f}x" if a[0] / b[0] < 100 else f"{prefix}{a[0] / b[0]:.0f}x"


def _queries(w: WorkerResult) -> list[dict[str, Any]]:
    return w.all("query")


def _qlabel(q: dict[str, Any]) -> str:
    params = " ".join(f"-p {k} {v}" for k, v in q["params"].items())
    return f"`{q['name']}{' ' + params if params else ''}`"


def _query_rows(sizes: list[SizeResult], worker: str, columns: tuple[str, ...],
                ratio: tuple[str, str], timeout: float) -> list[str]:
    """Table rows of the named queries that ``worker`` timed at each size: the
    variants ``columns``, then the first of ``ratio`` over the second."""
    out = []
    for s in sizes:
        w = s.workers[worker]
        for q in _queries(w):
            smp = q["samples"]
            cells = [_sample_cell(smp.get(name), timeout) for name in columns]
            cells.append(_ratio(_time_of(smp.get(ratio[0])), _time_of(smp.get(ratio[1]))))
            out.append(f"| {s.documents:,} | {_qlabel(q)} | {_rows(smp)} | "
                       + " | ".join(cells) + " |")
        if w.problem:
            out.append(f"| {s.documents:,} | worker {w.problem} |" + " |" * (len(columns) + 2))
    return out


def _rows(samples: dict[str, dict[str, Any]]) -> str:
    counts = {s["rows"] for s in samples.values() if s["rows"] is not None}
    return ", ".join(str(c) for c in sorted(counts)) + (" (differ!)" if len(counts) > 1 else "")


@dataclass
class Target:
    what: str
    at: str
    measured: str
    mark: str  # PASS, MISS or n/a


def targets(sizes: list[SizeResult], seed: SeedResult) -> list[Target]:
    out = []
    worst = max(seed.rows, key=lambda r: r.ratio)
    out.append(Target("Seed: `kg query` cold <= 0.5x the plain rdflib script (the worst of "
                      f"the {len(seed.rows)} queries counts)", "seed article",
                      f"{worst.ratio:.2f}x ({worst.label}: {sec(med(worst.kg))} vs "
                      f"{sec(med(worst.plain))}); all: "
                      + ", ".join(f"{r.ratio:.2f}x" for r in seed.rows),
                      "PASS" if worst.ratio <= 0.5 else "MISS"))
    big = max(sizes, key=lambda s: s.triples) if sizes else None
    reached = big is not None and big.triples >= MILLION
    at = (f"{big.documents:,} documents, {big.triples:,} triples" if big else "no corpus") + (
        "" if reached else " (not 1M: n/a)")

    def mark(ok: bool | None) -> str:
        if not reached or ok is None:
            return "n/a"
        return "PASS" if ok else "MISS"

    ratios: list[tuple[str, float]] = []
    fast: list[tuple[str, float, bool]] = []
    if big is not None:
        for q in _queries(big.workers["oxigraph"]):
            kg_t, _ = _time_of(q["samples"].get("kg oxigraph"))
            raw_t, _ = _time_of(q["samples"].get("raw pyoxigraph"))
            if kg_t is not None and raw_t is not None:
                ratios.append((q["name"], kg_t / raw_t))
        for q in _queries(big.workers["memory"]):
            rdf_t, lower = _time_of(q["samples"].get("raw rdflib"))
            ox_t, _ = _time_of(q["samples"].get("kg oxigraph"))
            if rdf_t is not None and ox_t is not None:
                fast.append((q["name"], rdf_t / ox_t, lower))
    expected = len(QUERIES)
    out.append(Target(
        "1M triples: named queries on the Oxigraph backend <= 1.5x raw pyoxigraph (each of "
        "the three)", at, ", ".join(f"{n} {r:.2f}x" for n, r in ratios) or "not measured",
        mark(all(r <= 1.5 for _, r in ratios) if len(ratios) == expected else None)))
    out.append(Target(
        "1M triples: named queries on the Oxigraph backend >= 10x faster than rdflib's memory "
        "store (raw rdflib time / kg Oxigraph time, same process; each of the three)", at,
        ", ".join(f"{n} {'>' if lb else ''}{r:.1f}x" for n, r, lb in fast) or "not measured",
        mark(all(r >= 10 for _, r, _ in fast) if len(fast) == expected else None)))
    if big is not None:
        tps = big.triples / big.build_median()
        out.append(Target("1M triples: `kg build` >= 100k triples/s (median)", at,
                          f"{tps / 1000:,.0f}k triples/s ({sec(big.build_median())})",
                          mark(tps >= 100_000)))
        ox = big.workers["oxigraph"]
        build_kb = max(s.maxrss_kb for s in big.builds)
        load_kb = max(s.maxrss_kb for s in big.loads)
        q_kb = ox.rss("queries")
        peak = max(p for p in (build_kb, load_kb, q_kb) if p is not None)
        limit_kb = 1.5e9 / 1024
        out.append(Target(
            "1M triples: peak memory <= 1.5 GB: `kg build`, `kg load --store oxigraph`, the "
            "named queries on the Oxigraph backend", at,
            f"{mb(peak)} (build {mb(build_kb)}, load {mb(load_kb)}, queries {mb(q_kb)})",
            mark(peak <= limit_kb if q_kb is not None else None)))
        for name, what in (("oxigraph", "the Oxigraph backend"),
                           ("memory", "the memory backend (the build loaded into an "
                                      "in-memory Oxigraph store)")):
            w = big.selections[name]
            peak = w.step.maxrss_kb
            out.append(Target(
                f"1M triples: peak memory <= 1.5 GB, {what}: `--around HUB --depth 1` "
                f"export to Turtle, then viz of a ~{VIZ_NODES}-entity selection, in one "
                "process (`kg.subgraph.select_on`: no copy of the whole store)", at,
                f"{mb(peak)} (after export {mb(w.rss('export'))})"
                + (f" ({w.problem})" if w.problem else ""),
                mark(peak <= limit_kb if w.problem is None else None)))
    return out


def machine() -> list[str]:
    meminfo = Path("/proc/meminfo")
    ram = "?"
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) * 1024 / 1e9:.1f} GB"
    cpu = cpu_model()

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    commit = "?"
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True).stdout.strip()
        commit = head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return [
        f"- platform: {platform.platform()}",
        f"- CPU: {cpu}, {os.cpu_count()} logical CPUs",
        f"- RAM: {ram} (MemTotal, /proc/meminfo)",
        f"- Python {platform.python_version()}, rdflib {version('rdflib')}, pyoxigraph "
        f"{version('pyoxigraph')}, kg {version('kg')} at commit {commit}",
    ]


def report(args: argparse.Namespace, command: str, started: datetime, seconds: float,
           sizes: list[SizeResult], seed: SeedResult) -> str:
    qt = args.query_timeout
    lines = [
        "# kg benchmarks: scale and speed",
        "",
        "Written by `benchmarks/run.py`; do not edit by hand. Produced by:",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Date: {started.strftime('%Y-%m-%d %H:%M UTC')}; the whole run took "
        f"{seconds / 60:.1f} min.",
        "",
        *machine(),
        "",
        "Each step runs in a fresh process; peak memory is the maximum resident set size "
        "(`ru_maxrss`) of that process and its children. Times are wall-clock medians of "
        f"{args.runs} run(s) after a warm-up unless a cell says otherwise: a query slower than "
        f"{SLOW_SECONDS:.0f} s is timed once after its warm-up, one whose warm-up took "
        f"{SINGLE_SECONDS:.0f} s or more keeps that as its time, and an rdflib query is "
        f"stopped after {qt:.0f} s. Query times include converting every solution to "
        "Python values (rdflib terms for kg; raw pyoxigraph touches each value of each "
        "solution). MB = 10^6 bytes.",
        "",
        H_TARGETS,
        "",
        "The issue's targets (issue 6), measured in this run:",
        "",
        "| target | measured at | measured | |",
        "|---|---|---|---|",
    ]
    for t in targets(sizes, seed):
        lines.append(f"| {t.what} | {t.at} | {t.measured} | **{t.mark}** |")

    lines += ["", H_BUILD, "",
              f"`kg build --data CORPUS` as a command, start-up included (runs: {args.runs}; "
              f"the synthetic corpora by `benchmarks/synth.py --seed {args.seed}`; the seed "
              "is the repository's `data/`, one build). Peak memory is the largest of the "
              "runs; the build reads facts files in forked workers, and the peak is that of "
              "the largest single process, not their sum.", "",
              "| documents | facts | entities | triples | corpus | `kg build` median | best "
              "| triples/s | peak memory |",
              "|---|---|---|---|---|---|---|---|---|"]
    sb, sm = seed.build, seed.manifest
    lines.append(f"| seed ({sm.get('documents', 1)}) | {sm.get('facts', 0):,} | "
                 f"{sm.get('entities', 0):,} | {sm.get('triples', 0):,} | `data/` | "
                 f"{sec(sb.wall)} (1 run) | {sec(sb.wall)} | "
                 f"{sm.get('triples', 0) / sb.wall / 1000:,.0f}k | {mb(sb.maxrss_kb)} |")
    for s in sizes:
        m = s.manifest
        lines.append(f"| {s.documents:,} | {m.get('facts', 0):,} | {m.get('entities', 0):,} | "
                     f"{s.triples:,} | {s.corpus} | {sec(s.build_median())} | "
                     f"{sec(min(b.wall for b in s.builds))} | "
                     f"{s.triples / s.build_median() / 1000:,.0f}k | "
                     f"{mb(max(b.maxrss_kb for b in s.builds))} |")

    lines += ["", H_LOAD, "",
              "Oxigraph: `kg load --store oxigraph:DIR` as a command (bulk load of "
              f"`graph.nt` and optimize; runs: {args.runs}), then opening the store "
              "read-only in the worker. Memory (what every command of the default backend "
              "does first): `kg.store.load_build` and loading `graph.nt` into an in-memory "
              "Oxigraph store (`Build.store`), then the resident memory; rdflib: parsing "
              "`graph.nt` into an rdflib graph (`Build.graph`), for the raw rdflib column "
              "below.",
              "",
              "| documents | triples | `kg load` oxigraph | peak memory | store on disk | "
              "open oxigraph store | memory: load | memory after loading | rdflib: parse |",
              "|---|---|---|---|---|---|---|---|---|"]
    for s in sizes:
        mem = s.workers["memory"]
        ox = s.workers["oxigraph"]
        lines.append(f"| {s.documents:,} | {s.triples:,} | "
                     f"{sec(statistics.median(x.wall for x in s.loads))} | "
                     f"{mb(max(x.maxrss_kb for x in s.loads))} | "
                     f"{s.store_bytes / 1e6:,.0f} MB | {ms(ox.opened('oxigraph'))} | "
                     f"{sec(mem.opened('memory'))} | {mb(mem.rss('memory'))} | "
                     f"{sec(mem.opened('rdflib'))} |")

    lines += ["", H_QOX, "",
              "In one process: `kg.queries.run_checked` on the Oxigraph backend (kg checks "
              "the query with rdflib's parser first, then Oxigraph runs it in kg's "
              "sandboxed query process, and the results come back over a Unix socket) and, "
              "interleaved, raw `pyoxigraph.Store.query` on the same store with the same "
              "bound text (`NamedQuery.bind` + `kg.queries.standalone`).", "",
              "| documents | query | rows | kg oxigraph | raw pyoxigraph | kg / raw |",
              "|---|---|---|---|---|---|"]
    lines += _query_rows(sizes, "oxigraph", ("kg oxigraph", "raw pyoxigraph"),
                         ("kg oxigraph", "raw pyoxigraph"), qt)

    lines += ["", H_QMEM, "",
              "In one process, interleaved: raw rdflib `Graph.query` on the build parsed "
              "into rdflib, `run_checked` on the memory backend (the build in an in-memory "
              "Oxigraph store), and `run_checked` on the Oxigraph backend (on disk), all "
              "with the same bound text. The rdflib graph is frozen out of the garbage "
              "collector's care (`gc.freeze()`) once loaded, so that collections walking its "
              "millions of objects do not slow the other engines down. "
              "\"rdflib / kg oxigraph\" is raw rdflib's time over kg Oxigraph's (\">\": rdflib "
              "was stopped at the time limit).", "",
              "| documents | query | rows | raw rdflib | kg memory | kg oxigraph | "
              "rdflib / kg oxigraph |",
              "|---|---|---|---|---|---|---|"]
    lines += _query_rows(sizes, "memory", ("raw rdflib", "kg memory", "kg oxigraph"),
                         ("raw rdflib", "kg oxigraph"), qt)

    lines += ["", H_EXPORT, "",
              "`kg export --around HUB --depth 1 --format ttl`, in-process, in a fresh "
              "process of its own per backend (the export and viz worker): "
              "`kg.subgraph.select_on` (a skeleton of the graph from the backend: "
              "statements, types, names, links between entities; then only the triples the "
              "subgraph holds, by SPARQL queries on batches of nodes; the whole store is "
              "never copied into rdflib), then `kg.export.export_files(..., 'ttl')`. HUB is "
              "the corpus's most used entity. The memory backend is the build in an "
              "in-memory Oxigraph store, loaded when the worker opens it. Median of up to "
              f"{args.runs} runs (one when a step takes {SLOW_SECONDS:.0f} s or more).", "",
              "| documents | backend | hub | triples selected | entities | open | select | "
              "Turtle | select + Turtle | output |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for s in sizes:
        for name in ("memory", "oxigraph"):
            w = s.selections[name]
            e = w.first("export")
            if e is None:
                lines.append(f"| {s.documents:,} | {name} | {s.hub} | not measured: "
                             f"{w.problem or '?'} | | | | | | |")
                continue
            sel_t, ttl_t = med(e["select"]), med(e["ttl"])
            lines.append(f"| {s.documents:,} | {name} | `{e['hub']}` | {e['triples']:,} | "
                         f"{e['entities']:,} | {ms(w.opened(name))} | {ms(sel_t)} | "
                         f"{ms(ttl_t)} | {ms((sel_t or 0) + (ttl_t or 0))} | "
                         f"{size(e['bytes'])} |")

    lines += ["", H_VIZ, "",
              f"`kg viz --around HUB --depth D --max-nodes {VIZ_NODES}`, in-process, after "
              "the export in the same worker: `kg.viz.build_view` and `kg.viz.render` on the "
              "selection (`select_on`, as above). D is the smallest depth up to 3 whose "
              f"selection reaches {VIZ_NODES} entities (or all the graph's entities); when "
              "none does (a small corpus), the whole graph is drawn (`kg viz` without "
              f"options: the backend's `graph()`). `--max-nodes {VIZ_NODES}` keeps the most "
              "connected. The selection for D > 1, or of the whole graph, is timed apart "
              "(depth 1 is the export's).", "",
              "| documents | backend | hub, depth | entities selected | drawn: nodes | "
              "edges | select (D > 1, whole) | build_view | render | page |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for s in sizes:
        for name in ("memory", "oxigraph"):
            w = s.selections[name]
            v = w.first("viz")
            if v is None:
                lines.append(f"| {s.documents:,} | {name} | `{s.hub}` | not measured: "
                             f"{w.problem or '?'} | | | | | | |")
                continue
            where = (f"`{v['hub']}`, {v['depth']}" if v["depth"] is not None
                     else "whole graph")
            lines.append(f"| {s.documents:,} | {name} | {where} | "
                         f"{v['entities']:,} | {v['nodes']:,} | {v['edges']:,} | "
                         f"{ms(v['select']) if v['depth'] != 1 else '-'} | "
                         f"{ms(med(v['build_view']))} | {ms(med(v['render']))} | "
                         f"{size(v['bytes'])} |")

    lines += ["", H_MEMORY, "",
              "Peak resident memory of each backend's two worker processes, read in the "
              "worker after each stage (`ru_maxrss` only grows; plus the private memory, "
              "at that moment, of the query process kg's backend runs queries in, which "
              "shares its other pages with the worker): the queries worker (load or "
              "open, the three named queries; the memory one also parses the build into "
              "rdflib and opens the Oxigraph store, for the side-by-side timings) and the "
              "export and viz worker (open, `--around` export, viz, as above). `kg build` "
              "and `kg load` are in the tables above.", "",
              "| documents | backend | queries: loaded | after queries | whole process | "
              "wall | export, viz: opened | after export | after viz | whole process | "
              "wall |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in sizes:
        for name in ("memory", "oxigraph"):
            q, x = s.workers[name], s.selections[name]
            lines.append(f"| {s.documents:,} | {name} | {mb(q.rss('loaded'))} | "
                         f"{mb(q.rss('queries'))} | {_process(q)} | {mb(x.rss('opened'))} | "
                         f"{mb(x.rss('export'))} | {mb(x.rss('viz'))} | {_process(x)} |")

    lines += ["", H_COLD, "",
              "The repository's seed data (`data/`, one article), built once. Each command "
              f"runs as a fresh process from the shell, {seed.runs} times, interleaved; "
              "median. The plain script is `import rdflib`, `Graph().parse('build/graph.ttl')`"
              ", the query text `kg query NAME --show` prints (parameters bound, PREFIX "
              "lines added), `graph.query(text)` and one printed line per row. kg reads "
              "`build/graph.nt`, checked against the manifest.", "",
              "| command | rows | `kg query` (TSV) | plain rdflib script | kg / plain |",
              "|---|---|---|---|---|"]
    for r in seed.rows:
        rows = str(r.kg_rows) if r.kg_rows == r.plain_rows else \
            f"{r.kg_rows} vs {r.plain_rows} (differ!)"
        lines.append(f"| `{r.label}` | {rows} | {sec(med(r.kg))} | {sec(med(r.plain))} | "
                     f"{r.ratio:.2f}x |")
    lines.append(f"| `kg --version` (start-up alone) | - | {sec(med(seed.version))} | - | - |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def serve_load_block(out: Path) -> str:
    """The block ``benchmarks/serve_load.py --write`` put into the report being replaced
    (between its markers, kept at the end of the new one); "" if there is none."""
    begin, end = "<!-- serve-load:begin -->", "<!-- serve-load:end -->"
    old = out.read_text(encoding="utf-8") if out.is_file() else ""
    i, j = old.find(begin), old.find(end)
    return "\n" + old[i:j + len(end)] + "\n" if 0 <= i < j else ""


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000],
                        help="corpus sizes, in documents (default: 10 100 1000 10000)")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help=f"corpora, builds and stores (default: {DEFAULT_WORK}); "
                             "corpora already there are reused")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="the report to write (default: benchmarks/RESULTS.md)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measurement")
    parser.add_argument("--seed", type=int, default=1, help="synth.py's random seed")
    parser.add_argument("--cold-runs", type=int, default=None,
                        help="runs of each cold command on the seed (default: 2 x runs + 1)")
    parser.add_argument("--query-timeout", type=float, default=60.0,
                        help="stop an in-process query after this many seconds (default 60)")
    parser.add_argument("--memory-timeout", type=float, default=900.0,
                        help="stop the rdflib memory worker of one size after this many "
                             "seconds (default 900)")
    parser.add_argument("--worker-timeout", type=float, default=600.0,
                        help="the same for the Oxigraph worker (default 600)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        (select_worker if spec["mode"] == "select" else worker)(spec)
        return
    if args.runs < 1 or any(n < 1 for n in args.sizes):
        parser.error("--runs and --sizes must be at least 1")
    args.cold_runs = args.cold_runs or 2 * args.runs + 1
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    out: Path = args.out
    command = command_line(__file__, argv)
    started = datetime.now(UTC)
    log(f"kg benchmarks: sizes {' '.join(map(str, args.sizes))}, {args.runs} runs, work "
        f"{args.work}")
    seed = run_seed(args)
    sizes = [run_size(n, args) for n in args.sizes]
    seconds = time.perf_counter() - _STARTED
    text = report(args, command, started, seconds, sizes, seed) + serve_load_block(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    for t in targets(sizes, seed):
        log(f"{t.mark:4} {t.what} [{t.at}]: {t.measured}")
    log(f"wrote {out} in {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
