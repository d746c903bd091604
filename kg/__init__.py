"""kg: turn health documents into a grounded RDF knowledge graph.

The public API (names load lazily, so ``import kg`` is cheap)::

    import kg
    kg.build_graph()                              # the shipped data -> ./build (or args)
    built = kg.load()                             # ./build; built.graph is an rdflib.Graph
    report = kg.validate_build(built, Path("data"))  # shapes, grounding, freshness
    counts = kg.graph_stats(built.graph)          # counts by class, relation, population
    data = kg.serialize(built.graph, "jsonld")    # bytes in any format of kg.FORMATS
    html = kg.render_html(built.graph)            # the interactive page, one offline file
    rows = built.query("causes-for-population", population="kgr:children")  # named SPARQL
    rows.to_dataframe()                           # pandas, IRIs as CURIEs
    part = kg.select(built, around="leg cramp")   # a subgraph, by name
    g = kg.to_networkx(part)                      # networkx.MultiDiGraph
    kg.show(part)                                 # the interactive graph, inline in Jupyter

Function names differ from the module names (kg.build is the module) on purpose.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "build_graph": ("kg.api", "build_graph"),
    "BuildResult": ("kg.build", "BuildResult"),
    "load": ("kg.api", "load"),
    "select": ("kg.api", "select"),
    "INFERRED_GRAPH": ("kg.infer", "INFERRED_GRAPH"),
    "to_networkx": ("kg.api", "to_networkx"),
    "show": ("kg.notebook", "show"),
    "Subgraph": ("kg.notebook", "Subgraph"),
    "Build": ("kg.store", "Build"),
    "validate_build": ("kg.api", "validate_build"),
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
    "INFERRED_GRAPH",
    "KgError",
    "QueryError",
    "QueryRefused",
    "QueryResult",
    "Subgraph",
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
    "select",
    "serialize",
    "show",
    "to_networkx",
    "validate_build",
]

if TYPE_CHECKING:
    from .api import build_graph, load, select, to_networkx, validate_build
    from .build import BuildResult
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
    from .infer import INFERRED_GRAPH
    from .notebook import Subgraph, show
    from .queries import QueryResult, load_queries
    from .queries import run as run_query
    from .stats import stats as graph_stats
    from .store import Build
    from .validate import ValidationReport
    from .viz import render_html


def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'kg' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value
