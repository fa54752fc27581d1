"""Parsers that turn a check's raw output into counts and the first failures.

A model needs to know *what* fails, not to read three screens of output. Each parser knows one
tool's output: it extracts counts under canonical names (``failures``, ``errors``, ``warnings``,
``passed``, ``skipped``) and the first failures as one-line summaries, plus a short excerpt of the
first failure (the assertion, the panic message) when the tool prints one.

Parsers are chosen from the ``ParserRegistry``: first by the command line (``pytest`` in the argv
selects the pytest parser), then by sniffing the output (``npm test`` may run jest or vitest), and
otherwise the generic parser, which keeps the lines that look like errors. Adding a tool touches
one class here plus its registration in ``DEFAULT_PARSERS``.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from pathlib import PurePath
from typing import TYPE_CHECKING, ClassVar, Final

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "DEFAULT_PARSERS",
    "MAX_EXCERPT_CHARS",
    "MAX_FAILURES",
    "CargoTestParser",
    "ClippyParser",
    "GenericParser",
    "GoTestParser",
    "JestParser",
    "MypyParser",
    "OutputParser",
    "ParsedOutput",
    "ParserRegistry",
    "PytestParser",
    "RuffParser",
    "VitestParser",
    "strip_ansi",
]

MAX_FAILURES: Final = 5
"""How many failures a reading keeps: enough to act on, few enough to read."""
MAX_EXCERPT_CHARS: Final = 1200
"""The excerpt of the first failure is cut to this many characters."""
_MAX_LINE: Final = 200

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")


def strip_ansi(text: str) -> str:
    """Remove terminal colour and cursor sequences (tools colour their output when they can)."""
    return _ANSI.sub("", text)


def _clip(line: str) -> str:
    line = line.rstrip()
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…"


def _first(items: Iterable[str], limit: int = MAX_FAILURES) -> tuple[str, ...]:
    kept: list[str] = []
    for item in items:
        clipped = _clip(item.strip())
        if clipped and clipped not in kept:
            kept.append(clipped)
            if len(kept) == limit:
                break
    return tuple(kept)


def _excerpt(lines: Sequence[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines).strip("\n")
    return text if len(text) <= MAX_EXCERPT_CHARS else text[: MAX_EXCERPT_CHARS - 1] + "…"


class ParsedOutput(BaseModel):
    """What a parser found in one run's output.

    ``summarised`` is true when the tool printed its own summary (so a missing count means zero);
    when it is false the counts are whatever could be inferred, and a target on a missing count is
    unmet rather than guessed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    parser: str
    counts: dict[str, int] = Field(default_factory=dict)
    failures: tuple[str, ...] = ()
    excerpt: str = ""
    summarised: bool = False


class OutputParser(ABC):
    """Parses the output of one tool."""

    name: ClassVar[str]

    @abstractmethod
    def handles(self, argv: Sequence[str]) -> bool:
        """Return whether the command line runs this parser's tool."""

    def recognises(self, output: str) -> bool:
        """Return whether ``output`` looks like this tool's (for wrappers such as ``npm test``)."""
        del output
        return False

    @abstractmethod
    def parse(self, output: str) -> ParsedOutput:
        """Extract counts, the first failures and an excerpt from ANSI-free ``output``."""


def _program(argv: Sequence[str]) -> list[str]:
    """Return the argv with paths reduced to names, so ``.venv/bin/pytest`` reads ``pytest``."""
    return [PurePath(arg).name for arg in argv]


def _runs(argv: Sequence[str], *names: str) -> bool:
    words = _program(argv)
    return any(name in words for name in names)


_COUNT_WORD = re.compile(r"(\d+) (\w+)")


