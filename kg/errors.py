"""The one error hierarchy of kg.

Library code raises these; only :mod:`kg.cli` turns them into exit codes and
one-line messages, so a user never sees a traceback for a mistake of theirs.
"""

from __future__ import annotations

from pathlib import Path


class KgError(Exception):
    """Base class of every error kg reports to a user."""


class UsageError(KgError):
    """A bad option or argument (the CLI exits with 2)."""


class DataError(KgError):
    """Input data that cannot be used: a missing file, a bad source, a bad ontology."""


class FactsError(DataError):
    """A mistake in a curated facts file, located by file and line."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = display_path(self.path) + (f":{line}" if line else "")
        super().__init__(f"{where}: {problem}")

    def __reduce__(self) -> tuple[type[FactsError], tuple[Path, int | None, str]]:
        # so that the error crosses from a worker process (kg.facts reads in parallel)
        return (type(self), (self.path, self.line, self.problem))


class BuildNotFoundError(KgError):
    """The command needs a built graph and there is none."""


class QueryError(KgError):
    """A SPARQL query kg cannot run: malformed, too long, or failing as it runs."""


class QueryRefused(QueryError):
    """A well-formed query kg will not run: an update (INSERT, LOAD, DROP...), SERVICE,
    or a dataset clause (FROM / FROM NAMED). Found on the parsed query, before it runs."""


class ValidationFailed(KgError):
    """The graph does not conform; carries the readable report."""

    def __init__(self, report: str) -> None:
        self.report = report
        super().__init__("the graph does not conform (see the report above)")


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # elsewhere, or a symlink loop
        return str(path)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name if it has none), for
    one-line error messages."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
