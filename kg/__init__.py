"""kg: turn health documents into a grounded RDF knowledge graph.

The public API (names load lazily, so ``import kg`` is cheap)::

    import kg
    kg.build_graph(Path("data"), Path("build"))   # facts + sources + ontology -> build/
    built = kg.load(Path("build"))                # built.graph is an rdflib.Graph
    report = kg.validate_build(built, Path("data"))  # shapes, grounding, freshness
    counts = kg.graph_stats(built.graph)          # counts by class, relation, population
    data = kg.serialize(built.graph, "jsonld")    # bytes in any format of kg.FORMATS
    html = kg.render_html(built.graph)            # the interactive page, one offline file
    rows = built.query("causes-for-population", population="kgr:children")  # named SPARQL

Function names differ from the module names (kg.build is the module) on purpose.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "build_graph": ("kg.build", "build"),
    "BuildResult": ("kg.build", "BuildResult"),
    "load": ("kg.store", "load_build"),
    "Build": ("kg.store", "Build"),
    "validate_build": ("kg.validate", "validate"),
    "ValidationReport": ("kg.validate", "ValidationReport"),
    "graph_stats": ("kg.stats", "stats"),
    "serialize": ("kg.export", "export"),
    "FORMATS": ("kg.export", "FORMATS"),
    "load_corpus": ("kg.facts", "load_corpus"),
    "render_html": ("kg.viz", "render_html"),
    "KgError": ("kg.errors", "KgError"),
    "UsageError": ("kg.errors", "UsageError"),
    "DataError": ("kg.errors", "DataError"),
    "FactsError": ("kg.errors", "FactsError"),
    "BuildNotFoundError": ("kg.errors", "BuildNotFoundError"),
    "ValidationFailed": ("kg.errors", "ValidationFailed"),
    "QueryError": ("kg.errors", "QueryError"),
    "QueryRefused": ("kg.errors", "QueryRefused"),
    "QueryResult": ("kg.queries", "QueryResult"),
    "load_queries": ("kg.queries", "load_queries"),
    "run_query": ("kg.queries", "run"),
}

__all__ = [
    "FORMATS",
    "Build",
    "BuildNotFoundError",
    "BuildResult",
    "DataError",
    "FactsError",
    "KgError",
    "QueryError",
    "QueryRefused",
    "QueryResult",
    "UsageError",
    "ValidationFailed",
    "ValidationReport",
    "__version__",
    "build_graph",
    "graph_stats",
    "load",
    "load_corpus",
    "load_queries",
    "render_html",
    "run_query",
    "serialize",
    "validate_build",
]

if TYPE_CHECKING:
    from .build import BuildResult
    from .build import build as build_graph
    from .errors import (
        BuildNotFoundError,
        DataError,
        FactsError,
        KgError,
        QueryError,
        QueryRefused,
        UsageError,
        ValidationFailed,
    )
    from .export import FORMATS
    from .export import export as serialize
    from .facts import load_corpus
    from .queries import QueryResult, load_queries
    from .queries import run as run_query
    from .stats import stats as graph_stats
    from .store import Build
    from .store import load_build as load
    from .validate import ValidationReport
    from .validate import validate as validate_build
    from .viz import render_html


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'kg' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value
