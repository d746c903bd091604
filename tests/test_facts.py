"""The facts loader: every mistake in a facts file is one line naming file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg.errors import FactsError
from kg.facts import load_corpus, read_yaml
from kg.paths import ONTOLOGY
from kg.vocab import load_ontology, vocabulary

FACTS_FILE = Path("facts") / "leg-cramps.yaml"


def load(data_dir: Path):  # type: ignore[no-untyped-def]
    return load_corpus(data_dir, vocabulary(load_ontology(data_dir / ONTOLOGY)))


def edit(data_dir: Path, old: str, new: str, count: int = 1) -> int:
    """Replace ``old`` by ``new`` in the facts file; return the line of the change."""
    path = data_dir / FACTS_FILE
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"test setup: {old!r} not in the facts file"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return line


def error_of(data_dir: Path) -> FactsError:
    with pytest.raises(FactsError) as info:
        load(data_dir)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(data_dir / FACTS_FILE)) or "leg-cramps.yaml" in message
    return info.value


def test_the_shipped_facts_load(data_copy: Path) -> None:
    corpus = load(data_copy)
    assert [d.id for d in corpus.documents] == ["leg-cramps"]
    assert len(corpus.facts) > 100
    assert "leg-cramp" in corpus.entities


def test_yaml_syntax_error_names_the_line(data_copy: Path) -> None:
    line = edit(data_copy, "  - id: cramp-pain\n", "  - id: cramp-pain\n    subject: [oops\n")
    err = error_of(data_copy)
    assert "YAML error" in err.problem
    assert err.line is not None and abs(err.line - line) <= 3


def test_unknown_entity(data_copy: Path) -> None:
    edit(data_copy, "    subject: thyroid-disease\n    relation: causes\n",
         "    subject: thyroid-diseases\n    relation: causes\n")
    err = error_of(data_copy)
    assert "unknown entity 'thyroid-diseases'" in err.problem
    assert "did you mean 'thyroid-disease'" in err.problem
    text = (data_copy / FACTS_FILE).read_text().splitlines()
    assert "id: thyroid-disease-causes-cramps" in text[err.line - 1]  # type: ignore[operator]


def test_unknown_relation(data_copy: Path) -> None:
    line = edit(data_copy, "    relation: hasSpecialist\n", "    relation: hasSpecialists\n")
    err = error_of(data_copy)
    assert err.line == line
    assert "unknown relation 'hasSpecialists'" in err.problem
    assert "did you mean 'hasSpecialist'" in err.problem


def test_unknown_type(data_copy: Path) -> None:
    line = edit(data_copy, "    type: Specialist\n", "    type: Specialists\n")
    err = error_of(data_copy)
    assert err.line == line
    assert "unknown type 'Specialists'" in err.problem


def test_quote_not_found(data_copy: Path) -> None:
    line = edit(data_copy, "    quote: tooth decay\n", "    quote: tooth decays\n")
    err = error_of(data_copy)
    assert err.line == line
    assert "quote 'tooth decays' not found in the source" in err.problem


def test_quote_with_other_capitalisation_gets_a_hint(data_copy: Path) -> None:
    edit(data_copy, "    quote: tooth decay\n", "    quote: Tooth Decay\n")
    assert "different capitalisation" in error_of(data_copy).problem


def test_quote_found_twice_needs_within(data_copy: Path) -> None:
    # "pain" occurs several times in the text
    line = edit(data_copy, "    quote: pain in the heart\n", "    quote: pain\n")
    err = error_of(data_copy)
    assert err.line == line
    assert re.search(r"quote 'pain' found \d+ times: add 'within:'", err.problem)


def test_within_disambiguates(data_copy: Path) -> None:
    edit(data_copy, "    quote: pain in the heart\n",
         "    quote: pain\n    within: pain in the heart\n")
    corpus = load(data_copy)
    fact = next(f for f in corpus.facts if f.id == "heart-pain-site")
    text = corpus.documents[0].text
    q = fact.quotes[0]
    assert text[q.start : q.end] == "pain"
    assert text[q.start : q.start + len("pain in the heart")] == "pain in the heart"


def test_duplicate_fact_id(data_copy: Path) -> None:
    edit(data_copy, "  - id: tooth-decay-site\n", "  - id: hair-deterioration-site\n")
    err = error_of(data_copy)
    assert "duplicate fact id 'hair-deterioration-site'" in err.problem


def test_duplicate_yaml_key(data_copy: Path) -> None:
    line = edit(data_copy, "  dysmenorrhea:\n    type: SignOrSymptom\n",
                "  dysmenorrhea:\n    type: SignOrSymptom\n    type: Condition\n")
    err = error_of(data_copy)
    assert err.line == line + 2
    assert "duplicate key 'type'" in err.problem


def test_missing_required_field(data_copy: Path) -> None:
    line = edit(data_copy, "  - id: tooth-decay-site\n    subject: tooth-decay\n",
                "  - id: tooth-decay-site\n")
    err = error_of(data_copy)
    assert err.line == line
    assert "missing required field 'subject'" in err.problem


def test_missing_quote(data_copy: Path) -> None:
    edit(data_copy, "    object: teeth\n    quote: tooth decay\n", "    object: teeth\n")
    assert "missing required field 'quote'" in error_of(data_copy).problem


def test_unknown_field_gets_a_suggestion(data_copy: Path) -> None:
    line = edit(data_copy, "    population: women\n", "    populaton: women\n")
    err = error_of(data_copy)
    assert err.line == line
    assert "unknown field 'populaton'" in err.problem and "population" in err.problem


def test_alt_label_must_occur_in_the_text(data_copy: Path) -> None:
    line = edit(data_copy, "    alt: [spazmofiliya]\n", "    alt: [spasmofilia]\n")
    err = error_of(data_copy)
    assert err.line == line
    assert "'spasmofilia' does not occur in the source" in err.problem


def test_relation_range_is_checked(data_copy: Path) -> None:
    edit(data_copy, "    relation: hasSpecialist\n    object: pediatrician\n",
         "    relation: hasSpecialist\n    object: children\n")
    err = error_of(data_copy)
    assert "object 'children' is a Population, but hasSpecialist needs a Specialist" \
        in err.problem


def test_qualifier_type_is_checked(data_copy: Path) -> None:
    edit(data_copy, "    population: women\n", "    population: winter\n")
    assert "population 'winter' is a Season, not a Population" in error_of(data_copy).problem


def test_source_outside_data_dir_is_refused(data_copy: Path) -> None:
    edit(data_copy, "  source: sources/leg-cramps.txt\n", "  source: ../../etc/passwd\n")
    assert "outside the data directory" in error_of(data_copy).problem


def test_missing_source(data_copy: Path) -> None:
    edit(data_copy, "  source: sources/leg-cramps.txt\n", "  source: sources/nope.txt\n")
    assert "source 'sources/nope.txt' not found" in error_of(data_copy).problem


def test_empty_file(data_copy: Path) -> None:
    (data_copy / FACTS_FILE).write_text("", encoding="utf-8")
    assert "empty" in error_of(data_copy).problem


def test_list_subjects_expand_to_one_fact_each(data_copy: Path) -> None:
    corpus = load(data_copy)
    ids = {f.id for f in corpus.facts}
    assert {"vein-diseases-cause-cramps--thrombophlebitis",
            "vein-diseases-cause-cramps--varicose-veins"} <= ids
    assert "vein-diseases-cause-cramps" not in ids


def test_read_yaml_keeps_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\nb:\n  c: 2\n", encoding="utf-8")
    data = read_yaml(path)
    assert data == {"a": 1, "b": {"c": 2}}
    assert data.lines == {"a": 1, "b": 2}
    assert data["b"].lines == {"c": 3}


def _many_documents(data_dir: Path, n: int) -> None:
    text = (data_dir / FACTS_FILE).read_text(encoding="utf-8")
    for i in range(2, n + 1):
        copy = text.replace("  id: leg-cramps\n", f"  id: leg-cramps-{i}\n", 1)
        (data_dir / "facts" / f"leg-cramps-{i}.yaml").write_text(copy, encoding="utf-8")


def test_parallel_read_equals_sequential(data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kg.facts

    _many_documents(data_copy, 5)
    sequential = load(data_copy)
    monkeypatch.setattr(kg.facts, "FILES_PER_WORKER", 1)
    parallel = load(data_copy)
    assert parallel == sequential
    assert len(parallel.documents) == 5


def test_parallel_read_reports_the_first_error_in_file_order(
        data_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kg.facts

    _many_documents(data_copy, 5)
    for i, bad in ((4, "tooth decays"), (3, "tooth decayed")):
        path = data_copy / "facts" / f"leg-cramps-{i}.yaml"
        path.write_text(path.read_text().replace("quote: tooth decay\n", f"quote: {bad}\n"))
    monkeypatch.setattr(kg.facts, "FILES_PER_WORKER", 1)
    with pytest.raises(FactsError) as info:
        load(data_copy)
    assert info.value.path.name == "leg-cramps-3.yaml"
    assert "'tooth decayed' not found" in info.value.problem


@pytest.mark.parametrize("char", ["\\0", "\\x1b", "\\x7f", "\\x85", "\\x9b", "\\r"])
@pytest.mark.parametrize("old,new", [
    ("    label: leg cramp\n", '    label: "leg{c} cramp"\n'),
    ("  title: Cramps in the legs\n", '  title: "Cramps{c} in the legs"\n'),
    ("      text: An involuntary contraction", '      text: "An{c} involuntary" #'),
    ("""    note: '"weak and strong" renders""", '''    note: "weak{c}" #'''),
])
def test_control_characters_in_text_fields_are_refused(data_copy: Path, char: str, old: str,
                                                       new: str) -> None:
    line = edit(data_copy, old, new.format(c=char))
    error = error_of(data_copy)
    assert error.line == line and "control character" in error.problem


def test_a_raw_nul_byte_is_one_line_with_its_line(data_copy: Path) -> None:
    line = edit(data_copy, "    label: leg cramp\n", "    label: leg\0 cramp\n")
    error = error_of(data_copy)
    assert error.line == line and "control character" in error.problem


def test_tabs_and_newlines_stay_allowed_in_notes(data_copy: Path) -> None:
    edit(data_copy, """    note: '"weak and strong" renders""", """    note: "a\\tb\\nc" #""")
    load(data_copy)
