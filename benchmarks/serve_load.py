"""`kg serve` under load, side by side with Oxigraph's own server (`oxigraph
serve-read-only`) on the same graph and the same query, in one run.

    .venv/bin/python benchmarks/serve_load.py [--levels 1 8 50 200] [--seconds 10]
        [--rounds 1] [--client auto|wrk|python] [--kg-args '--timeout 5'] [--quick]
        [--scenario-seconds 15] [--memory-cap-mb N] [--no-scenarios] [--write]

Builds the repository's data into a temporary directory (``kg build``), loads its
``graph.nt`` into an Oxigraph store (``oxigraph load``), starts both servers on
127.0.0.1 and then, for each number of concurrent keep-alive connections, loads one
server and then the other (the order alternating from level to level, so that ratios
hold on a noisy machine), waiting between runs until the server just loaded is idle
again:

- **cheap**: the same small SELECT on every request (GET ``?query=``, JSON results);
- **distinct**: every request a query text of its own (a never-repeated constant in an
  always-true FILTER), so that no cache can answer: the honest uncached number;

with requests/s, p50 and p99 latency, errors, and how many of the connections the
server had accepted (/proc/net/tcp). Then, beside them:

- **one client**: 20 requests in a row on one keep-alive connection and 20 on new
  connections, on each server (a gap between the two is a wait in TCP, not work);
- **runaway** (kg only): 50 connections run the cheap query while one query that no
  server can finish is sent; its status and time, and the 50 clients' throughput and
  p99 before, while and after it runs;
- **memory** (kg only): three sorted cartesian products at once, with the summed RSS
  (and PSS) of ``kg serve`` and all its descendants sampled every 0.1 s.

The load generator is ``wrk`` when it is on PATH (``--latency --timeout 60s``; a Lua
script makes the distinct texts), else a built-in asyncio HTTP/1.1 keep-alive client;
the scenarios always use the built-in client (it time-stamps every answer). The machine,
the command line and Markdown tables go to standard output, progress to standard error;
``--write`` also puts the Markdown into benchmarks/RESULTS.md between the serve-load
markers (which benchmarks/run.py keeps). Both servers are always stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Self

from common import command_line, cpu_model

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- serve-load:begin -->", "<!-- serve-load:end -->"
HOST = "127.0.0.1"

KG_ONT = "https://w3id.org/health-kg/ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
#: full IRIs, no prefixes: Oxigraph's server declares none
CHEAP = f"SELECT ?s ?label WHERE {{ ?s a <{KG_ONT}Specialist> ; <{RDFS_LABEL}> ?label }}"
#: the distinct texts: CHEAP with an always-true FILTER on a constant never sent twice
DISTINCT_HEAD = (f"SELECT ?s ?label WHERE {{ ?s a <{KG_ONT}Specialist> ; <{RDFS_LABEL}> ?label "
                 'FILTER(STR(?label) != "')
DISTINCT_TAIL = '") }'
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
MEMORY = "SELECT ?a ?b ?c ?d WHERE { ?a ?p1 ?b . ?c ?p2 ?d } ORDER BY ?a ?b ?c ?d"
ACCEPT = "application/sparql-results+json"

SERVERS = ("kg", "oxigraph")
PATHS = {"kg": "/sparql", "oxigraph": "/query"}
LABELS = {"kg": "kg", "oxigraph": "Oxigraph"}

#: kg serve's --timeout when kg-args do not set one
KG_DEFAULT_TIMEOUT = 10.0
#: what wrk is given as --timeout, and the built-in client's per-request limit
REQUEST_TIMEOUT = 60.0
#: no run of the built-in client sends more requests than this, whatever its duration
MAX_REQUESTS = 2_000_000
#: the scenarios' load: connections, and seconds (--quick: QUICK_SCENARIO_SECONDS)
SCENARIO_CONNECTIONS = 50
SCENARIO_SECONDS = 15.0
QUICK_SCENARIO_SECONDS = 4.0
MEMORY_QUERIES = 3
SAMPLE_EVERY = 0.1
#: sequential requests of the one-client probe, each way
PROBE = 20

_STARTED = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- /proc

PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat from field 3 (state) on; None if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def descendants(root: int) -> list[int]:
    """``root`` and every process below it, by the ppid links of /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    if _stat_fields(root) is None:
        return []
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def tree_cpu(root: int) -> float:
    """CPU seconds of ``root``'s tree (user + system, and that of reaped children)."""
    ticks = 0
    for pid in descendants(root):
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += sum(int(x) for x in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU-seconds all CPUs have been busy since boot (/proc/stat: all but idle and
    iowait)."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


@dataclass
class Memory:
    """A sample of a process tree: summed RSS and PSS (bytes), largest RSS, processes."""

    rss: int = 0
    pss: int = 0
    largest: int = 0
    processes: int = 0


def tree_memory(root: int) -> Memory:
    m = Memory()
    for pid in descendants(root):
        fields = _stat_fields(pid)
        if fields is None:
            continue
        rss = int(fields[21]) * PAGE
        m.rss += rss
        m.largest = max(m.largest, rss)
        m.processes += 1
        m.pss += _pss(pid) or 0  # 0: it has just gone
    return m


def _pss(pid: int) -> int | None:
    """The process's proportional set size in bytes (None if unreadable)."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    found = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
    return int(found[1]) * 1024 if found else None


class Poller:
    """A thread that runs ``_run`` (which polls until ``_stop`` is set) for as long as
    a ``with`` block lasts."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        raise NotImplementedError


class Sampler(Poller):
    """Samples a process tree's memory every SAMPLE_EVERY seconds in a thread, keeps the
    peak, and kills the tree (it is ours) if its summed RSS passes ``cap`` bytes."""

    def __init__(self, root: int, cap: int) -> None:
        self.root, self.cap = root, cap
        self.peak = Memory()
        self.peak_pss = 0
        self.samples = 0
        self.capped = False
        super().__init__()

    def _run(self) -> None:
        while not self._stop.is_set():
            m = tree_memory(self.root)
            self.samples += 1
            if m.rss > self.peak.rss:
                self.peak = m
            self.peak_pss = max(self.peak_pss, m.pss)
            if m.rss > self.cap and not self.capped:
                self.capped = True
                log(f"summed RSS {mib(m.rss)} passed the cap of {mib(self.cap)}: killing "
                    f"kg serve (pid {self.root}) and its descendants")
                kill_tree(self.root)
            self._stop.wait(SAMPLE_EVERY)


def established(port: int) -> int:
    """Connections to local ``port`` in state ESTABLISHED (/proc/net/tcp): accepted by
    the server, or in its listen queue."""
    suffix = f":{port:04X}"
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            n += len(fields) > 3 and fields[1].endswith(suffix) and fields[3] == "01"
    return n


class ConnectionCounter(Poller):
    """The most connections a server's port held ESTABLISHED at once, sampled every
    0.2 s in a thread while a run lasts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.peak = 0
        super().__init__()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, established(self.port))


def kill_tree(root: int) -> None:
    """SIGKILL ``root`` (a process this script started) and each of its descendants."""
    for pid in reversed(descendants(root)):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def settle(name: str, root: int, idle_processes: int, limit: float) -> float | None:
    """Wait (at most ``limit`` seconds) until ``root``'s tree has used under 5% of a CPU
    and had no more processes than when idle, over two half-second intervals in a row:
    the next run must not share the machine with requests the last one left behind. (A
    process that comes and goes between two looks leaves no CPU time in /proc when its
    parent lets the kernel reap it, as kg's query processes do: hence the count.)

    Returns the CPUs the rest of the machine kept busy over those calm intervals, the
    background load (None if the tree never calmed down)."""
    started = time.monotonic()
    calm: list[float] = []
    last_tree, last_busy, last_t = tree_cpu(root), machine_busy(), time.perf_counter()
    while time.monotonic() - started < limit and len(calm) < 2:
        time.sleep(0.5)
        tree, busy, now = tree_cpu(root), machine_busy(), time.perf_counter()
        if tree - last_tree < 0.025 and len(descendants(root)) <= idle_processes:
            calm.append(max(0.0, busy - last_busy - (tree - last_tree)) / (now - last_t))
        else:
            calm.clear()
        last_tree, last_busy, last_t = tree, busy, now
    waited = time.monotonic() - started
    if len(calm) < 2:
        log(f"  {name} still busy after {waited:.0f} s; going on")
        return None
    if waited > 1.5:
        log(f"  {name} idle again after {waited:.1f} s")
    return statistics.mean(calm)


def idle_processes(root: int) -> int:
    """The fewest processes in ``root``'s tree over half a second (a query process may
    linger a moment after its answer)."""
    counts = []
    for _ in range(5):
        counts.append(len(descendants(root)))
        time.sleep(0.1)
    return min(counts)


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    cmd: list[str]
    log_path: Path

    @property
    def path(self) -> str:
        return PATHS[self.name]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}{self.path}"

    def tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(lines[-5:])

    def alive(self) -> bool:
        return self.proc.poll() is None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start(name: str, cmd: list[str], port: int, tmp: Path, env: dict[str, str]) -> Server:
    log_path = tmp / f"{name}.log"
    with log_path.open("wb") as out:
        # a session of its own: Ctrl-C in the terminal reaches this script, which stops it
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                cwd=REPO, env=env, start_new_session=True)
    return Server(name, proc, port, cmd, log_path)


def wait_ready(server: Server, limit: float = 60.0) -> None:
    """Until GET ASK{} answers 200."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not server.alive():
            raise SystemExit(f"{server.name} exited with code {server.proc.returncode} at "
                             f"start: {server.tail()}")
        status, _, _, _ = asyncio.run(one_request(server.port, server.path, "ASK{}", 2.0))
        if status == 200:
            return
        time.sleep(0.1)
    raise SystemExit(f"{server.name} did not answer ASK{{}} within {limit:.0f} s: "
                     f"{server.tail()}")


def stop(server: Server) -> None:
    """SIGTERM, then SIGKILL after 10 s; then any descendant left behind."""
    left = descendants(server.proc.pid)
    if server.alive():
        server.proc.terminate()
        try:
            server.proc.wait(10)
        except subprocess.TimeoutExpired:
            log(f"{server.name} did not stop in 10 s: killing it")
            server.proc.kill()
            server.proc.wait(10)
    for pid in left:
        if pid != server.proc.pid and _stat_fields(pid) is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --------------------------------------------------------------------------- HTTP client


def get_path(path: str, query: str) -> str:
    return f"{path}?query={urllib.parse.quote(query, safe='')}"


def request_bytes(port: int, target: str, close: bool = False) -> bytes:
    connection = "Connection: close\r\n" if close else ""
    return (f"GET {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: {ACCEPT}\r\n"
            f"User-Agent: kg-serve-load\r\n{connection}\r\n").encode("ascii")


async def read_response(reader: asyncio.StreamReader, keep: bool = False
                        ) -> tuple[int, bool, bytes]:
    """One HTTP/1.1 response: (status, the server closes the connection, body if
    ``keep`` else b"")."""
    line = await reader.readline()
    if not line:
        raise ConnectionResetError("connection closed before the status line")
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise ValueError(f"not an HTTP status line: {line[:80]!r}")
    status = int(parts[1])
    close = parts[0] == b"HTTP/1.0"
    length: int | None = None
    chunked = False
    for _ in range(200):
        header = await reader.readline()
        if header in (b"\r\n", b"\n"):
            break
        if not header:
            raise asyncio.IncompleteReadError(b"", None)
        name, _, value = header.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    else:
        raise ValueError("more than 200 header lines")
    body = bytearray()
    if chunked:
        for _ in range(1_000_000):
            size = int((await reader.readline()).split(b";")[0].strip() or b"x", 16)
            if size == 0:
                for _ in range(200):  # trailers
                    if (await reader.readline()) in (b"\r\n", b"\n", b""):
                        break
                break
            chunk = await reader.readexactly(size + 2)
            if keep:
                body += chunk[:-2]
    elif length is not None:
        chunk = await reader.readexactly(length)
        if keep:
            body += chunk
    elif status not in (204, 304) and status >= 200:
        body += await reader.read()  # to the end of the connection
        close = True
    return status, close, bytes(body)


async def one_request(port: int, path: str, query: str, timeout: float
                      ) -> tuple[int | None, float, bytes, str]:
    """GET ``query`` on a connection of its own: (status or None, seconds, body,
    error)."""
    t0 = time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(request_bytes(port, get_path(path, query), close=True))
            status, _, body = await read_response(reader, keep=True)
        return status, time.perf_counter() - t0, body, ""
    except TimeoutError:
        return None, time.perf_counter() - t0, b"", f"no answer in {timeout:g} s"
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        return None, time.perf_counter() - t0, b"", f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()


async def sequential(port: int, path: str, n: int, fresh: bool, timeout: float = 30.0
                     ) -> list[float]:
    """Latencies of ``n`` cheap requests one after the other, on one keep-alive connection
    or (``fresh``) each on a new one (connecting included); failures left out."""
    if fresh:
        out = []
        for _ in range(n):
            status, took, _, _ = await one_request(port, path, CHEAP, timeout)
            if status is not None:
                out.append(took)
        return out
    latencies: list[float] = []
    budget = time.perf_counter() + n * timeout
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        target = get_path(path, CHEAP)
        for _ in range(n):
            if time.perf_counter() > budget:
                break
            t0 = time.perf_counter()
            async with asyncio.timeout(timeout):
                writer.write(request_bytes(port, target))
                _, close, _ = await read_response(reader)
            latencies.append(time.perf_counter() - t0)
            if close:
                break
    finally:
        writer.close()
    return latencies


# --------------------------------------------------------------------------- results


def percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Run:
    """One load run on one server."""

    server: str
    mode: str
    level: int
    client: str
    requests: int = 0  # answered, whatever the status
    seconds: float = 0.0
    p50: float | None = None
    p99: float | None = None
    non2xx: int = 0
    socket_errors: int = 0
    timeouts: int = 0
    statuses: Counter[int] = field(default_factory=Counter)  # non-2xx, when known
    #: the most connections the server's port held established at once
    connected: int | None = None
    #: CPUs the rest of the machine kept busy right after the run, both servers idle
    background: float | None = None
    note: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors + self.timeouts


@dataclass
class Tally:
    """What the built-in client saw: per answer its latency, when it came (seconds from
    the start) and its status; and the failures."""

    answers: list[tuple[float, float, int]] = field(default_factory=list)
    socket_errors: int = 0
    timeouts: int = 0
    seconds: float = 0.0

    def window(self, server: str, mode: str, level: int, begin: float, end: float) -> Run:
        """The answers that came between ``begin`` and ``end`` (seconds from the start);
        failures are only counted for the whole run."""
        return self._run(server, mode, level, [a for a in self.answers if begin <= a[1] < end],
                         end - begin)

    def run(self, server: str, mode: str, level: int) -> Run:
        run = self._run(server, mode, level, self.answers, self.seconds)
        run.socket_errors, run.timeouts = self.socket_errors, self.timeouts
        return run

    @staticmethod
    def _run(server: str, mode: str, level: int, answers: list[tuple[float, float, int]],
             seconds: float) -> Run:
        latencies = [a[0] for a in answers]
        bad = Counter(a[2] for a in answers if not 200 <= a[2] < 300)
        return Run(server, mode, level, "python", len(answers), seconds,
                   percentile(latencies, 50), percentile(latencies, 99), sum(bad.values()),
                   statuses=bad)


async def python_load(port: int, make_target: Callable[[], str], connections: int,
                      seconds: float, timeout: float = REQUEST_TIMEOUT) -> Tally:
    """``connections`` keep-alive connections, each sending its next request as soon as
    the last is answered, for ``seconds`` (answers still awaited then are dropped, as
    wrk drops them) and at most MAX_REQUESTS requests in all."""
    tally = Tally()
    budget = [MAX_REQUESTS]
    start = time.perf_counter()
    deadline = start + seconds

    async def connection() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            while budget[0] > 0 and time.perf_counter() < deadline:
                budget[0] -= 1
                if writer is None or reader is None:
                    try:
                        async with asyncio.timeout(timeout):
                            reader, writer = await asyncio.open_connection(HOST, port)
                    except TimeoutError:
                        tally.timeouts += 1
                        continue
                    except OSError:
                        tally.socket_errors += 1
                        await asyncio.sleep(0.05)  # a refused connection: do not spin
                        continue
                t0 = time.perf_counter()
                close = True
                try:
                    async with asyncio.timeout(timeout):
                        writer.write(request_bytes(port, make_target()))
                        status, close, _ = await read_response(reader)
                except TimeoutError:
                    tally.timeouts += 1
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    tally.socket_errors += 1
                else:
                    now = time.perf_counter()
                    tally.answers.append((now - t0, now - start, status))
                if close:
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    tasks = [asyncio.create_task(connection()) for _ in range(connections)]
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.perf_counter()))
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    tally.seconds = time.perf_counter() - start
    return tally


