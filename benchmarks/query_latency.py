"""How long a SPARQL query takes: `kg query` cold (a fresh process every time, start-up
and graph loading included) and the `kg serve` endpoint, alone and under concurrent
clients (each request is evaluated in a process of its own).

    .venv/bin/python benchmarks/query_latency.py [--runs 10] [--clients 8] [--requests 20]

Builds the repository's data into a temporary directory first; prints the machine, the
commands and a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KG = [sys.executable, "-m", "kg"]
COLD = [
    ["query", "causes-by-category", "--format", "tsv"],
    ["query", "causes-for-population", "-p", "population", "kgr:children", "--format", "json"],
    ["query", "evidence", "-p", "entity", "kgr:eclampsia", "--format", "tsv"],
]
SERVER_QUERIES = [
    ("causes-by-category", "application/sparql-results+json"),
    ("evidence", "text/csv"),
    ("specialists", "application/sparql-results+xml"),
    ("entity-graph", "text/turtle"),
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cold(build_dir: Path, runs: int) -> list[tuple[str, float, float]]:
    out = []
    for args in [["--version"], *COLD]:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([*KG, *args, "--build-dir", str(build_dir)] if args[0] != "--version"
                           else [*KG, *args], check=True, stdout=subprocess.DEVNULL,
                           cwd=build_dir.parent)
            times.append(time.perf_counter() - started)
        out.append(("kg " + shlex.join(args), statistics.median(times), min(times)))
    return out


def start_server(build_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen([*KG, "serve", "--port", "0", "--quiet", "--build-dir",
                             str(build_dir)], stderr=subprocess.PIPE, cwd=build_dir.parent)
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()
    m = re.search(r"(http://\S+/sparql)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"kg serve did not start: {line}")
    return proc, m.group(1)


def requests_for(endpoint: str) -> list[urllib.request.Request]:
    sys.path.insert(0, str(REPO))
    from kg.queries import load_queries

    named = load_queries(REPO / "queries")
    return [urllib.request.Request(
        endpoint + "?" + urllib.parse.urlencode({"query": named[name].bind()}),
        headers={"Accept": accept}) for name, accept in SERVER_QUERIES]


def timed(request: urllib.request.Request) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
    return time.perf_counter() - started


def load(requests: list[urllib.request.Request], clients: int,
         per_client: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        try:
            for i in range(per_client):
                seconds = timed(requests[(n + i) % len(requests)])
                with lock:
                    latencies.append(seconds)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} requests failed: {errors[0]!r}")
    return latencies, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="cold runs per command")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--requests", type=int, default=20, help="requests per client")
    args = parser.parse_args()

    import rdflib

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, rdflib {rdflib.__version__}")
    print(f"command: {shlex.join([Path(sys.executable).name, *sys.argv])}")
    with tempfile.TemporaryDirectory() as tmp:
        build_dir = Path(tmp) / "build"
        subprocess.run([*KG, "build", "--build-dir", str(build_dir)], check=True,
                       stderr=subprocess.DEVNULL, cwd=tmp)

        print(f"\n`kg query`, cold (a fresh process; median and best of {args.runs}):\n")
        print("| command | median | best |\n|---|---|---|")
        for command, median, best in cold(build_dir, args.runs):
            print(f"| `{command}` | {median:.2f} s | {best:.2f} s |")

        proc, endpoint = start_server(build_dir)
        try:
            requests = requests_for(endpoint)
            for r in requests:  # warm up
                timed(r)
            alone = [timed(requests[i % len(requests)]) for i in range(4 * len(requests))]
            latencies, wall = load(requests, args.clients, args.requests)
        finally:
            proc.terminate()
            proc.wait(10)
        print(f"\n`kg serve`, {len(SERVER_QUERIES)} named queries in JSON, CSV, XML and "
              "Turtle, round robin (ms):\n")
        print("| clients | requests | median | p95 | max | throughput |\n|---|---|---|---|---|---|")
        print(f"| 1 | {len(alone)} | {statistics.median(alone) * 1000:.0f} | "
              f"{percentile(alone, 95) * 1000:.0f} | {max(alone) * 1000:.0f} | "
              f"{len(alone) / sum(alone):.0f}/s |")
        print(f"| {args.clients} | {len(latencies)} | {statistics.median(latencies) * 1000:.0f} | "
              f"{percentile(latencies, 95) * 1000:.0f} | {max(latencies) * 1000:.0f} | "
              f"{len(latencies) / wall:.0f}/s |")


if __name__ == "__main__":
    main()
