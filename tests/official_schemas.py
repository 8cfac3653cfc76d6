"""The official OB 3.0 and CLR 2.0 JSON Schemas from ``shared/spec``, as test validators.

``schema_errors(document, "ob-strict", "ob-json-ld")`` lists every violation
(empty = valid); the test is skipped when ``shared/spec`` is absent.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft201909Validator
from referencing import Registry, Resource

from tests.conftest import spec_path

OB_SCHEMA = "ob_v3p0_achievementcredential_schema.json"
CLR_SCHEMA = "clr_v2p0_clrcredential_schema.json"


def _validator(path: Path) -> Draft201909Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    # Sibling files by file URI and $id, so no reference is ever fetched.
    registry: Registry = Registry()
    for sibling in path.parent.glob("*.json"):
        contents = json.loads(sibling.read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents)
        registry = registry.with_resource(sibling.as_uri(), resource)
        if "$id" in contents:
            registry = registry.with_resource(contents["$id"], resource)
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(
        schema, registry=registry, format_checker=Draft201909Validator.FORMAT_CHECKER
    )


@cache
def _validators() -> dict[str, Draft201909Validator] | None:
    root = spec_path()
    paths = {
        # OB 3.0: the strict schema and its JSON-LD adaptation (FACTS §4.1).
        "ob-strict": root / "ob_v3p0" / "schema" / "json" / OB_SCHEMA,
        "ob-json-ld": root / "ob_v3p0" / "schema" / "json-ld-adaptation" / OB_SCHEMA,
        # CLR 2.0: the purl copy (the JSON-LD adaptation text; FACTS §4.1).
        "clr": root / "clr_v2p0" / "schema" / "json-ld-adaptation" / CLR_SCHEMA,
    }
    if not all(p.is_file() for p in paths.values()):
        return None
    return {name: _validator(path) for name, path in paths.items()}


def schema_errors(document: dict[str, Any], *names: str) -> list[str]:
    validators = _validators()
    if validators is None:
        pytest.skip(f"official schemas not found under {spec_path()} (set BADGER_SPEC_DIR)")
    return [
        f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for name in names
        for e in validators[name].iter_errors(document)
    ]