# --------------------------------------------------------------------------- wrk

#: every request a text of its own: a constant made of the run's tag, the thread and a
#: counter, between the two halves of the URL (arguments after "--")
WRK_LUA = """\
-- written by benchmarks/serve_load.py
local counter = 0
local head, tail, tag = "", "", ""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", tostring(threads))
end
function init(args)
  head, tail, tag = args[1], args[2], args[3] .. "t" .. thread_number .. "n"
end
function request()
  counter = counter + 1
  return wrk.format(nil, head .. tag .. counter .. tail)
end
"""

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _wrk_time(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if m is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m[1]) * _UNITS[m[2]]


def parse_wrk(output: str, run: Run) -> Run:
    """Fill ``run`` from the output of ``wrk --latency``."""
    m = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    if m is None:
        raise ValueError(f"no request count in wrk's output:\n{output}")
    run.requests, run.seconds = int(m[1]), _wrk_time(m[2])
    if run.requests:
        for p, attr in (("50", "p50"), ("99", "p99")):
            pm = re.search(rf"^\s+{p}(?:\.0+)?%\s+([\d.]+\w+)\s*$", output, re.M)
            if pm:
                setattr(run, attr, _wrk_time(pm[1]))
    sm = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                   output)
    if sm:
        run.socket_errors = int(sm[1]) + int(sm[2]) + int(sm[3])
        run.timeouts = int(sm[4])
    nm = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if nm:
        run.non2xx = int(nm[1])
    return run