class PytestParser(OutputParser):
    """pytest: the final ``2 failed, 3 passed in 0.1s`` line and the short test summary."""

    name = "pytest"
    _summary = re.compile(
        r"^=*\s*((?:\d+ [a-z]+(?:, )?)+|no tests ran)(?: in [\d.]+s)?(?: \([^)]*\))?\s*=*$",
        re.MULTILINE,
    )
    _names: ClassVar[dict[str, str]] = {
        "failed": "failures",
        "passed": "passed",
        "error": "errors",
        "errors": "errors",
        "skipped": "skipped",
        "warning": "warnings",
        "warnings": "warnings",
        "xfailed": "xfailed",
        "xpassed": "xpassed",
        "deselected": "deselected",
    }
    _header = re.compile(r"^_{3,} (.+?) _{3,}$")

    def handles(self, argv: Sequence[str]) -> bool:  # noqa: D102 - see base
        return _runs(argv, "pytest", "py.test")

    def recognises(self, output: str) -> bool:  # noqa: D102 - see base
        return "short test summary info" in output or "test session starts" in output

    def parse(self, output: str) -> ParsedOutput:  # noqa: D102 - see base
        counts: dict[str, int] = {}
        summaries = [m.group(1) for m in self._summary.finditer(output)]
        summarised = bool(summaries)
        if summaries:
            counts = dict.fromkeys(("failures", "errors", "passed", "skipped", "warnings"), 0)
            for number, word in _COUNT_WORD.findall(summaries[-1]):
                key = self._names.get(word)
                if key is not None:
                    counts[key] = counts.get(key, 0) + int(number)
        lines = output.splitlines()
        failures = _first(
            line.split(" ", 1)[1]
            for line in lines
            if line.startswith(("FAILED ", "ERROR ")) and " " in line
        )
        return ParsedOutput(
            parser=self.name,
            counts=counts,
            failures=failures,
            excerpt=self._first_block(lines),
            summarised=summarised,
        )

    def _first_block(self, lines: Sequence[str]) -> str:
        """Keep the first failure's header, source marker (``>``), ``E`` lines and location."""
        start = next((i for i, line in enumerate(lines) if self._header.match(line)), None)
        if start is None:
            return ""
        kept = [lines[start]]
        for line in lines[start + 1 :]:
            if self._header.match(line) or line.startswith("====="):
                break
            if line.startswith((">", "E ")) or re.match(r"^\S+:\d+: \w+", line):
                kept.append(line)
        return _excerpt(kept)


class RuffParser(OutputParser):
    """ruff check: ``F401`` findings in full or concise format and ``Found N errors.``."""

    name = "ruff"
    _concise = re.compile(r"^(\S.*?:\d+:\d+): ([A-Z]+[0-9]+) (?:\[\*\] )?(.*)$")
    _full = re.compile(r"^([A-Z]+[0-9]+) (?:\[\*\] )?(.*)$")
    _arrow = re.compile(r"^\s*--> (\S+:\d+:\d+)")
    _found = re.compile(r"^Found (\d+) errors?", re.MULTILINE)
    _reformat = re.compile(r"^Would reformat: (.+)$", re.MULTILINE)

    def handles(self, argv: Sequence[str]) -> bool:  # noqa: D102 - see base
        return _runs(argv, "ruff")

    def parse(self, output: str) -> ParsedOutput:  # noqa: D102 - see base
        lines = output.splitlines()
        findings: list[str] = []
        for index, line in enumerate(lines):
            concise = self._concise.match(line)
            if concise:
                findings.append(f"{concise.group(1)}: {concise.group(2)} {concise.group(3)}")
                continue
            full = self._full.match(line)
            arrow = self._arrow.match(lines[index + 1]) if index + 1 < len(lines) else None
            if full and arrow:
                findings.append(f"{arrow.group(1)}: {full.group(1)} {full.group(2)}")
        reformat = self._reformat.findall(output)
        findings.extend(f"{path}: would reformat" for path in reformat)
        found = self._found.search(output)
        summarised = bool(found) or "All checks passed!" in output or "already formatted" in output
        count = int(found.group(1)) if found else len(findings)
        return ParsedOutput(
            parser=self.name,
            counts={"errors": count, "failures": count},
            failures=_first(findings),
            summarised=summarised or bool(findings),
        )


class MypyParser(OutputParser):
    """mypy: ``path:line: error: message  [code]`` lines and the ``Found N errors`` summary."""

    name = "mypy"
    _line = re.compile(r"^(\S.*?:\d+(?::\d+)?): (error|warning|note): (.*)$")
    _found = re.compile(r"^Found (\d+) errors? in \d+ files?", re.MULTILINE)

    def handles(self, argv: Sequence[str]) -> bool:  # noqa: D102 - see base
        return _runs(argv, "mypy", "dmypy")

    def parse(self, output: str) -> ParsedOutput:  # noqa: D102 - see base
        errors: list[str] = []
        warnings = 0
        for line in output.splitlines():
            match = self._line.match(line)
            if match is None:
                continue
            if match.group(2) == "error":
                errors.append(f"{match.group(1)}: {match.group(3)}")
            elif match.group(2) == "warning":
                warnings += 1
        found = self._found.search(output)
        summarised = bool(found) or output.lstrip().startswith("Success:") or "Success:" in output
        count = int(found.group(1)) if found else len(errors)
        return ParsedOutput(
            parser=self.name,
            counts={"errors": count, "failures": count, "warnings": warnings},
            failures=_first(errors),
            summarised=summarised,
        )


