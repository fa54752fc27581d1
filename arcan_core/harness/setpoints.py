"""Setpoints: what "done" and "safe" mean for a task, declared or detected.

The budgets and checks come from ``[harness]`` in the configuration. When no check is configured,
the harness proposes checks for the kind of project it finds (``ProjectDetector``s, one per
ecosystem, each looking at the files present and the tools installed). ``arcan harness`` shows the
effective setpoints and where they came from; ``arcan harness init`` writes them to
``.arcan/config.toml`` so the user owns and edits them.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict

from arcan_core.config.model import CheckConfig, HarnessConfig
from arcan_core.errors import ConfigError
from arcan_core.harness.checks import CheckSpec

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

__all__ = [
    "DEFAULT_DETECTORS",
    "CargoDetector",
    "GoDetector",
    "NodeDetector",
    "ProjectDetector",
    "PythonDetector",
    "SetpointSource",
    "Setpoints",
    "detect_checks",
    "effective_setpoints",
    "harness_table",
    "write_harness_table",
]

SetpointSource = Literal["configured", "detected", "none"]

_PY_WATCH: Final = ("**/*.py", "pyproject.toml", "setup.cfg", "setup.py", "*.ini")
_NODE_WATCH: Final = (
    "**/*.js",
    "**/*.jsx",
    "**/*.ts",
    "**/*.tsx",
    "**/*.mjs",
    "**/*.cjs",
    "package.json",
)
_RUST_WATCH: Final = ("**/*.rs", "**/Cargo.toml", "Cargo.lock")
_GO_WATCH: Final = ("**/*.go", "go.mod", "go.sum")
_NPM_STUB: Final = "no test specified"


class Setpoints(BaseModel):
    """The effective setpoints: budgets, checks and where the checks came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    harness: HarnessConfig
    source: SetpointSource
    detected_by: tuple[str, ...] = ()

    def specs(self) -> tuple[CheckSpec, ...]:
        """The checks as runnable specs; raise ``ConfigError`` on a malformed command or target."""
        return tuple(CheckSpec.from_config(n, c) for n, c in self.harness.checks.items())

    def describe(self) -> str:
        """Plain text for ``arcan harness`` and the first harnessed task's confirmation."""
        h = self.harness
        origin = {
            "configured": "configured in [harness.checks]",
            "detected": f"detected ({', '.join(self.detected_by)} project); "
            "run `arcan harness init` to save and edit them",
            "none": "none configured and none detected; add [harness.checks.NAME] tables",
        }[self.source]
        lines = [
            "Budgets per task:",
            (
                f"  turns ≤ {h.max_turns}   cost ≤ ${h.max_cost_usd:g}"
                f"   tokens ≤ {h.max_tokens:,}   time ≤ {h.max_minutes:g} min"
            ),
            f"  stop after the same failure {h.max_repeats} times",
            f"Checks ({origin}):",
        ]
        for name, check in h.checks.items():
            lines.append(f"  {name}: {check.command}")
            lines.append(
                f"    target {check.target} · timeout {check.timeout_s:g}s"
                f" · watch {', '.join(check.watch)}"
            )
        lines.extend(
            f"Hook on {hook.event}: {hook.command}"
            + (f" (tools: {', '.join(hook.tools)})" if hook.tools else "")
            for hook in h.hooks
        )
        return "\n".join(lines)


class ProjectDetector(ABC):
    """Proposes checks for one kind of project."""

    name: ClassVar[str]

    @abstractmethod
    def detect(self, root: Path, which: Callable[[str], str | None]) -> dict[str, CheckConfig]:
        """Return the checks this project and the installed tools support (empty: not this kind)."""


def _tool(root: Path, name: str, which: Callable[[str], str | None]) -> str | None:
    """The command that runs ``name``: the project's virtualenv copy first, then ``PATH``."""
    for venv in (".venv", "venv"):
        candidate = root / venv / "bin" / name
        if candidate.is_file():
            return f"{venv}/bin/{name}"
    return name if which(name) else None