def wrk_threads(connections: int) -> int:
    """wrk gives each thread connections // threads: a divisor, at most the CPUs."""
    cpus = os.cpu_count() or 1
    return max(t for t in range(1, min(cpus, connections) + 1) if connections % t == 0)


def wrk_load(wrk: str, server: Server, mode: str, level: int, seconds: int, tmp: Path,
             tag: str) -> Run:
    cmd = [wrk, "-t", str(wrk_threads(level)), "-c", str(level), "-d", f"{seconds}s",
           "--latency", "--timeout", f"{REQUEST_TIMEOUT:.0f}s", "-H", f"Accept: {ACCEPT}"]
    if mode == "cheap":
        cmd.append(f"http://{HOST}:{server.port}{get_path(server.path, CHEAP)}")
    else:
        script = tmp / "distinct.lua"
        script.write_text(WRK_LUA)
        head = get_path(server.path, DISTINCT_HEAD)
        tail = urllib.parse.quote(DISTINCT_TAIL, safe="")
        cmd += ["-s", str(script), f"http://{HOST}:{server.port}{server.path}", "--", head,
                tail, tag]
    run = Run(server.name, mode, level, "wrk")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 90)
    except subprocess.TimeoutExpired:
        run.note = f"wrk did not finish in {seconds + 90} s (killed)"
        return run
    if proc.returncode != 0:
        run.note = f"wrk failed (exit {proc.returncode}): {proc.stderr.strip()[:200]}"
        return run
    try:
        return parse_wrk(proc.stdout, run)
    except ValueError as exc:
        run.note = str(exc).splitlines()[0]
        return run