class CargoTestParser(OutputParser):
    """cargo test: every ``test result:`` line (unit, integration, doc tests) summed, and panics."""

    name = "cargo-test"
    _result = re.compile(
        r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", re.MULTILINE
    )
    _stdout = re.compile(r"^---- (\S+) stdout ----$")
    _compile_error = re.compile(r"^error(?:\[E\d+\])?: (?!test failed)(.*)$")
    _at = re.compile(r"^\s*--> (\S+:\d+:\d+)")

    def handles(self, argv: Sequence[str]) -> bool:  # noqa: D102 - see base
        words = _program(argv)
        return "cargo" in words and any(w in ("test", "nextest") for w in words)

    def recognises(self, output: str) -> bool:  # noqa: D102 - see base
        return self._result.search(output) is not None

    def parse(self, output: str) -> ParsedOutput:  # noqa: D102 - see base
        passed = failed = ignored = 0
        results = self._result.findall(output)
        for p, f, i in results:
            passed, failed, ignored = passed + int(p), failed + int(f), ignored + int(i)
        lines = output.splitlines()
        failures: list[str] = []
        excerpt: list[str] = []
        for index, line in enumerate(lines):
            match = self._stdout.match(line)
            if match:
                block = self._panic_block(lines[index + 1 :])
                first = next((b for b in block if b.strip()), "")
                failures.append(f"{match.group(1)}: {first.strip()}")
                if not excerpt:
                    excerpt = [line, *block]
        compile_errors = self._compile_errors(lines)
        failures = compile_errors + failures
        counts = {
            "passed": passed,
            "failures": failed,
            "skipped": ignored,
            "errors": len(compile_errors),
        }
        return ParsedOutput(
            parser=self.name,
            counts=counts,
            failures=_first(failures),
            excerpt=_excerpt(excerpt),
            summarised=bool(results) or bool(compile_errors),
        )

    def _compile_errors(self, lines: Sequence[str]) -> list[str]:
        found: list[str] = []
        for index, line in enumerate(lines):
            match = self._compile_error.match(line)
            if match is None or match.group(1).startswith("could not compile"):
                continue
            where = self._at.match(lines[index + 1]) if index + 1 < len(lines) else None
            found.append(f"{where.group(1)}: {match.group(1)}" if where else match.group(1))
        return found

    @staticmethod
    def _panic_block(lines: Sequence[str]) -> list[str]:
        """The panic message after a test's stdout header, without the backtrace."""
        kept: list[str] = []
        for line in lines:
            if line.startswith(("----", "failures:", "stack backtrace:", "note: ")):
                break
            if line.startswith("thread '"):
                # "thread 'x' (123) panicked at src/lib.rs:8:21:" -> "panicked at src/lib.rs:8:21"
                line = line[line.find("panicked") :].rstrip(":")  # noqa: PLW2901 - rewrite kept
            kept.append(line)
        while kept and not kept[-1].strip():
            kept.pop()
        while kept and not kept[0].strip():
            kept.pop(0)
        return kept


