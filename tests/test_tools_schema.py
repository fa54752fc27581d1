"""Schemas the model sees work under strict function calling; validation names path and problem."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field

from arcan_core.errors import ToolError, ToolInputError
from arcan_core.tools.builtin import BUILTIN_TOOLS
from arcan_core.tools.builtin.edit import EditLinesInput
from arcan_core.tools.registry import ToolRegistry, default_registry
from arcan_core.tools.schema import build_schemas
from arcan_core.tools.validation import ToolValidator, compile_schema

if TYPE_CHECKING:
    from arcan_core.providers.base import ToolSpec

_FORBIDDEN_IN_STRICT = {"$ref", "$defs", "default", "title", "minimum", "maximum", "pattern"}


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for key, value in node.items():
            if key == "properties":
                for sub in value.values():
                    found += _objects(sub)
            else:
                found += _objects(value)
    elif isinstance(node, list):
        for item in node:
            found += _objects(item)
    return found


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        keys: set[str] = set()
        for key, value in node.items():
            if key != "properties":
                keys.add(key)
                keys |= _keys(value)
            else:
                for sub in value.values():
                    keys |= _keys(sub)
        return keys
    if isinstance(node, list):
        return set().union(*(_keys(item) for item in node)) if node else set()
    return set()


@pytest.mark.parametrize("spec", default_registry().specs("full-auto"), ids=lambda s: s.name)
def test_model_facing_schemas_meet_openai_strict_rules(spec: ToolSpec) -> None:
    schema = spec.input_schema
    assert schema["type"] == "object"
    Draft202012Validator.check_schema(schema)
    assert not (_keys(schema) & _FORBIDDEN_IN_STRICT), spec.name
    for obj in _objects(schema):
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    assert spec.description
    json.dumps(schema)  # plain JSON, as both APIs expect


def test_plan_mode_offers_only_read_only_tools() -> None:
    registry = default_registry()
    plan = {s.name for s in registry.specs("plan")}
    assert plan == {"read", "glob", "grep", "todo", "web_fetch"}
    assert {s.name for s in registry.specs("ask")} == set(registry.names())


def test_optional_fields_are_nullable_for_the_model_and_omittable_in_validation() -> None:
    pair = build_schemas(EditLinesInput)
    line_edit = pair.model_facing["properties"]["edits"]["items"]
    assert line_edit["required"] == ["start", "end", "new"]
    assert {"type": "null"} in line_edit["properties"]["end"]["anyOf"]
    assert pair.validation["properties"]["edits"]["items"]["required"] == ["start", "new"]
    assert pair.validation["properties"]["edits"]["minItems"] == 1
    assert "at least 1 item(s)" in pair.model_facing["properties"]["edits"]["description"]


def test_bounds_move_into_descriptions_for_the_model() -> None:
    read = next(s for s in default_registry().specs() if s.name == "read")
    offset = read.input_schema["properties"]["offset"]
    assert "at least 1" in json.dumps(offset)


def test_a_recursive_model_is_refused() -> None:
    class Node(BaseModel):
        children: list[Node] = Field(default_factory=list)

    Node.model_rebuild()
    with pytest.raises(ToolError, match="recursive"):
        build_schemas(Node)


def test_two_tools_with_one_name_are_refused() -> None:
    registry = ToolRegistry(BUILTIN_TOOLS)
    with pytest.raises(Exception, match="two tools are named 'read'"):
        registry.register(BUILTIN_TOOLS[0])


class _Demo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    count: int | None = Field(default=None, ge=1)
    items: list[dict[str, int]] | None = None


@pytest.fixture
def validator() -> ToolValidator:
    return ToolValidator("demo", build_schemas(_Demo).validation, _Demo)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("", "at $: 'name' is a required property"),
        ('{"name": 1}', "at $.name: 1 is not of type 'string'"),
        ('{"name": "a", "count": 0}', "at $.count: 0 is less than the minimum of 1"),
        ('{"name": "a", "items": [{"x": "y"}]}', "at $.items[0].x: 'y' is not of type 'integer'"),
        ('{"name": "a", "zzz": 1}', "'zzz' was unexpected"),
        ('{"name": "a",', "invalid JSON in the arguments for demo"),
        ('"just a string"', "must be a JSON object, not str"),
    ],
)
def test_errors_name_the_path_and_the_problem(
    validator: ToolValidator, arguments: str, message: str
) -> None:
    with pytest.raises(ToolInputError) as caught:
        validator.parse(arguments)
    assert message in caught.value.message
    assert caught.value.hint


def test_several_problems_are_listed_and_huge_values_shortened(validator: ToolValidator) -> None:
    with pytest.raises(ToolInputError) as caught:
        validator.parse(json.dumps({"name": 5, "count": "x" * 10_000}))
    message = caught.value.message
    assert "$.name" in message
    assert "$.count" in message
    assert len(message) < 1000


def test_valid_arguments_parse_with_nulls_as_defaults(validator: ToolValidator) -> None:
    raw, model = validator.parse('{"name": "a", "count": null, "items": null}')
    assert raw == {"name": "a", "count": None, "items": None}
    assert isinstance(model, _Demo)
    assert model.count is None


# --- the compiled fast path agrees with jsonschema ---------------------------------------------

_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "a", "src/x.py", "pending", "create", "12:abcd", "x" * 600]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "path",
                    "old",
                    "new",
                    "content",
                    "changes",
                    "action",
                    "hunks",
                    "todos",
                    "status",
                    "start",
                    "end",
                    "edits",
                    "command",
                    "timeout",
                    "pattern",
                    "offset",
                    "url",
                    "zz",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)


def _both_validators() -> dict[str, tuple[Any, Draft202012Validator]]:
    registry = default_registry()
    pairs: dict[str, tuple[Any, Draft202012Validator]] = {}
    for name in registry.names():
        tool = registry.get(name)
        assert tool is not None
        schema = tool.validation_schema()
        fast = compile_schema(schema)
        assert fast is not None, f"{name}'s schema left the compiled subset"
        pairs[name] = (fast, Draft202012Validator(schema))
    return pairs


_BOTH = _both_validators()


@settings(max_examples=300)
@given(name=st.sampled_from(sorted(_BOTH)), value=_VALUES)
def test_compiled_validators_agree_with_jsonschema(name: str, value: Any) -> None:
    fast, reference = _BOTH[name]
    assert fast(value) == reference.is_valid(value)


@settings(max_examples=200)
@given(value=_VALUES)
def test_compiled_keywords_agree_on_a_schema_using_all_of_them(value: Any) -> None:
    schema = {
        "type": ["object", "array", "string", "number"],
        "properties": {"path": {"enum": ["a", 1, None]}, "old": {"const": True}},
        "additionalProperties": {"type": ["string", "integer", "null"], "maxLength": 3},
        "items": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "number", "maximum": 1}]},
        "minItems": 1,
        "maxLength": 10,
        "pattern": "^[a-z]*$",
        "exclusiveMaximum": 10,
    }
    fast = compile_schema(schema)
    assert fast is not None
    assert fast(value) == Draft202012Validator(schema).is_valid(value)


def test_schemas_outside_the_subset_fall_back_to_jsonschema() -> None:
    assert compile_schema({"type": "object", "patternProperties": {"^x": {}}}) is None
    assert compile_schema({"$ref": "#/x"}) is None
    validator = ToolValidator("odd", {"type": "object", "dependentRequired": {"a": ["b"]}}, _Demo)
    with pytest.raises(ToolInputError, match="'b' is a dependency of 'a'"):
        validator.parse('{"a": 1}')


def test_an_invalid_outside_schema_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match="not valid JSON Schema"):
        ToolValidator("mcp_tool", {"type": "object", "properties": {"a": {"type": "strin"}}}, _Demo)
    with pytest.raises(ToolError, match="not valid JSON Schema"):
        ToolValidator("mcp_tool", {"type": "object", "properties": {"a": {"maxLength": -1}}}, _Demo)


def test_a_tool_with_its_own_schema_is_offered_and_validated_by_it() -> None:
    class Loose(BaseModel):
        model_config = ConfigDict(extra="allow")

    class External(BUILTIN_TOOLS[-2]):  # type: ignore[misc, valid-type]
        name = "external"
        input_model = Loose
        schema: dict[str, Any] = {  # noqa: RUF012 - a test's fixed schema
            "type": "object",
            "properties": {"q": {"type": "string"}},
            "required": ["q"],
        }

        @classmethod
        def input_schema(cls) -> dict[str, Any]:
            return cls.schema

        @classmethod
        def validation_schema(cls) -> dict[str, Any]:
            return cls.schema

    registry = ToolRegistry([External])
    [spec] = registry.specs()
    assert spec.input_schema["properties"] == {"q": {"type": "string"}}
    raw, _ = registry.validator("external").parse('{"q": "x", "extra": 1}')
    assert raw == {"q": "x", "extra": 1}
    with pytest.raises(ToolInputError, match="'q' is a required property"):
        registry.validator("external").parse("{}")
