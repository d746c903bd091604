"""The ``kg`` command: parse options, call one library function, format the result.

Library errors (:class:`kg.errors.KgError`) become one-line messages here, and
nowhere else: exit 1 for bad data, exit 2 for bad usage.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .errors import KgError, UsageError, ValidationFailed, display_path
from .export import FORMATS

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


@cli.command()
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="ttl",
              show_default=True,
              help="Serialisation: " + "; ".join(f"{f.name}: {f.description}"
                                                 for f in FORMATS.values()) + ".")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (atomically) instead of standard output.")
@pass_settings
@_errors
def export(settings: Settings, fmt: str, output: Path | None) -> None:
    """Export the whole graph (ontology, facts, statements, evidence)."""
    from .build import write_atomic
    from .export import export as run_export
    from .store import load_build

    data = run_export(load_build(settings.build_path).graph, fmt)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    if not output.parent.is_dir():
        raise UsageError(f"--output: directory {output.parent} does not exist")
    write_atomic(output, data)
    click.echo(f"wrote {display_path(output)}", err=True)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="kg")