class ClippyParser(OutputParser):
    """cargo clippy: ``warning:``/``error:`` diagnostics with their ``-->`` location."""

    name = "clippy"
    _diagnostic = re.compile(r"^(warning|error)(?:\[\w+\])?: (.*)$")
    _at = re.compile(r"^\s*--> (\S+:\d+:\d+)")

    def handles(self, argv: Sequence[str]) -> bool:  # noqa: D102 - see base
        words = _program(argv)
        return "clippy" in words or "cargo-clippy" in words

    def parse(self, output: str) -> ParsedOutput:  # noqa: D102 - see base
        lines = output.splitlines()
        warnings: list[str] = []
        errors: list[str] = []
        for index, line in enumerate(lines):
            match = self._diagnostic.match(line)
            if match is None:
                continue
            message = match.group(2)
            # The closing tallies ("`x` (lib) generated 2 warnings", "could not compile") repeat.
            if " generated " in message or message.startswith(("could not compile", "aborting")):
                continue
            where = self._at.match(lines[index + 1]) if index + 1 < len(lines) else None
            text = f"{where.group(1)}: {message}" if where else message
            (errors if match.group(1) == "error" else warnings).append(text)
        return ParsedOutput(
            parser=self.name,
            counts={"warnings": len(warnings), "errors": len(errors), "failures": len(errors)},
            failures=_first([*errors, *warnings]),
            summarised="Finished" in output or bool(errors) or bool(warnings),
        )


class GoTestParser(OutputParser):
    """go test: ``--- FAIL: TestX`` with the indented lines after it, and build failures."""

    name = "go-test"
    _verdict = re.compile(r"^\s*--- (FAIL|PASS|SKIP): (\S+)", re.MULTILINE)
    _package = re.compile(r"^(ok|FAIL)\s+(\S+)\s", re.MULTILINE)
    _build = re.compile(r"^(\S+\.go:\d+:\d+): (.*)$")

    def handles(self, argv: Sequence[str]) -> bool:  # noqa: D102 - see base
        words = _program(argv)
        return "go" in words and ("test" in words or "vet" in words)

    def recognises(self, output: str) -> bool:  # noqa: D102 - see base
        return "--- FAIL:" in output or self._package.search(output) is not None

    def parse(self, output: str) -> ParsedOutput:  # noqa: D102 - see base
        verdicts = self._verdict.findall(output)
        counts = {
            "failures": sum(1 for v, _ in verdicts if v == "FAIL"),
            "passed": sum(1 for v, _ in verdicts if v == "PASS"),
            "skipped": sum(1 for v, _ in verdicts if v == "SKIP"),
        }
        lines = output.splitlines()
        failures: list[str] = []
        excerpt: list[str] = []
        for index, line in enumerate(lines):
            build = self._build.match(line)
            if build:
                failures.append(f"{build.group(1)}: {build.group(2)}")
            if line.lstrip().startswith("--- FAIL:"):
                detail = [d for d in lines[index + 1 : index + 6] if d.startswith("    ")]
                name = line.split()[2]
                first = detail[0].strip() if detail else ""
                failures.append(f"{name}: {first}" if first else name)
                if not excerpt:
                    excerpt = [line, *detail]
        counts["errors"] = sum(1 for line in lines if self._build.match(line))
        packages = self._package.findall(output)
        counts["packages_failed"] = sum(1 for verdict, _ in packages if verdict == "FAIL")
        return ParsedOutput(
            parser=self.name,
            counts=counts,
            failures=_first(failures),
            excerpt=_excerpt(excerpt),
            summarised=bool(packages) or bool(verdicts),
        )


class JestParser(OutputParser):
    """jest: ``Tests: 1 failed, 2 passed, 3 total`` and the ``●`` failure headers."""

    name = "jest"
    _tests = re.compile(r"^Tests:\s+(.*)$", re.MULTILINE)
    _bullet = re.compile(r"^\s*● (.+)$")

    def handles(self, argv: Sequence[str]) -> bool:  # noqa: D102 - see base
        return _runs(argv, "jest")

    def recognises(self, output: str) -> bool:  # noqa: D102 - see base
        return self._tests.search(output) is not None and "Test Suites:" in output

    def parse(self, output: str) -> ParsedOutput:  # noqa: D102 - see base
        match = self._tests.search(output)
        counts = _js_counts(match.group(1), total=True) if match else {}
        lines = output.splitlines()
        failures: list[str] = []
        excerpt: list[str] = []
        for index, line in enumerate(lines):
            bullet = self._bullet.match(line)
            if bullet and not bullet.group(1).startswith("Console"):
                failures.append(bullet.group(1))
                if not excerpt:
                    excerpt = [line, *lines[index + 1 : index + 12]]
        return ParsedOutput(
            parser=self.name,
            counts=counts,
            failures=_first(failures),
            excerpt=_excerpt(excerpt),
            summarised=match is not None,
        )


