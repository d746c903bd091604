"""Read curated facts files and their sources into plain, validated records.

No rdflib here: this module turns ``data/facts/*.yaml`` and ``data/sources/*``
into :class:`Corpus` records, locating every quote in its source text. Every
mistake is a :class:`~kg.errors.FactsError` naming the file and line.
"""

from __future__ import annotations

import difflib
import hashlib
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from . import text as textmod
from .errors import DataError, FactsError
from .files import UnreadableInput, read_regular
from .paths import FACTS
from .vocab import QUALIFIERS, Vocabulary

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Characters no text field may hold: C0 controls but tab and newline, DEL, C1 controls
#: (they make ill-formed XML in GraphML, GEXF and SPARQL XML results, and garble terminals)
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
EXPANDED_SEPARATOR = "--"


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Quote:
    """A span of a source document that supports a fact."""

    exact: str
    start: int
    end: int
    prefix: str
    suffix: str


@dataclass(frozen=True)
class Document:
    id: str
    source: str  # path relative to the data directory
    text: str
    sha256: str
    title: str
    language: str
    machine_translated: bool
    translated_from: str | None
    note: str | None
    facts_file: Path
    #: spans of the text that state no fact, with the reason: ((start, end), reason)
    unannotated: tuple[tuple[tuple[int, int], str], ...]


@dataclass(frozen=True)
class Definition:
    text: str
    document: str
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class Entity:
    id: str
    types: tuple[str, ...]
    label: str
    alt: tuple[str, ...]
    definition: Definition | None
    file: Path
    line: int
    #: ids of entities the curator relates to this one (skos:related), such as two
    #: conditions the text names with one word
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fact:
    document: str
    id: str
    subject: str
    relation: str
    object: str
    quotes: tuple[Quote, ...]
    qualifiers: tuple[tuple[str, str], ...]  # (key, entity id), sorted
    negated: bool
    note: str | None
    file: Path
    line: int


@dataclass(frozen=True)
class Corpus:
    documents: tuple[Document, ...]
    entities: dict[str, Entity]
    facts: tuple[Fact, ...]
    inputs: tuple[Path, ...]  # every file read, for the build manifest


# --------------------------------------------------------------------------- YAML with lines


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    lines: dict[str, int]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's C loader where it is built (7x faster), keeping node marks for lines."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise _YamlProblem(line, f"keys must be strings, not {key!r}")
        if key in result:
            raise _YamlProblem(line, f"duplicate key {key!r}")
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


class _YamlProblem(Exception):
    def __init__(self, line: int, problem: str) -> None:
        self.line = line
        self.problem = problem


