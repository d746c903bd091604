"""The leg-cramps article, read section by section: each fact the text states is in the graph.

The tables below were written from the text of ``data/sources/leg-cramps.txt`` (a rough
machine translation), as a careful medical reader takes it, not copied from the facts
file. For every fact the test checks

* the truthy triple ``kgr:<subject> kg:<relation> kgr:<object>``;
* an ``rdf:Statement`` with that subject, predicate and object whose qualifiers
  (population, context, severity, frequency, salience) include the ones the text gives;
* that the statement's evidence (quote and offsets) lies in the section of the article
  that states the fact, so the quote really comes from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import PROV, SKOS

from kg.vocab import KG, KGD, KGR, OA, QUALIFIERS

DOC = KGD["leg-cramps"]

# --------------------------------------------------------------------------- sections

#: Where each section of the article starts: its heading, or for the sections without
#: one, the words that open its paragraph. A section ends where the next one starts.
SECTION_STARTS: dict[str, str] = {
    "intro": "Cramps in the legs - a common occurrence",
    "causes": "In most cases, it reduces calf",
    "pregnancy": "Why driving legs in pregnancy",
    "children": "Why reduces the legs of the child",
    "what-to-do": "What to do when driving feet",
    "first-aid": "During an attack of convulsions",
}

Span = tuple[int, int]


@pytest.fixture(scope="module")
def sections(source_text: str) -> dict[str, Span]:
    """The (start, end) offsets of each section of the article."""
    starts: list[int] = []
    for name, opening in SECTION_STARTS.items():
        hits = source_text.count(opening)
        assert hits == 1, f"section {name!r}: {opening!r} occurs {hits} times"
        start = source_text.index(opening)
        assert start == 0 or source_text[start - 1] == "\n", f"{name!r} starts mid-line"
        starts.append(start)
    assert starts == sorted(starts), "sections are out of order"
    ends = [*starts[1:], len(source_text)]
    return dict(zip(SECTION_STARTS, zip(starts, ends, strict=True), strict=True))


def test_sections_are_where_the_article_puts_them(
    sections: dict[str, Span], source_text: str
) -> None:
    def text(name: str) -> str:
        start, end = sections[name]
        return source_text[start:end]

    assert "Hypomagnesemia" in text("intro")
    assert "spazmofiliya" in text("causes") and "At night" in text("causes")
    assert "eclampsia" in text("pregnancy")
    assert "Flatfoot" in text("children")
    assert "phlebologist" in text("what-to-do")
    assert "raised legs" in text("first-aid")


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class F:
    """A fact as the text states it; a qualifier value of None means 'none given'."""

    s: str
    rel: str
    o: str
    q: Mapping[str, str | None] = field(default_factory=dict)

    def __str__(self) -> str:
        quals = ",".join(f"{k}={v}" for k, v in sorted(self.q.items()))
        return f"{self.s}-{self.rel}-{self.o}" + (f"[{quals}]" if quals else "")


def facts(
    subjects: str | Iterable[str], rel: str, objects: str | Iterable[str], **q: str | None
) -> list[F]:
    """One :class:`F` per (subject, object) pair."""
    ss = [subjects] if isinstance(subjects, str) else list(subjects)
    os_ = [objects] if isinstance(objects, str) else list(objects)
    return [F(s, rel, o, q) for s in ss for o in os_]


def qualifiers(graph: Graph, st: URIRef) -> dict[str, set[str]]:
    """The qualifiers of a statement: key -> entity ids."""
    out: dict[str, set[str]] = {}
    for key, prop in QUALIFIERS.items():
        values = {str(v).removeprefix(str(KGR)) for v in graph.objects(st, prop)}
        if values:
            out[key] = values
    return out


def fact(graph: Graph, s: str, rel: str, o: str, **q: str | None) -> list[URIRef]:
    """The statements ``s rel o`` whose qualifiers include ``q`` (None: no such qualifier).

    Asserts that there is at least one, and that the truthy triple exists too.
    """
    subj, pred, obj = KGR[s], KG[rel], KGR[o]
    assert (subj, pred, obj) in graph, f"no truthy triple kgr:{s} kg:{rel} kgr:{o}"
    candidates = [
        st for st in graph.subjects(RDF.subject, subj)
        if isinstance(st, URIRef)
        and (st, RDF.type, RDF.Statement) in graph
        and (st, RDF.predicate, pred) in graph
        and (st, RDF.object, obj) in graph
        and (st, KG.negated, Literal(True)) not in graph
    ]
    assert candidates, f"no statement for kgr:{s} kg:{rel} kgr:{o}"
    found = [st for st in candidates if _has_qualifiers(qualifiers(graph, st), q)]
    assert found, (
        f"kgr:{s} kg:{rel} kgr:{o}: no statement with qualifiers {q}; the graph has "
        + "; ".join(f"{_fact_id(st)} {qualifiers(graph, st)}" for st in candidates)
    )
    return found


def _has_qualifiers(have: dict[str, set[str]], want: Mapping[str, str | None]) -> bool:
    for key, value in want.items():
        assert key in QUALIFIERS, f"unknown qualifier {key!r}"
        if value is None:
            if key in have:
                return False
        elif value not in have.get(key, set()):
            return False
    return True


def _fact_id(st: URIRef) -> str:
    return str(st).rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Evidence:
    exact: str
    start: int
    end: int


def evidence(graph: Graph, st: URIRef) -> list[Evidence]:
    """The quotes a statement was derived from, with their offsets in the source."""
    out: list[Evidence] = []
    for ev in graph.objects(st, PROV.wasDerivedFrom):
        assert (ev, OA.hasSource, DOC) in graph, f"{ev}: not from the leg-cramps article"
        selectors = list(graph.objects(ev, OA.hasSelector))
        quote = [s for s in selectors if (s, RDF.type, OA.TextQuoteSelector) in graph]
        pos = [s for s in selectors if (s, RDF.type, OA.TextPositionSelector) in graph]
        assert len(quote) == 1 and len(pos) == 1, f"{ev}: needs one quote and one position"
        exact = graph.value(quote[0], OA.exact)
        start = graph.value(pos[0], OA.start)
        end = graph.value(pos[0], OA.end)
        assert isinstance(exact, Literal) and isinstance(start, Literal)
        assert isinstance(end, Literal)
        out.append(Evidence(str(exact), int(start.toPython()), int(end.toPython())))
    return out


def evidence_in_section(
    graph: Graph, st: URIRef, source_text: str, section: Span
) -> bool:
    """True if the statement has evidence and every quote of it lies inside ``section``.

    Every quote must also be the text at its offsets.
    """
    quotes = evidence(graph, st)
    assert quotes, f"{_fact_id(st)}: no evidence"
    for e in quotes:
        assert source_text[e.start : e.end] == e.exact, f"{_fact_id(st)}: offsets are off"
    return all(section[0] <= e.start and e.end <= section[1] for e in quotes)


def assert_evidence_in_section(
    graph: Graph, st: URIRef, source_text: str, sections: dict[str, Span], name: str
) -> None:
    """Assert that the evidence of ``st`` comes from section ``name`` of the article."""
    where = [
        f"{e.exact!r} at {e.start}-{e.end}" for e in evidence(graph, st)
    ]
    assert evidence_in_section(graph, st, source_text, sections[name]), (
        f"{_fact_id(st)}: evidence is not in section {name!r}: {where}"
    )


def stated(
    graph: Graph, source_text: str, sections: dict[str, Span], name: str, f: F
) -> URIRef:
    """The statement of ``f`` whose evidence lies in section ``name`` (asserted to exist)."""
    found = fact(graph, f.s, f.rel, f.o, **f.q)
    here = [st for st in found if evidence_in_section(graph, st, source_text, sections[name])]
    assert here, (
        f"{f}: stated, but not from section {name!r} "
        f"(found only {[_fact_id(st) for st in found]})"
    )
    assert_evidence_in_section(graph, here[0], source_text, sections, name)
    return here[0]


def note(graph: Graph, st: URIRef) -> str:
    """The curator's note on a statement (asserted present, English and not empty)."""
    notes = list(graph.objects(st, SKOS.editorialNote))
    assert len(notes) == 1, f"{_fact_id(st)}: expected one curator note, found {len(notes)}"
    n = notes[0]
    assert isinstance(n, Literal) and n.language == "en" and str(n).strip()
    return str(n)


