"""The ``kg`` command: parse options, call one library function, format the result.

Library errors (:class:`kg.errors.KgError`) become one-line messages here, and
nowhere else: exit 1 for bad data, exit 2 for bad usage.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import KgError, UsageError, ValidationFailed, display_path
from .export import FORMATS
from .viz import DEFAULT_MAX_NODES, INPUT_FORMATS

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Settings:
    data: Path | None
    build_dir: Path | None

    @property
    def data_dir(self) -> Path:
        from .paths import check_data_dir, default_data_dir

        return check_data_dir(self.data or default_data_dir())

    @property
    def build_path(self) -> Path:
        from .paths import default_build_dir

        return self.build_dir or default_build_dir()


def _errors(func: F) -> F:
    """Turn kg's errors into click's, which print one line and exit."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationFailed as exc:
            raise click.ClickException(str(exc)) from None
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None
        except KgError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kg")
def cli() -> None:
    """Build, check and export a knowledge graph of health facts, each grounded in
    the sentence of the source document it comes from.

    Start with 'kg build', then 'kg validate', 'kg stats' or 'kg export'.
    """


def pass_settings(func: F) -> F:
    """Add --data and --build-dir to a command and pass them as ``settings``."""

    @click.option("--data", type=click.Path(file_okay=False, path_type=Path),
                  envvar="KG_DATA",
                  help="Data directory with ontology.ttl, shapes.ttl, sources/ and facts/ "
                       "[default: the data shipped with kg; env KG_DATA].")
    @click.option("--build-dir", type=click.Path(file_okay=False, path_type=Path),
                  envvar="KG_BUILD_DIR",
                  help="Where 'kg build' writes the graph and the other commands read it "
                       "[default: ./build; env KG_BUILD_DIR].")
    @wraps(func)
    def wrapper(*args: Any, data: Path | None, build_dir: Path | None, **kwargs: Any) -> Any:
        return func(Settings(data=data, build_dir=build_dir), *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@cli.command()
@pass_settings
@_errors
def build(settings: Settings) -> None:
    """Compile sources, facts and ontology into the graph.

    Writes graph.nt (sorted N-Triples), graph.ttl and manifest.json to the build
    directory. The output is byte-identical for the same inputs, and a failed build
    leaves the previous one in place.
    """
    from .build import build as run_build

    result = run_build(settings.data_dir, settings.build_path)
    click.echo(f"built {result.triples} triples ({result.facts} facts, {result.entities} "
               f"entities, {result.documents} document(s)) in {result.seconds:.2f}s "
               f"-> {display_path(result.build_dir)}/", err=True)


@cli.command()
@click.option("--no-shapes", is_flag=True, help="Skip the SHACL shapes (the slowest check).")
@pass_settings
@_errors
def validate(settings: Settings, no_shapes: bool) -> None:
    """Check the built graph: SHACL shapes, grounding, coverage, freshness.

    Exit 0 when it conforms; otherwise print a report and exit 1.
    """
    from .facts import load_corpus
    from .paths import ONTOLOGY
    from .store import load_build
    from .validate import validate as run_validate
    from .vocab import load_ontology, vocabulary

    data_dir = settings.data_dir
    built = load_build(settings.build_path)
    corpus = load_corpus(data_dir, vocabulary(load_ontology(data_dir / ONTOLOGY)))
    report = run_validate(built, data_dir, corpus, shapes=not no_shapes)
    click.echo(report.text())
    if not report.conforms:
        raise ValidationFailed(report.text())


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@pass_settings
@_errors
def stats(settings: Settings, fmt: str) -> None:
    """Counts by class, by relation, by population, and documents."""
    from .stats import format_text
    from .stats import stats as compute
    from .store import load_build

    counts = compute(load_build(settings.build_path).graph)
    click.echo(json.dumps(counts, indent=2) if fmt == "json" else format_text(counts))


def selection_options(func: F) -> F:
    """Add the node-selection options shared by 'kg export' and 'kg viz'; the command
    receives them as one ``selection`` argument (a :class:`kg.subgraph.Selection`)."""

    @click.option("--around", metavar="NODE",
                  help="Keep the neighbourhood of NODE (an IRI, CURIE, id, label or "
                       "alternative label, any case).")
    @click.option("--depth", type=click.IntRange(min=0), default=1, show_default=True,
                  help="How many fact-steps --around reaches.")
    @click.option("--population", metavar="NODE",
                  help="Keep the facts that concern this population: those stated for it "
                       "and those stated for no population in particular.")
    @click.option("--relation", "relations", metavar="NAME", multiple=True,
                  help="Keep only this relation (e.g. causes, hasSymptom); repeatable.")
    @click.option("--path", nargs=2, metavar="A B",
                  help="Keep the shortest paths from A to B (e.g. diuretics 'leg cramp').")
    @click.option("--undirected", is_flag=True,
                  help="Let --path follow relations in either direction.")
    @wraps(func)
    def wrapper(*args: Any, around: str | None, depth: int, population: str | None,
                relations: tuple[str, ...], path: tuple[str, str] | None, undirected: bool,
                **kwargs: Any) -> Any:
        from .subgraph import Selection

        selection = Selection(around=around, depth=depth, population=population,
                              relations=relations, path=path or None, undirected=undirected)
        return func(*args, selection=selection, **kwargs)

    return wrapper  # type: ignore[return-value]


@cli.command()
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="ttl",
              show_default=True,
              help="Output format. " + "; ".join(f"{f.name}: {f.description}"
                                                 for f in FORMATS.values()) + ".")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to FILE (atomically) instead of standard output; a directory for "
                   "kgx.")
