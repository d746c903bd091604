"""Load what ``kg build`` produced.

Today one backend: an rdflib in-memory graph read from ``build/graph.nt``.
The manifest written with it tells whether the files belong together.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import Graph

from .build import GRAPH_NT, MANIFEST
from .errors import BuildNotFoundError, DataError
from .vocab import bind_prefixes

if TYPE_CHECKING:
    from .queries import QueryResult


@dataclass(frozen=True)
class Build:
    """A build directory's graph and manifest."""

    path: Path
    graph: Graph
    manifest: dict[str, Any]

    def query(self, query: str | Path, /, **params: object) -> QueryResult:
        """Run a named query (``"causes-for-population"``), a ``.rq`` file or SPARQL text
        over the graph, with ``params`` bound as RDF terms (``population="kgr:children"``).

        Returns a :class:`kg.queries.QueryResult`: iterate it for the rows (dicts of
        variable name -> rdflib term), or use ``.records()`` for plain Python values.
        The query is checked as everywhere (no SERVICE, FROM or updates).
        """
        from .queries import run

        return run(self.graph, query, params)


def read_manifest(build_dir: Path) -> dict[str, Any]:
    path = build_dir / MANIFEST
    if not path.is_file():
        raise BuildNotFoundError(
            f"no build in {build_dir}: run 'kg build' first (or pass --build-dir)")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable manifest ({exc}); run 'kg build' again") from None
    return manifest


def load_build(build_dir: Path) -> Build:
    """Load the graph of ``build_dir``, checking it against its manifest."""
    manifest = read_manifest(build_dir)
    nt_path = build_dir / GRAPH_NT
    try:
        data = nt_path.read_bytes()
    except OSError:
        raise BuildNotFoundError(f"{nt_path} is missing: run 'kg build' again") from None
    expected = manifest.get("outputs", {}).get(GRAPH_NT)
    if hashlib.sha256(data).hexdigest() != expected:
        raise DataError(f"{nt_path} does not match {build_dir / MANIFEST} (an interrupted "
                        "or edited build): run 'kg build' again")
    graph = bind_prefixes(Graph())
    graph.parse(data=data, format="nt")
    return Build(path=build_dir, graph=graph, manifest=manifest)
