"""Validate a model's raw tool arguments before anything runs.

Each tool's validation schema is checked and compiled once (``ToolValidator``); a call is then a
JSON parse, a schema check and a pydantic ``model_validate``. When anything fails, the error names
the JSON path and the problem (``$.edits[0].old: 'old' is a required property``) so the model can
correct itself; the executor returns it as a tool error, never raises into the loop.

The schema check is ``jsonschema``'s. Its validator re-walks the schema on every call (about
50 µs for a four-property object, several hundred for a nested patch), so the subset of JSON
Schema that ``schema.build_schemas`` produces is also compiled into plain closures
(``compile_schema``) that answer valid/invalid in a few microseconds. ``jsonschema`` still
decides whenever a schema uses a keyword outside that subset, and it always writes the error
message; a property test holds the two to the same verdict.

``jsonschema`` is imported only when it is needed: for a schema outside the subset, or to word
the error of a call that broke its schema. Importing it (and ``referencing``, ``attrs``) costs
about 40 ms, and a headless ``arcan exec`` whose tools all compile never needs it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from arcan_core.errors import ToolError, ToolInputError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError as SchemaViolation

__all__ = ["MAX_REPORTED_ERRORS", "ToolValidator", "compile_schema", "json_path"]

MAX_REPORTED_ERRORS = 3
_MAX_MESSAGE = 240


def _short(message: str) -> str:
    # jsonschema quotes the offending value; a 1 MB string must not come back whole.
    if len(message) <= _MAX_MESSAGE:
        return message
    return message[: _MAX_MESSAGE // 2] + " ... " + message[-_MAX_MESSAGE // 2 :]


def json_path(parts: Iterable[str | int]) -> str:
    """Render a jsonschema error path as ``$.a[0].b``."""
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class ToolValidator:
    """The compiled validator of one tool's input."""

    __slots__ = ("_fast", "_model", "_optional", "_schema", "_tool", "_validator_cache")

    def __init__(self, tool_name: str, schema: dict[str, Any], model: type[BaseModel]) -> None:
        self._fast = compile_schema(schema)
        self._tool = tool_name
        self._schema = schema
        self._validator_cache: Draft202012Validator | None = None
        if self._fast is None:
            # Only a schema outside the compiled subset (an MCP server's) needs the full check,
            # and it is made now so that a broken schema fails at registration, not at a call.
            from jsonschema import Draft202012Validator  # noqa: PLC0415 - see module docstring
            from jsonschema.exceptions import SchemaError  # noqa: PLC0415

            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as error:
                raise ToolError(
                    f"the input schema of {tool_name} is not valid JSON Schema: {error.message}",
                    hint="fix the tool's schema (for an MCP tool, its server's)",
                ) from error
        self._model = model
        required = set(schema.get("required", ()))
        self._optional = frozenset(schema.get("properties", {})) - required

    def parse(self, arguments: str) -> tuple[dict[str, Any], BaseModel]:
        """Parse and validate ``arguments`` (raw JSON text) into the tool's input model.

        Returns the parsed JSON object (for display and the log) and the typed input.

        Raises:
            ToolInputError: the text is not a JSON object or breaks the schema.
        """
        data = self.load(arguments)
        valid = self._fast(data) if self._fast is not None else self._validator.is_valid(data)
        if not valid:
            raise self._schema_error(self._validator.iter_errors(data))
        # A strict-mode model sends null for an optional property it does not use.
        cleaned = {k: v for k, v in data.items() if not (v is None and k in self._optional)}
        try:
            return data, self._model.model_validate(cleaned)
        except ValidationError as error:
            first = error.errors()[0]
            raise ToolInputError(
                f"invalid arguments for {self._tool}: at {json_path(first['loc'])}: {first['msg']}",
                hint="fix the arguments and call the tool again",
            ) from error

    def load(self, arguments: str) -> dict[str, Any]:
        """Return ``arguments`` parsed as a JSON object (empty text counts as ``{}``).

        Raises:
            ToolInputError: the text is not valid JSON or not an object.
        """
        if not arguments.strip():
            return {}
        try:
            data = json.loads(arguments)
        except json.JSONDecodeError as error:
            raise ToolInputError(
                f"invalid JSON in the arguments for {self._tool}: {error.msg} "
                f"at line {error.lineno} column {error.colno}",
                hint="send the arguments as one JSON object",
            ) from error
        if not isinstance(data, dict):
            raise ToolInputError(
                f"the arguments for {self._tool} must be a JSON object, not {type(data).__name__}",
                hint="send the arguments as one JSON object",
            )
        return data

    @property
    def _validator(self) -> Draft202012Validator:
        """The ``jsonschema`` validator, built (and ``jsonschema`` imported) on first need."""
        if self._validator_cache is None:
            from jsonschema import Draft202012Validator  # noqa: PLC0415 - see module docstring

            self._validator_cache = Draft202012Validator(self._schema)
        return self._validator_cache

    def _schema_error(self, errors: Iterable[SchemaViolation]) -> ToolInputError:
        from jsonschema.exceptions import best_match  # noqa: PLC0415 - see module docstring

        found = sorted(errors, key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
        best = best_match(found)
        ordered = [best, *(e for e in found if e is not best)] if best is not None else found
        lines = [
            f"at {json_path(e.absolute_path)}: {_short(e.message)}"
            for e in ordered[:MAX_REPORTED_ERRORS]
        ]
        more = len(found) - len(lines)
        if more > 0:
            lines.append(f"({more} more)")
        return ToolInputError(
            f"invalid arguments for {self._tool}: " + "; ".join(lines),
            hint="fix the arguments and call the tool again",
        )


# --- the compiled subset -----------------------------------------------------------------------

Check = Callable[[Any], bool]
_IGNORED = frozenset({"description", "title", "default", "examples", "format", "$comment"})


def _is_integer(value: Any) -> bool:
    # JSON Schema counts 1.0 as an integer; a bool is never a number.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, but ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def compile_schema(schema: Any) -> Check | None:
    """Compile a schema of the supported subset into one predicate, or ``None`` when it is not."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


class _Unsupported(Exception):  # noqa: N818 - internal signal, never escapes compile_schema
    """A keyword outside the compiled subset."""


def _compile(schema: Any) -> Check:  # noqa: PLR0912 - one branch per keyword
    if schema is True or schema == {}:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict):
        raise _Unsupported
    checks: list[Check] = []
    for key, value in schema.items():
        if key in _IGNORED:
            continue
        # Every keyword's value is checked for shape too: a schema that compiles is a valid
        # schema, so only the ones that do not compile need jsonschema's (slow) check_schema.
        if key == "type":
            names = [value] if isinstance(value, str) else _list_of(value, str)
            if not names or any(n not in _TYPES for n in names):
                raise _Unsupported
            checks.append(_type_check(names))
        elif key == "enum":
            checks.append(_one_of_values(_list_of(value, object)))
        elif key == "const":
            checks.append(_one_of_values([value]))
        elif key == "properties":
            if not isinstance(value, dict):
                raise _Unsupported
            checks.append(_properties({name: _compile(sub) for name, sub in value.items()}))
        elif key == "required":
            checks.append(_required(tuple(_list_of(value, str))))
        elif key == "additionalProperties":
            checks.append(_additional(schema, value))
        elif key == "items":
            checks.append(_items(_compile(value)))
        elif key in ("anyOf", "oneOf", "allOf"):
            subs = _list_of(value, object)
            if not subs:
                raise _Unsupported
            checks.append(_combinator(key, [_compile(sub) for sub in subs]))
        elif key in _BOUNDS:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _Unsupported
            if key.endswith(("Length", "Items")) and (not isinstance(value, int) or value < 0):
                raise _Unsupported
            checks.append(_BOUNDS[key](value))
        elif key == "pattern" and isinstance(value, str):
            try:
                checks.append(_pattern(re.compile(value)))
            except re.error as error:
                raise _Unsupported from error
        else:
            raise _Unsupported
    return _all_of(checks)


def _list_of(value: Any, kind: type) -> list[Any]:
    if not isinstance(value, list) or not all(isinstance(item, kind) for item in value):
        raise _Unsupported
    return value


def _always(value: Any) -> bool:
    del value
    return True


def _never(value: Any) -> bool:
    del value
    return False


def _all_of(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def check_all(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 - a plain loop is the fast path here
            if not check(value):
                return False
        return True

    return check_all


_PLAIN_TYPES: dict[str, type] = {
    "string": str,
    "null": type(None),
    "array": list,
    "object": dict,
    "boolean": bool,
}


def _type_check(names: list[str]) -> Check:
    if all(n in _PLAIN_TYPES for n in names):
        # No number types: one isinstance call (bool is only a subtype of int, not listed here).
        kinds = tuple(_PLAIN_TYPES[n] for n in names)
        return lambda v: isinstance(v, kinds)
    return _any_of([_TYPES[n] for n in names])


def _any_of(checks: list[Check]) -> Check:
    return lambda v: any(check(v) for check in checks)


def _one_of_values(options: list[Any]) -> Check:
    if all(o is None or isinstance(o, str) for o in options):
        # Strings and null (every Literal field): a set lookup, after a type check.
        allowed = frozenset(options)
        return lambda v: (v is None or isinstance(v, str)) and v in allowed
    return lambda v: any(_json_equal(v, option) for option in options)


def _properties(props: dict[str, Check]) -> Check:
    pairs = tuple(props.items())

    def check_properties(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, check in pairs:  # noqa: SIM110 - a plain loop is the fast path here
            if key in value and not check(value[key]):
                return False
        return True

    return check_properties


def _required(names: tuple[str, ...]) -> Check:
    return lambda v: not isinstance(v, dict) or all(name in v for name in names)


def _items(item: Check) -> Check:
    return lambda v: not isinstance(v, list) or all(item(x) for x in v)


def _pattern(regex: re.Pattern[str]) -> Check:
    return lambda v: not isinstance(v, str) or regex.search(v) is not None


def _additional(schema: dict[str, Any], value: Any) -> Check:
    known = frozenset(schema.get("properties", {}))
    if "patternProperties" in schema:
        raise _Unsupported
    if value is False:
        return lambda v: not isinstance(v, dict) or all(k in known for k in v)
    extra = _compile(value)
    return lambda v: (
        not isinstance(v, dict) or all(extra(x) for k, x in v.items() if k not in known)
    )


def _combinator(key: str, subs: list[Check]) -> Check:
    if key == "anyOf":
        return lambda v: any(c(v) for c in subs)
    if key == "allOf":
        return lambda v: all(c(v) for c in subs)
    return lambda v: sum(1 for c in subs if c(v)) == 1


def _numeric(test: Callable[[float, float], bool]) -> Callable[[Any], Check]:
    def make(bound: Any) -> Check:
        return lambda v: not _TYPES["number"](v) or test(v, bound)

    return make


def _sized(
    kind: type[str] | type[list[Any]], test: Callable[[int, int], bool]
) -> Callable[[Any], Check]:
    def make(bound: Any) -> Check:
        return lambda v: not isinstance(v, kind) or test(len(v), bound)

    return make


_BOUNDS: dict[str, Callable[[Any], Check]] = {
    "minimum": _numeric(lambda v, b: v >= b),
    "maximum": _numeric(lambda v, b: v <= b),
    "exclusiveMinimum": _numeric(lambda v, b: v > b),
    "exclusiveMaximum": _numeric(lambda v, b: v < b),
    "minLength": _sized(str, lambda n, b: n >= b),
    "maxLength": _sized(str, lambda n, b: n <= b),
    "minItems": _sized(list, lambda n, b: n >= b),
    "maxItems": _sized(list, lambda n, b: n <= b),
}
