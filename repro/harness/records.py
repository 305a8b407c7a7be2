"""The run directory's JSON records checked against their published schemas.

run.json, cost.json and group-<id>.json each have a JSON Schema (draft 2020-12) in
repro/harness/schemas/, published as docs/schemas/. Every read checks the record; one that fails
raises `RecordInvalid` naming the field and the reason ("outcome.time_to_target_s: must be
number"), so a reader lists it as unreadable and renders the rest.

The check runs through fastjsonschema, which compiles a schema to Python code (a 10,000-run
report checks 20,000 records); the schemas use only keywords that draft 2020-12 and fastjsonschema
read alike, and the tests hold fastjsonschema's verdicts to jsonschema's Draft202012Validator.

JSON has no NaN or Infinity. Python's json module writes them anyway, so a record may hold the
literals: they are parsed into `NonFinite` values that no schema type accepts, and the field that
holds one is reported as such instead of being shown as a number.
"""
from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
# record kind → its schema file
SCHEMA_FILES = {"run": "run.schema.json", "cost": "cost.schema.json", "group": "group.schema.json"}


class RecordInvalid(ValueError):
    """A record that fails its schema: `field` is the dotted path ("" for the whole record)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field, self.reason = field, reason


class NonFinite:
    """A NaN or ±Infinity literal read from a record; it is no JSON value, so no schema type
    matches it and validation names the field that holds it."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def __repr__(self) -> str:
        return self.literal


def _float(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def parse_lenient(raw: bytes | str) -> Any:
    """json.loads for what orjson refuses: NaN/Infinity literals and numbers that overflow a double
    become NonFinite; nesting too deep for the parser raises ValueError, not RecursionError."""
    try:
        return json.loads(raw, parse_constant=NonFinite, parse_float=_float)
    except RecursionError:
        raise ValueError("nested too deeply to be a repro record") from None


def schema(kind: str) -> dict:
    """The published schema of a record kind ("run", "cost", "group")."""
    return json.loads((SCHEMA_DIR / SCHEMA_FILES[kind]).read_text(encoding="utf-8"))


def inline_refs(node: Any, defs: dict) -> Any:
    """The schema with every local "$ref": "#/$defs/NAME" replaced by that definition (the schemas
    have no recursive definitions). Same meaning; fastjsonschema generates a function call, with
    its field name formatted eagerly, for each $ref it meets, which made the check 3x slower."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
            return inline_refs(defs[ref[len("#/$defs/"):]], defs)
        return {k: inline_refs(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [inline_refs(v, defs) for v in node]
    return node


@lru_cache(maxsize=None)
def _validator(kind: str):
    published = schema(kind)
    return fastjsonschema.compile(inline_refs(published, published.get("$defs", {})))


def _field(name: str) -> str:
    """fastjsonschema's name of a value ("data.outcome.epochs[3].top1") without "data"."""
    return name[len("data"):].lstrip(".") if name.startswith("data") else name


def shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate(data: Any, kind: str) -> dict:
    """`data` when it satisfies the schema of `kind`; RecordInvalid (field: reason) otherwise."""
    try:
        _validator(kind)(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        name = exc.name or "data"
        field = _field(name)
        reason = exc.message[len(name):].strip() if exc.message.startswith(name) else exc.message
        if exc.rule in ("type", "pattern", "minimum", "maximum", "enum", "const", "maxLength", "minLength"):
            reason += f" (found {shown(exc.value)})"
        raise RecordInvalid(field or "(record)", reason) from None
    except RecursionError:
        raise RecordInvalid("(record)", "nested too deeply to be a repro record") from None
    return data
