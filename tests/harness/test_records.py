"""The published schemas: valid draft 2020-12, the same in docs/ and in the package, satisfied by
every record repro writes, and applied by fastjsonschema exactly as jsonschema applies them."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.harness import records, store
from tests.helpers_records import GOLDEN

REPO = Path(__file__).resolve().parents[2]
KIND_OF = {"run.json": "run", "cost.json": "cost"}


@pytest.mark.parametrize("kind", sorted(records.SCHEMA_FILES))
def test_schemas_are_draft_2020_12_and_published_unchanged_in_docs(kind):
    name = records.SCHEMA_FILES[kind]
    published = REPO / "docs" / "schemas" / name
    assert published.read_bytes() == (records.SCHEMA_DIR / name).read_bytes(), \
        f"docs/schemas/{name} differs from repro/harness/schemas/{name}: copy the package's file to docs/"
    schema = records.schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def _golden_files():
    return sorted(p for p in GOLDEN.rglob("*.json") if p.name in KIND_OF)


@pytest.mark.parametrize("path", _golden_files(), ids=lambda p: str(p.relative_to(GOLDEN)))
def test_every_golden_record_is_valid(path):
    data = store.read_json(path)
    errors = list(jsonschema.Draft202012Validator(records.schema(KIND_OF[path.name])).iter_errors(data))
    assert errors == [], [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:3]]
    records.validate(data, KIND_OF[path.name])          # what the readers run agrees


def test_the_records_a_real_run_writes_are_valid(digits_group):
    results, group = digits_group
    for run in group.runs:
        for name, kind in KIND_OF.items():
            data = json.loads((run.run_dir / name).read_text())
            jsonschema.Draft202012Validator(records.schema(kind)).validate(data)
            records.validate(data, kind)
    group_file = json.loads(group.path.read_text())
    jsonschema.Draft202012Validator(records.schema("group")).validate(group_file)
    assert store.read_json(group.path)["group_id"] == group.group_id


# -- fastjsonschema (what the readers run) agrees with jsonschema (the reference) ---------------------
def _json_values(depth: int = 2):
    leaves = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                       st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                       st.sampled_from(["", "a/b", "x\x00y", "2026-11-01T10:00:00Z", "finished", "0.5"]))
    return st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                        max_leaves=6)


def _paths(value, prefix=()):
    """Every (path to a value) in a JSON document."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, (*prefix, index))


def _mutated(draw, document):
    paths = [p for p in _paths(document) if p]
    path = draw(st.sampled_from(paths))
    node = document
    for part in path[:-1]:
        node = node[part]
    if isinstance(node, dict) and draw(st.booleans()):
        del node[path[-1]]
    else:
        node[path[-1]] = draw(_json_values())
    return document


@st.composite
def mutated_records(draw):
    path = draw(st.sampled_from(_golden_files()))
    document = json.loads(path.read_text())
    for _ in range(draw(st.integers(1, 3))):
        document = _mutated(draw, document)
    return KIND_OF[path.name], document


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_records())
def test_fastjsonschema_and_jsonschema_agree_on_mutated_real_records(case):
    kind, document = case
    reference = jsonschema.Draft202012Validator(records.schema(kind))
    expected_valid = reference.is_valid(document)
    try:
        records.validate(document, kind)
        valid = True
    except records.RecordInvalid as exc:
        valid = False
        assert exc.field and exc.reason
    assert valid == expected_valid, list(reference.iter_errors(document))[:1]


def test_inlining_the_definitions_changes_nothing_jsonschema_sees():
    for kind in records.SCHEMA_FILES:
        published = records.schema(kind)
        inlined = records.inline_refs(published, published.get("$defs", {}))
        assert "$ref" not in json.dumps(inlined)
        for path in _golden_files():
            if KIND_OF[path.name] == kind:
                data = json.loads(path.read_text())
                assert jsonschema.Draft202012Validator(inlined).is_valid(data)
