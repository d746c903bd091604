"""Shell completion for the CLI: query names and entity names.

click completes commands and options itself (``_KG_COMPLETE=bash_source kg``, see
README, "Shell completion"); these functions add the values only kg knows: the named
queries of the queries directory, and the entities of the build (by id, with the
label as the help shells such as zsh and fish show).

A completion must never fail loudly or take long: on any error it offers nothing,
and the build's labels are read from ``graph.nt`` with Oxigraph's streaming parser,
without rdflib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from .prefixes import NAMESPACES

#: Completions offered at most (a shell shows no more usefully).
MAX_ITEMS = 200

_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def _option(ctx: click.Context, name: str) -> Any:
    """The value of an option given before the word being completed, in this command
    or the group around it."""
    while ctx is not None:
        value = ctx.params.get(name)
        if value is not None:
            return value
        ctx = ctx.parent  # type: ignore[assignment]
    return None


def complete_queries(ctx: click.Context, param: click.Parameter,
                     incomplete: str) -> list[CompletionItem]:
    """The named queries whose name starts with ``incomplete``, with their titles."""
    try:
        from .paths import default_queries_dir
        from .queries import load_queries

        folder = _option(ctx, "queries_dir") or default_queries_dir()
        named = load_queries(Path(folder))
    except Exception:  # a completion offers nothing rather than fail
        return [CompletionItem(incomplete, type="file")]
    found = [CompletionItem(name, help=query.title) for name, query in sorted(named.items())
             if name.startswith(incomplete)][:MAX_ITEMS]
    # the argument may be a .rq file too: let the shell complete paths
    return found or [CompletionItem(incomplete, type="file")]


def entity_labels(build_dir: Path) -> dict[str, str]:
    """Entity id -> label, read from the build's ``graph.nt`` (empty if there is none)."""
    import pyoxigraph

    kgr = NAMESPACES["kgr"]
    labels: dict[str, str] = {}
    try:
        for triple in pyoxigraph.parse(path=build_dir / "graph.nt",
                                       format=pyoxigraph.RdfFormat.N_TRIPLES):
            subject, label = triple.subject, triple.object
            if (triple.predicate.value == _LABEL and isinstance(label, pyoxigraph.Literal)
                    and isinstance(subject, pyoxigraph.NamedNode)
                    and subject.value.startswith(kgr)):
                labels.setdefault(subject.value[len(kgr):], label.value)
    except (OSError, SyntaxError):
        return {}
    return labels


def complete_entities(ctx: click.Context, param: click.Parameter,
                      incomplete: str) -> list[CompletionItem]:
    """The entities whose id or label starts with ``incomplete`` (ignoring case), offered
    by id (one word, which every option naming an entity accepts) with the label."""
    try:
        from .paths import default_build_dir

        build_dir = _option(ctx, "build_dir") or default_build_dir()
        labels = entity_labels(Path(build_dir))
    except Exception:  # a completion offers nothing rather than fail
        return []
    start = incomplete.lower()
    found = [CompletionItem(eid, help=label) for eid, label in sorted(labels.items())
             if eid.lower().startswith(start) or label.lower().startswith(start)]
    return found[:MAX_ITEMS]