def _pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return {}


class PythonDetector(ProjectDetector):
    """pytest when there are tests, ruff and mypy when the project configures or installs them."""

    name = "python"

    def detect(  # noqa: D102 - see base
        self, root: Path, which: Callable[[str], str | None]
    ) -> dict[str, CheckConfig]:
        markers = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt")
        if not any((root / marker).exists() for marker in markers) and not any(root.glob("*.py")):
            return {}
        tools: dict[str, Any] = _pyproject(root).get("tool", {})
        checks: dict[str, CheckConfig] = {}
        pytest = _tool(root, "pytest", which)
        if pytest and self._has_tests(root, tools):
            checks["tests"] = CheckConfig(command=f"{pytest} -q", watch=_PY_WATCH)
        ruff = _tool(root, "ruff", which)
        ruff_configured = "ruff" in tools or any(
            (root / n).exists() for n in ("ruff.toml", ".ruff.toml")
        )
        if ruff and (ruff_configured or ruff.startswith(("venv/", ".venv/"))):
            checks["lint"] = CheckConfig(
                command=f"{ruff} check .", watch=(*_PY_WATCH, "ruff.toml", ".ruff.toml")
            )
        mypy = _tool(root, "mypy", which)
        mypy_config = tools.get("mypy")
        mypy_configured = mypy_config is not None or (root / "mypy.ini").exists()
        if mypy and mypy_configured:
            files = isinstance(mypy_config, dict) and "files" in mypy_config
            checks["types"] = CheckConfig(
                command=mypy if files else f"{mypy} .", watch=(*_PY_WATCH, "mypy.ini")
            )
        return checks

    @staticmethod
    def _has_tests(root: Path, tools: dict[str, Any]) -> bool:
        if "pytest" in tools or (root / "pytest.ini").exists() or (root / "conftest.py").exists():
            return True
        if (root / "tests").is_dir() or (root / "test").is_dir():
            return True
        return any(root.glob("test_*.py")) or any(root.glob("*_test.py"))