@click.option("--no-provenance", is_flag=True,
              help="RDF formats: leave out statement, evidence and document nodes.")
@selection_options
@pass_settings
@_errors
def export(settings: Settings, fmt: str, output: Path | None, no_provenance: bool,
           selection: Any) -> None:
    """Export the graph, or the part the selection options pick, in a format other
    tools read.

    With no selection option: the whole graph (ontology, facts, statements, evidence).
    Options combine: --relation and --population narrow the facts, then --around or
    --path pick from what is left.

    \b
    Examples:
      kg export --population children --format graphml -o children.graphml
      kg export --around eclampsia --depth 2 --format ttl
      kg export --path diuretics "leg cramp" --format csv
    """
    from .export import export_files, save
    from .store import load_build
    from .subgraph import select

    graph = select(load_build(settings.build_path).graph, selection,
                   provenance=not no_provenance)
    written = save(export_files(graph, fmt), output, FORMATS[fmt])
    for path in written:
        click.echo(f"wrote {display_path(path)}", err=True)


@cli.command()
@click.option("--input", "input_", metavar="FILE|-",
              help="Draw this RDF file ('-': standard input) instead of the built graph.")
@click.option("--format", "fmt", type=click.Choice(list(INPUT_FORMATS)),
              help="RDF syntax of --input [default: from the file name, else from the "
                   "content, else ttl].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              help="Write the page to FILE (atomically); '-' for standard output "
                   "[default: graph.html in the build directory].")
@click.option("--title", help="Title of the page [default: from the documents' titles].")
@click.option("--max-nodes", type=click.IntRange(min=0), default=DEFAULT_MAX_NODES,
              show_default=True,
              help="Draw at most N entities, the most connected ones (0: no limit).")
@selection_options
@pass_settings
@_errors
def viz(settings: Settings, input_: str | None, fmt: str | None, output: Path | None,
        title: str | None, max_nodes: int, selection: Any) -> None:
    """Draw the graph as one interactive HTML page that works offline.

    The page needs no network: colours and shapes by class, a legend, the evidence
    sentence of every fact, filters by population and by relation, search. The
    selection options draw only part of the graph, as for 'kg export'.

    \b
    Examples:
      kg viz                                  # -> build/graph.html
      kg viz --around eclampsia --depth 2 -o eclampsia.html
      kg export --population children | kg viz --input - -o children.html
    """
    import sys

    from .build import write_atomic
    from .paths import ONTOLOGY
    from .store import load_build
    from .subgraph import select
    from .viz import build_view, read_graph, render
    from .vocab import load_ontology

    ontology = None
    if input_ is None:
        graph = load_build(settings.build_path).graph
    else:
        graph = read_graph(input_, fmt, stdin=sys.stdin.buffer)
        try:  # labels and classes of kg's terms, for a graph that left the ontology out
            ontology = load_ontology(settings.data_dir / ONTOLOGY)
        except KgError:
            pass
    view = build_view(select(graph, selection), max_nodes=max_nodes or None, ontology=ontology)
    html = render(view, title=title).encode("utf-8")
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(html)
        sys.stdout.flush()
    else:
        if output is None:
            output = settings.build_path / "graph.html"
            output.parent.mkdir(parents=True, exist_ok=True)
        elif not output.parent.is_dir():
            raise UsageError(f"--output: directory {output.parent} does not exist")
        write_atomic(output, html)
        click.echo(f"wrote {display_path(output)} ({view.nodes} entities, {view.edges} facts)",
                   err=True)
    for warning in view.warnings:
        click.echo(f"Warning: {warning}", err=True)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="kg")
