"""JSON Schema validation of inputs against ``schemas/`` (shipped in the package).

Errors name the field (a JSON path such as ``alignments[0].target_url``) so the
API, the forms and the CLI can all say exactly what is wrong.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from badger.domain.errors import NotFound, ValidationError


def _refuse(uri: str) -> Resource[Any]:
    # Schemas reference each other by $id; nothing is ever fetched from the web.
    raise NoSuchResource(ref=uri)


@functools.cache
def _registry() -> Registry[Any]:
    registry: Registry[Any] = Registry(retrieve=_refuse)
    for entry in resources.files("badger.schemas").iterdir():
        if entry.name.endswith(".json"):
            schema = json.loads(entry.read_text("utf-8"))
            Draft202012Validator.check_schema(schema)
            registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    return registry


def schema_names() -> list[str]:
    """The input schemas badger publishes (``schemas/<name>.json``)."""
    return sorted(
        entry.name.removesuffix(".json")
        for entry in resources.files("badger.schemas").iterdir()
        if entry.name.endswith(".json")
    )


def published_schema(name: str, base_url: str) -> dict[str, Any]:
    """Schema ``name`` as this deployment serves it: its ``$id`` is its own URL
    there, so the relative ``$ref`` between schemas resolve to the deployment."""
    if name not in schema_names():
        raise NotFound(f"no schema {name!r}")
    schema = json.loads((resources.files("badger.schemas") / f"{name}.json").read_text("utf-8"))
    return {**schema, "$id": f"{base_url.rstrip('/')}/schemas/{name}.json"}


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((resources.files("badger.schemas") / f"{name}.json").read_text("utf-8"))
    return Draft202012Validator(schema, registry=_registry(), format_checker=FormatChecker())


def _path(error: SchemaError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        if missing:
            out = f"{out}.{missing[0]}" if out else missing[0]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            out = f"{out}.{extra[0]}" if out else extra[0]
    return out or "(document)"


def schema_errors(name: str, data: Any) -> dict[str, list[str]]:
    """Every problem, grouped by field."""
    found: dict[str, list[str]] = {}
    for error in sorted(_validator(name).iter_errors(data), key=lambda e: list(e.absolute_path)):
        # "is not valid under any of the given schemas" helps nobody: name the
        # alternative that came closest and what is wrong with it.
        while error.validator in ("oneOf", "anyOf") and error.context:
            error = _closest(error)
        found.setdefault(_path(error), []).append(error.message)
    return found


def _closest(error: SchemaError) -> SchemaError:
    """Among a oneOf's failed branches, the one that matched the instance's keys best."""
    instance = error.instance
    if isinstance(instance, dict):
        by_branch: dict[int, list[SchemaError]] = {}
        for sub in error.context or ():
            by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
        branches = error.schema.get(error.validator, [])

        def fit(index: int) -> tuple[int, int]:
            required = branches[index].get("required", []) if index < len(branches) else []
            return (sum(k in instance for k in required), -len(by_branch[index]))

        best = max(by_branch, key=fit)
        return best_match(by_branch[best]) or error
    return best_match(error.context or ()) or error


def validate(name: str, data: Any) -> None:
    """Raise :class:`ValidationError` naming the first bad field (all in ``.fields``)."""
    errors = schema_errors(name, data)
    if errors:
        field, messages = next(iter(errors.items()))
        exc = ValidationError(field, messages[0])
        exc.fields = errors
        raise exc
