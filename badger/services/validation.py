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

from badger.domain.errors import ValidationError


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    text = (resources.files("badger.schemas") / f"{name}.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


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
        found.setdefault(_path(error), []).append(error.message)
    return found


def validate(name: str, data: Any) -> None:
    """Raise :class:`ValidationError` naming the first bad field (all in ``.fields``)."""
    errors = schema_errors(name, data)
    if errors:
        field, messages = next(iter(errors.items()))
        exc = ValidationError(field, messages[0])
        exc.fields = errors
        raise exc