def _js_counts(summary: str, *, total: bool) -> dict[str, int]:
    """Counts from a jest/vitest summary such as ``1 failed, 2 todo, 3 passed, 6 total``."""
    names = {"failed": "failures", "passed": "passed", "skipped": "skipped", "todo": "skipped"}
    if total:
        names["total"] = "total"
    counts = dict.fromkeys(("failures", "passed", "skipped"), 0)
    for number, word in _COUNT_WORD.findall(summary):
        key = names.get(word)
        if key is not None:
            counts[key] = counts.get(key, 0) + int(number)
    return counts


class VitestParser(OutputParser):
    """vitest: `` Tests  1 failed | 2 passed (3)`` and the `` FAIL  file > suite > test`` lines."""

    name = "vitest"
    _tests = re.compile(r"^\s*Tests\s+(.*\(\d+\))\s*$", re.MULTILINE)
    _fail = re.compile(r"^\s*FAIL\s+(.+?)\s*$")

    def handles(self, argv: Sequence[str]) -> bool:  # noqa: D102 - see base
        return _runs(argv, "vitest")

    def recognises(self, output: str) -> bool:  # noqa: D102 - see base
        return "Test Files" in output and self._tests.search(output) is not None

    def parse(self, output: str) -> ParsedOutput:  # noqa: D102 - see base
        match = self._tests.search(output)
        counts = _js_counts(match.group(1), total=False) if match else {}
        lines = output.splitlines()
        failures: list[str] = []
        excerpt: list[str] = []
        for index, line in enumerate(lines):
            fail = self._fail.match(line)
            # " FAIL  src/a.test.ts > suite > name" names a test; a bare file line is a suite.
            if fail and " > " in fail.group(1):
                failures.append(fail.group(1))
                if not excerpt:
                    excerpt = [line, *lines[index + 1 : index + 10]]
        return ParsedOutput(
            parser=self.name,
            counts=counts,
            failures=_first(failures),
            excerpt=_excerpt(excerpt),
            summarised=match is not None,
        )


class GenericParser(OutputParser):
    """Any other tool: no counts, the first lines that look like errors or failures."""

    name = "generic"
    _bad = re.compile(r"\b(error|fail(?:ed|ure)?|exception|traceback)\b", re.IGNORECASE)

    def handles(self, argv: Sequence[str]) -> bool:  # noqa: D102 - see base
        del argv
        return True

    def parse(self, output: str) -> ParsedOutput:  # noqa: D102 - see base
        lines = [line for line in output.splitlines() if line.strip()]
        bad = [line for line in lines if self._bad.search(line)]
        return ParsedOutput(
            parser=self.name,
            failures=_first(bad or lines[-MAX_FAILURES:]),
            summarised=False,
        )


class ParserRegistry:
    """Chooses a parser for a command: by its argv, then by its output, else the generic one."""

    def __init__(self, parsers: Iterable[OutputParser] = ()) -> None:
        self._parsers: list[OutputParser] = list(parsers)
        self._generic = GenericParser()

    def register(self, parser: OutputParser) -> None:
        """Add a parser; later registrations are consulted after earlier ones."""
        self._parsers.append(parser)

    def get(self, name: str) -> OutputParser:
        """Return the parser called ``name`` (``generic`` included)."""
        for parser in (*self._parsers, self._generic):
            if parser.name == name:
                return parser
        raise KeyError(name)

    def choose(self, argv: Sequence[str], output: str = "") -> OutputParser:
        """Return the parser for this command and (if the argv is not conclusive) its output."""
        for parser in self._parsers:
            if parser.handles(argv):
                return parser
        for parser in self._parsers:
            if parser.recognises(output):
                return parser
        return self._generic

    def parse(self, argv: Sequence[str], output: str) -> ParsedOutput:
        """Strip colour codes and parse ``output`` with the chosen parser."""
        clean = strip_ansi(output)
        return self.choose(argv, clean).parse(clean)

    @property
    def names(self) -> tuple[str, ...]:
        """The registered parsers' names, in consultation order."""
        return tuple(parser.name for parser in self._parsers)


DEFAULT_PARSERS: Final = ParserRegistry(
    [
        PytestParser(),
        RuffParser(),
        MypyParser(),
        CargoTestParser(),
        ClippyParser(),
        GoTestParser(),
        JestParser(),
        VitestParser(),
    ]
)
"""The registry the harness uses unless told otherwise."""
