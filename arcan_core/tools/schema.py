"""Turn a pydantic input model into JSON Schemas that every provider's function calling accepts.

Two schemas come out of one model:

* the *model-facing* schema, which the model sees: ``$ref``/``$defs`` inlined, ``title`` and
  ``default`` dropped, every object closed (``additionalProperties: false``) and every property
  listed in ``required`` (optional ones become nullable). That is what OpenAI strict function
  calling demands, and Anthropic accepts it too. Keywords some strict modes reject (bounds,
  patterns, formats) are moved into the property's description as plain words;
* the *validation* schema, the same shape with the bounds kept and only the truly required
  properties required, so a model that omits an optional property (Anthropic does) is accepted.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arcan_core.errors import ToolError

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "PRECOMPUTED_FILE",
    "SchemaPair",
    "build_schemas",
    "model_key",
    "precomputed",
    "schemas_of",
    "stored_schemas",
]

PRECOMPUTED_FILE = Path(__file__).parent / "builtin" / "schemas.json"
"""Both schemas of arcan's own tool input models, written by ``python -m
arcan_core.tools.builtin.precompute`` (a test holds it equal to what ``build_schemas`` gives)."""

_DROPPED = frozenset({"title", "default", "examples"})
# Keywords OpenAI strict mode has rejected at one time or another: kept for validation only.
_CONSTRAINTS: dict[str, str] = {
    "minimum": "at least {}",
    "maximum": "at most {}",
    "exclusiveMinimum": "greater than {}",
    "exclusiveMaximum": "less than {}",
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "minItems": "at least {} item(s)",
    "maxItems": "at most {} item(s)",
    "pattern": "matching /{}/",
    "format": "in {} format",
}
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


class SchemaPair:
    """The model-facing and the validation schema of one input model."""

    __slots__ = ("model_facing", "validation")

    def __init__(self, model_facing: dict[str, Any], validation: dict[str, Any]) -> None:
        self.model_facing = model_facing
        self.validation = validation


def build_schemas(model: type[BaseModel]) -> SchemaPair:
    """Build both schemas of ``model`` (see the module docstring).

    Raises:
        ToolError: the model is recursive, which no strict mode can express.
    """
    raw = model.model_json_schema()
    # The root's description is the model class's docstring, written for developers; the
    # tool's own description is what the model reads.
    raw.pop("description", None)
    defs: dict[str, Any] = raw.pop("$defs", {})
    inlined = _inline(raw, defs, ())
    return SchemaPair(_shape(inlined, strict=True), _shape(inlined, strict=False))


def model_key(model: type[BaseModel]) -> str:
    """Return the name ``model``'s schemas are stored under: ``module:QualifiedName``."""
    return f"{model.__module__}:{model.__qualname__}"


_document: dict[str, Any] | None = None


def precomputed() -> dict[str, Any]:
    """Return ``PRECOMPUTED_FILE``'s content (``{}`` when it is missing or unreadable).

    Read once per process; callers must not change what they get.
    """
    global _document  # noqa: PLW0603 - one lazily read file per process
    if _document is None:
        try:
            loaded = json.loads(PRECOMPUTED_FILE.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = None
        # An install without the file still works: every schema is built, every tool imported.
        document = loaded if isinstance(loaded, dict) else {}
        if document.get("pydantic") != pydantic_version():
            # Another pydantic may derive other schemas: build them, keep only the tool table.
            document["schemas"] = {}
        _document = document
    return _document


def pydantic_version() -> str:
    """The installed pydantic's version: ``PRECOMPUTED_FILE``'s schemas hold for it only."""
    from pydantic.version import VERSION  # noqa: PLC0415 - pydantic is loaded already

    return VERSION


def _known() -> dict[str, dict[str, Any]]:
    document = precomputed()
    table = document.get("schemas")
    if not isinstance(table, dict):
        table = document["schemas"] = {}
    return table


def _copy(stored: dict[str, Any]) -> SchemaPair:
    # A JSON round trip is the cheapest deep copy: no caller can change the stored schema.
    fresh = json.loads(json.dumps(stored))
    return SchemaPair(fresh["model_facing"], fresh["validation"])


def stored_schemas(key: str) -> SchemaPair | None:
    """Return the schemas stored under ``key`` (see ``model_key``), each call its own copy."""
    stored = _known().get(key)
    return None if stored is None else _copy(stored)


def schemas_of(model: type[BaseModel]) -> SchemaPair:
    """Return both schemas of ``model``, each call its own copy.

    The schemas of arcan's own tools come from ``PRECOMPUTED_FILE``: building them needs
    pydantic's core schema and a JSON-schema pass per model, which cost every start-up about
    10 ms for schemas that only change with the code. Any other model's are built on first use
    and kept for the rest of the process.
    """
    table = _known()
    key = model_key(model)
    stored = table.get(key)
    if stored is None:
        pair = build_schemas(model)
        stored = {"model_facing": pair.model_facing, "validation": pair.validation}
        table[key] = stored
    return _copy(stored)


def _inline(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.removeprefix("#/$defs/")
        if name in seen:
            raise ToolError(f"the input schema is recursive at {name!r}; strict mode cannot say it")
        target = _inline(copy.deepcopy(defs[name]), defs, (*seen, name))
        # Siblings of $ref (a field's description) win over the definition's own.
        extra = {key: value for key, value in node.items() if key != "$ref"}
        return {**target, **_inline(extra, defs, seen)}
    return {key: _inline(value, defs, seen) for key, value in node.items()}


def _shape(node: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key in _CONSTRAINTS and strict:
            notes.append(_CONSTRAINTS[key].format(value))
            continue
        if key == "properties":
            out[key] = {name: _shape(sub, strict=strict) for name, sub in value.items()}
        elif key in _SUBSCHEMA_LISTS:
            out[key] = [_shape(sub, strict=strict) for sub in value]
        elif key in {"items", "additionalProperties"} and isinstance(value, dict):
            out[key] = _shape(value, strict=strict)
        else:
            out[key] = value
    if notes:
        described = out.get("description", "")
        out["description"] = (described + " " if described else "") + f"({', '.join(notes)})"
    free_form = isinstance(out.get("additionalProperties"), dict) and "properties" not in out
    # A map (dict[str, X]) keeps its value schema; strict mode cannot express one, so built-in
    # tools do not use them (a test checks), but validation of other tools' input must still work.
    if (out.get("type") == "object" or "properties" in out) and not free_form:
        _close_object(out, strict=strict)
    return out


def _close_object(out: dict[str, Any], *, strict: bool) -> None:
    properties: dict[str, Any] = out.setdefault("properties", {})
    required = set(out.get("required", ()))
    out["type"] = "object"
    out["additionalProperties"] = False
    for name, sub in properties.items():
        if name not in required:
            properties[name] = _nullable(sub)
    out["required"] = list(properties) if strict else [n for n in properties if n in required]


def _nullable(sub: dict[str, Any]) -> dict[str, Any]:
    variants = sub.get("anyOf")
    if isinstance(variants, list):
        if not any(v.get("type") == "null" for v in variants):
            return {**sub, "anyOf": [*variants, {"type": "null"}]}
        return sub
    kind = sub.get("type")
    if isinstance(kind, str) and kind != "null":
        shaped = {**sub, "type": [kind, "null"]}
        if "enum" in shaped:
            shaped["enum"] = [*shaped["enum"], None]
        return shaped
    if isinstance(kind, list) and "null" not in kind:
        return {**sub, "type": [*kind, "null"]}
    return sub
