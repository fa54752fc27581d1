"""Validate a model's raw tool arguments before anything runs.

Each tool's validation schema is checked and compiled once (``ToolValidator``); a call is then a
JSON parse, a fast ``is_valid`` and a pydantic ``model_validate``. When anything fails, the error
names the JSON path and the problem (``$.edits[0].old: 'old' is a required property``) so the
model can correct itself; the executor returns it as a tool error, never raises into the loop.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from pydantic import BaseModel, ValidationError

from arcan_core.errors import ToolInputError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from jsonschema.exceptions import ValidationError as SchemaError

__all__ = ["MAX_REPORTED_ERRORS", "ToolValidator", "json_path"]

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

    __slots__ = ("_model", "_optional", "_tool", "_validator")

    def __init__(self, tool_name: str, schema: dict[str, Any], model: type[BaseModel]) -> None:
        Draft202012Validator.check_schema(schema)
        self._tool = tool_name
        self._validator = Draft202012Validator(schema)
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
        if not self._validator.is_valid(data):
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

    def _schema_error(self, errors: Iterable[SchemaError]) -> ToolInputError:
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