# --------------------------------------------------------------------------- runs


class Targets:
    """The request targets of a mode: CHEAP every time, or a never-repeated text."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self._counter = itertools.count(1)
        self._runs = itertools.count(1)

    def run_tag(self) -> str:
        """A tag for one wrk run (whose Lua script counts on its own)."""
        return f"{self.tag}r{next(self._runs)}"

    def cheap(self, path: str) -> Callable[[], str]:
        target = get_path(path, CHEAP)
        return lambda: target

    def distinct(self, path: str) -> Callable[[], str]:
        head = get_path(path, DISTINCT_HEAD)
        tail = urllib.parse.quote(DISTINCT_TAIL, safe="")
        return lambda: f"{head}{self.tag}p{next(self._counter)}{tail}"


def load_run(server: Server, mode: str, level: int, seconds: int, client: str, wrk: str | None,
             tmp: Path, targets: Targets) -> Run:
    if not server.alive():
        return Run(server.name, mode, level, client,
                   note=f"{server.name} had exited (code {server.proc.returncode})")
    with ConnectionCounter(server.port) as counter:
        if client == "wrk" and wrk is not None:
            run = wrk_load(wrk, server, mode, level, seconds, tmp, targets.run_tag())
        else:
            make = (targets.cheap if mode == "cheap" else targets.distinct)(server.path)
            run = asyncio.run(python_load(server.port, make, level, seconds)).run(
                server.name, mode, level)
    run.connected = counter.peak
    if not server.alive():
        run.note = (run.note + "; " if run.note else "") + \
            f"{server.name} exited (code {server.proc.returncode}): {server.tail()}"
    return run


def merge(runs: list[Run]) -> Run:
    """Rounds of one server, mode and level: requests and seconds summed, p50 and p99
    the median of the rounds', errors summed."""
    first = runs[0]
    out = Run(first.server, first.mode, first.level, first.client)
    for r in runs:
        out.requests += r.requests
        out.seconds += r.seconds
        out.non2xx += r.non2xx
        out.socket_errors += r.socket_errors
        out.timeouts += r.timeouts
        out.statuses.update(r.statuses)
    for attr in ("p50", "p99"):
        values = [getattr(r, attr) for r in runs if getattr(r, attr) is not None]
        setattr(out, attr, statistics.median(values) if values else None)
    out.connected = min((r.connected for r in runs if r.connected is not None), default=None)
    backgrounds = [r.background for r in runs if r.background is not None]
    out.background = max(backgrounds, default=None)
    out.note = "; ".join(dict.fromkeys(r.note for r in runs if r.note))
    return out


@dataclass
class Scenario:
    """The runaway query beside 50 clients."""

    status: int | None
    seconds: float
    error: str
    body: str
    sent_at: float
    windows: list[tuple[str, Run]]


async def runaway_scenario(kg: Server, targets: Targets, seconds: float, timeout: float
                           ) -> Scenario:
    load = asyncio.create_task(python_load(kg.port, targets.cheap(kg.path),
                                           SCENARIO_CONNECTIONS, seconds))
    delay = min(2.0, seconds / 4)
    started = time.perf_counter()
    await asyncio.sleep(delay)
    sent_at = time.perf_counter() - started
    status, took, body, error = await one_request(kg.port, kg.path, RUNAWAY, timeout)
    tally = await load
    end = sent_at + took
    name, lv = kg.name, SCENARIO_CONNECTIONS
    windows = [("before it was sent", tally.window(name, "runaway", lv, 0.0, sent_at)),
               ("while it ran", tally.window(name, "runaway", lv, sent_at,
                                             min(end, tally.seconds)))]
    if end < tally.seconds:
        windows.append(("after its answer", tally.window(name, "runaway", lv, end,
                                                         tally.seconds)))
    whole = tally.run(name, "runaway", lv)
    windows.append(("whole run", whole))
    return Scenario(status, took, error, _first_line(body), sent_at, windows)


