"""Run kgx's command line (``kgx validate``, ``kgx graph-summary``...) offline, knowing
kg's prefixes.

    .venv/bin/python -m kg.kgx_offline validate -i tsv OUT/nodes.tsv OUT/edges.tsv

kgx 2.x reaches the network twice before it validates anything:

* importing ``kgx.utils.kgx_utils`` builds a ``bmt.Toolkit()``, whose defaults are
  ``biolink-model.yaml`` and ``predicate_mapping.yaml`` on raw.githubusercontent.com;
* its ``Validator`` reads the prefixes it accepts from a JSON-LD context
  (``kgx/config.yml``: Biolink 2.2.5's ``context.jsonld``, fetched with requests).

:func:`configure` points both at local data before kgx is imported: the Biolink
model and prefix map shipped in the ``biolink-model`` Python package (its version
is the Biolink release validated against: 4.4.6 with ``biolink-model==4.4.6``),
plus kg's own prefixes (``kgr:``, ``kgd:``, ``kg:``), which no Biolink context
has. The predicate mapping (non-Biolink predicates mapped onto Biolink ones, for
``Toolkit.get_element_by_mapping``) is left empty: validation does not use it.
``--biolink-release`` still means a download and is refused here.

``tests/test_kgx.py`` runs this script with sockets blocked and the kgx validator
on kg's KGX export.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import Any


def kg_prefixes() -> dict[str, str]:
    """kg's prefixes (the CURIEs of its KGX export use them)."""
    from kg.prefixes import NAMESPACES

    return dict(NAMESPACES)


def configure() -> dict[str, Any]:
    """Make kgx offline (call before importing any of kgx); returns the JSON-LD
    context (prefix -> IRI) the validator will accept prefixes from."""
    if any(name == "kgx" or name.startswith("kgx.") for name in sys.modules):
        raise RuntimeError("configure() must run before kgx is imported")
    import bmt.toolkit

    package = resources.files("biolink_model")
    schema = str(package / "schema" / "biolink_model.yaml")
    # Toolkit(schema=REMOTE_PATH, predicate_map=PREDICATE_MAP): both defaults are URLs,
    # bound when bmt was imported; every Toolkit() kgx makes takes these instead.
    defaults = bmt.toolkit.Toolkit.__init__.__defaults__ or ()
    bmt.toolkit.Toolkit.__init__.__defaults__ = (schema, {"predicate mappings": []},
                                                 *defaults[2:])

    import kgx.config

    kgx.config.get_config()
    context: dict[str, Any] = json.loads(
        (package / "prefixmaps" / "biolink_model_prefix_map.json").read_text("utf-8"))
    for prefix, iri in kg_prefixes().items():
        context.setdefault(prefix, iri)  # Biolink's own mapping wins where it has one
    # kgx.config.get_jsonld_context() caches the contexts it has read in this map
    kgx.config.jsonld_context_map["biolink"] = context
    return context


def main(argv: list[str]) -> None:
    if any(arg.startswith("--biolink-release") or arg == "-b" for arg in argv):
        sys.exit("kgx_offline: --biolink-release downloads a model; the biolink-model "
                 "package's is used instead")
    configure()
    from kgx.cli import cli

    cli.main(args=argv, prog_name="kgx")


if __name__ == "__main__":
    main(sys.argv[1:])