def _ids(rows: Iterable[F]) -> Iterator[str]:
    return (str(r) for r in rows)


# --------------------------------------------------------------------------- intro

INTRO: list[F] = [
    # "Cramps in the legs - a common occurrence in people of allage groups."
    *facts("leg-cramp", "affects", "all-ages", frequency="common"),
    *facts("leg-cramp", "associatedAnatomy", "leg"),
    # "involuntary muscle contraction, which is accompanied by a feeling of pain"
    *facts("leg-cramp", "hasSymptom", "pain"),
    # "They may be weak and strong."
    *facts("leg-cramp", "hasSeverityLevel", ["mild", "severe"]),
    # "Severe attacks can cause loss of consciousness and acute muscle spasm." The seizure
    # rule: only a convulsive seizure makes one lose consciousness; "acute muscle spasm"
    # is the cramp itself (an alternative label of leg cramp).
    *facts("seizure", "causes", "loss-of-consciousness", severity="severe"),
    # "ranging from malnutrition and fatigue to serious abnormalities, life-threatening"
    *facts(["poor-diet", "fatigue", "life-threatening-disorder"], "causes", "leg-cramp",
           population=None),
    # "Basically legs reduces due to a lack of magnesium in the body, which depends on ..."
    *facts("magnesium-deficiency", "causes", "leg-cramp", population=None,
           salience="main-cause"),
    *facts("magnesium-deficiency", "deficiencyOf", "magnesium"),
    *facts("poor-diet", "causes", "magnesium-deficiency", population=None),
    # "Hypomagnesemia accompanied by memory impairment, increased anxiety, pain in the
    #  heart and in the abdomen, the deterioration of the condition of nails and hair,
    #  tooth decay and painful menstruation in women."
    *facts("magnesium-deficiency", "hasSymptom",
           ["memory-impairment", "anxiety", "heart-pain", "abdominal-pain",
            "nail-deterioration", "hair-deterioration", "tooth-decay"], population=None),
    *facts("magnesium-deficiency", "hasSymptom", "dysmenorrhea", population="women"),
    *facts("heart-pain", "associatedAnatomy", "heart"),
    *facts("abdominal-pain", "associatedAnatomy", "abdomen"),
    *facts("nail-deterioration", "associatedAnatomy", "nails"),
    *facts("hair-deterioration", "associatedAnatomy", "hair"),
    *facts("tooth-decay", "associatedAnatomy", "teeth"),
    # "The presence of these symptoms can be concluded that the legs reduces due to
    #  magnesium deficiency."
    *facts(["memory-impairment", "anxiety", "heart-pain", "abdominal-pain",
            "nail-deterioration", "hair-deterioration", "tooth-decay"],
           "indicates", "magnesium-deficiency", population=None),
    *facts("dysmenorrhea", "indicates", "magnesium-deficiency", population="women"),
]