@dataclass
class MemoryResult:
    idle_start: Memory
    idle_before: Memory
    peak: Memory
    peak_pss: int
    after: Memory
    samples: int
    capped: bool
    cap: int
    answers: list[tuple[int | None, float, str]]


async def _memory_queries(kg: Server, timeout: float) -> list[tuple[int | None, float, str]]:
    done = await asyncio.gather(*(one_request(kg.port, kg.path, MEMORY, timeout)
                                  for _ in range(MEMORY_QUERIES)))
    return [(status, took, error or _first_line(body)) for status, took, body, error in done]


def _first_line(body: bytes, limit: int = 160) -> str:
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        return ""  # a result, not a message
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


# --------------------------------------------------------------------------- report


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def rate(rps: float) -> str:
    return f"{rps:,.0f}" if rps >= 100 else f"{rps:.1f}"


def mib(n_bytes: int | None) -> str:
    return "-" if n_bytes is None else f"{n_bytes / 2**20:,.0f} MiB"


def errors_cell(run: Run) -> str:
    if run.note and not run.requests:
        return f"not measured: {run.note}"
    parts = []
    if run.non2xx:
        codes = ", ".join(f"{code} x{n}" for code, n in sorted(run.statuses.items()))
        parts.append(f"non-2xx {run.non2xx}" + (f" ({codes})" if codes else ""))
    if run.socket_errors:
        parts.append(f"socket {run.socket_errors}")
    if run.timeouts:
        parts.append(f"timeouts {run.timeouts}")
    cell = f"{run.errors}" + (": " + ", ".join(parts) if parts else "")
    return cell + (f" ({run.note})" if run.note else "")


def ratio(kg: Run, ox: Run) -> str:
    if not kg.rps or not ox.rps:
        return "-"
    r = kg.rps / ox.rps
    return f"{r:.2f}" if r >= 0.1 else f"{r:.2g} (1/{1 / r:,.0f})"


