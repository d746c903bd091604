"""Write a synthetic corpus in kg's input format, for the scale benchmarks.

    .venv/bin/python benchmarks/synth.py --documents 10000 --out /tmp/kg-10k [--seed 1]

OUT gets a complete data directory: ``ontology.ttl`` and ``shapes.ttl`` copied from the
repository's ``data/``, ``sources/doc-00001.txt`` ..., ``facts/doc-00001.yaml`` ... and a
``dataset.yaml`` (the repository's, with ``examples`` set to entities of this corpus).
``kg build --data OUT`` and ``kg validate --data OUT`` accept it as it is.

Each document is a short popular-health article (a title, a heading or two, 8-20
sentences and list items) about one health problem. Its sentences state facts drawn from
a shared pool of about 3,800 entities of 25 classes of the ontology, picked with a
Zipf-like law (a few very common, a long tail), with relations that respect the
ontology's domains and ranges, qualifiers (population, context, severity, frequency),
inline and bulleted lists (facts with ``subject:``/``object:`` lists, or two quotes),
curator notes, negations and now and then a definition. Sentences that state no fact
(the title, headings, transitions) are listed under ``unannotated``. Every quote is
checked to occur exactly once (or once inside a ``within:`` span) before it is written.

The output depends only on ``--documents`` and ``--seed``: two runs are byte-identical.
10,000 documents give about 1.07M triples, 49k facts and 2.7k distinct entities (about
100 triples a document: ~4.9 facts of ~19 triples each, plus the document node); they
are written in a few seconds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"

#: Zipf exponent of entity reuse inside each class (rank r has weight 1 / r**s)
ZIPF_S = 1.0
#: number of sentences stating facts per document, and their weights
FACT_SENTENCES = ((3, 0.4), (4, 0.4), (5, 0.16), (6, 0.04))
#: share of fact sentences that are inline lists (a fact with a subject or object list)
LIST_SHARE = 0.12
#: share of documents with a bulleted list
BULLETS_SHARE = 0.12
#: qualifier shares, per fact
POPULATION_SHARE, CONTEXT_SHARE, SEVERITY_SHARE, FREQUENCY_SHARE = 0.40, 0.24, 0.07, 0.10
#: share of facts followed by a second sentence that adds a qualifier (two quotes)
FOLLOW_UP_SHARE = 0.06
NOTE_SHARE, NEGATED_SHARE, DEFINITION_SHARE = 0.05, 0.02, 0.15
#: share of single facts that quote only their object's words, inside a `within:` sentence
SHORT_QUOTE_SHARE = 0.08
#: total sentence spans of a document (title, headings, list items included)
MIN_SPANS, MAX_SPANS = 8, 20

_TERMINATOR = re.compile(r"[.!?:;]\s")  # what would split a sentence in kg.text
_SLUG = re.compile(r"[^a-z0-9]+")


# --------------------------------------------------------------------------- entities


@dataclass(frozen=True)
class Entity:
    id: str
    cls: str
    label: str
    alts: tuple[str, ...] = ()
    gloss: str | None = None  # what a definition sentence says it is
    link: str | None = None  # the nutrient of a deficiency, the body part of a local problem
    phrase: str = "{x}"  # how a qualifier value is worded ("at {x}")


#: the arguments of Pool._add: class, label, then optionally alts, gloss, link
Spec = tuple[str, str] | tuple[str, str, Sequence[str]] | tuple[
    str, str, Sequence[str], str | None, str | None]


def slug(label: str) -> str:
    return _SLUG.sub("-", label.lower().replace("'", "")).strip("-")


# body parts: (label, attributive form, kind): limb parts get cramps, organs diseases
PARTS: tuple[tuple[str, str, str], ...] = (
    ("calf", "calf", "limb"), ("foot", "foot", "limb"), ("toes", "toe", "limb"),
    ("thigh", "thigh", "limb"), ("knee", "knee", "limb"), ("ankle", "ankle", "limb"),
    ("shin", "shin", "limb"), ("hip", "hip", "limb"), ("lower back", "lower back", "limb"),
    ("neck", "neck", "limb"), ("shoulder", "shoulder", "limb"), ("arm", "arm", "limb"),
    ("hand", "hand", "limb"), ("fingers", "finger", "limb"), ("wrist", "wrist", "limb"),
    ("elbow", "elbow", "limb"), ("jaw", "jaw", "limb"), ("hamstrings", "hamstring", "limb"),
    ("Achilles tendon", "Achilles tendon", "limb"), ("forearm", "forearm", "limb"),
    ("upper back", "upper back", "limb"), ("heel", "heel", "limb"), ("sole", "sole", "limb"),
    ("buttocks", "buttock", "limb"), ("abdominal wall", "abdominal", "limb"),
    ("eyelids", "eyelid", "limb"), ("chest", "chest", "limb"), ("pelvis", "pelvic", "limb"),
    ("heart", "heart", "organ"), ("lungs", "lung", "organ"), ("liver", "liver", "organ"),
    ("kidneys", "kidney", "organ"), ("stomach", "stomach", "organ"),
    ("bowel", "bowel", "organ"), ("bladder", "bladder", "organ"),
    ("thyroid gland", "thyroid", "organ"), ("brain", "brain", "organ"),
    ("spine", "spinal", "organ"), ("joints", "joint", "organ"), ("bones", "bone", "organ"),
    ("teeth", "tooth", "organ"), ("gums", "gum", "organ"), ("nails", "nail", "organ"),
    ("hair", "hair", "organ"), ("blood vessels", "vascular", "organ"),
    ("veins", "vein", "organ"), ("nerves", "nerve", "organ"),
    ("pancreas", "pancreatic", "organ"), ("gallbladder", "gallbladder", "organ"),
    ("skin", "skin", "organ"), ("throat", "throat", "organ"), ("eyes", "eye", "organ"),
    ("parathyroid glands", "parathyroid", "organ"), ("adrenal glands", "adrenal", "organ"),
    ("muscles", "muscle", "organ"), ("tendons", "tendon", "organ"),
)

NUTRIENTS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    # (nutrient, its alternative names, the medical name of its deficiency)
    ("magnesium", (), "hypomagnesemia"), ("potassium", (), "hypokalemia"),
    ("calcium", (), "hypocalcemia"), ("sodium", (), "hyponatremia"), ("iron", (), None),
    ("zinc", (), None), ("iodine", (), None), ("selenium", (), None), ("copper", (), None),
    ("phosphorus", (), "hypophosphatemia"), ("chromium", (), None), ("manganese", (), None),
    ("vitamin A", ("retinol",), None), ("vitamin B1", ("thiamine",), None),
    ("vitamin B2", ("riboflavin",), None), ("vitamin B3", ("niacin",), None),
    ("vitamin B5", ("pantothenic acid",), None), ("vitamin B6", ("B6", "pyridoxine"), None),
    ("folate", ("folic acid", "vitamin B9"), None), ("vitamin B12", ("B12", "cobalamin"), None),
    ("vitamin C", ("ascorbic acid",), None), ("vitamin D", (), None),
    ("vitamin E", ("tocopherol",), None), ("vitamin K", (), None),
    ("B vitamins", ("vitamins of group B",), None), ("omega-3 fatty acids", ("omega-3",), None),
    ("protein", (), None), ("dietary fibre", ("fibre",), None),
)

POPULATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pregnant women", ("expectant mothers",)), ("children", ("kids",)), ("older adults",
    ("elderly people", "the elderly")), ("women", ()), ("men", ()), ("athletes", ()),
    ("teenagers", ("adolescents",)), ("infants", ("babies",)), ("runners", ()),
    ("office workers", ()), ("night-shift workers", ()), ("people with diabetes",
    ("diabetics",)), ("vegetarians", ()), ("smokers", ()), ("postmenopausal women", ()),
    ("nursing mothers", ("breastfeeding women",)), ("students", ()),
    ("people with obesity", ("overweight people",)), ("manual workers", ()),
    ("professional drivers", ("drivers",)), ("swimmers", ()), ("dancers", ()),
    ("soldiers", ()), ("newborns", ()), ("people over 60", ()), ("heavy drinkers", ()),
    ("people on dialysis", ()), ("long-distance travellers", ()), ("cyclists", ()),
    ("football players", ("footballers",)),
)

SPECIALISTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("general practitioner", ("therapist", "family doctor")), ("pediatrician", ()),
    ("neurologist", ()), ("endocrinologist", ()), ("phlebologist", ()), ("cardiologist", ()),
    ("nephrologist", ()), ("gastroenterologist", ()), ("rheumatologist", ()),
    ("orthopedist", ("orthopaedic surgeon",)), ("dermatologist", ()), ("gynecologist", ()),
    ("obstetrician", ()), ("urologist", ()), ("psychiatrist", ()), ("psychotherapist", ()),
    ("nutritionist", ("dietitian",)), ("physiotherapist", ()), ("vascular surgeon", ()),
    ("ophthalmologist", ()), ("pulmonologist", ()), ("hematologist", ()),
    ("oncologist", ()), ("sports physician", ()), ("podiatrist", ()), ("geriatrician", ()),
)

DISEASES = (
    "thyroid disease", "chronic kidney disease", "diabetes", "varicose veins",
    "thrombophlebitis", "epilepsy", "heart failure", "hypertension", "osteoarthritis",
    "rheumatoid arthritis", "multiple sclerosis", "Parkinson's disease",
    "peripheral artery disease", "flat feet", "sciatica", "gout", "fibromyalgia",
    "hypothyroidism", "hyperparathyroidism", "cirrhosis", "Crohn's disease",
    "celiac disease", "psoriasis", "asthma", "migraine", "lupus", "anemia", "osteoporosis",
    "chronic venous insufficiency", "inferior vena cava syndrome", "eclampsia",
    "preeclampsia", "spasmophilia", "brain tumour", "scoliosis", "herniated disc",
    "polyneuropathy", "tetany", "atherosclerosis", "hepatitis", "pancreatitis",
    "Addison's disease", "Cushing's syndrome", "irritable bowel syndrome",
)
DISEASE_ALTS = {"chronic kidney disease": ("CKD", "chronic renal failure"),
                "hypertension": ("high blood pressure",), "brain tumour": ("brain tumor",),
                "spasmophilia": ("spazmofiliya",), "diabetes": ("diabetes mellitus",),
                "flat feet": ("flatfoot",), "anemia": ("anaemia",)}
CONDITIONS = (
    "hypoglycemia", "dehydration syndrome", "restless legs syndrome", "muscle fatigue",
    "overtraining syndrome", "heat exhaustion", "nocturnal leg cramps", "writer's cramp",
    "muscle strain", "tension headache", "insomnia", "chronic fatigue", "electrolyte imbalance",
    "poor circulation", "hyperventilation",
)

SYMPTOMS_GENERAL = (
    ("memory impairment", ()), ("anxiety", ("increased anxiety",)), ("dizziness", ()),
    ("nausea", ()), ("headache", ()), ("palpitations", ("racing heart",)),
    ("loss of consciousness", ("fainting",)), ("acute muscle spasm", ()), ("fever", ()),
    ("irritability", ()), ("shortness of breath", ()), ("pale skin", ()),
    ("brittle nails", ()), ("hair loss", ()), ("tooth decay", ("dental caries",)),
    ("painful menstruation", ("dysmenorrhea",)), ("sleep disturbance", ("poor sleep",)),
    ("constipation", ()), ("muscle weakness", ()), ("convulsive seizure", ("seizures",)),
    ("blurred vision", ()), ("thirst", ()), ("cold hands", ()), ("depressed mood", ()),
)
SYMPTOM_KINDS = {"limb": ("pain", "numbness", "tingling", "swelling", "weakness", "stiffness",
                          "twitching", "burning"),
                 "organ": ("pain", "discomfort", "heaviness")}

LIFESTYLE = (
    ("poor diet", ("malnutrition",)), ("lack of sleep", ()), ("constant stress", ()),
    ("smoking", ("nicotine",)), ("heavy drinking", ("alcohol abuse",)),
    ("sedentary lifestyle", ("lack of movement",)), ("excessive coffee drinking",
    ("too much coffee", "caffeine")), ("crash diets", ()), ("skipping meals", ()),
    ("fast food", ()), ("too much salt", ()), ("too much sugar", ()), ("night shifts", ()),
    ("energy drinks", ()), ("lack of fresh air", ()), ("irregular meals", ()),
    ("fasting", ()), ("late dinners", ()), ("little water", ("drinking too little",)),
    ("screen time before bed", ()),
)
SPORTS = ("jogging", "soccer", "swimming", "cycling", "weightlifting", "dancing", "hiking",
          "tennis", "skiing", "skating", "rowing", "boxing", "climbing", "yoga")
PHYSICAL = (
    ("awkward posture", ("awkward postures",)), ("cold", ("hypothermia",)), ("tight shoes",
    ("uncomfortable shoes",)), ("high heels", ()), ("prolonged standing", ()),
    ("prolonged sitting", ()), ("heat", ()), ("sudden movements", ()),
    ("carrying heavy loads", ()), ("long walks", ()), ("a cold floor", ()),
    ("an uncomfortable bed", ()), ("a long flight", ()), ("tight clothing", ()),
)
HORMONES = ("estrogen", "progesterone", "cortisol", "insulin", "thyroid hormone",
            "testosterone", "adrenaline", "melatonin", "parathyroid hormone", "prolactin")
STATES = (
    ("fatigue", ()), ("growth of the fetus", ("active growth of the fetus",)),
    ("rapid growth", ("growth spurts",)), ("overweight", ("excess weight",)),
    ("fluid loss", ()), ("low blood sugar", ("low blood glucose",)), ("heavy sweating", ()),
    ("hormonal changes", ()), ("ageing", ("age",)), ("fever state", ()),
)
MEDICATIONS = (
    ("diuretics", ()), ("statins", ()), ("beta blockers", ()), ("ACE inhibitors", ()),
    ("corticosteroids", ()), ("antacids", ()), ("laxatives", ()), ("oral contraceptives",
    ("birth control pills",)), ("insulin", ()), ("antidepressants", ()),
    ("antipsychotics", ()), ("bronchodilators", ()), ("calcium channel blockers", ()),
    ("proton pump inhibitors", ()), ("nonsteroidal anti-inflammatory drugs", ("NSAIDs",)),
    ("antibiotics", ()), ("antihistamines", ()), ("sleeping pills", ()),
    ("thyroid hormone tablets", ()), ("anticonvulsants", ()),
)
DRUG_STEMS = ("pril", "olol", "statin", "azole", "mab", "cillin", "dronate", "tidine",
              "sartan", "oxetine", "dipine", "parin", "floxacin", "triptan", "semide")
FOODS = ("bananas", "nuts", "leafy greens", "dairy products", "fish", "whole grains",
         "legumes", "seeds", "dried apricots", "avocados", "eggs", "buckwheat", "cottage cheese",
         "spinach", "potatoes", "citrus fruit", "berries", "lean meat", "oatmeal", "beans")
LIFESTYLE_CHANGES = (
    ("balanced nutrition", ("balanced diet",)), ("moderate exercise", ()),
    ("stopping smoking", ("stop smoking",)), ("drinking more water", ()),
    ("cutting down on coffee", ()), ("regular sleep", ()), ("comfortable shoes", ()),
    ("daily stretching", ()), ("less alcohol", ()), ("weight loss", ()),
    ("regular breaks from sitting", ()), ("a healthier lifestyle", ("change your lifestyle",)),
    ("walking every day", ()), ("keeping the feet warm", ()),
)
TREATMENTS = (
    ("physiotherapy", ()), ("compression stockings", ()), ("warming ointment", ()),
    ("multivitamin complexes", ("multivitamins",)), ("relaxing baths", ()),
    ("acupuncture", ()), ("electrotherapy", ()), ("orthopedic insoles", ()),
    ("contrast showers", ()), ("therapeutic exercise", ()), ("mud therapy", ()),
    ("magnetotherapy", ()), ("infusion therapy", ()), ("surgery", ()),
)
FIRST_AID = (
    ("lying with the legs raised", ("lie with raised legs",)),
    ("walking barefoot on a cold floor", ()), ("pulling the toes towards oneself",
    ("pull the toes",)), ("deep breathing", ()), ("drinking a glass of water", ()),
    ("a warm shower", ()), ("standing up and walking", ()),
)
DIAGNOSTICS = (("ECG", ("electrocardiogram",)), ("electromyography", ()),
               ("a general blood test", ()), ("measuring blood pressure", ()),
               ("a blood sugar test", ()), ("determining the cause", ()))
BODY_FUNCTIONS = (
    ("blood flow", ("blood flowing",)), ("muscle relaxation", ()), ("sleep quality", ()),
    ("nerve conduction", ()), ("digestion", ()), ("bone strength", ()),
    ("immune defence", ()), ("muscle recovery", ()), ("venous return", ()),
    ("joint mobility", ()), ("metabolism", ()), ("circulation in the legs", ()),
    ("mineral absorption", ()), ("hormone balance", ()), ("stress resilience", ()),
    ("heart rhythm", ()), ("muscle tone", ()), ("hydration", ()),
)
CONTEXTS = (
    # (label, class, phrase, alternative labels)
    ("night", "TimeOfDay", "at {x}", ()), ("morning", "TimeOfDay", "in the {x}", ()),
    ("evening", "TimeOfDay", "in the {x}", ()), ("daytime", "TimeOfDay", "in the {x}", ()),
    ("winter", "Season", "in {x}", ()), ("summer", "Season", "in {x}", ()),
    ("spring", "Season", "in {x}", ()), ("autumn", "Season", "in {x}", ("fall",)),
    ("first trimester", "Trimester", "in the {x}", ()),
    ("second trimester", "Trimester", "in the {x}", ()),
    ("third trimester", "Trimester", "in the {x}", ("last trimester",)),
    ("childhood", "LifeStage", "in {x}", ()), ("adolescence", "LifeStage", "during {x}", ()),
    ("old age", "LifeStage", "in {x}", ()), ("menopause", "LifeStage", "during {x}", ()),
    ("period of growth", "LifeStage", "during a {x}", ()),
    ("after pregnancy", "LifeStage", "{x}", ()), ("infancy", "LifeStage", "in {x}", ()),
    ("during an attack", "AttackPhase", "{x}", ()),
    ("after an attack", "AttackPhase", "{x}", ("after the attack",)),
)
SEVERITIES = (("mild", ("weak",)), ("severe", ("strong",)), ("moderate", ()))
FREQUENCIES = (("common", ("often",)), ("very common", ("very often",)),
               ("rare", ("rarely",)), ("occasional", ("sometimes",)))

_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "gr", "k", "l", "m", "n", "p", "pr", "r", "s",
           "st", "t", "tr", "v", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ae", "io")
_CODAS = ("", "", "n", "r", "l", "s", "m", "x")


def _name(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                   for _ in range(syllables))


class Pool:
    """Every entity a document may use, by class, most common first."""

    def __init__(self, seed: str) -> None:
        rng = random.Random(f"pool:{seed}")
        self.by_class: dict[str, list[Entity]] = {}
        self.by_id: dict[str, Entity] = {}
        self._cum: dict[str, list[float]] = {}
        self._fill(rng)
        for cls, ents in self.by_class.items():
            weights = itertools.accumulate(1.0 / (r + 1) ** ZIPF_S for r in range(len(ents)))
            self._cum[cls] = list(weights)

    def _add(self, cls: str, label: str, alts: Sequence[str] = (), gloss: str | None = None,
             link: str | None = None, phrase: str = "{x}") -> None:
        eid = slug(label)
        if eid in self.by_id or not eid:
            return
        ent = Entity(eid, cls, label, tuple(a for a in alts if a != label), gloss, link, phrase)
        self.by_id[eid] = ent
        self.by_class.setdefault(cls, []).append(ent)

    def _fill(self, rng: random.Random) -> None:
        def add_shuffled(specs: Sequence[Spec]) -> None:
            order = list(specs)
            rng.shuffle(order)
            for spec in order:
                self._add(*spec)

        # anatomy, nutrients, populations, specialists, contexts: short hand-made lists
        add_shuffled([("AnatomicalStructure", p[0]) for p in PARTS])
        for name, alts, _ in NUTRIENTS:
            self._add("Nutrient", name, alts)
        for name, _, medical in NUTRIENTS:
            self._add("NutrientDeficiency", f"{name} deficiency",
                      (f"lack of {name}", f"low {name}") + ((medical,) if medical else ()),
                      gloss=f"a lack of {name} in the body", link=slug(name))
        self._add("GeneralPopulation", "people of all ages", ("all age groups",))
        for name, alts in POPULATIONS:
            self._add("Population", name, alts)
        for name, alts in SPECIALISTS:
            self._add("Specialist", name, alts)
        for name, cls, phrase, alts in CONTEXTS:
            self._add(cls, name, alts, phrase=phrase)
        for name, alts in SEVERITIES:
            self._add("Severity", name, alts)
        for name, alts in FREQUENCIES:
            self._add("Frequency", name, alts)
        for name, alts in BODY_FUNCTIONS:
            self._add("BodyFunction", name, alts)

        # health problems: a hand-made head, a generated tail
        self._add("Condition", "leg cramp", ("leg cramps", "cramps in the legs"),
                  gloss="an involuntary, painful contraction of the leg muscles")
        for name in CONDITIONS:
            self._add("Condition", name)
        limbs = [p for p in PARTS if p[2] == "limb"]
        organs = [p for p in PARTS if p[2] == "organ"]
        add_shuffled(
            [("Condition", f"{p[1]} cramp", (f"cramps in the {p[0]}",),
              f"a sudden, painful contraction of the muscles of the {p[0]}", slug(p[0]))
             for p in limbs]
            + [("Condition", f"{p[1]} spasm", (f"spasm of the {p[0]}",),
                f"an involuntary tightening of the muscles of the {p[0]}", slug(p[0]))
               for p in limbs])
        for name in DISEASES:
            self._add("Disease", name, DISEASE_ALTS.get(name, ()))
        adjectives = ("chronic", "acute", "hereditary", "inflammatory", "degenerative",
                      "autoimmune", "congenital")
        disorders = ("disease", "disorder", "insufficiency")
        generated: list[Spec] = [
            ("Disease", f"{a} {p[1]} {d}", (), f"a {a} {d} of the {p[0]}", slug(p[0]))
            for a in adjectives for p in organs for d in disorders]
        rng.shuffle(generated)
        eponyms: list[Spec] = []
        for _ in range(1200):
            person = _name(rng, rng.choice((2, 2, 3))).capitalize()
            kind = rng.choice(("syndrome", "disease", "'s disease", "'s syndrome"))
            label = f"{person}{kind}" if kind.startswith("'") else f"{person} {kind}"
            part = rng.choice(PARTS)
            eponyms.append(("Disease", label, (),
                            f"a rare disorder that affects the {part[0]}", slug(part[0])))
        for spec in generated[:600] + eponyms:
            self._add(*spec)

        for name, alts in SYMPTOMS_GENERAL:
            self._add("SignOrSymptom", name, alts)
        add_shuffled([("SignOrSymptom", f"{k} in the {p[0]}",
                       (f"{p[1]} {k}",) if k == "pain" else (), None, slug(p[0]))
                      for p in PARTS for k in SYMPTOM_KINDS[p[2]]])

        # factors and substances
        for name, alts in LIFESTYLE:
            self._add("LifestyleFactor", name, alts)
        for name, alts in PHYSICAL:
            self._add("PhysicalFactor", name, alts)
        add_shuffled([("PhysicalFactor", f"excessive {s}") for s in SPORTS]
                     + [("PhysicalFactor", f"overload of the {p[0]}", (), None, slug(p[0]))
                        for p in limbs])
        for name, alts in STATES:
            self._add("PhysiologicalState", name, alts)
        add_shuffled([("PhysiologicalState", f"{lv} {h} levels")
                      for h in HORMONES for lv in ("high", "low")])
        for name, alts in MEDICATIONS:
            self._add("Medication", name, alts)
        for _ in range(900):
            self._add("Medication", _name(rng, rng.choice((2, 3))) + rng.choice(DRUG_STEMS))

        # interventions
        for name, alts in TREATMENTS:
            self._add("Treatment", name, alts)
        add_shuffled([("Treatment", f"{n[0]} supplements") for n in NUTRIENTS]
                     + [("Treatment", f"massage of the {p[0]}") for p in limbs]
                     + [("Treatment", f"a warm compress on the {p[0]}") for p in limbs])
        for name, alts in LIFESTYLE_CHANGES:
            self._add("LifestyleChange", name, alts)
        add_shuffled([("LifestyleChange", f"eating more {f}") for f in FOODS])
        for name, alts in FIRST_AID:
            self._add("FirstAid", name, alts)
        add_shuffled([("FirstAid", f"{v} the {p[0]}") for p in limbs
                      for v in ("stretching", "gently massaging", "pinching", "cooling")])
        for name, alts in DIAGNOSTICS:
            self._add("DiagnosticStep", name, alts)
        add_shuffled([("DiagnosticStep", f"a blood test for {n[0]}") for n in NUTRIENTS]
                     + [("DiagnosticStep", f"an ultrasound of the {p[0]}") for p in organs])

    def pick(self, rng: random.Random, cls: str) -> Entity:
        ents = self.by_class[cls]
        return rng.choices(ents, cum_weights=self._cum[cls])[0]

    def pick_any(self, rng: random.Random, classes: Sequence[tuple[str, float]]) -> Entity:
        names = [c for c, _ in classes]
        return self.pick(rng, rng.choices(names, weights=[w for _, w in classes])[0])

    def pick_distinct(self, rng: random.Random, classes: Sequence[tuple[str, float]], k: int,
                      exclude: set[str]) -> list[Entity]:
        out: list[Entity] = []
        for _ in range(k * 12):
            ent = self.pick_any(rng, classes)
            if ent.id not in exclude:
                exclude.add(ent.id)
                out.append(ent)
                if len(out) == k:
                    break
        return out


# --------------------------------------------------------------------------- relations

TOPICS = (("Condition", 0.35), ("Disease", 0.5), ("NutrientDeficiency", 0.15))
CAUSES = (("LifestyleFactor", 0.22), ("PhysicalFactor", 0.22), ("PhysiologicalState", 0.14),
          ("Medication", 0.14), ("NutrientDeficiency", 0.16), ("Disease", 0.12))
RISKS = (("LifestyleFactor", 0.4), ("PhysicalFactor", 0.3), ("PhysiologicalState", 0.3))
SIGNS = (("SignOrSymptom", 1.0),)
TREATS = (("Treatment", 0.5), ("LifestyleChange", 0.35), ("DiagnosticStep", 0.15))
INTERVENTIONS = (("Treatment", 0.5), ("LifestyleChange", 0.3), ("FirstAid", 0.2))
#: where a problem that has no body part of its own is located
GENERAL_ANATOMY = ("muscles", "nerves", "bones", "blood-vessels", "heart", "skin", "joints")
POPS = (("Population", 0.93), ("GeneralPopulation", 0.07))
CONTEXT_CLASSES = (("TimeOfDay", 0.35), ("Season", 0.2), ("Trimester", 0.12),
                   ("LifeStage", 0.23), ("AttackPhase", 0.1))

#: relation -> (weight, section, single templates, list templates); {s} {o} are surfaces,
#: {S} {O} rendered lists; a template starting with "{s}" or "{o}" starts the clause
RELATIONS: dict[str, tuple[float, str, tuple[str, ...], tuple[str, ...]]] = {
    "causes": (0.28, "causes", (
        "{s} can cause {o}", "{s} may lead to {o}", "{o} can be brought on by {s}",
        "{s} is one of the causes of {o}", "{s} contributes to {o}",
        "{o} is provoked by {s}"), (
        "{S} can all cause {o}", "{o} can be caused by {S}", "the causes of {o} include {S}")),
    "hasRiskFactor": (0.07, "causes", (
        "{o} raises the risk of {s}", "{s} is more likely with {o}",
        "the risk of {s} grows with {o}"), ()),
    "deficiencyOf": (0.03, "causes", (
        "{s} means that the body lacks {o}", "with {s} there is too little {o} in the body"),
        ()),
    "hasSymptom": (0.16, "symptoms", (
        "{s} shows itself as {o}", "{s} is accompanied by {o}", "a typical sign of {s} is {o}",
        "people with {s} notice {o}"), (
        "{s} is accompanied by {O}", "typical symptoms of {s} are {O}")),
    "indicates": (0.04, "symptoms", (
        "{s} may point to {o}", "{s} can be a sign of {o}"), ("{S} can point to {o}",)),
    "associatedAnatomy": (0.06, "intro", (
        "{s} affects the {o}", "{s} concerns mostly the {o}",
        "with {s} the {o} suffers most"), ()),
    "affects": (0.07, "intro", (
        "{s} occurs in {o}", "{s} is frequent among {o}", "{o} also suffer from {s}"), (
        "{s} occurs in {O}",)),
    "endangers": (0.01, "intro", (
        "{s} is a threat to the life of {o}", "{s} can be life-threatening for {o}"), ()),
    "hasSeverityLevel": (0.02, "intro", ("{s} can be {O}",), ()),
    "subtypeOf": (0.03, "intro", ("{s} is a form of {o}", "{s} belongs to the group of {o}"),
                  ()),
    "hasTreatment": (0.12, "treatment", (
        "{s} can be treated with {o}", "{o} helps with {s}", "for {s} doctors recommend {o}"),
        ("{s} can be treated with {O}", "{O} help with {s}")),
    "hasFirstAid": (0.05, "treatment", (
        "when {s} strikes, {o} brings relief", "{o} quickly relieves {s}"), ()),
    "hasSpecialist": (0.05, "treatment", (
        "{s} is treated by {o}", "with {s} it is worth seeing {o}"), (
        "{s} is treated by {O}", "with {s} it is worth seeing {O}")),
    "improves": (0.03, "treatment", (
        "{s} improves {o}", "{s} is good for {o}"), ()),
}
SECTIONS = ("intro", "causes", "symptoms", "treatment")
HEADINGS = {
    "causes": ("Causes of {t}", "Why {t} happens", "Where {t} comes from",
               "What brings on {t}"),
    "symptoms": ("Signs of {t}", "How {t} shows itself", "Symptoms to watch for"),
    "treatment": ("What to do about {t}", "How to treat {t}", "Treatment and prevention",
                  "When to see a doctor"),
}
TITLES = ("{T} - what you need to know", "All about {t}", "{T} in questions and answers",
          "{T}, its causes and its treatment", "A short guide to {t}",
          "Living with {t}")
FILLERS: tuple[tuple[str, str], ...] = (
    ("Many people have heard of {t}, but few know what lies behind it.", "introduction"),
    ("Here is what you should know about {t}.", "introduction"),
    ("This article explains the main points in plain words.", "introduction"),
    ("Doctors are asked about {t} more often than one might think.", "introduction"),
    ("The answer is not always simple.", "transition"),
    ("Let us look at this more closely.", "transition"),
    ("Every case is different, though.", "transition"),
    ("There is more to it than that.", "transition"),
    ("Read on to find out more.", "transition"),
    ("The reasons can differ from person to person.", "transition"),
    ("Do not ignore the signals your body sends.", "general advice"),
    ("The advice below is general and does not replace a visit to a doctor.",
     "disclaimer"),
    ("Only a doctor can make a diagnosis.", "disclaimer"),
    ("Take care of yourself and stay healthy.", "closing remark"),
    ("We hope this overview of {t} was useful.", "closing remark"),
    ("Share this article with those who may need it.", "closing remark"),
)
FOLLOW_UPS = ("This is especially true {x}", "This happens above all {x}",
              "It is most noticeable {x}", "The effect is strongest {x}")
NOTES = ("The article's wording '{w}' is read as {label}.",
         "Encoded as the text says; the text does not say how strong the link is.",
         "The text's claim is general; it is kept as stated, without a source.",
         "Synthetic benchmark fact; don't read it as medical advice.")


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _join(items: Sequence[str], conj: str = "and") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conj} {items[-1]}"


def _article(s: str) -> str:
    return ("an " if s[:1].lower() in "aeiou" else "a ") + s


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


# --------------------------------------------------------------------------- one document


@dataclass
class Sentence:
    text: str
    start: int = -1  # offset in the document, once placed


@dataclass
class Quote:
    sentence: Sentence
    offset: int  # in the sentence
    length: int


@dataclass
class FactOut:
    id: str
    subjects: list[str]
    relation: str
    objects: list[str]
    quotes: list[Quote]
    qualifiers: list[tuple[str, str]]
    negated: bool = False
    note: str | None = None
    within: str | None = None


@dataclass
class Block:
    kind: str  # "heading", "para", "bullets"
    sentences: list[Sentence]


class Retry(Exception):
    """The document came out with an ambiguous quote; generate it again."""


@dataclass
class DocOut:
    number: int
    doc_id: str
    title: str
    text: str
    facts: list[FactOut]
    entities: dict[str, set[str]]  # id -> alternative labels used
    definition: tuple[str, str, str | None] | None  # (entity id, quote, within)
    unannotated: list[tuple[str, str]]


@dataclass
class Ledger:
    """What earlier documents have done, that a new one must agree with."""

    defined: set[str] = field(default_factory=set)  # entities with a definition
    asserted: set[tuple[str, str, str]] = field(default_factory=set)
    negated: set[tuple[str, str, str]] = field(default_factory=set)


def _triples(fact: FactOut) -> list[tuple[str, str, str]]:
    return [(s, fact.relation, o) for s in fact.subjects for o in fact.objects]


class DocBuilder:
    def __init__(self, pool: Pool, rng: random.Random, number: int, doc_id: str,
                 ledger: Ledger) -> None:
        self.pool = pool
        self.rng = rng
        self.number = number
        self.doc_id = doc_id
        self.ledger = ledger
        self.defined = ledger.defined
        self.used: dict[str, set[str]] = {}
        self.facts: list[FactOut] = []
        self.fact_ids: set[str] = set()
        self.texts: set[str] = set()
        self.unannotated: list[tuple[Sentence, str]] = []
        self.definition: tuple[str, Sentence] | None = None

    # -- words ------------------------------------------------------------------------

    def surface(self, ent: Entity, alt_share: float = 0.3) -> str:
        self.used.setdefault(ent.id, set())
        if ent.alts and self.rng.random() < alt_share:
            alt = self.rng.choice(ent.alts)
            self.used[ent.id].add(alt)
            return alt
        return ent.label

    def worded(self, ent: Entity) -> str:
        s = self.surface(ent)
        return _article(s) if ent.cls == "Specialist" else s

    def fact_id(self, subjects: list[Entity], relation: str, objects: list[Entity]) -> str:
        s = subjects[0].id if len(subjects) == 1 else "several"
        o = objects[0].id if len(objects) == 1 else "several"
        base = f"{s}-{_kebab(relation)}-{o}"
        fid, n = base, 2
        while fid in self.fact_ids:
            fid, n = f"{base}-{n}", n + 1
        self.fact_ids.add(fid)
        return fid

    def new_sentence(self, text: str) -> Sentence:
        if text in self.texts or _TERMINATOR.search(text[:-1]):
            raise Retry(text)
        self.texts.add(text)
        return Sentence(text)

    def filler(self, topic_word: str, choices: list[tuple[str, str]]) -> Sentence:
        template, reason = choices.pop(self.rng.randrange(len(choices)))
        s = self.new_sentence(template.format(t=topic_word))
        self.unannotated.append((s, f"{reason}, states no fact"))
        return s

    # -- facts --------------------------------------------------------------------------

    def roles(self, relation: str, topic: Entity, k: int,
              exclude: set[str]) -> tuple[list[Entity], list[Entity]]:
        """Subjects and objects of a fact of ``relation`` about ``topic`` (lists of k)."""
        p, rng = self.pool, self.rng
        if relation == "causes":
            if rng.random() < 0.15 and k == 1:  # the topic causes a symptom
                return [topic], p.pick_distinct(rng, SIGNS, 1, exclude)
            return p.pick_distinct(rng, CAUSES, k, exclude), [topic]
        if relation == "hasRiskFactor":
            return [topic], p.pick_distinct(rng, RISKS, k, exclude)
        if relation == "deficiencyOf":
            nds = [topic] if topic.cls == "NutrientDeficiency" else p.pick_distinct(
                rng, (("NutrientDeficiency", 1.0),), 1, exclude)
            return nds, [p.by_id[nds[0].link or ""]] if nds else []
        if relation == "hasSymptom":
            return [topic], p.pick_distinct(rng, SIGNS, k, exclude)
        if relation == "indicates":
            return p.pick_distinct(rng, SIGNS, k, exclude), [topic]
        if relation == "associatedAnatomy":
            if topic.link and topic.link in p.by_id and p.by_id[topic.link].cls == \
                    "AnatomicalStructure" and topic.link not in exclude:
                exclude.add(topic.link)
                return [topic], [p.by_id[topic.link]]
            general = [e for e in GENERAL_ANATOMY if e not in exclude]
            if not general:
                return [topic], []
            exclude.add(part := rng.choice(general))
            return [topic], [p.by_id[part]]
        if relation in ("affects", "endangers"):
            return [topic], p.pick_distinct(rng, POPS if k == 1 else POPS[:1], k, exclude)
        if relation == "hasSeverityLevel":
            levels = [p.by_id["mild"], p.by_id["severe"]]
            if rng.random() < 0.3:
                levels.insert(1, p.by_id["moderate"])
            return [topic], levels
        if relation == "subtypeOf":
            broader = p.pick_distinct(rng, (("Condition", 0.3), ("Disease", 0.7)), 1,
                                      exclude | {topic.id})
            return [topic], broader
        if relation == "hasTreatment":
            return [topic], p.pick_distinct(rng, TREATS, k, exclude)
        if relation == "hasFirstAid":
            return [topic], p.pick_distinct(rng, (("FirstAid", 1.0),), 1, exclude)
        if relation == "hasSpecialist":
            return [topic], p.pick_distinct(rng, (("Specialist", 1.0),), k, exclude)
        if relation == "improves":
            return (p.pick_distinct(rng, INTERVENTIONS, 1, exclude),
                    p.pick_distinct(rng, (("BodyFunction", 1.0),), 1, exclude))
        raise ValueError(relation)

    def fact_sentence(self, relation: str, topic: Entity, as_list: bool,
                      exclude: set[str]) -> list[Sentence]:
        rng = self.rng
        _, _, singles, lists = RELATIONS[relation]
        as_list = as_list and bool(lists)
        subjects, objects = self.roles(relation, topic, rng.choice((2, 3, 3, 4)) if as_list
                                       else 1, exclude)
        if not subjects or not objects:
            raise Retry(relation)
        templates = lists if (as_list or len(objects) > 1) and lists else singles
        if relation == "hasSeverityLevel":
            templates = singles
        template = rng.choice(templates)
        negated = relation == "causes" and not as_list and rng.random() < NEGATED_SHARE * 3
        if negated:
            template = "{s} does not cause {o}"
        conj = "or" if relation in ("hasSeverityLevel", "hasTreatment", "hasSpecialist") \
            else "and"
        subject_words = [self.worded(e) for e in subjects]
        object_words = [self.worded(e) for e in objects]
        words = {"s": subject_words[0], "o": object_words[0], "S": _join(subject_words),
                 "O": _join(object_words, conj)}
        core = template.format(**words)

        # qualifiers and their words
        qualifiers: list[tuple[str, str]] = []
        before: list[str] = []
        after: list[str] = []
        follow: str | None = None
        if not negated and relation not in ("hasSeverityLevel", "subtypeOf", "deficiencyOf"):
            if relation not in ("affects", "endangers") and rng.random() < POPULATION_SHARE:
                pop = self.pool.pick_any(rng, POPS)
                if pop.id not in exclude:
                    qualifiers.append(("population", pop.id))
                    where = rng.choice(("in", "among", "for"))
                    phrase = f"{where} {self.surface(pop)}"
                    if rng.random() < FOLLOW_UP_SHARE * 2:
                        follow = rng.choice(FOLLOW_UPS[:1]).format(x=phrase)
                    else:
                        (before if rng.random() < 0.3 else after).append(phrase)
            if rng.random() < CONTEXT_SHARE:
                ctx = self.pool.pick_any(rng, CONTEXT_CLASSES)
                if relation == "hasFirstAid" and rng.random() < 0.7:
                    ctx = self.pool.by_id["during-an-attack"]
                qualifiers.append(("context", ctx.id))
                phrase = ctx.phrase.format(x=self.surface(ctx))
                if follow is None and rng.random() < FOLLOW_UP_SHARE * 3:
                    follow = rng.choice(FOLLOW_UPS).format(x=phrase)
                else:
                    (before if rng.random() < 0.5 else after).append(phrase)
            if relation not in ("hasSymptom",) and rng.random() < SEVERITY_SHARE:
                sev = self.pool.pick(rng, "Severity")
                qualifiers.append(("severity", sev.id))
                before.insert(0, f"in {self.surface(sev, alt_share=0.2)} cases")
            if rng.random() < FREQUENCY_SHARE:
                freq = self.pool.pick(rng, "Frequency")
                qualifiers.append(("frequency", freq.id))
                before.insert(0, self.surface(freq, alt_share=1.0))
        lead = ", ".join(before)
        head = _cap(lead) + ", " if lead else ""
        body = core if lead else _cap(core)
        tail = "".join(" " + a for a in after)
        text = f"{head}{body}{tail}."
        sentence = self.new_sentence(text)
        within = None
        o_at = text.find(object_words[0])
        if len(objects) == 1 and objects[0] is not topic and follow is None and \
                o_at >= 0 and text.find(object_words[0], o_at + 1) == -1 and \
                rng.random() < SHORT_QUOTE_SHARE * 2:
            quote = Quote(sentence, o_at, len(object_words[0]))  # the object's words alone
            within = text
        elif rng.random() < 0.6 or after or before:
            quote = Quote(sentence, 0, len(text) - 1)  # the sentence without its full stop
        else:
            quote = Quote(sentence, len(head), len(body))  # the clause alone
        sentences = [sentence]
        quotes = [quote]
        if follow is not None:
            second = self.new_sentence(follow + ".")
            sentences.append(second)
            quotes.append(Quote(second, 0, len(follow)))
        note = None
        if rng.random() < NOTE_SHARE:
            alt_words = [a for e in subjects + objects for a in self.used.get(e.id, ())]
            template = rng.choice(NOTES[1:] if not alt_words else NOTES)
            w = alt_words[0] if alt_words else ""
            label = next((e.label for e in subjects + objects if w in e.alts), "")
            note = template.format(w=w, label=label)
        self.facts.append(FactOut(
            id=self.fact_id(subjects, relation, objects), subjects=[e.id for e in subjects],
            relation=relation, objects=[e.id for e in objects], quotes=quotes,
            qualifiers=qualifiers, negated=negated, note=note, within=within))
        return sentences

    def bullets(self, topic: Entity, topic_word: str, exclude: set[str]) -> list[Sentence]:
        rng = self.rng
        kind = rng.choice(("causes", "symptoms", "treatment"))
        k = rng.choice((2, 3, 3, 4))
        if kind == "causes":
            intro = f"The main causes of {topic_word} are:"
            items = self.pool.pick_distinct(rng, CAUSES, k, exclude)
            pairs = [([e], "causes", [topic]) for e in items]
        elif kind == "symptoms":
            intro = f"Watch for these signs of {topic_word}:"
            items = self.pool.pick_distinct(rng, SIGNS, k, exclude)
            pairs = [([topic], "hasSymptom", [e]) for e in items]
        else:
            intro = f"The following helps with {topic_word}:"
            items = self.pool.pick_distinct(rng, TREATS, k, exclude)
            pairs = [([topic], "hasTreatment", [e]) for e in items]
        if not items:
            raise Retry(intro)
        head = self.new_sentence(intro)
        out = [head]
        for n, (ent, (subjects, relation, objects)) in enumerate(zip(items, pairs, strict=True)):
            word = self.surface(ent)
            item = self.new_sentence(word + (";" if n < len(items) - 1 else "."))
            out.append(item)
            quotes = [Quote(item, 0, len(word))]
            if n == 0:
                quotes.insert(0, Quote(head, 0, len(intro) - 1))
            self.facts.append(FactOut(
                id=self.fact_id(subjects, relation, objects),
                subjects=[e.id for e in subjects], relation=relation,
                objects=[e.id for e in objects], quotes=quotes, qualifiers=[]))
        return out

    # -- the document -------------------------------------------------------------------

    def build(self) -> DocOut:
        rng, pool = self.rng, self.pool
        topic = pool.pick_any(rng, TOPICS)
        topic_word = self.surface(topic, alt_share=0.2)
        openers = [f for f in FILLERS if f[1] == "introduction"]
        fillers = [f for f in FILLERS if f[1] not in ("introduction", "closing remark")]
        closers = [f for f in FILLERS if f[1] == "closing remark"]
        exclude = {topic.id}

        # which facts, in which section
        n_facts = rng.choices([n for n, _ in FACT_SENTENCES],
                              weights=[w for _, w in FACT_SENTENCES])[0]
        names = list(RELATIONS)
        weights = [RELATIONS[r][0] for r in names]
        plan: dict[str, list[str]] = {s: [] for s in SECTIONS}
        for relation in rng.choices(names, weights=weights, k=n_facts):
            plan[RELATIONS[relation][1]].append(relation)

        title = rng.choice(TITLES).format(t=topic_word, T=_cap(topic_word))
        title_s = self.new_sentence(title)
        self.unannotated.append((title_s, "the title"))
        blocks: list[Block] = [Block("heading", [title_s])]

        intro: list[Sentence] = []
        if topic.gloss and topic.id not in self.defined and rng.random() < DEFINITION_SHARE:
            d = self.new_sentence(f"{_cap(self.surface(topic))} is {topic.gloss}.")
            self.definition = (topic.id, d)
            intro.append(d)
        for relation in plan["intro"]:
            intro += self.fact_sentence(relation, topic, rng.random() < LIST_SHARE, exclude)
        if not intro or rng.random() < 0.6:
            intro.insert(0, self.filler(topic_word, openers))
        blocks.append(Block("para", intro))

        bullets_in = rng.choice(("causes", "symptoms", "treatment")) \
            if rng.random() < BULLETS_SHARE else None
        for section in SECTIONS[1:]:
            body: list[Sentence] = []
            for relation in plan[section]:
                body += self.fact_sentence(relation, topic, rng.random() < LIST_SHARE, exclude)
            bullet_block = self.bullets(topic, topic_word, exclude) \
                if section == bullets_in else None
            if not body and bullet_block is None:
                continue
            if rng.random() < 0.7 or len(blocks) == 2:  # at least one section heading
                heading = self.new_sentence(rng.choice(HEADINGS[section]).format(t=topic_word))
                self.unannotated.append((heading, "section heading"))
                blocks.append(Block("heading", [heading]))
            if body:
                blocks.append(Block("para", body))
            if bullet_block:
                if body:  # the list follows the paragraph on its own lines
                    blocks[-1] = Block("para", body + bullet_block[:1])
                    blocks.append(Block("bullets", bullet_block[1:]))
                else:
                    blocks.append(Block("para", bullet_block[:1]))
                    blocks.append(Block("bullets", bullet_block[1:]))

        # fillers up to the drawn length
        spans = sum(len(b.sentences) for b in blocks)
        target = min(MAX_SPANS, MIN_SPANS + int(rng.expovariate(1 / 2.5)))
        paras = [b for b in blocks if b.kind == "para"]
        while spans < target and fillers:
            para = rng.choice(paras)
            ends_list = any(b.kind == "bullets" for b in blocks) and para.sentences[-1].text \
                .endswith(":")
            last = len(para.sentences) - (1 if ends_list else 0)
            para.sentences.insert(rng.randint(1 if para is paras[0] else 0, last),
                                  self.filler(topic_word, fillers))
            spans += 1
        if spans < MAX_SPANS and rng.random() < 0.4:
            blocks.append(Block("para", [self.filler(topic_word, closers)]))

        text = self.assemble(blocks)
        return self.finish(text, title, topic)

    def assemble(self, blocks: list[Block]) -> str:
        parts: list[str] = []
        pos = 0
        for i, block in enumerate(blocks):
            if i:
                sep = "\n" if block.kind == "bullets" else "\n\n"
                parts.append(sep)
                pos += len(sep)
            if block.kind == "bullets":
                for j, s in enumerate(block.sentences):
                    lead = ("\n" if j else "") + "  \u2022 "
                    parts.append(lead)
                    pos += len(lead)
                    s.start = pos
                    parts.append(s.text)
                    pos += len(s.text)
            else:
                for j, s in enumerate(block.sentences):
                    if j:
                        parts.append(" ")
                        pos += 1
                    s.start = pos
                    parts.append(s.text)
                    pos += len(s.text)
        parts.append("\n")
        return "".join(parts)

    def finish(self, text: str, title: str, topic: Entity) -> DocOut:
        for fact in self.facts:
            exacts = [q.sentence.text[q.offset:q.offset + q.length] for q in fact.quotes]
            if fact.within is not None:
                s = fact.quotes[0].sentence
                if not _unique_at(text, s.text, s.start):
                    raise Retry(s.text)
                continue
            if all(_unique_at(text, e, q.sentence.start + q.offset)
                   for e, q in zip(exacts, fact.quotes, strict=True)):
                continue
            lo = min(q.sentence.start for q in fact.quotes)
            hi = max(q.sentence.start + len(q.sentence.text) for q in fact.quotes)
            within = text[lo:hi]
            if not _unique_at(text, within, lo) or not all(
                    _unique_at(within, e, q.sentence.start + q.offset - lo)
                    for e, q in zip(exacts, fact.quotes, strict=True)):
                raise Retry(within)
            fact.within = within
        unannotated = []
        for s, reason in self.unannotated:
            if not _unique_at(text, s.text, s.start):
                raise Retry(s.text)
            unannotated.append((s.text, reason))
        definition = None
        if self.definition:
            eid, s = self.definition
            if not _unique_at(text, s.text, s.start):
                raise Retry(s.text)
            definition = (eid, s.text, None)
        entities: dict[str, set[str]] = {}
        for fact in self.facts:
            for eid in fact.subjects + fact.objects + [v for _, v in fact.qualifiers]:
                entities[eid] = self.used.get(eid, set())
        if definition:
            entities[definition[0]] = self.used.get(definition[0], set())
        lowered = text.lower()
        for eid, alts in entities.items():
            if not all(a.lower() in lowered for a in alts):
                raise Retry(eid)
        # a negation must not contradict a fact stated here or in another document
        # (kg validate's shapes reject a negated statement whose triple is asserted)
        pos = {t for f in self.facts if not f.negated for t in _triples(f)}
        neg = {t for f in self.facts if f.negated for t in _triples(f)}
        if pos & (neg | self.ledger.negated) or neg & self.ledger.asserted:
            raise Retry("a negation contradicts a fact")
        return DocOut(self.number, self.doc_id, title, text, self.facts, entities, definition,
                      unannotated)


def _unique_at(text: str, needle: str, at: int) -> bool:
    """True if ``needle`` occurs in ``text`` exactly once, at ``at`` (overlaps counted)."""
    first = text.find(needle)
    return first == at and text.find(needle, first + 1) == -1


# --------------------------------------------------------------------------- YAML


def q(s: str) -> str:
    """A YAML single-quoted scalar (double-quoted, JSON style, if it spans lines)."""
    if "\n" in s:
        return json.dumps(s, ensure_ascii=False)
    return "'" + s.replace("'", "''") + "'"


def ql(items: Sequence[str]) -> str:
    return q(items[0]) if len(items) == 1 else "[" + ", ".join(q(i) for i in items) + "]"


def facts_yaml(doc: DocOut, pool: Pool) -> str:
    out = [
        f"# Synthetic benchmark document {doc.number} (benchmarks/synth.py).\n",
        "document:\n",
        f"  id: {q(doc.doc_id)}\n",
        f"  source: {q(f'sources/{doc.doc_id}.txt')}\n",
        f"  title: {q(doc.title)}\n",
        "  language: 'en'\n",
        "  machine_translated: false\n",
        "\nentities:\n",
    ]
    for eid in sorted(doc.entities):
        ent = pool.by_id[eid]
        out.append(f"  {q(eid)}:\n    type: {q(ent.cls)}\n    label: {q(ent.label)}\n")
        alts = sorted(doc.entities[eid])
        if alts:
            out.append(f"    alt: [{', '.join(q(a) for a in alts)}]\n")
        if doc.definition and doc.definition[0] == eid:
            gloss = ent.gloss or ""
            out.append(f"    definition:\n      text: {q(_cap(gloss) + '.')}\n"
                       f"      quote: {q(doc.definition[1])}\n")
    out.append("\nfacts:\n")
    for f in doc.facts:
        exacts = [x.sentence.text[x.offset:x.offset + x.length] for x in f.quotes]
        out.append(f"  - id: {q(f.id)}\n    subject: {ql(f.subjects)}\n"
                   f"    relation: {q(f.relation)}\n    object: {ql(f.objects)}\n")
        for key, value in f.qualifiers:
            out.append(f"    {key}: {q(value)}\n")
        if f.negated:
            out.append("    negated: true\n")
        out.append(f"    quote: {ql(exacts)}\n")
        if f.within is not None:
            out.append(f"    within: {q(f.within)}\n")
        if f.note:
            out.append(f"    note: {q(f.note)}\n")
    out.append("\nunannotated:\n")
    for text, reason in doc.unannotated:
        out.append(f"  - text: {q(text)}\n    reason: {q(reason)}\n")
    return "".join(out)


# --------------------------------------------------------------------------- the corpus


@dataclass
class Summary:
    documents: int
    fact_entries: int
    facts: int
    entities: int
    examples: list[str]


def generate(documents: int, out: Path, seed: int = 1) -> Summary:
    """Write a data directory of ``documents`` synthetic documents into ``out``."""
    pool = Pool(str(seed))
    width = max(5, len(str(documents)))
    (out / "sources").mkdir(parents=True, exist_ok=True)
    (out / "facts").mkdir(parents=True, exist_ok=True)
    for name in ("ontology.ttl", "shapes.ttl"):
        shutil.copyfile(DATA / name, out / name)
    ledger = Ledger()
    usage: dict[str, int] = {}
    declared: set[str] = set()
    fact_entries = facts = 0
    for n in range(1, documents + 1):
        doc_id = f"doc-{n:0{width}d}"
        for attempt in itertools.count():
            rng = random.Random(f"{seed}:{n}:{attempt}")
            try:
                doc = DocBuilder(pool, rng, n, doc_id, ledger).build()
                break
            except Retry:
                if attempt > 50:
                    raise
        if doc.definition:
            ledger.defined.add(doc.definition[0])
        for f in doc.facts:
            (ledger.negated if f.negated else ledger.asserted).update(_triples(f))
        declared.update(doc.entities)
        for f in doc.facts:
            fact_entries += 1
            facts += len(f.subjects) * len(f.objects)
            for eid in f.subjects + f.objects:
                usage[eid] = usage.get(eid, 0) + 1
        (out / "sources" / f"{doc_id}.txt").write_text(doc.text, encoding="utf-8")
        (out / "facts" / f"{doc_id}.yaml").write_text(facts_yaml(doc, pool), encoding="utf-8")
    examples = sorted(usage, key=lambda e: (-usage[e], e))[:3]
    dataset = (DATA / "dataset.yaml").read_text(encoding="utf-8")
    dataset = re.sub(r"(?m)^examples:.*$", "examples: [" + ", ".join(q(e) for e in examples)
                     + "]", dataset)
    (out / "dataset.yaml").write_text(dataset, encoding="utf-8")
    return Summary(documents, fact_entries, facts, len(declared), examples)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, required=True, help="how many documents")
    parser.add_argument("--out", type=Path, required=True, help="the data directory to write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--force", action="store_true",
                        help="replace facts/ and sources/ of an existing directory")
    args = parser.parse_args(argv)
    if args.documents < 1:
        parser.error("--documents must be at least 1")
    out: Path = args.out
    old = [out / d for d in ("facts", "sources") if (out / d).exists()]
    if old and not args.force:
        parser.error(f"{out} already holds facts/ or sources/; pass --force to replace them")
    for d in old:
        shutil.rmtree(d)
    t0 = time.perf_counter()
    s = generate(args.documents, out, args.seed)
    print(f"wrote {s.documents} documents, {s.facts} facts ({s.fact_entries} fact entries), "
          f"{s.entities} entities to {out} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
