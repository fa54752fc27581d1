"""``arcan_core`` never imports a UI library, and ``arcan --version`` imports almost nothing.

Two checks, because each alone has a hole. The source check finds every ``import`` of a UI
package written in ``arcan_core``, even inside functions. The run-time check imports every module
of ``arcan_core`` in a fresh interpreter and records, for each UI package that ends up loaded, the
module that imported it: it must be a known third-party one. ``httpx`` imports its command-line
module ``httpx._main`` whenever ``rich`` is installed (arcan installs it for the TUI), which loads
``rich``; nothing of arcan's uses it, and a new importer would fail this test.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

UI_LIBRARIES = ("textual", "rich", "prompt_toolkit")
KNOWN_THIRD_PARTY_IMPORTERS = {"httpx._main"}
CORE = Path(__file__).resolve().parent.parent / "arcan_core"

# Import every module of arcan_core (walking the package, so new modules are covered) with a
# finder that records who imports a UI package first.
IMPORT_ALL = """
import importlib, json, pkgutil, sys
UI = ("textual", "rich", "prompt_toolkit")
importers = {}

class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in UI and name not in importers:
            frame = sys._getframe(1)
            skip = ("importlib", "_frozen")
            while frame and frame.f_globals.get("__name__", "").startswith(skip):
                frame = frame.f_back
            importers[name] = frame.f_globals.get("__name__", "?") if frame else "?"
        return None

sys.meta_path.insert(0, Recorder())
import arcan_core
names = [info.name for info in pkgutil.walk_packages(arcan_core.__path__, "arcan_core.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "importers": importers}))
"""

VERSION_PATH = """
import io, json, sys
from contextlib import redirect_stdout
from arcan_tui.cli import main
with redirect_stdout(io.StringIO()):
    main(["--version"])
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _run(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _imported_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_arcan_core_source_imports_a_ui_library() -> None:
    offenders = {
        str(path.relative_to(CORE.parent)): sorted(ui)
        for path in CORE.rglob("*.py")
        if (
            ui := {
                name
                for name in _imported_names(ast.parse(path.read_text(encoding="utf-8")))
                if name.split(".")[0] in UI_LIBRARIES
            }
        )
    }
    assert offenders == {}


def test_importing_all_of_arcan_core_loads_no_ui_library_of_its_own() -> None:
    result = _run(IMPORT_ALL)
    assert isinstance(result, dict)
    assert "arcan_core.store.log" in result["modules"]  # the walk reached the subpackages
    assert "arcan_core.config.builder" in result["modules"]
    # Who brought each UI package in from outside (a UI package importing its own parts is fine).
    outside = {
        importer
        for importer in result["importers"].values()
        if importer.split(".")[0] not in UI_LIBRARIES
    }
    assert {name for name in outside if name.startswith("arcan")} == set()
    assert outside <= KNOWN_THIRD_PARTY_IMPORTERS


def test_the_version_path_loads_nothing_heavy() -> None:
    loaded = _run(VERSION_PATH)
    assert isinstance(loaded, list)
    # Not even argparse, typing or pathlib: the version answer comes before any of them.
    avoid = {*UI_LIBRARIES, "pydantic", "httpx", "platformdirs", "argparse", "typing", "pathlib"}
    heavy = sorted(avoid & set(loaded))
    assert heavy == [], f"`arcan --version` imported {heavy}"
