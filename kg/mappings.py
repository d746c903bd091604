"""Read ``data/mappings.sssom.tsv``: curated SKOS mappings to ICD-10, HPO and others.

The file is SSSOM TSV: a YAML metadata block in ``#`` comment lines (``curie_map``,
``mapping_set_id``, ``license``...) and one mapping per row. Rows become plain
records; :mod:`kg.build` turns each into a SKOS mapping triple with the standard IRI
of the code (the ``curie_map`` expands the CURIEs). Mistakes name file and line.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import FactsError
from .files import UnreadableInput, read_regular

MAPPINGS = "mappings.sssom.tsv"
PREDICATES = ("skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch",
              "skos:relatedMatch")
REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification")
SKOS = "http://www.w3.org/2004/02/skos/core#"


@dataclass(frozen=True)
class Mapping:
    entity: str  # the kg entity id
    predicate: str  # full IRI of the SKOS mapping property
    object: str  # full IRI of the code
    object_id: str  # the CURIE as written
    object_label: str
    line: int


@dataclass(frozen=True)
class MappingSet:
    path: Path
    metadata: dict[str, object]
    mappings: tuple[Mapping, ...]


def load_mappings(path: Path, entities: set[str]) -> MappingSet:
    """Read and check the SSSOM file at ``path`` against the known entity ids."""
    try:
        text = read_regular(path).decode("utf-8")
    except UnreadableInput as exc:
        raise FactsError(path, None, exc.problem) from None
    except UnicodeDecodeError as exc:
        raise FactsError(path, None, f"not UTF-8 text ({exc.reason})") from None
    lines = text.splitlines()
    header = [line[1:] for line in lines if line.startswith("#")]
    try:
        metadata = yaml.safe_load("\n".join(header)) or {}
    except yaml.YAMLError as exc:
        raise FactsError(path, None, f"metadata block is not YAML: {exc}") from None
    if not isinstance(metadata, dict):
        raise FactsError(path, 1, "the metadata block must be a YAML mapping")
    curie_map = metadata.get("curie_map")
    if not isinstance(curie_map, dict):
        raise FactsError(path, 1, "the metadata block needs a curie_map")
    for key in ("mapping_set_id", "license"):
        if key not in metadata:
            raise FactsError(path, 1, f"the metadata block needs {key}")

    first = len(header) + 1  # line number of the column header
    body = "\n".join(line for line in lines if not line.startswith("#"))
    reader = csv.DictReader(io.StringIO(body), delimiter="\t")
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise FactsError(path, first, f"missing column(s): {', '.join(missing)}")

    out: list[Mapping] = []
    seen: dict[tuple[str, str, str], int] = {}
    for n, row in enumerate(reader, start=first + 1):
        subject, predicate, obj = (row["subject_id"] or "").strip(), (
            row["predicate_id"] or "").strip(), (row["object_id"] or "").strip()
        if not subject.startswith("kgr:"):
            raise FactsError(path, n, f"subject_id {subject!r} must be a kgr: CURIE")
        entity = subject[len("kgr:"):]
        if entity not in entities:
            raise FactsError(path, n, f"unknown entity {entity!r}")
        if predicate not in PREDICATES:
            raise FactsError(path, n, f"predicate_id {predicate!r} must be one of "
                             f"{', '.join(PREDICATES)}")
        prefix, sep, local = obj.partition(":")
        if not sep or not local or prefix not in curie_map:
            raise FactsError(path, n, f"object_id {obj!r} is not a CURIE with a prefix of the "
                             "curie_map")
        if not (row.get("mapping_justification") or "").strip():
            raise FactsError(path, n, "mapping_justification is empty")
        triple = (entity, predicate, obj)
        if triple in seen:
            raise FactsError(path, n, f"duplicate mapping (first at line {seen[triple]})")
        seen[triple] = n
        out.append(Mapping(entity=entity, predicate=SKOS + predicate.split(":", 1)[1],
                           object=str(curie_map[prefix]) + local, object_id=obj,
                           object_label=(row.get("object_label") or "").strip(), line=n))
    return MappingSet(path=path, metadata=metadata, mappings=tuple(out))
