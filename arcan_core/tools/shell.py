"""Split a shell command line into the simple commands it would run, for the approval policy.

A rule such as ``bash(git status*)`` must not let ``git status; rm -rf ~`` through, so a command is
cut at every ``;``, ``&``, ``&&``, ``||``, ``|``, newline and parenthesis outside quotes, and the
text of every ``$(...)``, ``<(...)``, ``>(...)`` and backtick substitution (also inside double
quotes) becomes a command of its own. ``bash -c '...'``, ``sh -c`` and ``eval`` are opened up the
same way. This is not a shell parser: where it cannot make sense of a command (unbalanced quotes)
it says so (``malformed``), and the policy then never allows the command by rule.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ShellCommand", "analyse", "command_words"]

_SEPARATORS = ("&&", "||", "|&", ";;", ";", "&", "|", "\n", "(", ")")
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "busybox"})
_WRAPPERS = frozenset(
    {"sudo", "doas", "env", "command", "builtin", "exec", "nice", "nohup", "time", "stdbuf"}
)
_WRAPPERS_WITH_ARG = frozenset({"timeout", "ionice", "chrt", "taskset"})
_VALUE_FLAGS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "-D"}),
    "doas": frozenset({"-u", "-C"}),
    "env": frozenset({"-u", "-C", "-S", "--unset", "--chdir"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "timeout": frozenset({"-s", "-k", "--signal", "--kill-after"}),
    "ionice": frozenset({"-c", "-n", "-p"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
}
"""Options of wrappers that take a value as the next word (``nice -n 5 cmd``)."""
_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", ">&", "<", "<<", "<<<", "<>", "<&"})


@dataclass(frozen=True, slots=True)
class ShellCommand:
    """One simple command of a command line."""

    text: str
    """The command as written (stripped), which allow rules match."""
    words: tuple[str, ...]
    """Its words after quote removal, without redirections."""
    normalized: tuple[str, ...]
    """``words`` without leading ``VAR=value`` and wrappers (``sudo``, ``env``, ``timeout 5``),
    the program reduced to its base name: what deny rules and danger checks look at."""
    redirect_targets: tuple[str, ...]
    pipeline: int
    """Commands joined by ``|`` share a pipeline number; they run as one pipeline."""
    parent: int | None
    """Index of the command whose substitution (or ``-c`` string) this one came from."""
    malformed: bool = False
    wrappers: tuple[str, ...] = ()

    @property
    def program(self) -> str:
        """The base name of the program that runs, or ``""``."""
        return self.normalized[0] if self.normalized else ""


def command_words(text: str) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    """Return the words, redirection targets and a malformed flag of one simple command."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars="<>&|;()")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        return tuple(text.split()), (), True
    words: list[str] = []
    targets: list[str] = []
    expect_target = False
    for token in tokens:
        if expect_target:
            targets.append(token)
            expect_target = False
        elif token in _REDIRECTS:
            expect_target = True
            # "2>" lexes as "2", ">": drop the file-descriptor number before a redirection.
            if words and words[-1].isdigit():
                words.pop()
        else:
            words.append(token)
    return tuple(words), tuple(targets), False