def read_yaml(path: Path) -> Any:
    """Parse a YAML file into plain data whose mappings know their lines."""
    try:
        raw = read_regular(path).decode("utf-8")
    except UnreadableInput as exc:
        raise FactsError(path, None, exc.problem) from None
    except UnicodeDecodeError as exc:
        raise FactsError(path, None, f"not UTF-8 text ({exc.reason})") from None
    try:
        return yaml.load(raw, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except _YamlProblem as exc:
        raise FactsError(path, exc.line, exc.problem) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. NUL
        at = raw.count("\n", 0, exc.position) + 1
        raise FactsError(path, at, f"control character {exc.character!r} is not "
                         "allowed") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise FactsError(path, line, f"YAML error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise FactsError(path, None, f"YAML error: {exc}") from None


# --------------------------------------------------------------------------- reading one file


class _Reader:
    """Reads one facts file; every error names the file and the line."""

    def __init__(self, path: Path, data_dir: Path, vocab: Vocabulary) -> None:
        self.path = path
        self.data_dir = data_dir
        self.vocab = vocab

    def fail(self, line: int | None, problem: str) -> FactsError:
        return FactsError(self.path, line, problem)

    # -- field access ------------------------------------------------------------

    def mapping(self, value: Any, line: int, what: str) -> _Map:
        if not isinstance(value, _Map):
            raise self.fail(line, f"{what} must be a mapping")
        return value

    def field(self, m: _Map, key: str, kind: type | tuple[type, ...], what: str,
              required: bool = True) -> Any:
        if key not in m:
            if required:
                raise self.fail(m.line, f"{what}: missing required field {key!r}")
            return None
        value = m[key]
        if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(
                k.__name__ for k in kind)
            raise self.fail(m.lines[key], f"{what}: {key!r} must be {_article(names)}")
        if isinstance(value, str) and not value.strip():
            raise self.fail(m.lines[key], f"{what}: {key!r} is empty")
        if isinstance(value, str):
            self.check_text(value, m.lines[key], what, key)
        return value

    def check_text(self, value: str, line: int, what: str, key: str) -> None:
        """Refuse control characters in a text field."""
        bad = CONTROL_CHARACTERS.search(value)
        if bad:
            raise self.fail(line, f"{what}: {key!r} holds the control character "
                            f"U+{ord(bad.group()):04X} at position {bad.start()}")

    def strings(self, m: _Map, key: str, what: str) -> tuple[str, ...]:
        """A field that is a string or a list of strings (absent: empty)."""
        value = self.field(m, key, (str, list), what, required=False)
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        out = []
        for item in items:
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str) or not item.strip():
                raise self.fail(m.lines[key], f"{what}: {key!r} must hold non-empty strings")
            self.check_text(item, m.lines[key], what, key)
            out.append(item)
        return tuple(out)

    def check_unknown(self, m: _Map, allowed: Iterable[str], what: str) -> None:
        allowed = set(allowed)
        for key in m:
            if key not in allowed and not key.startswith("x-"):
                hint = _suggest(key, allowed)
                raise self.fail(m.lines[key], f"{what}: unknown field {key!r}{hint}")

    # -- the file ------------------------------------------------------------------

    def read(self) -> tuple[Document, list[_Map], list[Fact]]:
        top = read_yaml(self.path)
        if top is None:
            raise self.fail(None, "the file is empty")
        top = self.mapping(top, 1, "the file")
        self.check_unknown(top, ("document", "entities", "facts", "unannotated"), "the file")
        doc_map = self.mapping(self.field(top, "document", dict, "the file"),
                               top.lines["document"], "document")
        self.doc_line = top.lines["document"]
        self.document = self.read_document(doc_map)
        self.document = replace(self.document, unannotated=self.read_unannotated(top))
        entities = self.field(top, "entities", dict, "the file", required=False) or _Map()
        entity_maps = []
        for eid, emap in entities.items():
            line = entities.lines[eid]
            if not ID_PATTERN.match(eid):
                raise self.fail(line, f"entity id {eid!r} must be lower-case words joined by '-'")
            emap = self.mapping(emap, line, f"entity {eid!r}")
            emap["x-id"] = eid
            entity_maps.append(emap)
        facts = self.field(top, "facts", list, "the file", required=False) or []
        return self.document, entity_maps, [f for m in facts for f in self.read_fact(m, top)]

    def read_document(self, m: _Map) -> Document:
        what = "document"
        self.check_unknown(m, ("id", "source", "title", "language", "machine_translated",
                               "translated_from", "note"), what)
        doc_id = self.field(m, "id", str, what)
        if not ID_PATTERN.match(doc_id):
            raise self.fail(m.lines["id"], f"document id {doc_id!r} must be lower-case words "
                            "joined by '-'")
        source = self.field(m, "source", str, what)
        source_path = Path(os.path.realpath(self.data_dir / source))  # no error on a loop
        if not source_path.is_relative_to(self.data_dir.resolve()):
            raise self.fail(m.lines["source"], f"source {source!r} lies outside the data "
                            "directory")
        try:
            raw = read_regular(source_path)
        except UnreadableInput as exc:
            problem = (f"not found in {self.data_dir}" if exc.problem == "no such file"
                       else f"cannot be read: {exc.problem}")
            raise self.fail(m.lines["source"], f"source {source!r} {problem}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail(m.lines["source"], f"source {source!r} is not UTF-8 "
                            f"(byte {exc.start})") from None
        self.text = text
        self.spans = textmod.sentence_spans(text)
        machine = self.field(m, "machine_translated", bool, what, required=False)
        return Document(
            id=doc_id,
            source=Path(source).as_posix(),
            text=text,
            sha256=hashlib.sha256(raw).hexdigest(),
            title=self.field(m, "title", str, what),
            language=self.field(m, "language", str, what),
            machine_translated=bool(machine),
            translated_from=self.field(m, "translated_from", str, what, required=False),
            note=self.field(m, "note", str, what, required=False),
            facts_file=self.path,
            unannotated=(),
        )

    def locate(self, exact: str, within: str | None, line: int) -> Quote:
        """Find ``exact`` in the document (inside ``within`` if given) exactly once."""
        text = self.text
        offset = 0
        if within is not None:
            hits = textmod.find_all(text, within)
            if len(hits) != 1:
                raise self.fail(line, f"'within' text {_clip(within)!r} "
                                + ("not found in the source" if not hits else
                                   f"found {len(hits)} times in the source"))
            offset = hits[0]
            text_in = text[offset : offset + len(within)]
        else:
            text_in = text
        hits = textmod.find_all(text_in, exact)
        if not hits:
            where = "inside its 'within' text" if within is not None else "in the source"
            raise self.fail(line, f"quote {_clip(exact)!r} not found {where}{_near(text, exact)}")
        if len(hits) > 1:
            raise self.fail(line, f"quote {_clip(exact)!r} found {len(hits)} times: add "
                            "'within:' with a longer span around the one you mean")
        start = offset + hits[0]
        end = start + len(exact)
        prefix, suffix = textmod.context(text, start, end, self.spans)
        return Quote(exact=exact, start=start, end=end, prefix=prefix, suffix=suffix)

    def quotes(self, m: _Map, what: str) -> tuple[Quote, ...]:
        exacts = self.strings(m, "quote", what)
        if not exacts:
            raise self.fail(m.line, f"{what}: missing required field 'quote'")
        within = self.field(m, "within", str, what, required=False)
        line = m.lines["quote"]
        return tuple(self.locate(e, within, line) for e in exacts)

    def read_fact(self, m: Any, top: _Map) -> Iterator[Fact]:
        m = self.mapping(m, top.lines["facts"], "a fact")
        self.check_unknown(m, ("id", "subject", "relation", "object", "quote", "within",
                               "note", "negated", *QUALIFIERS), "fact")
        fid = self.field(m, "id", str, "fact")
        what = f"fact {fid!r}"
        if not ID_PATTERN.match(fid):
            raise self.fail(m.lines["id"], f"fact id {fid!r} must be lower-case words joined "
                            "by '-'")
        subjects = self.strings(m, "subject", what) or self._missing(m, "subject", what)
        objects = self.strings(m, "object", what) or self._missing(m, "object", what)
        relation = self.field(m, "relation", str, what)
        if relation not in self.vocab.relations:
            raise self.fail(m.lines["relation"], f"{what}: unknown relation {relation!r}"
                            + _suggest(relation, self.vocab.relations))
        quotes = self.quotes(m, what)
        qualifiers = tuple(sorted(
            (key, value) for key in QUALIFIERS for value in self.strings(m, key, what)))
        negated = self.field(m, "negated", bool, what, required=False) or False
        note = self.field(m, "note", str, what, required=False)
        for s in subjects:
            for o in objects:
                expanded = fid
                if len(subjects) > 1:
                    expanded += EXPANDED_SEPARATOR + s
                if len(objects) > 1:
                    expanded += EXPANDED_SEPARATOR + o
                yield Fact(document=self.document.id, id=expanded, subject=s,
                           relation=relation, object=o, quotes=quotes, qualifiers=qualifiers,
                           negated=negated, note=note, file=self.path, line=m.line)

    def _missing(self, m: _Map, key: str, what: str) -> tuple[str, ...]:
        raise self.fail(m.line, f"{what}: missing required field {key!r}")

    def read_entity(self, m: _Map) -> Entity:
        eid = m["x-id"]
        what = f"entity {eid!r}"
        self.check_unknown(m, ("type", "label", "alt", "definition", "related", "x-id"), what)
        types = self.strings(m, "type", what) or self._missing(m, "type", what)
        for t in types:
            if t not in self.vocab.classes:
                raise self.fail(m.lines["type"], f"{what}: unknown type {t!r}"
                                + _suggest(t, self.vocab.classes))
        alt = self.strings(m, "alt", what)
        lowered = self.text.lower()
        for a in alt:
            if a.lower() not in lowered:
                raise self.fail(m.lines["alt"], f"{what}: alternative label {a!r} does not "
                                "occur in the source (alt holds the document's own wording)")
        definition = None
        if "definition" in m:
            dmap = self.mapping(m["definition"], m.lines["definition"], f"{what}: definition")
            self.check_unknown(dmap, ("text", "quote", "within"), f"{what}: definition")
            definition = Definition(text=self.field(dmap, "text", str, f"{what}: definition"),
                                    document=self.document.id,
                                    quotes=self.quotes(dmap, f"{what}: definition"))
        related = self.strings(m, "related", what)
        if eid in related:
            raise self.fail(m.lines["related"], f"{what}: related to itself")
        return Entity(id=eid, types=tuple(sorted(set(types))),
                      label=self.field(m, "label", str, what), alt=tuple(sorted(set(alt))),
                      definition=definition, file=self.path, line=m.lines.get("type", m.line),
                      related=tuple(sorted(set(related))))

    def read_unannotated(self, top: _Map) -> tuple[tuple[tuple[int, int], str], ...]:
        items = self.field(top, "unannotated", list, "the file", required=False) or []
        out = []
        for item in items:
            m = self.mapping(item, top.lines["unannotated"], "an unannotated span")
            self.check_unknown(m, ("text", "reason", "within"), "unannotated span")
            exact = self.field(m, "text", str, "unannotated span")
            reason = self.field(m, "reason", str, "unannotated span")
            within = self.field(m, "within", str, "unannotated span", required=False)
            q = self.locate(exact, within, m.lines["text"])
            out.append(((q.start, q.end), reason))
        return tuple(out)


# --------------------------------------------------------------------------- the corpus


def facts_files(data_dir: Path) -> list[Path]:
    """The facts files of ``data_dir``, in the order they are read."""
    facts_dir = data_dir / FACTS
    return sorted(facts_dir.glob("*.yaml")) + sorted(facts_dir.glob("*.yml"))


def load_corpus(data_dir: Path, vocab: Vocabulary,
                progress: Callable[[int], None] | None = None) -> Corpus:
    """Read every ``facts/*.yaml`` of ``data_dir`` into a checked :class:`Corpus`;
    ``progress(1)`` is called after each file."""
    files = facts_files(data_dir)
    if not files:
        raise DataError(f"no facts files (*.yaml) in {data_dir / FACTS}")
    documents: dict[str, Document] = {}
    entities: dict[str, Entity] = {}
    facts: dict[tuple[str, str], Fact] = {}
    inputs: list[Path] = []
    references: list[tuple[Path, int, str, str]] = []  # file, line, entity id, what

    for result in _read_files(files, data_dir, vocab):
        if progress is not None:
            progress(1)
        path, document = result.path, result.document
        if document.id in documents:
            other = documents[document.id].facts_file
            raise FactsError(path, result.doc_line, f"document id {document.id!r} is "
                             f"already used by {other.name}")
        documents[document.id] = document
        inputs += [path, (data_dir / document.source)]
        for entity in result.entities:
            entities[entity.id] = _merge_entity(entities.get(entity.id), entity)
            references += [(path, entity.line, r, "related entity") for r in entity.related]
        for fact in result.facts:
            key = (fact.document, fact.id)
            if key in facts:
                raise FactsError(path, fact.line, f"duplicate fact id {fact.id!r} (first at "
                                 f"line {facts[key].line})")
            facts[key] = fact
            references += [(path, fact.line, fact.subject, "subject"),
                           (path, fact.line, fact.object, "object")]
            references += [(path, fact.line, v, k) for k, v in fact.qualifiers]

    for path, line, eid, role in references:
        if eid not in entities:
            raise FactsError(path, line, f"unknown entity {eid!r} as {role}"
                             + _suggest(eid, entities))
    for fact in facts.values():
        _check_types(fact, entities, vocab)
    return Corpus(documents=tuple(documents[k] for k in sorted(documents)),
                  entities=dict(sorted(entities.items())),
                  facts=tuple(facts[k] for k in sorted(facts)),
                  inputs=tuple(inputs))


@dataclass(frozen=True)
class _FileResult:
    path: Path
    document: Document
    doc_line: int
    entities: tuple[Entity, ...]
    facts: tuple[Fact, ...]


def _read_file(path: Path, data_dir: Path, vocab: Vocabulary) -> _FileResult:
    reader = _Reader(path, data_dir, vocab)
    document, entity_maps, facts = reader.read()
    return _FileResult(path=path, document=document, doc_line=reader.doc_line,
                       entities=tuple(reader.read_entity(m) for m in entity_maps),
                       facts=tuple(facts))


#: below this many files per worker process, reading in one process is faster
FILES_PER_WORKER = 200
_WORKER_ARGS: tuple[Path, Vocabulary] | None = None


def _worker_init(data_dir: Path, vocab: Vocabulary) -> None:
    global _WORKER_ARGS
    _WORKER_ARGS = (data_dir, vocab)


def _worker_read(path: Path) -> _FileResult:
    assert _WORKER_ARGS is not None
    return _read_file(path, *_WORKER_ARGS)


def _read_files(files: list[Path], data_dir: Path, vocab: Vocabulary) -> Iterator[_FileResult]:
    """Read the facts files in order; a large corpus is read by several processes (the
    files are independent), the results still coming back in file order, so the first
    error reported is the first in file order, as in a sequential read."""
    workers = min(len(files) // FILES_PER_WORKER, os.cpu_count() or 1, 8)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for path in files:
            yield _read_file(path, data_dir, vocab)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init,
                             initargs=(data_dir, vocab)) as pool:
        yield from pool.map(_worker_read, files, chunksize=max(1, len(files) // (workers * 16)))


def _merge_entity(old: Entity | None, new: Entity) -> Entity:
    """Merge the declarations of one entity by several documents."""
    if old is None:
        return new
    for attr in ("types", "label"):
        if getattr(old, attr) != getattr(new, attr):
            raise FactsError(new.file, new.line, f"entity {new.id!r}: {attr} "
                             f"{getattr(new, attr)!r} differs from {getattr(old, attr)!r} "
                             f"declared in {old.file.name}")
    if old.definition and new.definition and old.definition.text != new.definition.text:
        raise FactsError(new.file, new.line, f"entity {new.id!r}: a second, different "
                         f"definition (the first is in {old.file.name})")
    return replace(old, alt=tuple(sorted(set(old.alt) | set(new.alt))),
                   definition=old.definition or new.definition,
                   related=tuple(sorted(set(old.related) | set(new.related))))


def _check_types(fact: Fact, entities: dict[str, Entity], vocab: Vocabulary) -> None:
    rel = vocab.relations[fact.relation]
    for role, eid, cls in (("subject", fact.subject, rel.domain),
                           ("object", fact.object, rel.range)):
        if not vocab.is_a(entities[eid].types, cls):
            raise FactsError(fact.file, fact.line, f"fact {fact.id!r}: {role} {eid!r} is "
                             f"{_article(', '.join(entities[eid].types))}, but {fact.relation} "
                             f"needs {_article(cls)}")
    for key, eid in fact.qualifiers:
        cls = vocab.qualifiers.get(key, "")
        if cls and not vocab.is_a(entities[eid].types, cls):
            raise FactsError(fact.file, fact.line, f"fact {fact.id!r}: {key} {eid!r} is "
                             f"{_article(', '.join(entities[eid].types))}, not {_article(cls)}")


# --------------------------------------------------------------------------- messages


def _suggest(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def _near(text: str, exact: str) -> str:
    """A hint when a quote differs from the text only in case or white space."""
    if exact.lower() in text.lower():
        return " (it occurs with different capitalisation)"
    squeezed = " ".join(exact.split())
    if squeezed != exact and squeezed in text:
        return " (it occurs with different white space)"
    return ""


def _clip(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun
