"""Counts that describe a built graph: by class, by relation, by population, by document."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS, VOID

from .vocab import KG, OA, QUALIFIERS, local

GENERAL = "(general)"


def stats(graph: Graph) -> dict[str, Any]:
    """Counts of the graph as plain data (what ``kg stats --format json`` prints).

    ``classes``: entities per ontology class (each counted under its declared types);
    ``relations``: truthy triples per relation; ``populations``: facts per population
    qualifier, facts without one under ``(general)``; ``documents``: facts per document.
    """
    entities: set[URIRef] = set()
    classes: Counter[str] = Counter()
    for s, o in graph.subject_objects(RDF.type):
        name = local(o)  # type: ignore[arg-type]
        if name is not None and name not in ("Document", "Evidence"):
            classes[name] += 1
            entities.add(s)  # type: ignore[arg-type]

    relations: Counter[str] = Counter()
    for p in graph.subjects(RDF.type, OWL.ObjectProperty):
        name = local(p)  # type: ignore[arg-type]
        if name is None or p in QUALIFIERS.values():
            continue
        n = sum(1 for _ in graph.triples((None, p, None)))
        if n:
            relations[name] = n

    statements = set(graph.subjects(RDF.type, RDF.Statement))
    facts = {st for st in statements if graph.value(st, RDF.predicate) != SKOS.definition}
    populations: Counter[str] = Counter()
    for st in facts:
        labels = [_label(graph, pop) for pop in graph.objects(st, KG.population)]
        for label in labels or [GENERAL]:
            populations[label] += 1

    documents = []
    for doc in sorted(graph.subjects(RDF.type, KG.Document), key=str):
        evidence = set(graph.subjects(OA.hasSource, doc))
        doc_facts = {st for st in facts
                     if any(ev in evidence for ev in graph.objects(st, PROV.wasDerivedFrom))}
        documents.append({
            "id": str(graph.value(doc, DCTERMS.identifier)),
            "title": str(graph.value(doc, DCTERMS.title)),
            "iri": str(doc),
            "sha256": str(graph.value(doc, KG.sha256)),
            "facts": len(doc_facts),
            "evidence": len(evidence),
        })

    return {
        "dataset": _dataset(graph),
        "triples": len(graph),
        "entities": len(entities),
        "facts": len(facts),
        "definitions": len(statements) - len(facts),
        "classes": dict(sorted(classes.items())),
        "relations": dict(sorted(relations.items())),
        "populations": dict(sorted(populations.items())),
        "documents": documents,
    }


def _dataset(graph: Graph) -> dict[str, Any] | None:
    """The VoID/DCAT description the build generated, if there is one."""
    from .describe import DATASET

    if (DATASET, RDF.type, VOID.Dataset) not in graph:
        return None
    fields = {"title": DCTERMS.title, "version": OWL.versionInfo, "license": DCTERMS.license,
              "issued": DCTERMS.issued, "triples": VOID.triples, "entities": VOID.entities,
              "sparql_endpoint_path": KG.sparqlEndpointPath}
    out: dict[str, Any] = {"iri": str(DATASET)}
    for key, prop in fields.items():
        value = graph.value(DATASET, prop)
        if isinstance(value, Literal) and key in ("triples", "entities"):
            out[key] = value.toPython()
        elif value is not None:
            out[key] = str(value)
    out["sources"] = sorted(str(o) for o in graph.objects(DATASET, DCTERMS.source))
    out["examples"] = sorted(str(o) for o in graph.objects(DATASET, VOID.exampleResource))
    linkset = graph.value(DATASET, VOID.subset)
    if linkset is not None:
        count = graph.value(linkset, VOID.triples)
        out["mappings"] = count.toPython() if isinstance(count, Literal) else 0
    return out


def _label(graph: Graph, node: Any) -> str:
    label = graph.value(node, RDFS.label)
    return str(label) if label is not None else str(node)


def format_text(counts: dict[str, Any]) -> str:
    """The counts as aligned plain text."""
    lines = []
    dataset = counts.get("dataset")
    if dataset:
        lines += [f"dataset      {dataset.get('title')} {dataset.get('version', '')}",
                  f"             {dataset['iri']}",
                  f"licence      {dataset.get('license', '')}",
                  f"issued       {dataset.get('issued', '')}",
                  f"mappings     {dataset.get('mappings', 0)} (SKOS, to ICD-10 and HPO)",
                  f"endpoint     {dataset.get('sparql_endpoint_path', '')} (kg serve)", ""]
    lines += [
        f"triples      {counts['triples']}",
        f"entities     {counts['entities']}",
        f"facts        {counts['facts']}",
        f"definitions  {counts['definitions']}",
    ]
    for title, key in (("entities by class", "classes"), ("triples by relation", "relations"),
                       ("facts by population", "populations")):
        table = counts[key]
        width = max((len(k) for k in table), default=0)
        lines += ["", f"{title}:"]
        lines += [f"  {k:<{width}}  {v:>5}" for k, v in table.items()]
    lines += ["", "documents:"]
    for doc in counts["documents"]:
        lines.append(f"  {doc['id']}: {doc['title']!r}, {doc['facts']} facts, "
                     f"sha256 {doc['sha256'][:12]}...")
    return "\n".join(lines)
