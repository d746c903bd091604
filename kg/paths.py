"""Where kg finds its inputs and puts what it builds.

Inputs live in a *data directory* laid out as::

    ontology.ttl        classes and relations
    shapes.ttl          SHACL shapes for ``kg validate``
    sources/*.txt       source documents, never modified
    facts/*.yaml        curated facts, one file per document

It is, in order: the ``--data`` option, the ``KG_DATA`` environment variable,
the copy shipped inside the installed package, or ``data/`` of a source checkout.
The build directory is ``--build-dir``, ``KG_BUILD_DIR`` or ``./build``; the named
queries are in ``--queries``, ``KG_QUERIES``, the package's ``_queries`` or ``queries/``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from .errors import DataError

ONTOLOGY = "ontology.ttl"
SHAPES = "shapes.ttl"
SOURCES = "sources"
FACTS = "facts"
#: What ``kg build`` writes into the build directory.
GRAPH_NT = "graph.nt"
GRAPH_TTL = "graph.ttl"
#: What the ontology entails about the facts (kg.infer), kept apart from graph.nt.
INFERRED_NT = "inferred.nt"
MANIFEST = "manifest.json"
#: Where a build keeps its committed outputs, named by their SHA-256 (see kg.build).
OBJECTS = ".objects"
#: The lock builds take on the build directory.
LOCK = ".lock"


def build_outputs(build_dir: Path) -> tuple[Path, ...]:
    """The files of ``build_dir`` that ``kg build`` owns (never an output of -o)."""
    return tuple(build_dir / name for name in (GRAPH_NT, GRAPH_TTL, INFERRED_NT, MANIFEST,
                                               OBJECTS, LOCK))


def default_data_dir() -> Path:
    """The data directory to use when none is given."""
    return _shipped("KG_DATA", "data", ONTOLOGY, "no data directory found: pass --data DIR "
                    "or set KG_DATA")


def _shipped(env_var: str, name: str, marker: str | None, missing: str) -> Path:
    """A directory of inputs that ships with kg: the environment variable ``env_var``,
    else the copy inside the installed package (``kg/_<name>``), else ``<name>/`` of a
    source checkout (holding ``marker`` when given)."""
    env = os.environ.get(env_var)
    if env:
        return Path(env)
    packaged = resources.files("kg") / f"_{name}"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir() and (marker is None or (checkout / marker).is_file()):
        return checkout
    raise DataError(missing)


def default_build_dir() -> Path:
    """The build directory to use when none is given."""
    return Path(os.environ.get("KG_BUILD_DIR") or "build")


def default_queries_dir() -> Path:
    """The directory of named queries (``*.rq``) to use when none is given.

    In order: ``KG_QUERIES``, the copy shipped inside the installed package
    (``kg/_queries``), or ``queries/`` of a source checkout.
    """
    return _shipped("KG_QUERIES", "queries", None, "no queries directory found: pass "
                    "--queries DIR or set KG_QUERIES")


def check_data_dir(data_dir: Path) -> Path:
    """Return ``data_dir`` if it looks like a data directory, else raise DataError."""
    if not data_dir.is_dir():
        raise DataError(f"data directory {data_dir} does not exist")
    for name in (ONTOLOGY, FACTS):
        if not (data_dir / name).exists():
            raise DataError(f"data directory {data_dir} has no {name}")
    return data_dir