def load_table(runs: dict[tuple[str, int], Run], levels: Sequence[int]) -> list[str]:
    lines = ["| connections | kg req/s | kg p50 | kg p99 | kg errors | kg accepted | "
             "Oxigraph req/s | Oxigraph p50 | Oxigraph p99 | Oxigraph errors | "
             "Oxigraph accepted | kg / Oxigraph req/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for level in levels:
        kg, ox = runs[("kg", level)], runs[("oxigraph", level)]
        cells = [str(level)]
        for r in (kg, ox):
            cells += [rate(r.rps), ms(r.p50), ms(r.p99), errors_cell(r),
                      "-" if r.connected is None else str(r.connected)]
        cells.append(ratio(kg, ox))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def version_of(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    out = (proc.stdout or proc.stderr).strip().splitlines()
    return out[0] if out else "?"


def machine(oxigraph: str, wrk: str | None) -> list[str]:
    cpu = cpu_model()
    ram = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    try:
        kg_version = metadata.version("kg")
    except metadata.PackageNotFoundError:
        kg_version = "not installed"
    return [
        f"- machine: {platform.platform()}; CPU: {cpu}, {os.cpu_count()} logical CPUs; "
        f"RAM {ram}",
        f"- Python {platform.python_version()}; kg {kg_version}; "
        f"{version_of([oxigraph, '--version'])}"
        + (f"; {version_of([wrk, '-v']).split(' Copyright')[0]}" if wrk else ""),
    ]


@dataclass
class Report:
    command: str
    started: datetime
    machine: list[str]
    client: str
    wrk: str | None
    levels: list[int]
    seconds: int
    rounds: int
    kg_cmd: str
    ox_cmd: str
    kg_timeout: float
    kg_source: str
    rows: dict[str, int]
    runs: dict[str, dict[tuple[str, int], Run]] = field(default_factory=dict)
    round_ratios: dict[str, dict[int, list[str]]] = field(default_factory=dict)
    runaway: Scenario | None = None
    memory: MemoryResult | None = None
    #: server -> (keep-alive latencies, fresh-connection latencies), one client
    probe: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    loadavg: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    took: float = 0.0

    def markdown(self) -> str:
        scenario_s = self.runaway.windows[-1][1].seconds if self.runaway else 0
        gen = (f"`wrk` ({self.wrk}; `--latency --timeout {REQUEST_TIMEOUT:.0f}s`, threads "
               "= the largest divisor of the connections up to the CPUs; the distinct texts "
               "from a Lua `request()`)" if self.client == "wrk" else
               "the built-in asyncio HTTP/1.1 keep-alive client (one Python thread, "
               f"per-request timeout {REQUEST_TIMEOUT:.0f} s)")
        lines = [
            "## kg serve under load, beside Oxigraph's server",
            "",
            "Written by `benchmarks/serve_load.py --write` (`benchmarks/run.py` keeps this "
            "block). Produced by:",
            "",
            "```sh",
            self.command,
            "```",
            "",
            f"Date: {self.started.strftime('%Y-%m-%d %H:%M UTC')}; the run took "
            f"{self.took:.0f} s; load average (1, 5, 15 min) at its start "
            f"{' / '.join(self.loadavg[:1]) or '?'}, at its end "
            f"{' / '.join(self.loadavg[1:]) or '?'}.",
            "",
            *self.machine,
            f"- load generator: {gen}; it runs on the same machine as the servers. The "
            "scenarios always use the built-in client.",
            f"- kg: `{self.kg_cmd}` (the package imported from {self.kg_source}; its cache "
            "of checked queries in a fresh temporary directory, `KG_CACHE_DIR`)",
            f"- Oxigraph: `{self.ox_cmd}` (after `oxigraph load --location TMP/ox --file "
            "TMP/build/graph.nt`)",
            "",
            f"Each level: {self.seconds} s of keep-alive connections, each sending its next "
            "GET `?query=` (`Accept: application/sparql-results+json`) as soon as the last is "
            f"answered; {self.rounds} round(s), kg and Oxigraph taking turns (which goes "
            "first alternates by level and round), each run after the server of the last one "
            "is idle again. Latencies are of the answers that came in the run's time; one "
            "still awaited at its end is not counted (as in wrk). Errors are non-2xx answers, "
            "socket errors (connect, read, write) and timeouts. "
            "*Accepted* is the most connections the server's port held established at once "
            "(/proc/net/tcp, every 0.2 s; over rounds the least of the rounds'): fewer than "
            "the level means that the other connections waited for the server to accept "
            "them, and their requests, neither answered nor failed in the run's time, count "
            "nowhere else (wrk's --timeout is 60 s). "
            + ("Over rounds: requests per second over the summed time; p50 and p99 the "
               "median of the rounds'. " if self.rounds > 1 else "")
            + "`kg / Oxigraph req/s` is kg's throughput over Oxigraph's.",
            "",
            self._noise(),
            "",
            "### Cheap query, the same text every request",
            "",
            f"`{CHEAP}` ({self.rows.get('cheap', '?')} rows from each server)",
            "",
            *load_table(self.runs["cheap"], self.levels),
        ]
        lines += self._round_ratios("cheap")
        lines += [
            "",
            "### Distinct queries: a new text every request (uncached)",
            "",
            f"`{DISTINCT_HEAD}TAG{DISTINCT_TAIL}`, TAG never the same twice in a run "
            f"({self.rows.get('distinct', '?')} rows from each server): no cache of query "
            "texts, plans or results can answer it. The honest uncached number.",
            "",
            *load_table(self.runs["distinct"], self.levels),
        ]
        lines += self._round_ratios("distinct")
        if self.probe:
            n = max(len(k) for k, _ in self.probe.values())
            lines += [
                "",
                "### One client: keep-alive or a new connection per request",
                "",
                f"{n} cheap queries one after the other, on one keep-alive connection, then "
                f"{n} each on a new connection (`Connection: close`; connecting included). "
                "A keep-alive latency well above the new-connection one is a wait in TCP "
                "(such as Nagle's algorithm holding back a response's second write until "
                "the client's delayed ACK), not work.",
                "",
                "| server | keep-alive p50 | keep-alive max | new connection p50 | "
                "new connection max |",
                "|---|---|---|---|---|",
            ]
            for name, (keep, fresh) in self.probe.items():
                lines.append(f"| {LABELS[name]} | {ms(percentile(keep, 50))} | "
                             f"{ms(max(keep, default=None))} | {ms(percentile(fresh, 50))} | "
                             f"{ms(max(fresh, default=None))} |")
        if self.runaway is not None:
            s = self.runaway
            status = str(s.status) if s.status is not None else f"none ({s.error})"
            lines += [
                "",
                "### Runaway query beside 50 clients (kg)",
                "",
                f"{SCENARIO_CONNECTIONS} connections run the cheap query against kg for "
                f"{scenario_s:.0f} s; {s.sent_at:.1f} s in, one more connection sends "
                f"`{RUNAWAY}` (kg's timeout: {self.kg_timeout:g} s). Windows by when the "
                "answers came.",
                "",
                "| runaway query | HTTP status | time | message |",
                "|---|---|---|---|",
                f"| `{RUNAWAY}` | {status} | {ms(s.seconds)} | {s.body or '-'} |",
                "",
                "| 50 clients | seconds | answers | req/s | p50 | p99 | errors |",
                "|---|---|---|---|---|---|---|",
            ]
            for label, r in s.windows:
                lines.append(f"| {label} | {r.seconds:.1f} | {r.requests:,} | {rate(r.rps)} | "
                             f"{ms(r.p50)} | {ms(r.p99)} | {errors_cell(r)} |")
        if self.memory is not None:
            m = self.memory
            lines += [
                "",
                "### Memory: three sorted cartesian products at once (kg)",
                "",
                f"{MEMORY_QUERIES} x `{MEMORY}` sent together (kg's timeout: "
                f"{self.kg_timeout:g} s). Memory of `kg serve` and all its descendants "
                f"(by the ppid links of /proc/*/stat), sampled every {SAMPLE_EVERY:g} s "
                f"({m.samples} samples): RSS summed over the processes (pages a fork shares "
                "count once per process) and PSS summed (shared pages split: closer to what "
                "the machine spends). 1 MiB = 2^20 bytes."
                + (f" The benchmark killed kg serve when the summed RSS passed its cap of "
                   f"{mib(m.cap)} (`--memory-cap-mb`)." if m.capped else ""),
                "",
                "| kg serve | summed RSS | summed PSS | largest process | processes |",
                "|---|---|---|---|---|",
            ]
            rows = [("idle, after start and warm-up", m.idle_start),
                    ("idle, before the queries", m.idle_before),
                    ("peak while they ran", m.peak)]
            if not m.capped:
                rows.append(("1 s after the last answer", m.after))
            for label, mem in rows:
                pss = mem.pss if mem is not m.peak else m.peak_pss
                lines.append(f"| {label} | {mib(mem.rss)} | {mib(pss)} | {mib(mem.largest)} | "
                             f"{mem.processes} |")
            lines += ["", "| query | HTTP status | time | message |", "|---|---|---|---|"]
            for i, (status_, took, message) in enumerate(m.answers, 1):
                lines.append(f"| {i} | {status_ if status_ is not None else 'none'} | "
                             f"{ms(took)} | {message or '-'} |")
        if self.notes:
            lines += ["", "Notes:", ""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def _noise(self) -> str:
        """How busy the rest of the machine was between the load runs."""
        runs = [r for by_level in self.runs.values() for r in by_level.values()
                if r.background is not None]
        if not runs:
            return ""
        worst = max(runs, key=lambda r: r.background or 0.0)
        mean = statistics.mean(r.background or 0.0 for r in runs)
        line = ("Background: after each run, with both servers idle again, the rest of the "
                f"machine kept {mean:.2f} CPUs busy on average")
        if (worst.background or 0.0) >= 0.25:
            line += (f", at most {worst.background:.2f} (after {worst.mode}, "
                     f"{LABELS[worst.server]}, {worst.level} connections): other work shared "
                     "the machine, which is why the runs are interleaved")
        return line + "."

    def _round_ratios(self, mode: str) -> list[str]:
        if self.rounds < 2:
            return []
        per = self.round_ratios.get(mode, {})
        return ["", "kg / Oxigraph req/s by round: " + "; ".join(
            f"{level} connections: {', '.join(per.get(level, []))}" for level in self.levels)]


def write_results(markdown: str, path: Path = RESULTS) -> None:
    """Put ``markdown`` between the serve-load markers of ``path`` (at its end if they are
    not there), atomically."""
    block = f"{BEGIN}\n{markdown.rstrip()}\n{END}"
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    begin, end = old.find(BEGIN), old.find(END)
    if begin >= 0 and end > begin:
        new = old[:begin] + block + old[end + len(END):]
    else:
        new = (old.rstrip("\n") + "\n\n" if old.strip() else "") + block + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(path)


# --------------------------------------------------------------------------- main


def kg_timeout_of(kg_args: Sequence[str]) -> float:
    for i, arg in enumerate(kg_args):
        if arg == "--timeout" and i + 1 < len(kg_args):
            return float(kg_args[i + 1])
        if arg.startswith("--timeout="):
            return float(arg.split("=", 1)[1])
    return KG_DEFAULT_TIMEOUT


def git_commit(directory: Path) -> str:
    """The short commit of the git checkout ``directory`` is in, marked if it has
    uncommitted changes; "no git checkout" if it is in none."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=directory,
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=directory, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "no git checkout"
    return f"commit {head}" + (" with uncommitted changes" if dirty else "")


def kg_source(env: dict[str, str], tmp: Path) -> str:
    """Where the kg commands import kg from (PYTHONPATH may point at another checkout),
    and that checkout's commit."""
    proc = subprocess.run([sys.executable, "-c", "import kg; print(kg.__file__)"], cwd=tmp,
                          env=env, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        return "? (import kg failed)"
    package = Path(proc.stdout.strip()).parent
    try:
        shown = str(package.relative_to(REPO))
    except ValueError:
        shown = str(package)
    return f"`{shown}`, {git_commit(package)}"


def rows_of(body: bytes) -> int:
    return len(json.loads(body)["results"]["bindings"])


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    def raise_interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def executable(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=None,
                        help="concurrent connections per level (default: 1 8 50 200)")
    parser.add_argument("--seconds", type=int, default=None,
                        help="seconds of load per level and server (default 10)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of all levels")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk if on PATH (auto), or the built-in one")
    parser.add_argument("--kg-args", default="",
                        help="more options for kg serve, e.g. '--timeout 5' (one word: "
                             "--kg-args=--timeout=5; default none)")
    parser.add_argument("--scenario-seconds", type=float, default=None,
                        help=f"length of the runaway scenario's load (default "
                             f"{SCENARIO_SECONDS:g}; --quick {QUICK_SCENARIO_SECONDS:g})")
    parser.add_argument("--memory-cap-mb", type=int, default=None,
                        help="kill kg serve if its summed RSS passes this (default: half "
                             "of the memory available at the start)")
    parser.add_argument("--no-scenarios", action="store_true",
                        help="only the load levels, not the runaway and memory scenarios")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: levels 1 8, 1 s each, short scenarios, and kg "
                             "serve --timeout 2 unless --kg-args sets one")
    parser.add_argument("--write", action="store_true",
                        help="also put the Markdown into benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    levels: list[int] = args.levels or ([1, 8] if args.quick else [1, 8, 50, 200])
    seconds: int = args.seconds or (1 if args.quick else 10)
    scenario_seconds: float = args.scenario_seconds or (
        QUICK_SCENARIO_SECONDS if args.quick else SCENARIO_SECONDS)
    kg_args = shlex.split(args.kg_args)
    if args.quick and not any(a == "--timeout" or a.startswith("--timeout=")
                              for a in kg_args):
        kg_args += ["--timeout", "2"]
    if seconds < 1 or args.rounds < 1 or any(n < 1 for n in levels):
        parser.error("--seconds, --rounds and --levels must be at least 1")
    kg_timeout = kg_timeout_of(kg_args)

    wrk = shutil.which("wrk")
    client = args.client
    if client == "auto":
        client = "wrk" if wrk else "python"
    if client == "wrk" and wrk is None:
        parser.error("--client wrk: no wrk on PATH (Debian: apt-get install wrk)")
    oxigraph = executable("oxigraph")
    if oxigraph is None:
        raise SystemExit("no oxigraph server binary (pip install oxigraph)")
    kg_script = executable("kg")
    kg = [kg_script] if kg_script else [sys.executable, "-m", "kg"]
    available = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            available = int(line.split()[1]) * 1024
    cap = args.memory_cap_mb * 2**20 if args.memory_cap_mb else available // 2

    started = datetime.now(UTC)
    load_at_start = loadavg()
    command = command_line(__file__, argv)
    servers: list[Server] = []
    with sigterm_as_interrupt(), tempfile.TemporaryDirectory(prefix="kg-serve-load-") as t:
        tmp = Path(t)
        try:
            report = run_all(args, tmp, servers, kg, kg_args, oxigraph, client, wrk, levels,
                             seconds, scenario_seconds, kg_timeout, cap, command, started)
            report.loadavg.append(load_at_start)
        except KeyboardInterrupt:
            log("interrupted: stopping the servers")
            raise SystemExit(130) from None
        finally:
            for server in servers:
                stop(server)
    report.took = time.perf_counter() - _STARTED
    report.loadavg.append(loadavg())
    text = report.markdown()
    print(text, end="")
    if args.write:
        write_results(text)
        log(f"wrote the serve-load block of {RESULTS.relative_to(REPO)}")


def run_all(args: argparse.Namespace, tmp: Path, servers: list[Server], kg: list[str],
            kg_args: list[str], oxigraph: str, client: str, wrk: str | None,
            levels: list[int], seconds: int, scenario_seconds: float, kg_timeout: float,
            cap: int, command: str, started: datetime) -> Report:
    build, store = tmp / "build", tmp / "ox"
    env = {**os.environ, "KG_CACHE_DIR": str(tmp / "cache")}
    log("kg build")
    proc = subprocess.run([*kg, "build", "--build-dir", str(build)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"kg build failed: {proc.stderr.strip()}")
    log("oxigraph load")
    proc = subprocess.run([oxigraph, "load", "--location", str(store), "--file",
                           str(build / "graph.nt")], capture_output=True, text=True,
                          timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"oxigraph load failed: {proc.stderr.strip()}")

    kg_port, ox_port = free_port(), free_port()
    kg_cmd = [*kg, "serve", "--build-dir", str(build), "--port", str(kg_port), "--quiet",
              *kg_args]
    ox_cmd = [oxigraph, "serve-read-only", "--location", str(store), "--bind",
              f"{HOST}:{ox_port}"]
    by_name: dict[str, Server] = {}
    for name, cmd, port in (("kg", kg_cmd, kg_port), ("oxigraph", ox_cmd, ox_port)):
        server = start(name, cmd, port, tmp, env)
        servers.append(server)
        by_name[name] = server
    for server in servers:
        wait_ready(server)
        log(f"{server.name} answers at {server.url}")

    def shown(cmd: list[str]) -> str:
        names = {kg[0]: "kg" if len(kg) == 1 else kg[0], oxigraph: "oxigraph"}
        return shlex.join(names.get(c, c) for c in cmd).replace(str(tmp), "TMP")

    used_wrk = wrk if client == "wrk" else None
    report = Report(command, started, machine(oxigraph, used_wrk), client, used_wrk, levels,
                    seconds, args.rounds, shown(kg_cmd), shown(ox_cmd), kg_timeout,
                    kg_source(env, tmp), {})

    # the same answers from both, and a warm-up (kg checks a new text once)
    tag = secrets.token_hex(3)
    targets = Targets(tag)
    for mode, text in (("cheap", CHEAP), ("distinct", f"{DISTINCT_HEAD}{tag}w{DISTINCT_TAIL}")):
        counts = {}
        for name, server in by_name.items():
            for _ in range(3):
                status, _, body, error = asyncio.run(one_request(server.port, server.path,
                                                                 text, 30.0))
            if status != 200:
                raise SystemExit(f"{name} answered the {mode} query with {status or error}: "
                                 f"{_first_line(body)}")
            counts[name] = rows_of(body)
        if len(set(counts.values())) != 1:
            report.notes.append(f"the {mode} query's row counts differ: {counts}")
        report.rows[mode] = counts["kg"]
    kg_server = by_name["kg"]
    idle: dict[str, int] = {}  # processes of each server when idle
    for name, server in by_name.items():
        report.probe[name] = (asyncio.run(sequential(server.port, server.path, PROBE, False)),
                              asyncio.run(sequential(server.port, server.path, PROBE, True)))
        idle[name] = idle_processes(server.proc.pid)
        settle(name, server.proc.pid, idle[name], 10.0)
    idle_start = tree_memory(kg_server.proc.pid)
    settle_limit = 2 * kg_timeout + 20

    for mode in ("cheap", "distinct"):
        per: dict[tuple[str, int], list[Run]] = {}
        for round_ in range(args.rounds):
            for i, level in enumerate(levels):
                order = SERVERS if (i + round_) % 2 == 0 else SERVERS[::-1]
                for name in order:
                    server = by_name[name]
                    log(f"{mode}: {name}, {level} connection(s), {seconds} s"
                        + (f" (round {round_ + 1})" if args.rounds > 1 else ""))
                    run = load_run(server, mode, level, seconds, client, wrk, tmp, targets)
                    if server.alive():
                        run.background = settle(name, server.proc.pid, idle[name],
                                                settle_limit)
                    log(f"  {run.requests:,} answers, {rate(run.rps)} req/s, p50 "
                        f"{ms(run.p50)}, p99 {ms(run.p99)}, errors {errors_cell(run)}; "
                        f"{run.connected} connection(s) accepted; background "
                        + ("-" if run.background is None else f"{run.background:.2f}")
                        + " CPUs")
                    per.setdefault((name, level), []).append(run)
        report.runs[mode] = {key: merge(runs) for key, runs in per.items()}
        report.round_ratios[mode] = {
            level: [ratio(k, o) for k, o in zip(per[("kg", level)], per[("oxigraph", level)],
                                                 strict=True)] for level in levels}

    if not args.no_scenarios and kg_server.alive():
        log(f"runaway: {SCENARIO_CONNECTIONS} connections on kg for {scenario_seconds:g} s, "
            "and one runaway query")
        report.runaway = asyncio.run(runaway_scenario(kg_server, targets, scenario_seconds,
                                                      3 * kg_timeout + 30))
        log(f"  runaway: {report.runaway.status} in {ms(report.runaway.seconds)}")
        settle("kg", kg_server.proc.pid, idle["kg"], settle_limit)
    if not args.no_scenarios and kg_server.alive():
        log(f"memory: {MEMORY_QUERIES} sorted cartesian products at once on kg")
        idle_before = tree_memory(kg_server.proc.pid)
        with Sampler(kg_server.proc.pid, cap) as sampler:
            answers = asyncio.run(_memory_queries(kg_server, 3 * kg_timeout + 30))
        time.sleep(1.0)
        after = tree_memory(kg_server.proc.pid)
        report.memory = MemoryResult(idle_start, idle_before, sampler.peak, sampler.peak_pss,
                                     after, sampler.samples, sampler.capped, cap, answers)
        log(f"  peak summed RSS {mib(sampler.peak.rss)}; answers "
            + ", ".join(str(a[0]) for a in answers))
    for server in servers:
        if not server.alive() and not (report.memory and report.memory.capped
                                       and server.name == "kg"):
            report.notes.append(f"{server.name} exited during the run (code "
                                f"{server.proc.returncode}): {server.tail()}")
    return report


if __name__ == "__main__":
    main()