class NodeDetector(ProjectDetector):
    """``npm test`` when ``package.json`` has a real test script."""

    name = "node"

    def detect(  # noqa: D102 - see base
        self, root: Path, which: Callable[[str], str | None]
    ) -> dict[str, CheckConfig]:
        try:
            package = json.loads((root / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        scripts = package.get("scripts") if isinstance(package, dict) else None
        test = scripts.get("test") if isinstance(scripts, dict) else None
        if not isinstance(test, str) or _NPM_STUB in test or not which("npm"):
            return {}
        return {"tests": CheckConfig(command="npm test --silent", watch=_NODE_WATCH)}


class CargoDetector(ProjectDetector):
    """``cargo test``, and ``cargo clippy`` when clippy is installed."""

    name = "rust"

    def detect(  # noqa: D102 - see base
        self, root: Path, which: Callable[[str], str | None]
    ) -> dict[str, CheckConfig]:
        if not (root / "Cargo.toml").is_file() or not which("cargo"):
            return {}
        checks = {"tests": CheckConfig(command="cargo test", watch=_RUST_WATCH)}
        if which("cargo-clippy"):
            checks["lint"] = CheckConfig(
                command="cargo clippy --all-targets",
                target="errors == 0 and warnings == 0",
                watch=_RUST_WATCH,
            )
        return checks


class GoDetector(ProjectDetector):
    """``go test ./...`` and ``go vet ./...``."""

    name = "go"

    def detect(  # noqa: D102 - see base
        self, root: Path, which: Callable[[str], str | None]
    ) -> dict[str, CheckConfig]:
        if not (root / "go.mod").is_file() or not which("go"):
            return {}
        return {
            "tests": CheckConfig(command="go test ./...", watch=_GO_WATCH),
            "vet": CheckConfig(command="go vet ./...", watch=_GO_WATCH),
        }


DEFAULT_DETECTORS: Final[tuple[ProjectDetector, ...]] = (
    PythonDetector(),
    NodeDetector(),
    CargoDetector(),
    GoDetector(),
)


def detect_checks(
    root: Path,
    *,
    which: Callable[[str], str | None] = shutil.which,
    detectors: Iterable[ProjectDetector] = DEFAULT_DETECTORS,
) -> tuple[dict[str, CheckConfig], tuple[str, ...]]:
    """Return the checks proposed for ``root`` and the detectors that proposed them.

    In a polyglot project a later detector's check of the same name is kept under
    ``<detector>-<name>`` so no proposal hides another.
    """
    checks: dict[str, CheckConfig] = {}
    found: list[str] = []
    for detector in detectors:
        proposed = detector.detect(root, which)
        if proposed:
            found.append(detector.name)
        for name, check in proposed.items():
            checks[name if name not in checks else f"{detector.name}-{name}"] = check
    return checks, tuple(found)


def effective_setpoints(
    harness: HarnessConfig,
    root: Path,
    *,
    which: Callable[[str], str | None] = shutil.which,
    detectors: Iterable[ProjectDetector] = DEFAULT_DETECTORS,
) -> Setpoints:
    """Return the setpoints in force: the configured checks, else the detected ones."""
    if harness.checks:
        return Setpoints(harness=harness, source="configured")
    checks, found = detect_checks(root, which=which, detectors=detectors)
    if not checks:
        return Setpoints(harness=harness, source="none")
    return Setpoints(
        harness=harness.model_copy(update={"checks": checks}),
        source="detected",
        detected_by=found,
    )


def harness_table(harness: HarnessConfig) -> dict[str, Any]:
    """The ``[harness]`` table as TOML-ready data (every key written out, so it can be edited)."""
    data = harness.model_dump(mode="json")
    if not data["hooks"]:
        del data["hooks"]
    for hook in data.get("hooks", []):
        if not hook["tools"]:
            del hook["tools"]
    return data


def write_harness_table(path: Path, harness: HarnessConfig, *, force: bool = False) -> str:
    """Write ``harness`` as the ``[harness]`` table of the TOML file at ``path``.

    Without a ``[harness]`` table in the file, the table is appended to the existing text, so every
    other table and every comment stays as it was. With one, ``force`` is needed: the file is then
    re-serialised with the new table (other tables keep their values; comments are lost, which the
    returned message says).

    Returns:
        A one-line account of what was done.

    Raises:
        ConfigError: the existing file is not valid TOML, or has a ``[harness]`` table and
            ``force`` is false.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    try:
        existing = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"not valid TOML: {error}", source=str(path), hint="fix the file, then run this again"
        ) from error
    table = harness_table(harness)
    if "harness" not in existing:
        block = tomli_w.dumps({"harness": table})
        if not text or text.endswith("\n\n"):
            separator = ""
        else:
            separator = "\n" if text.endswith("\n") else "\n\n"
        new_text = f"{text}{separator}{block}"
        message = f"added [harness] to {path}"
    elif not force:
        raise ConfigError(
            "already has a [harness] table",
            source=str(path),
            hint="edit it by hand, or pass --force to replace it (comments in the file are lost)",
        )
    else:
        new_text = tomli_w.dumps({**existing, "harness": table})
        message = f"replaced [harness] in {path} (comments in the file were not kept)"
    # Prove the result before replacing the file: other tables unchanged, ours as written.
    check = tomllib.loads(new_text)
    others_before = {k: v for k, v in existing.items() if k != "harness"}
    others_after = {k: v for k, v in check.items() if k != "harness"}
    if others_before != others_after or HarnessConfig.model_validate(check["harness"]) != harness:
        raise ConfigError(
            "writing [harness] would change other settings", source=str(path), hint="edit by hand"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(new_text, encoding="utf-8")
    temporary.replace(path)
    return message