@pytest.mark.parametrize("f", INTRO, ids=_ids(INTRO))
def test_intro_section(
    f: F, graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    stated(graph, source_text, sections, "intro", f)


def test_intro_defines_a_cramp(
    graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    # "Under convulsions understood involuntary muscle contraction, which is accompanied
    #  by a feeling of pain."
    definition = graph.value(KGR["leg-cramp"], SKOS.definition)
    assert isinstance(definition, Literal)
    assert "involuntary" in str(definition) and "pain" in str(definition)
    st = URIRef(f"{DOC}/definition/leg-cramp")
    assert (st, RDF.subject, KGR["leg-cramp"]) in graph
    assert (st, RDF.predicate, SKOS.definition) in graph
    assert_evidence_in_section(graph, st, source_text, sections, "intro")


def test_severe_attacks_only(graph: Graph) -> None:
    # Loss of consciousness is said of severe attacks, not of mild ones.
    for st in fact(graph, "seizure", "causes", "loss-of-consciousness"):
        assert qualifiers(graph, st).get("severity") == {"severe"}


# --------------------------------------------------------------------------- causes

LISTED_CAUSES: list[str] = [
    # "lack of potassium, calcium and magnesium;"
    "potassium-deficiency", "calcium-deficiency", "magnesium-deficiency",
    "thyroid-disease",  # "thyroid disease;"
    "chronic-renal-failure",  # "CRF (chronic renal failure);"
    "b-vitamin-deficiency", "vitamin-b6-deficiency",  # "lack of B vitamins, especially B6;"
    "hypoglycemia",  # "low blood glucose;"
    "high-estrogen",  # "High estrogen levels;"
    "lower-limb-overload",  # "overload of the lower limbs (...)"
    "impaired-blood-flow",  # "impaired blood flow in heart failure and ..."
    "low-back-pain",  # "low back pain;"
    "thrombophlebitis", "varicose-veins",  # "thrombophlebitis, varicose veins;"
    "sleep-deprivation", "chronic-stress",  # "lack of sleep and constant stress;"
    "spasmophilia",  # "spazmofiliya."
]

#: List items that cause convulsive seizures, not leg cramps (the seizure rule).
LISTED_SEIZURE_CAUSES: list[str] = ["epilepsy", "brain-tumor"]

CAUSES: list[F] = [
    # "In most cases, it reduces calf (gastrocnemius muscle), toes and foot."
    *facts("leg-cramp", "associatedAnatomy", ["calf-muscle", "toes", "foot"],
           frequency="most-cases"),
    # "Let us examine the cause of the seizures of the lower limb:" and the list. The list
    # is about people in general, so none of its facts is restricted to a population.
    *facts(LISTED_CAUSES, "causes", "leg-cramp", population=None, context=None),
    *facts(LISTED_SEIZURE_CAUSES, "causes", "seizure", population=None, context=None),
    # "lack of B vitamins, especially B6": B6 is singled out, the B vitamins are not
    *facts("vitamin-b6-deficiency", "causes", "leg-cramp", salience="singled-out"),
    *facts("b-vitamin-deficiency", "causes", "leg-cramp", salience=None),
    *facts("potassium-deficiency", "deficiencyOf", "potassium"),
    *facts("calcium-deficiency", "deficiencyOf", "calcium"),
    *facts("b-vitamin-deficiency", "deficiencyOf", "b-vitamins"),
    *facts("vitamin-b6-deficiency", "deficiencyOf", "vitamin-b6"),
    *facts("vitamin-b6", "subtypeOf", "b-vitamins"),
    *facts("vitamin-b6-deficiency", "subtypeOf", "b-vitamin-deficiency"),
    *facts("thyroid-disease", "associatedAnatomy", "thyroid-gland"),
    *facts("chronic-renal-failure", "associatedAnatomy", "kidney"),
    # "overload of the lower limbs (excessive jogging, soccer, swimming)"
    *facts("lower-limb-overload", "associatedAnatomy", "leg"),
    *facts(["excessive-jogging", "excessive-soccer", "excessive-swimming"], "causes",
           "lower-limb-overload"),
    # "impaired blood flow in heart failure and diseases of the cardiovascular system"
    *facts(["heart-failure", "cardiovascular-disease"], "causes", "impaired-blood-flow"),
    *facts("heart-failure", "associatedAnatomy", "heart"),
    *facts("cardiovascular-disease", "associatedAnatomy", "cardiovascular-system"),
    *facts("low-back-pain", "associatedAnatomy", "lower-back"),
    *facts(["thrombophlebitis", "varicose-veins"], "associatedAnatomy", "veins"),
    *facts("brain-tumor", "associatedAnatomy", "brain"),
    # "At night often reduces the legs due to awkward postures, excessive in the body of
    #  caffeine and nicotine."
    *facts(["awkward-posture", "excess-caffeine", "excess-nicotine"], "causes", "leg-cramp",
           context="night", frequency="common", population=None),
]


@pytest.mark.parametrize("f", CAUSES, ids=_ids(CAUSES))
def test_causes_list(
    f: F, graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    stated(graph, source_text, sections, "causes", f)


@pytest.mark.parametrize("cause", LISTED_CAUSES + LISTED_SEIZURE_CAUSES)
def test_listed_cause_is_grounded_in_the_list(
    cause: str, graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    # A list item alone ("epilepsy") does not say it causes cramps: the sentence that
    # introduces the list does, so it must be part of the evidence.
    effect = "seizure" if cause in LISTED_SEIZURE_CAUSES else "leg-cramp"
    st = stated(graph, source_text, sections, "causes", F(cause, "causes", effect))
    exacts = {e.exact for e in evidence(graph, st)}
    assert "Let us examine the cause of the seizures of the lower limb:" in exacts


def test_every_list_item_is_a_cause(
    graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    start, end = sections["causes"]
    items: list[Span] = []
    pos = start
    for line in source_text[start:end].splitlines(keepends=True):
        if line.strip().startswith("\u2022"):
            text = line.strip().lstrip("\u2022").strip().rstrip(";.")
            item_start = source_text.index(text, pos)
            items.append((item_start, item_start + len(text)))
        pos += len(line)
    assert len(items) == 14
    spans = [
        (e.start, e.end)
        for effect in ("leg-cramp", "seizure")
        for st in graph.subjects(RDF.object, KGR[effect])
        if (st, RDF.predicate, KG.causes) in graph and isinstance(st, URIRef)
        for e in evidence(graph, st)
    ]
    for a, b in items:
        assert any(a <= s and e <= b for s, e in spans), (
            f"list item {source_text[a:b]!r} is not stated as a cause of leg cramps "
            "or of seizures"
        )


# --------------------------------------------------------------------------- pregnancy

PREGNANCY_DEFICIENCIES = [
    "magnesium-deficiency", "potassium-deficiency", "calcium-deficiency", "b-vitamin-deficiency",
]

PREGNANCY: list[F] = [
    # "Probably, every pregnant woman facesthe problem of lower limb spasms."
    *facts("leg-cramp", "affects", "pregnant-women", frequency="very-common"),
    # "Lack of magnesium, potassium, calcium, B vitamins contributes to the appearance of
    #  seizures in pregnant women."
    *facts(PREGNANCY_DEFICIENCIES, "causes", "leg-cramp", population="pregnant-women"),
    # "These drawbacks are provoked by malnutrition, disruption of the parathyroid glands
    #  (the first trimester), the active growth of the fetus (second trimester), the
    #  action of diuretics (after pregnancy)."
    *facts("poor-diet", "causes", PREGNANCY_DEFICIENCIES, population="pregnant-women"),
    # The text blames the four deficiencies ("these drawbacks") on these causes together,
    # and that is what is encoded; which cause brings about which deficiency medically is
    # the curator's knowledge, kept in the notes.
    *facts("parathyroid-dysfunction", "causes", PREGNANCY_DEFICIENCIES,
           population="pregnant-women", context="first-trimester"),
    *facts("fetal-growth", "causes", PREGNANCY_DEFICIENCIES,
           population="pregnant-women", context="second-trimester"),
    # "after pregnancy": women after childbirth, not pregnant women
    *facts("diuretics", "causes", PREGNANCY_DEFICIENCIES,
           population="postpartum-women", context="after-pregnancy"),
    *facts("parathyroid-dysfunction", "associatedAnatomy", "parathyroid-glands"),
    # "Low levels of blood glucose, the inferior vena cava syndrome, and chronic venous
    #  insufficiency of equally approximate appearance leg cramps."
    *facts(["hypoglycemia", "ivc-syndrome", "chronic-venous-insufficiency"], "causes",
           "leg-cramp", population="pregnant-women"),
    *facts("ivc-syndrome", "associatedAnatomy", "inferior-vena-cava"),
    *facts("chronic-venous-insufficiency", "associatedAnatomy", "veins"),
    # "Seizures can cause eclampsia - a serious disease with very high blood pressure, pose
    #  a threat to life of the mother and fetus." Read as: eclampsia can cause seizures.
    *facts("eclampsia", "causes", "seizure", population="pregnant-women"),
    *facts("eclampsia", "hasSymptom", "very-high-blood-pressure"),
    *facts("eclampsia", "hasSeverityLevel", "severe"),
    *facts("eclampsia", "endangers", ["pregnant-women", "fetus"]),
]


@pytest.mark.parametrize("f", PREGNANCY, ids=_ids(PREGNANCY))
def test_pregnancy_section(
    f: F, graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    stated(graph, source_text, sections, "pregnancy", f)


def test_eclampsia_causes_seizures_not_the_reverse(
    graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    st = stated(graph, source_text, sections, "pregnancy",
                F("eclampsia", "causes", "seizure", {"population": "pregnant-women"}))
    assert "eclampsia can cause seizures" in note(graph, st)
    # The literal word order of the translation is not encoded.
    for cause in ("seizure", "leg-cramp"):
        assert (KGR[cause], KG.causes, KGR["eclampsia"]) not in graph
        assert not any(
            (st2, RDF.object, KGR["eclampsia"]) in graph
            for st2 in graph.subjects(RDF.subject, KGR[cause])
        )
    # The seizures of eclampsia are convulsions, kept apart from leg cramps.
    assert (KGR["eclampsia"], KG.causes, KGR["leg-cramp"]) not in graph


def test_eclampsia_is_defined_in_the_pregnancy_section(
    graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    definition = str(graph.value(KGR["eclampsia"], SKOS.definition))
    assert "very high blood pressure" in definition
    assert "mother" in definition and "fetus" in definition
    st = URIRef(f"{DOC}/definition/eclampsia")
    assert_evidence_in_section(graph, st, source_text, sections, "pregnancy")


# --------------------------------------------------------------------------- children

CHILDREN: list[F] = [
    # "Kids night cramps - it is not uncommon, especially in a period of growth."
    *facts("leg-cramp", "affects", "children", context="night", frequency="common"),
    *facts("leg-cramp", "hasRiskFactor", "growth-period", population="children",
           salience="singled-out"),
    # "Children driving feet when they are long, or in the same or in an awkward position."
    *facts(["prolonged-static-posture", "awkward-posture"], "causes", "leg-cramp",
           population="children"),
    # "A major reason for children's seizures is hypothermia, such cases are very common
    #  in the winter."
    *facts("hypothermia", "causes", "leg-cramp", population="children", context="winter",
           frequency="very-common", salience="major-cause"),
    # "Lack of magnesium, calcium and potassium affects convulsions, regardless of age."
    *facts(["magnesium-deficiency", "calcium-deficiency", "potassium-deficiency"], "causes",
           "leg-cramp", population="all-ages"),
    # "Flatfoot serves another important cause of leg cramps during childhood."
    *facts("flat-feet", "causes", "leg-cramp", population="children", context="childhood",
           salience="major-cause"),
    *facts("flat-feet", "associatedAnatomy", "foot"),
    # "Remove the feeling of pain will help children's ointment from sprains and analgesic
    #  effect." It relieves the pain (not the cramp).
    *facts("pain", "hasTreatment", "childrens-ointment", population="children"),
]


@pytest.mark.parametrize("f", CHILDREN, ids=_ids(CHILDREN))
def test_children_section(
    f: F, graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    stated(graph, source_text, sections, "children", f)


# --------------------------------------------------------------------------- what to do

WHAT_TO_DO: list[F] = [
    # "Coping with leg cramps can help the therapist(Pediatrician), neurologist,
    #  endocrinologist or phlebologist."
    *facts("leg-cramp", "hasSpecialist",
           ["general-practitioner", "neurologist", "endocrinologist", "phlebologist"],
           population=None),
    *facts("leg-cramp", "hasSpecialist", "pediatrician", population="children"),
    # "it is necessary to determine the cause of seizures and, if necessary, change your
    #  lifestyle for the better."
    *facts("leg-cramp", "hasTreatment", "determine-cause", population=None),
    *facts("leg-cramp", "hasPrevention", "lifestyle-change", population=None),
    # "nutrition, moderate exercise, a foot massage with a warming ointment, relaxing baths":
    # the first two keep attacks away, the last two relieve
    *facts("leg-cramp", "hasPrevention", ["balanced-nutrition", "moderate-exercise"],
           population=None),
    *facts("leg-cramp", "hasTreatment", ["foot-massage", "relaxing-baths"], population=None),
    *facts("foot-massage", "associatedAnatomy", "foot"),
    # "We'll have to stop smoking and uncomfortable shoes and start to use multivitamin
    #  and mineral complexes."
    *facts("leg-cramp", "hasPrevention",
           ["smoking-cessation", "avoid-uncomfortable-shoes", "multivitamins"],
           population=None),
]


@pytest.mark.parametrize("f", WHAT_TO_DO, ids=_ids(WHAT_TO_DO))
def test_what_to_do_section(
    f: F, graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    stated(graph, source_text, sections, "what-to-do", f)


# --------------------------------------------------------------------------- first aid

FIRST_AID: list[F] = [
    # "During an attack of convulsions gastrocnemius needpull a sock over, try to look
    #  like." Read as: during a calf cramp, pull the toes towards you and walk about.
    *facts("leg-cramp", "hasFirstAid", ["calf-stretch", "walking-about"],
           context="during-attack"),
    *facts("calf-stretch", "associatedAnatomy", "calf-muscle"),
    # "To improve blood flow and make a gentle massage prick (pinch) muscle spasm."
    *facts("leg-cramp", "hasFirstAid", ["gentle-massage", "pricking", "pinching"],
           context="during-attack"),
    *facts(["gentle-massage", "pricking", "pinching"], "improves", "blood-flow"),
    # "After the attack should lie with raised legs to the blood flowing better."
    *facts("leg-cramp", "hasFirstAid", "legs-raised", context="after-attack"),
    *facts("legs-raised", "improves", "blood-flow"),
]


@pytest.mark.parametrize("f", FIRST_AID, ids=_ids(FIRST_AID))
def test_first_aid_section(
    f: F, graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    stated(graph, source_text, sections, "first-aid", f)


def test_each_first_aid_has_one_phase_of_the_attack(graph: Graph) -> None:
    phases = {
        "calf-stretch": {"during-attack"},
        "gentle-massage": {"during-attack"},
        "pricking": {"during-attack"},
        "pinching": {"during-attack"},
        "walking-about": {"during-attack"},
        "legs-raised": {"after-attack"},
    }
    for aid, phase in phases.items():
        for st in fact(graph, "leg-cramp", "hasFirstAid", aid):
            assert qualifiers(graph, st).get("context") == phase, aid


# --------------------------------------------------------------------------- notes

#: Facts whose wording the translation garbles: the curator must say how they read it.
GARBLED: list[tuple[str, F]] = [
    ("pregnancy", F("eclampsia", "causes", "seizure")),  # "Seizures can cause eclampsia"
    ("first-aid", F("leg-cramp", "hasFirstAid", "calf-stretch")),  # "pull a sock over"
    ("first-aid", F("leg-cramp", "hasFirstAid", "gentle-massage")),  # "massage prick"
    ("intro", F("leg-cramp", "hasSeverityLevel", "mild")),  # "weak and strong"
    ("intro", F("magnesium-deficiency", "causes", "leg-cramp")),  # "Basically legs reduces"
    ("intro", F("anxiety", "indicates", "magnesium-deficiency")),  # "can be concluded that"
    ("causes", F("leg-cramp", "associatedAnatomy", "calf-muscle")),  # "it reduces calf"
    ("causes", F("excess-caffeine", "causes", "leg-cramp")),  # "At night often reduces"
    ("causes", F("spasmophilia", "causes", "leg-cramp")),  # "spazmofiliya"
    ("pregnancy", F("ivc-syndrome", "causes", "leg-cramp")),  # "of equally approximate"
    ("children", F("awkward-posture", "causes", "leg-cramp")),  # "when they are long"
    ("children", F("pain", "hasTreatment", "childrens-ointment")),  # "from sprains and"
    ("what-to-do", F("leg-cramp", "hasPrevention", "avoid-uncomfortable-shoes")),
    ("first-aid", F("leg-cramp", "hasFirstAid", "walking-about")),  # "try to look like"
    ("causes", F("epilepsy", "causes", "seizure")),  # "seizures of the lower limb"
    ("intro", F("seizure", "causes", "loss-of-consciousness")),  # "Severe attacks"
    ("pregnancy", F("diuretics", "causes", "magnesium-deficiency")),  # "after pregnancy"
    ("what-to-do", F("leg-cramp", "hasSpecialist", "general-practitioner")),  # "therapist"
]


@pytest.mark.parametrize(
    ("section", "f"), GARBLED, ids=[f"{name}:{f}" for name, f in GARBLED]
)
def test_garbled_translation_has_a_curator_note(
    section: str, f: F, graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    note(graph, stated(graph, source_text, sections, section, f))


def test_sock_note_explains_the_toes(
    graph: Graph, source_text: str, sections: dict[str, Span]
) -> None:
    st = stated(graph, source_text, sections, "first-aid",
                F("leg-cramp", "hasFirstAid", "calf-stretch"))
    text = note(graph, st)
    assert "sock" in text and "toes" in text


# --------------------------------------------------------------------------- curation pass
# What a second, careful medical reader corrected (issue 13): each reading is asserted
# on the built graph, so a later edit of the facts file cannot quietly undo it.


def test_after_pregnancy_is_women_after_childbirth_not_pregnant_women(graph: Graph) -> None:
    for st in fact(graph, "diuretics", "causes", "magnesium-deficiency"):
        quals = qualifiers(graph, st)
        assert quals["population"] == {"postpartum-women"}
        assert quals["context"] == {"after-pregnancy"}
        assert "late pregnancy" in note(graph, st)  # the doubt stays in the note
    # no fact says "pregnant women" and "after pregnancy" at once
    for st in graph.subjects(KG.context, KGR["after-pregnancy"]):
        assert (st, KG.population, KGR["pregnant-women"]) not in graph
    assert str(graph.value(KGR["after-pregnancy"], RDFS.label)) == "postpartum period"


@pytest.mark.parametrize("cause", ["parathyroid-dysfunction", "diuretics"])
def test_these_drawbacks_are_all_four_deficiencies(cause: str, graph: Graph) -> None:
    # "These drawbacks are provoked by ..., disruption of the parathyroid glands (the first
    # trimester), ..., the action of diuretics (after pregnancy)": the text blames the four
    # deficiencies as a group; narrowing them is the curator's knowledge, kept in the note.
    caused = {str(o).removeprefix(str(KGR)) for o in graph.objects(KGR[cause], KG.causes)}
    assert caused == set(PREGNANCY_DEFICIENCIES)
    for st in fact(graph, cause, "causes", "b-vitamin-deficiency"):
        assert "curator's knowledge" in note(graph, st)
        assert "These drawbacks are provoked by" in {e.exact for e in evidence(graph, st)}


def test_the_seizure_rule(graph: Graph) -> None:
    # Where only a generalised convulsive seizure fits, the fact is about the seizure node.
    for cause in ("eclampsia", "epilepsy", "brain-tumor"):
        assert (KGR[cause], KG.causes, KGR["seizure"]) in graph, cause
        assert (KGR[cause], KG.causes, KGR["leg-cramp"]) not in graph, cause
    assert (KGR["seizure"], KG.causes, KGR["loss-of-consciousness"]) in graph
    assert (KGR["leg-cramp"], KG.causes, KGR["loss-of-consciousness"]) not in graph
    # the two nodes are linked: the text names both with one word
    assert (KGR["seizure"], SKOS.related, KGR["leg-cramp"]) in graph
    for word in ("seizures", "convulsions"):
        for node in ("seizure", "leg-cramp"):
            assert Literal(word, lang="en") in set(graph.objects(KGR[node], SKOS.altLabel))


def test_acute_muscle_spasm_is_the_cramp_itself(graph: Graph) -> None:
    assert not set(graph.triples((KGR["acute-muscle-spasm"], None, None)))
    assert not set(graph.triples((None, None, KGR["acute-muscle-spasm"])))
    alts = {str(a) for a in graph.objects(KGR["leg-cramp"], SKOS.altLabel)}
    assert "acute muscle spasm" in alts
    # nothing causes itself
    for s, o in graph.subject_objects(KG.causes):
        assert s != o


def test_the_ointment_relieves_the_pain_not_the_cramp(graph: Graph) -> None:
    assert (KGR["pain"], KG.hasTreatment, KGR["childrens-ointment"]) in graph
    assert (KGR["leg-cramp"], KG.hasTreatment, KGR["childrens-ointment"]) not in graph


def test_labels_say_what_the_text_means(graph: Graph) -> None:
    assert str(graph.value(KGR["heart-pain"], RDFS.label)) == "precordial pain"
    assert str(graph.value(KGR["chronic-renal-failure"], RDFS.label)) == "chronic renal failure"
    assert (KGR["chronic-renal-failure"], SKOS.altLabel, Literal("CRF", lang="en")) in graph
    # chronic kidney disease is broader than the text's CRF
    icd = URIRef("https://id.who.int/icd/release/10/2019/N18")
    assert (KGR["chronic-renal-failure"], SKOS.broadMatch, icd) in graph
    assert (KGR["chronic-renal-failure"], SKOS.exactMatch, icd) not in graph


def test_try_to_look_like_is_read_as_walking_about(graph: Graph) -> None:
    (st,) = fact(graph, "leg-cramp", "hasFirstAid", "walking-about", context="during-attack")
    assert {e.exact for e in evidence(graph, st)} == {"try to look like"}
    assert "A reading" in note(graph, st)
    # the stretch no longer claims those words
    (stretch,) = fact(graph, "leg-cramp", "hasFirstAid", "calf-stretch")
    assert all("look like" not in e.exact for e in evidence(graph, stretch))


def test_prick_and_pinch_are_two_actions(graph: Graph) -> None:
    assert KGR["pricking"] != KGR["pinching"]
    for action, word in (("pricking", "prick"), ("pinching", "pinch")):
        alts = {str(a) for a in graph.objects(KGR[action], SKOS.altLabel)}
        assert alts == {word}


SALIENT: list[tuple[F, str]] = [
    (F("magnesium-deficiency", "causes", "leg-cramp"), "main-cause"),  # "Basically"
    (F("hypothermia", "causes", "leg-cramp"), "major-cause"),  # "A major reason"
    (F("flat-feet", "causes", "leg-cramp"), "major-cause"),  # "another important cause"
    (F("vitamin-b6-deficiency", "causes", "leg-cramp"), "singled-out"),  # "especially B6"
    (F("leg-cramp", "hasRiskFactor", "growth-period"), "singled-out"),  # "especially in"
]


@pytest.mark.parametrize(("f", "salience"), SALIENT, ids=[str(f) for f, _ in SALIENT])
def test_salience_is_a_qualifier_not_only_a_note(f: F, salience: str, graph: Graph) -> None:
    fact(graph, f.s, f.rel, f.o, salience=salience)
    assert (KGR[salience], RDF.type, KG.Salience) in graph
    assert (KG.salience, RDFS.range, KG.Salience) in graph


def test_salience_is_rare(graph: Graph) -> None:
    # only what the text weighs carries it
    assert len(set(graph.subjects(KG.salience, None))) == len(SALIENT)


def test_prevention_is_its_own_relation(graph: Graph) -> None:
    prevention = {o for o in graph.objects(KGR["leg-cramp"], KG.hasPrevention)}
    assert {KGR[x] for x in ("balanced-nutrition", "moderate-exercise", "smoking-cessation",
                             "avoid-uncomfortable-shoes", "multivitamins",
                             "lifestyle-change")} == prevention
    treatment = set(graph.objects(KGR["leg-cramp"], KG.hasTreatment))
    assert not prevention & treatment
    assert (KG.hasPrevention, OWL.inverseOf, KG.prevents) in graph


@pytest.mark.parametrize(("entity", "curie"), [
    ("hair-deterioration", "HP:0002299"), ("very-high-blood-pressure", "HP:0000822"),
])
def test_new_cross_references(entity: str, curie: str, graph: Graph) -> None:
    hp = URIRef("http://purl.obolibrary.org/obo/HP_" + curie.split(":")[1])
    matches = {o for p in (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch)
               for o in graph.objects(KGR[entity], p)}
    assert hp in matches


def test_children_causes_include_the_age_independent_deficiencies(built) -> None:  # type: ignore[no-untyped-def]
    rows = built.query("children-causes").records()
    factors = {r["factor"].removeprefix(str(KGR)): r for r in rows}
    for deficiency in ("magnesium-deficiency", "calcium-deficiency", "potassium-deficiency"):
        assert deficiency in factors, deficiency
        assert factors[deficiency]["populationLabel"] == "people of all ages"
    assert factors["hypothermia"]["populationLabel"] == "children"
    # causes stated for people in general elsewhere are not children's causes
    assert "epilepsy" not in factors and "thyroid-disease" not in factors
