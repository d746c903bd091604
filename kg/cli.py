"""The ``kg`` command: parse options, call one library function, format the result.

Library errors (:class:`kg.errors.KgError`) become one-line messages here, and
nowhere else: exit 1 for bad data, exit 2 for bad usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .completion import complete_entities, complete_queries
from .errors import KgError, UsageError, ValidationFailed, display_path
from .export import FORMATS
from .results import GRAPH_FORMATS, RESULT_FORMATS
from .viz import DEFAULT_MAX_NODES, INPUT_FORMATS

F = TypeVar("F", bound=Callable[..., Any])

#: 'kg build' shows a progress bar from this many facts files on
PROGRESS_FROM_FILES = 50


class FiniteFloat(click.FloatRange):
    """A float in a range, refusing nan and infinities (which every comparison of a
    plain FloatRange lets through)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        import math

        result = super().convert(value, param, ctx)
        if not math.isfinite(result):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return result


def _make_build_dir(path: Path) -> None:
    """Create the build directory; a path that cannot be one is a UsageError."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--build-dir {path}: cannot create it ({exc.strerror})") from None


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

    def protected(self, queries_dir: Path | None = None) -> list[Path]:
        """What -o must never write over: the data directory (sources, facts,
        ontology, shapes, mappings), the queries directory, and the build's own files."""
        from .paths import build_outputs, default_data_dir, default_queries_dir

        found = list(build_outputs(self.build_path))
        try:
            found.append(self.data or default_data_dir())
        except KgError:  # none to protect
            pass
        try:
            found.append(queries_dir or default_queries_dir())
        except KgError:
            pass
        return found


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
        except OSError as exc:  # a fault of the system (disk full, I/O error...)
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None

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
    directory, and inferred.nt: what the ontology entails about the facts (owlrl),
    kept apart, for 'kg query --infer'. The output is byte-identical for the same
    inputs, and a failed build leaves the previous one in place.
    """
    from .build import build as run_build
    from .facts import facts_files

    data_dir = settings.data_dir
    files = len(facts_files(data_dir))
    if files < PROGRESS_FROM_FILES:
        result = run_build(data_dir, settings.build_path)
    else:  # a corpus: show progress on standard error (click hides the bar off a terminal)
        with click.progressbar(length=files, label=f"reading {files} facts files",
                               file=sys.stderr) as bar:
            result = run_build(data_dir, settings.build_path, progress=bar.update)
    click.echo(f"built {result.triples} triples ({result.facts} facts, {result.entities} "
               f"entities, {result.documents} document(s)) and inferred {result.inferred} "
               f"(owlrl, {result.inference_seconds:.2f}s) in {result.seconds:.2f}s -> "
               f"{display_path(result.build_dir)}/", err=True)


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


def backend_options(func: F) -> F:
    """Add --store and --endpoint: where the graph is queried [default: the build]."""
    func = click.option(
        "--endpoint", metavar="URL",
        help="Query this SPARQL 1.1 endpoint instead of the build (e.g. an Oxigraph "
             "server's http://127.0.0.1:7878/query).")(func)
    return click.option(
        "--store", metavar="oxigraph:DIR",
        help="Query the on-disk Oxigraph store in DIR (filled by 'kg load --store') "
             "instead of the build in memory.")(func)


def selection_options(func: F) -> F:
    """Add the node-selection options shared by 'kg export' and 'kg viz'; the command
    receives them as one ``selection`` argument (a :class:`kg.subgraph.Selection`)."""

    @click.option("--around", metavar="NODE", shell_complete=complete_entities,
                  help="Keep the neighbourhood of NODE (an IRI, CURIE, id, label or "
                       "alternative label, any case).")
    @click.option("--depth", type=click.IntRange(min=0), default=1, show_default=True,
                  help="How many fact-steps --around reaches.")
    @click.option("--population", metavar="NODE", shell_complete=complete_entities,
                  help="Keep the facts that concern this population: those stated for it "
                       "and those stated for no population in particular; descriptive "
                       "facts (anatomy, kinds of) only for entities another kept fact names.")
    @click.option("--relation", "relations", metavar="NAME", multiple=True,
                  help="Keep only this relation (e.g. causes, hasSymptom); repeatable.")
    @click.option("--path", nargs=2, metavar="A B", shell_complete=complete_entities,
                  help="Keep the shortest paths from A to B (e.g. diuretics 'leg cramp').")
    @click.option("--undirected", is_flag=True,
                  help="Let --path follow relations in either direction.")
    @click.option("--query", "query", metavar="NAME|FILE.rq",
                  help="Start from what a CONSTRUCT query makes (a named query or a .rq "
                       "file); the other options then select from it.")
    @wraps(func)
    def wrapper(*args: Any, around: str | None, depth: int, population: str | None,
                relations: tuple[str, ...], path: tuple[str, str] | None, undirected: bool,
                query: str | None, **kwargs: Any) -> Any:
        from .subgraph import Selection

        for option, value in (("--around", around), ("--population", population),
                              ("--query", query), *(("--relation", r) for r in relations),
                              *(("--path", p) for p in path or ())):
            if value is not None and not value.strip():
                raise click.UsageError(f"{option}: give a name, not an empty string")
        selection = Selection(around=around, depth=depth, population=population,
                              relations=relations, path=path or None, undirected=undirected,
                              query=query)
        return func(*args, selection=selection, **kwargs)

    return wrapper  # type: ignore[return-value]


@cli.command()
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)),
              help="Output format [default: from the extension of -o, else ttl]. "
                   + "; ".join(f"{f.name}: {f.description}" for f in FORMATS.values()) + ".")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write to FILE (atomically) instead of standard output; its extension "
                   "chooses the format when --format is absent; a directory for kgx and "
                   "neo4j.")
@click.option("--no-provenance", is_flag=True,
              help="RDF formats: leave out statement, evidence and document nodes.")
@selection_options
@backend_options
@pass_settings
@_errors
def export(settings: Settings, fmt: str | None, output: Path | None, no_provenance: bool,
           selection: Any, store: str | None, endpoint: str | None) -> None:
    """Export the graph, or the part the selection options pick, in a format other
    tools read.

    With no selection option: the whole graph (ontology, facts, statements, evidence).
    Options combine: --relation and --population narrow the facts, then --around or
    --path pick from what is left.

    \b
    Examples:
      kg export --population children -o children.graphml
      kg export --around eclampsia --depth 2 --format ttl
      kg export --path diuretics "leg cramp" -o diuretics.csv
      kg export --format neo4j -o neo4j-import/
    """
    from .export import choose_format, save
    from .files import check_output
    from .store import open_backend
    from .subgraph import select_on

    if output is not None and str(output) != "-":
        check_output(output, settings.protected())  # an input is refused whatever the format
    chosen = choose_format(fmt, output)
    backend = open_backend(settings.build_path, store=store, endpoint=endpoint)
    try:
        graph = select_on(backend, selection, provenance=not no_provenance)
    finally:
        backend.close()
    written = save(chosen.write_files(graph), output, chosen, settings.protected())
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
@backend_options
@pass_settings
@_errors
def viz(settings: Settings, input_: str | None, fmt: str | None, output: Path | None,
        title: str | None, max_nodes: int, selection: Any, store: str | None,
        endpoint: str | None) -> None:
    """Draw the graph as one interactive HTML page that works offline.

    The page needs no network: colours and shapes by class, a legend, the evidence
    sentence of every fact, filters by population and by relation, search, the
    stories of the data directory (stories/*.yaml), a table of the facts. The
    selection options draw only part of the graph, as for 'kg export'.

    \b
    Examples:
      kg viz                                  # -> build/graph.html
      kg viz --around eclampsia --depth 2 -o eclampsia.html
      kg export --population children | kg viz --input - -o children.html
    """
    import sys

    from .files import check_output, write_atomic, write_stdout
    from .paths import ONTOLOGY
    from .store import open_backend
    from .stories import STORIES, load_stories
    from .subgraph import select, select_on
    from .viz import build_view, describe_selection, read_graph, render
    from .vocab import load_ontology

    if input_ is None:
        backend = open_backend(settings.build_path, store=store, endpoint=endpoint)
        try:
            graph = select_on(backend, selection)
        finally:
            backend.close()
    elif store or endpoint:
        raise UsageError("--input draws a file: give it without --store or --endpoint")
    else:
        graph = select(read_graph(input_, fmt, stdin=sys.stdin.buffer), selection)
    ontology = None
    try:  # labels and classes of kg's terms (a subgraph keeps the whole graph's colours)
        ontology = load_ontology(settings.data_dir / ONTOLOGY)
    except KgError:
        pass
    # the guided tours of the data directory; a mistake in one is an error on its line
    stories = load_stories(settings.data_dir / STORIES) if ontology is not None else []
    view = build_view(graph, max_nodes=max_nodes or None, ontology=ontology, stories=stories,
                      strict_stories=input_ is None and not (store or endpoint)
                      and selection.is_empty())
    html = render(view, title=title, shows=describe_selection(selection)).encode("utf-8")
    if output is not None and str(output) == "-":
        write_stdout(html)
    else:
        if output is None:
            output = settings.build_path / "graph.html"
            _make_build_dir(output.parent)
        elif output.is_dir():
            raise UsageError(f"--output: {output} is a directory; give a file name")
        elif not output.parent.is_dir():
            raise UsageError(f"--output: directory {output.parent} does not exist")
        check_output(output, settings.protected())
        write_atomic(output, html)
        click.echo(f"wrote {display_path(output)} ({view.counts()})",
                   err=True)
    for warning in view.warnings:
        click.echo(f"Warning: {warning}", err=True)


def queries_option(func: F) -> F:
    """Add --queries DIR (where the named queries are) to a command."""
    return click.option(
        "--queries", "queries_dir", type=click.Path(file_okay=False, path_type=Path),
        envvar="KG_QUERIES",
        help="Directory of named queries (*.rq) [default: the queries shipped with kg; "
             "env KG_QUERIES].")(func)


@cli.command("queries")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@queries_option
@pass_settings
@_errors
def queries_command(settings: Settings, fmt: str, queries_dir: Path | None) -> None:
    """List the named queries: name, form, title and parameters.

    Run one with 'kg query NAME'; 'kg query NAME --show' prints its SPARQL.
    """
    from .paths import default_queries_dir
    from .queries import load_queries

    named = [q.as_dict() for q in load_queries(queries_dir or default_queries_dir()).values()]
    if fmt == "json":
        click.echo(json.dumps(named, indent=2))
        return
    rows = [(q["name"], q["form"], q["title"],
             ", ".join(f"{p['name']} {p['type']}" + (f" [{p['default']}]" if p["default"] else "")
                       for p in q["params"])) for q in named]
    widths = [max([len(h), *(len(r[i]) for r in rows)])
              for i, h in enumerate(("NAME", "FORM", "TITLE"))]
    for row in [("NAME", "FORM", "TITLE", "PARAMETERS"), *rows]:
        click.echo(("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False))
                    + "  " + row[3]).rstrip())
    from .infer import mode

    click.echo(f"kg: 'kg query NAME' runs with {mode(False)}", err=True)


@cli.command("query")
@click.argument("query", required=False, metavar="[NAME|FILE.rq]",
                shell_complete=complete_queries)
@click.option("-e", "--expression", "text", metavar="SPARQL",
              help="Run this query text instead of a named query or a file.")
@click.option("-p", "--param", "params", type=(str, str), multiple=True, metavar="NAME VALUE",
              help="Bind the query's parameter NAME to VALUE (a CURIE such as kgr:children, "
                   "an IRI, a string or a number, as the query declares); repeatable.")
@click.option("--format", "fmt", type=click.Choice([*RESULT_FORMATS, *GRAPH_FORMATS]),
              help="SELECT and ASK: " + ", ".join(RESULT_FORMATS) + "; CONSTRUCT and "
                   "DESCRIBE: " + ", ".join(GRAPH_FORMATS) + " [default: table on a terminal, "
                   "else tsv; ttl for a graph].")
@click.option("--max-rows", type=click.IntRange(min=1),
              help="Stop after N rows (or triples) [default: no limit].")
@click.option("--show", is_flag=True,
              help="Print the query with its parameters bound, and the BASE and PREFIX "
                   "lines it gets, instead of running it.")
@click.option("--timeout", type=FiniteFloat(min=0, max=86_400), default=60.0,
              show_default=True, metavar="SECONDS",
              help="Stop the query after this many seconds (0: no limit).")
@click.option("--memory", type=click.IntRange(min=0), default=2048, show_default=True,
              metavar="MIB",
              help="Stop the query if it needs more than this much memory beyond the "
                   "loaded graph (0: no limit).")
@click.option("--infer", is_flag=True,
              help="Inference on: the query also sees what the ontology entails (kg:hasCause, "
                   "schema.org and Wikidata properties, superclasses), inferred by 'kg build' "
                   "and kept in GRAPH <https://w3id.org/health-kg/graph/inferred>.")
@queries_option
@backend_options
@pass_settings
@_errors
def query_command(settings: Settings, query: str | None, text: str | None,
                  params: tuple[tuple[str, str], ...], fmt: str | None, max_rows: int | None,
                  show: bool, timeout: float, memory: int, infer: bool,
                  queries_dir: Path | None, store: str | None, endpoint: str | None) -> None:
    """Run a SPARQL query over the built graph: a named query (see 'kg queries'), a
    .rq file, or -e TEXT.

    kg's prefixes (kg:, kgr:, kgd:, rdf:, rdfs:, skos:, prov:, oa:...) are
    predeclared, and relative IRIs are read against kgr: (<leg-cramp>). Parameters
    are bound as RDF terms, never pasted into the text; SERVICE, FROM and updates are
    refused. The query runs in a process of its own with no network, stopped at
    --timeout, at --memory, or at Ctrl-C. It sees the asserted graph, and with
    --infer the inferred triples too (standard error then says "inference: on").

    \b
    Examples:
      kg query causes-by-category
      kg query causes-for-population -p population kgr:children
      kg query evidence -p entity kgr:eclampsia --format json
      kg query -e 'SELECT ?label WHERE { kgr:leg-cramp skos:altLabel ?label }'
      kg query -e 'SELECT ?cause WHERE { kgr:leg-cramp wdt:P828 ?cause }' --infer
    """
    import sys

    from .check import standalone
    from .engine import Limits
    from .files import require_stdout, write_stdout
    from .queries import checked_for, parse_query, resolve
    from .store import open_backend

    if (query is None) == (text is None):
        raise UsageError("give one query: a NAME, a FILE.rq, or -e TEXT")
    names = [name for name, _ in params]
    for name in names:
        if names.count(name) > 1:
            raise UsageError(f"-p {name} given twice")
    source = (parse_query(text, name="-e") if text is not None
              else resolve(query or "", queries_dir, text=False))
    if show:
        click.echo(standalone(source.bind(dict(params))))
        return
    require_stdout()
    limits = Limits(timeout=timeout or None, memory=memory * 1024**2 or None)
    backend = open_backend(settings.build_path, store=store, endpoint=endpoint, limits=limits,
                           infer=infer)
    try:
        data, truncated = backend.write(checked_for(source, dict(params)), max_rows, fmt,
                                        terminal=sys.stdout is not None and sys.stdout.isatty())
    finally:
        backend.close()
    write_stdout(data)
    if truncated:
        click.echo(f"kg: stopped at --max-rows {max_rows}", err=True)
    if infer or (sys.stderr is not None and sys.stderr.isatty()):  # quiet in scripts when off
        from .infer import mode

        click.echo(f"kg: {mode(infer)}", err=True)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. 0.0.0.0 or :: opens the endpoint to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=7878, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--timeout", type=FiniteFloat(min=0.1, max=3600), default=10.0,
              show_default=True, metavar="SECONDS",
              help="Stop a query that takes longer than this, waiting for a worker "
                   "included (HTTP 503).")
@click.option("--max-rows", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Cut results after N rows or triples (header X-Kg-Truncated).")
@click.option("--workers", type=click.IntRange(min=1, max=256), metavar="N",
              help="Query processes kept running [default: the number of CPUs, at least 2].")
@click.option("--queue", type=click.IntRange(min=0), default=512, show_default=True,
              help="Requests that may wait for a worker; more get 503 with Retry-After.")
@click.option("--memory", type=click.IntRange(min=16), default=1024, show_default=True,
              metavar="MIB",
              help="Memory a query process may use beyond the graph it shares; a query "
                   "past it is stopped (HTTP 500).")
@click.option("--cache", type=click.IntRange(min=0), default=64, show_default=True,
              metavar="MIB", help="Answers kept to answer the same query again (0: none).")
@click.option("--quiet", is_flag=True, help="Log only problems, not every request.")
@click.option("--infer", is_flag=True,
              help="Inference on: queries also see what the ontology entails (as 'kg query "
                   "--infer'); every answer says so in its X-Kg-Inference header.")
@queries_option
@pass_settings
@_errors
def serve_command(settings: Settings, host: str, port: int, timeout: float, max_rows: int,
                  workers: int | None, queue: int, memory: int, cache: int, quiet: bool,
                  infer: bool, queries_dir: Path | None) -> None:
    """Serve the graph as a read-only SPARQL 1.1 endpoint, with a page to query it.

    /sparql speaks the SPARQL 1.1 Protocol (GET, POST form, POST
    application/sparql-query) and answers in JSON, XML, CSV or TSV results, or in
    Turtle, N-Triples, JSON-LD or RDF/XML for graphs, as the Accept header asks; CORS
    is open. Updates, SERVICE and FROM are refused. Queries run in a pool of worker
    processes that cannot open a network connection; one that runs past --timeout
    or --memory is stopped and its worker replaced. /health says whether queries
    can run; / is a page with the named queries as examples. Ctrl-C stops.

    \b
    Example:
      kg serve --port 7878 &
      curl -H 'Accept: text/csv' --data-urlencode \\
           'query=SELECT ?l WHERE { kgr:leg-cramp skos:altLabel ?l }' \\
           http://127.0.0.1:7878/sparql
    """
    import logging

    from .paths import default_queries_dir
    from .queries import load_queries
    from .server import ServerConfig, SparqlServer, serve
    from .store import load_build

    built = load_build(settings.build_path)
    named = load_queries(queries_dir or default_queries_dir())
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("kg.server")
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    config = ServerConfig(host=host, port=port, timeout=timeout, max_rows=max_rows,
                          queue=queue, memory=memory * 1024**2, cache_bytes=cache * 1024**2,
                          infer=infer)
    if workers:
        config = replace(config, workers=workers)
    server = SparqlServer(built, named, config)
    click.echo(f"kg: SPARQL endpoint {server.url}sparql, page {server.url} "
               f"({built.manifest.get('triples', '?')} triples; {config.workers} workers, "
               f"timeout {timeout:g} s, {memory:,} MiB a query, at most {max_rows} rows; "
               f"inference {'on' if infer else 'off'}); Ctrl-C stops", err=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"Warning: listening on {host}: anyone who can reach this machine can "
                   "query the graph", err=True)
    serve(server)
    click.echo("kg: stopped", err=True)


@cli.command("load")
@click.option("--store", metavar="oxigraph:DIR",
              help="Load into an embedded Oxigraph store in DIR (created if missing; its "
                   "content is replaced).")
@click.option("--endpoint", metavar="URL",
              help="Load into a SPARQL 1.1 Graph Store Protocol endpoint (its default graph "
                   "is replaced), e.g. an Oxigraph server's http://127.0.0.1:7878/store.")
@click.option("--batch", type=click.IntRange(min=1), default=50_000, show_default=True,
              help="Triples per request to an endpoint.")
@pass_settings
@_errors
def load(settings: Settings, store: str | None, endpoint: str | None, batch: int) -> None:
    """Load the built graph into an Oxigraph store or a SPARQL endpoint, so that
    'kg query --store/--endpoint' can query it there.

    \b
    Examples:
      kg load --store oxigraph:build/oxigraph
      kg load --endpoint http://127.0.0.1:7878/store
    """
    import time

    from .paths import GRAPH_NT
    from .store import Build, EndpointBackend, OxigraphBackend, parse_store, read_manifest

    if (store is None) == (endpoint is None):
        raise UsageError("give --store oxigraph:DIR or --endpoint URL")
    built = Build(path=settings.build_path, manifest=read_manifest(settings.build_path))
    source = built.output_path(GRAPH_NT)  # checked against the manifest
    total = int(built.manifest.get("triples", 0))
    t0 = time.perf_counter()
    if store:
        loaded = OxigraphBackend(parse_store(store), create=True).load(
            source, inferred=built.inferred_path())
        where = store
    else:
        assert endpoint is not None
        with click.progressbar(length=total, label=f"loading {total} triples",
                               file=sys.stderr) as bar:
            loaded = EndpointBackend(endpoint).load(source, batch=batch, progress=bar.update)
        where = endpoint
    click.echo(f"loaded {loaded} triples into {where} in {time.perf_counter() - t0:.2f}s",
               err=True)


def main() -> None:
    """Console-script entry point."""
    from .files import ClosedStdout

    if sys.stdout is None:  # started with standard output closed
        sys.stdout = ClosedStdout()
    try:
        cli(prog_name="kg")
    except OSError as exc:  # outside a command (help text to a full standard output...)
        click.echo(f"Error: {exc.strerror or exc}", err=True)
        sys.exit(1)
