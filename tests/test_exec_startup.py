"""What ``arcan exec`` loads and builds on its way to the first request, and why it stays correct.

Startup cost is measured in ``benches/exec_whole_process.py``; these tests pin the behaviour the
savings rest on: a tool call whose schema compiles never imports ``jsonschema`` (yet a bad call
still gets ``jsonschema``'s wording), and a plain-HTTP provider client never loads a CA bundle
while anything else keeps full TLS verification.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from arcan_core.errors import ToolInputError
from arcan_core.tools.registry import default_registry

VALID_CALL_ONLY = """
import json, sys
from arcan_core.tools.registry import default_registry
registry = default_registry()
registry.validator("read").parse(json.dumps({"path": "notes.txt"}))
print(json.dumps("jsonschema" in sys.modules))
"""


def test_a_valid_call_of_a_builtin_tool_never_imports_jsonschema() -> None:
    done = subprocess.run(
        [sys.executable, "-c", VALID_CALL_ONLY],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout) is False


def test_an_invalid_call_is_still_worded_by_jsonschema() -> None:
    validator = default_registry().validator("read")
    with pytest.raises(ToolInputError) as caught:
        validator.parse(json.dumps({"path": 3}))
    assert "at $.path: 3 is not of type 'string'" in str(caught.value)
