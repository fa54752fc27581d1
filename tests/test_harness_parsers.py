"""Check-output parsers, on real output where the tool is installed.

pytest, ruff and mypy run for real on tiny projects in tmp dirs (they are in the venv); cargo runs
for real when it is on PATH. jest, vitest and go are not installed here: their parsers are tested
on fixture text written to match those tools' documented output format.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arcan_core.errors import ConfigError
from arcan_core.harness.parsers import DEFAULT_PARSERS, strip_ansi
from arcan_core.harness.targets import parse_target

BIN = Path(sys.executable).parent


def _run(argv: list[str], cwd: Path) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)
    return result.stdout + result.stderr


@pytest.fixture
def failing_tests(tmp_path: Path) -> Path:
    (tmp_path / "test_calc.py").write_text(
        "import warnings\n"
        "def test_ok():\n    assert 1 == 1\n"
        "def test_add():\n    assert 1 + 1 == 3, 'math is broken'\n"
        "def test_boom():\n    raise ValueError('boom')\n"
        "def test_warn():\n    warnings.warn('careful', UserWarning)\n"
    )
    return tmp_path


def test_pytest_real_failures(failing_tests: Path) -> None:
    argv = [str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_calc.py"]
    parsed = DEFAULT_PARSERS.parse(argv, _run(argv, failing_tests))
    assert parsed.parser == "pytest"
    assert parsed.summarised
    assert parsed.counts["failures"] == 2
    assert parsed.counts["passed"] == 2
    assert parsed.counts["warnings"] == 1
    assert parsed.failures[0] == "test_calc.py::test_add - AssertionError: math is broken"
    assert "ValueError: boom" in parsed.failures[1]
    assert "test_add" in parsed.excerpt
    assert "E       AssertionError: math is broken" in parsed.excerpt


def test_pytest_real_all_pass(tmp_path: Path) -> None:
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    assert True\n")
    argv = [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"]
    parsed = DEFAULT_PARSERS.parse(argv, _run(argv, tmp_path))
    assert parsed.counts["failures"] == 0
    assert parsed.counts["passed"] == 1
    assert parsed.failures == ()
    assert parse_target("failures == 0").evaluate(0, parsed.counts).met


def test_ruff_real_full_and_concise(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import os\nimport sys\n")
    full = [str(BIN / "ruff"), "check", "--no-cache", "--select", "F401", "bad.py"]
    parsed = DEFAULT_PARSERS.parse(full, _run(full, tmp_path))
    assert parsed.parser == "ruff"
    assert parsed.counts["errors"] == 2
    assert parsed.failures[0].startswith("bad.py:1:8: F401")
    concise = [*full, "--output-format", "concise"]
    again = DEFAULT_PARSERS.parse(concise, _run(concise, tmp_path))
    assert again.counts == parsed.counts
    assert again.failures == parsed.failures


def test_ruff_real_clean(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text("X = 1\n")
    argv = [str(BIN / "ruff"), "check", "--no-cache", "good.py"]
    parsed = DEFAULT_PARSERS.parse(argv, _run(argv, tmp_path))
    assert parsed.counts["errors"] == 0
    assert parsed.summarised


def test_mypy_real(tmp_path: Path) -> None:
    (tmp_path / "typed.py").write_text('def f(x: int) -> str:\n    return x\n\ny: int = "s"\n')
    argv = [str(BIN / "mypy"), "--no-incremental", "--cache-dir=/dev/null", "typed.py"]
    parsed = DEFAULT_PARSERS.parse(argv, _run(argv, tmp_path))
    assert parsed.parser == "mypy"
    assert parsed.counts["errors"] == 2
    assert parsed.failures[0].startswith("typed.py:2: Incompatible return value type")
    (tmp_path / "typed.py").write_text("def f(x: int) -> int:\n    return x\n")
    clean = DEFAULT_PARSERS.parse(argv, _run(argv, tmp_path))
    assert clean.counts["errors"] == 0
    assert clean.summarised


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not installed")
def test_cargo_test_real(tmp_path: Path) -> None:
    crate = tmp_path / "calc"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n'
    )
    (crate / "src" / "lib.rs").write_text(
        "pub fn add(a: i32, b: i32) -> i32 { a + b }\n"
        "#[cfg(test)]\nmod tests {\n    use super::*;\n"
        "    #[test] fn adds() { assert_eq!(add(2, 2), 4); }\n"
        "    #[test] fn breaks() { assert_eq!(add(2, 2), 5); }\n"
        "    #[test] #[ignore] fn later() {}\n}\n"
    )
    argv = ["cargo", "test", "--offline", "--quiet"]
    parsed = DEFAULT_PARSERS.parse(argv, _run(argv, crate))
    assert parsed.parser == "cargo-test"
    assert parsed.counts["passed"] == 1
    assert parsed.counts["failures"] == 1
    assert parsed.counts["skipped"] == 1
    assert parsed.failures[0].startswith("tests::breaks: panicked at src/lib.rs:6")
    assert "right: 5" in parsed.excerpt


# Fixture text (tools not installed here), following each tool's documented output; the real
# tools print these non-ASCII markers, so the text keeps them.
JEST_OUTPUT = """\
 FAIL  src/sum.test.js
  sum
    ✓ adds small numbers (2 ms)
    ✕ adds negatives (3 ms)

  ● sum \u203a adds negatives

    expect(received).toBe(expected) // Object.is equality

    Expected: -3
    Received: 3

      4 |   test('adds negatives', () => {
    > 5 |     expect(sum(-1, -2)).toBe(-3);

Test Suites: 1 failed, 1 total
Tests:       1 failed, 1 passed, 2 total
Snapshots:   0 total
Time:        0.52 s
"""

VITEST_OUTPUT = """\
 FAIL  src/sum.test.ts > sum > adds negatives
AssertionError: expected 3 to be -3 // Object.is equality
 \u276f src/sum.test.ts:5:25

 Test Files  1 failed (1)
      Tests  1 failed | 2 passed (3)
   Start at  10:12:01
   Duration  312ms
"""

GO_OUTPUT = """\
--- FAIL: TestAdd (0.00s)
    calc_test.go:8: Add(2, 2) = 5, want 4
--- FAIL: TestSub (0.00s)
    calc_test.go:14: Sub(2, 1) = 3, want 1
FAIL
FAIL\texample.com/calc\t0.002s
ok  \texample.com/other\t0.001s
FAIL
"""


def test_jest_fixture_through_npm_test() -> None:
    parsed = DEFAULT_PARSERS.parse(["npm", "test", "--silent"], JEST_OUTPUT)
    assert parsed.parser == "jest"
    assert parsed.counts == {"failures": 1, "passed": 1, "skipped": 0, "total": 2}
    assert parsed.failures == ("sum \u203a adds negatives",)
    assert "Expected: -3" in parsed.excerpt


def test_vitest_fixture() -> None:
    parsed = DEFAULT_PARSERS.parse(["npx", "vitest", "run"], VITEST_OUTPUT)
    assert parsed.parser == "vitest"
    assert parsed.counts["failures"] == 1
    assert parsed.counts["passed"] == 2
    assert parsed.failures == ("src/sum.test.ts > sum > adds negatives",)


def test_go_test_fixture() -> None:
    parsed = DEFAULT_PARSERS.parse(["go", "test", "./..."], GO_OUTPUT)
    assert parsed.parser == "go-test"
    assert parsed.counts["failures"] == 2
    assert parsed.counts["packages_failed"] == 1
    assert parsed.failures[0] == "TestAdd: calc_test.go:8: Add(2, 2) = 5, want 4"


def test_generic_parser_keeps_error_lines() -> None:
    output = "building\nsomething\nerror: missing semicolon at line 3\ndone\n"
    parsed = DEFAULT_PARSERS.parse(["make", "check"], output)
    assert parsed.parser == "generic"
    assert parsed.failures == ("error: missing semicolon at line 3",)
    assert parsed.counts == {}


def test_ansi_is_stripped() -> None:
    assert strip_ansi("\x1b[31mFAILED\x1b[0m x") == "FAILED x"


@pytest.mark.parametrize(
    ("target", "exit_code", "counts", "met"),
    [
        ("exit0", 0, {}, True),
        ("exit0", 1, {}, False),
        ("failures == 0", 1, {"failures": 0}, True),
        ("failed == 0", 1, {"failures": 2}, False),
        ("warnings <= 5", 0, {"warnings": 5}, True),
        ("warnings <= 5", 0, {"warnings": 6}, False),
        ("exit0 and warnings < 1", 0, {"warnings": 0}, True),
        ("errors == 0", 0, {}, False),
    ],
)
def test_targets(target: str, exit_code: int, counts: dict[str, int], met: bool) -> None:
    assert parse_target(target).evaluate(exit_code, counts).met is met


@pytest.mark.parametrize("bad", ["", "failures = 0", "__import__('os') == 1", "exit1", "x == -1"])
def test_malformed_targets_are_config_errors(bad: str) -> None:
    with pytest.raises(ConfigError, match="check target"):
        parse_target(bad, key="harness.checks.tests.target")
