"""Write ``schemas.json``: the schemas of arcan's own tools' input models, and the built-ins.

Run ``python -m arcan_core.tools.builtin.precompute`` after changing a tool's input model (or
``schema.build_schemas``); ``tests/test_exec_startup.py`` fails until the file is current. The
file spares every start-up the pydantic passes that derive the schemas (see ``schemas_of``).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from arcan_core.tools.schema import PRECOMPUTED_FILE, build_schemas, model_key, pydantic_version

if TYPE_CHECKING:
    from pydantic import BaseModel

    from arcan_core.tools.base import Tool

__all__ = ["main", "own_input_models", "render"]


def own_input_models() -> list[type[BaseModel]]:
    """Return the input models of the built-in tools and of the core's ``task`` and ``skill``."""
    from arcan_core.agent.skills import SkillTool  # noqa: PLC0415 - the agent imports the tools
    from arcan_core.agent.subagent import TaskTool  # noqa: PLC0415
    from arcan_core.tools.builtin import BUILTIN_TOOLS  # noqa: PLC0415

    tools: list[type[Tool[Any]]] = [*BUILTIN_TOOLS, TaskTool, SkillTool]
    return [tool.input_model for tool in tools]


def render() -> str:
    """Return what ``schemas.json`` should hold (the same text for the same models)."""
    schemas: dict[str, Any] = {}
    for model in own_input_models():
        pair = build_schemas(model)
        schemas[model_key(model)] = {
            "model_facing": pair.model_facing,
            "validation": pair.validation,
        }
    from arcan_core.tools.builtin import BUILTIN_TOOLS  # noqa: PLC0415

    document = {
        "generated_by": "python -m arcan_core.tools.builtin.precompute",
        # The schemas are pydantic's derivation: another version's are built at run time instead.
        "pydantic": pydantic_version(),
        "schemas": schemas,
        # What ``lazy.LazyTool`` copies of each built-in, so that the registry needs no module.
        "tools": [
            {
                "name": tool.name,
                "description": tool.description,
                "read_only": tool.read_only,
                "category": tool.category,
                "rule_name": tool.rule_name,
                "target": f"{tool.__module__}:{tool.__qualname__}",
                "schema_key": model_key(tool.input_model),
            }
            for tool in BUILTIN_TOOLS
        ],
    }
    # Key order is kept: the model reads the properties in the order the input model declares.
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    """Write ``schemas.json`` and say where."""
    PRECOMPUTED_FILE.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {PRECOMPUTED_FILE}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
