"""Check targets: the small language that says when a check's reading meets its setpoint.

    target  := clause ("and" clause)*
    clause  := "exit0" | NAME OP INTEGER
    OP      := "==" | "!=" | "<=" | ">=" | "<" | ">"

``NAME`` is a count a parser extracts (``failures``, ``errors``, ``warnings``, ``passed``, …;
``failed``/``error``/``warning`` are accepted as their plural canonical names). Targets are parsed
once into a tree of small objects and evaluated against an exit code and counts: no ``eval``.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from arcan_core.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["Clause", "CountClause", "ExitZero", "Target", "TargetResult", "parse_target"]

_ALIASES: Final = {
    "failed": "failures",
    "failure": "failures",
    "error": "errors",
    "warning": "warnings",
    "pass": "passed",
    "skip": "skipped",
}

_OPERATORS: Final[dict[str, Callable[[int, int], bool]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_CLAUSE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|<=|>=|<|>)\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class TargetResult:
    """Whether a reading meets a target, and in words why not."""

    met: bool
    reason: str = ""


class Clause:
    """One condition of a target."""

    def evaluate(self, exit_code: int | None, counts: Mapping[str, int]) -> TargetResult:
        """Return whether the exit code and counts satisfy this clause."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class ExitZero(Clause):
    """The command exited with status 0."""

    def evaluate(self, exit_code: int | None, counts: Mapping[str, int]) -> TargetResult:  # noqa: D102
        del counts
        if exit_code == 0:
            return TargetResult(met=True)
        what = "did not finish" if exit_code is None else f"exited with {exit_code}"
        return TargetResult(met=False, reason=f"the command {what}")

    def __str__(self) -> str:
        return "exit0"


@dataclass(frozen=True, slots=True)
class CountClause(Clause):
    """A parsed count compared with a number, such as ``failures == 0``."""

    name: str
    op: str
    value: int

    def evaluate(self, exit_code: int | None, counts: Mapping[str, int]) -> TargetResult:  # noqa: D102
        del exit_code
        actual = counts.get(self.name)
        if actual is None:
            return TargetResult(met=False, reason=f"the output gave no '{self.name}' count")
        if _OPERATORS[self.op](actual, self.value):
            return TargetResult(met=True)
        return TargetResult(met=False, reason=f"{self.name} is {actual}, wanted {self}")

    def __str__(self) -> str:
        return f"{self.name} {self.op} {self.value}"


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed target: every clause must hold."""

    clauses: tuple[Clause, ...]

    def evaluate(self, exit_code: int | None, counts: Mapping[str, int]) -> TargetResult:
        """Return met when every clause holds, else the first reason it does not."""
        for clause in self.clauses:
            result = clause.evaluate(exit_code, counts)
            if not result.met:
                return result
        return TargetResult(met=True)

    def __str__(self) -> str:
        return " and ".join(str(clause) for clause in self.clauses)


def parse_target(text: str, *, key: str | None = None) -> Target:
    """Parse ``text`` into a ``Target``; a malformed one is a ``ConfigError`` naming ``key``."""
    parts = re.split(r"\s+and\s+", text.strip())
    clauses: list[Clause] = []
    for part in parts:
        if part.strip() == "exit0":
            clauses.append(ExitZero())
            continue
        match = _CLAUSE.match(part)
        if match is None:
            raise ConfigError(
                f"cannot read the check target {text!r}",
                key=key,
                hint="write 'exit0' or a count condition such as 'failures == 0' "
                "(several joined by 'and')",
            )
        name = _ALIASES.get(match.group(1), match.group(1))
        clauses.append(CountClause(name=name, op=match.group(2), value=int(match.group(3))))
    return Target(clauses=tuple(clauses))