def _normalize(words: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rest = list(words)
    wrappers: list[str] = []
    while rest:
        head = rest[0]
        name = Path(head).name
        if "=" in head and head.split("=", 1)[0].isidentifier():
            rest.pop(0)
        elif name in _WRAPPERS or name in _WRAPPERS_WITH_ARG:
            wrappers.append(name)
            rest.pop(0)
            _skip_options(rest, _VALUE_FLAGS.get(name, frozenset()))
            if name in _WRAPPERS_WITH_ARG and rest:
                rest.pop(0)  # timeout's duration, taskset's mask, ...
        else:
            break
    if rest:
        rest[0] = Path(rest[0]).name
    return tuple(rest), tuple(wrappers)


def _skip_options(rest: list[str], value_flags: frozenset[str]) -> None:
    """Drop a wrapper's options (and the values of those that take one) from ``rest``."""
    while rest and (rest[0].startswith("-") or ("=" in rest[0] and rest[0][0] != "=")):
        flag = rest.pop(0)
        if flag == "--":
            return
        if flag in value_flags and rest:
            rest.pop(0)


class _Splitter:
    def __init__(self) -> None:
        self.commands: list[ShellCommand] = []
        self._pipeline = 0
        self.malformed = False

    def split(self, line: str, parent: int | None, depth: int = 0) -> None:
        if depth > 8:
            self.malformed = True
            return
        pieces, substitutions, piped = self._cut(line)
        command_of_piece: dict[int, int | None] = {}
        for number, (text, is_piped) in enumerate(zip(pieces, piped, strict=True)):
            if not is_piped:
                self._pipeline += 1
            command_of_piece[number] = self._add(text, parent, depth)
        for inner, piece in substitutions:
            owner = command_of_piece.get(piece)
            self.split(inner, parent if owner is None else owner, depth + 1)

    def _add(self, text: str, parent: int | None, depth: int) -> int | None:
        stripped = text.strip().strip("{}").strip()
        if not stripped:
            return None
        words, targets, malformed = command_words(stripped)
        normalized, wrappers = _normalize(words)
        index = len(self.commands)
        self.commands.append(
            ShellCommand(
                text=stripped,
                words=words,
                normalized=normalized,
                redirect_targets=targets,
                pipeline=self._pipeline,
                parent=parent,
                malformed=malformed,
                wrappers=wrappers,
            )
        )
        self.malformed |= malformed
        inner = _inner_script(normalized)
        if inner is not None:
            self.split(inner, index, depth + 1)
        return index

    def _cut(  # noqa: PLR0915 - one scanner over quoting states reads best in one place
        self, line: str
    ) -> tuple[list[str], list[tuple[str, int]], list[bool]]:
        pieces: list[str] = []
        piped: list[bool] = []
        subs: list[tuple[str, int]] = []
        current: list[str] = []
        quote: str | None = None
        next_piped = False
        i = 0
        n = len(line)
        while i < n:
            ch = line[i]
            if ch == "\\" and quote != "'" and i + 1 < n:
                current.append(line[i : i + 2])
                i += 2
                continue
            if quote == "'":
                current.append(ch)
                quote = None if ch == "'" else quote
                i += 1
                continue
            opener = line[i : i + 2]
            if opener in ("$(", "<(", ">(") and not line.startswith("$((", i):
                end = _matching_paren(line, i + 2)
                if end < 0:
                    self.malformed = True
                    end = n
                subs.append((line[i + 2 : end], len(pieces)))
                current.append(line[i : end + 1])
                i = end + 1
                continue
            if ch == "`":
                end = line.find("`", i + 1)
                if end < 0:
                    self.malformed = True
                    end = n
                subs.append((line[i + 1 : end], len(pieces)))
                current.append(line[i : end + 1])
                i = end + 1
                continue
            if quote == '"':
                current.append(ch)
                quote = None if ch == '"' else quote
                i += 1
                continue
            if ch in "'\"":
                quote = ch
                current.append(ch)
                i += 1
                continue
            if ch == "#" and (not current or "".join(current)[-1:].isspace()):
                end = line.find("\n", i)
                i = n if end < 0 else end
                continue
            sep = next((s for s in _SEPARATORS if line.startswith(s, i)), None)
            if sep is not None and not _is_redirect_amp(line, i, sep):
                pieces.append("".join(current))
                piped.append(next_piped)
                next_piped = sep in ("|", "|&")
                current = []
                i += len(sep)
                continue
            current.append(ch)
            i += 1
        if quote is not None:
            self.malformed = True
        pieces.append("".join(current))
        piped.append(next_piped)
        return pieces, subs, piped


def _is_redirect_amp(line: str, i: int, sep: str) -> bool:
    """``2>&1``, ``&>file`` and ``>&2`` use ``&`` without being a separator."""
    if sep != "&":
        return False
    before = line[i - 1] if i else ""
    after = line[i + 1] if i + 1 < len(line) else ""
    return before in "<>" or after == ">"


def _matching_paren(line: str, start: int) -> int:
    depth = 1
    quote: str | None = None
    i = start
    while i < len(line):
        ch = line[i]
        if ch == "\\" and quote != "'":
            i += 2
            continue
        if quote is not None:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _inner_script(normalized: tuple[str, ...]) -> str | None:
    """The script a command runs from a string: ``bash -c 'x'``, ``eval x``."""
    if not normalized:
        return None
    program = normalized[0]
    if program == "eval":
        return " ".join(normalized[1:])
    if program in _SHELLS:
        for index, word in enumerate(normalized[1:], start=1):
            if word.startswith("-") and not word.startswith("--") and "c" in word[1:]:
                return normalized[index + 1] if index + 1 < len(normalized) else ""
    return None


def analyse(line: str) -> tuple[list[ShellCommand], bool]:
    """Split ``line`` into its simple commands; the flag says whether any part was malformed."""
    splitter = _Splitter()
    splitter.split(line, None)
    return splitter.commands, splitter.malformed
