"""kg's namespaces and prefixes as plain strings, with no rdflib import.

The query path of the command line (``kg query``) formats results and expands CURIEs
with these alone, so that answering a query never has to load rdflib.
:mod:`kg.vocab` makes rdflib namespaces of the same strings.
"""

from __future__ import annotations

BASE = "https://w3id.org/health-kg/"

#: Prefix -> namespace IRI: bound in every graph kg writes, predeclared for queries.
NAMESPACES: dict[str, str] = {
    "kg": BASE + "ontology#",
    "kgr": BASE + "resource/",
    "kgd": BASE + "doc/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "schema": "https://schema.org/",
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "ICD10": "https://id.who.int/icd/release/10/2019/",
    "HP": "http://purl.obolibrary.org/obo/HP_",
}

XSD_STRING = NAMESPACES["xsd"] + "string"

_BY_LENGTH = sorted(NAMESPACES.items(), key=lambda kv: -len(kv[1]))


def curie(iri: str) -> str:
    """``iri`` as a CURIE with kg's prefixes (the longest namespace wins), else as is."""
    for prefix, ns in _BY_LENGTH:
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri
