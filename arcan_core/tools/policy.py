"""The approval policy: which calls run, which ask the user, which are refused.

A decision is made in this order, and the first step that decides wins:

1. ``plan`` mode refuses every tool that is not read-only.
2. A ``deny`` rule that matches any part of the call refuses it (deny wins over everything).
3. A path outside the workspace and the added roots asks (an escape is never silent).
4. A dangerous call asks, whatever the mode and the allow rules: recursive delete of the
   workspace, home or root, ``curl ... | sh``, writes into ``.git/`` internals, privilege
   escalation, raw disk writes.
5. An ``ask`` rule that matches asks.
6. Allow rules (config, ``.arcan/permissions.toml``, and answers remembered this session) allow
   the call when *every* part matches one: each path of an edit, each simple command of a shell
   line (see ``shell``), so an allowed prefix cannot smuggle in another command.
7. Otherwise the mode decides by the tool's category (``MODE_TABLE``). The shell runs without
   asking in ``auto-edit`` and ``full-auto`` only when the OS sandbox can start; otherwise it asks
   and the reason says why.

Rules are written ``tool(spec)`` or ``tool`` (every call of that tool). ``tool`` is a tool name or
its family (``edit`` covers ``write``, ``edit``, ``patch``; ``read`` covers ``glob`` and ``grep``).
Path specs are gitignore-style globs relative to the workspace (``src/**``); shell specs are
shell-style globs over one simple command (``git status*``); ``web_fetch`` specs over the URL.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from arcan_core.errors import ConfigError
from arcan_core.protocol.operations import ApprovalScope
from arcan_core.tools.base import Tool, ToolContext
from arcan_core.tools.paths import is_inside
from arcan_core.tools.shell import ShellCommand, analyse

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    import pathspec

    from arcan_core.config.model import PermissionsConfig
    from arcan_core.protocol.operations import ApprovalMode
    from arcan_core.tools.base import ToolCategory

__all__ = [
    "MODE_TABLE",
    "PERMISSIONS_FILE",
    "ApprovalPolicy",
    "Decision",
    "Rule",
    "shell_danger",
]

PERMISSIONS_FILE = Path(".arcan") / "permissions.toml"

Action = Literal["allow", "ask", "deny"]
_ModeAction = Literal["allow", "ask", "deny", "sandbox"]

MODE_TABLE: dict[str, dict[str, _ModeAction]] = {
    "plan": {"read": "allow", "meta": "allow", "fetch": "ask", "edit": "deny", "execute": "deny"},
    "ask": {"read": "allow", "meta": "allow", "fetch": "ask", "edit": "ask", "execute": "ask"},
    "auto-edit": {
        "read": "allow",
        "meta": "allow",
        "fetch": "ask",
        "edit": "allow",
        "execute": "sandbox",
    },
    "full-auto": {
        "read": "allow",
        "meta": "allow",
        "fetch": "allow",
        "edit": "allow",
        "execute": "sandbox",
    },
}
"""What each mode does with each tool category, before rules and safety checks."""

_ALL_SCOPES: tuple[ApprovalScope, ...] = ("once", "session", "project", "pattern")
_RULE = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


class Decision(BaseModel):
    """The policy's verdict on one call."""

    model_config = ConfigDict(frozen=True)

    action: Action
    reason: str
    suggested_pattern: str | None = None
    scopes: tuple[ApprovalScope, ...] = _ALL_SCOPES
    outside_paths: tuple[Path, ...] = ()
    """Paths outside the roots that made the call ask; approving admits them."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``tool(spec)`` permission pattern."""

    tool: str
    spec: str | None
    source: str

    @classmethod
    def parse(cls, text: str, source: str) -> Rule:
        """Parse ``text``; raise ``ConfigError`` naming ``source`` when it is not a rule."""
        match = _RULE.match(text)
        if match is None:
            raise ConfigError(
                f"not a permission rule: {text!r}",
                source=source,
                hint="write tool(pattern), e.g. bash(git status*) or edit(src/**)",
            )
        spec = match.group(2)
        return cls(match.group(1), None if spec is None else spec.strip(), source)

    def __str__(self) -> str:
        return self.tool if self.spec is None else f"{self.tool}({self.spec})"

    def applies_to(self, tool: Tool[Any]) -> bool:
        """Whether the rule names this tool or its family."""
        return self.tool in (tool.name, tool.rule_name)

    def matches(self, tool: Tool[Any], subject: str) -> bool:
        """Whether the rule covers one subject (a path, a simple command, a URL) of ``tool``."""
        if self.spec is None:
            return True
        matcher = _MATCHERS.get(tool.category, _match_glob)
        return matcher(self.spec, subject)


def _match_glob(spec: str, subject: str) -> bool:
    return fnmatch.fnmatchcase(subject, spec)


_PATHSPECS: dict[str, pathspec.GitIgnoreSpec] = {}


def _match_path(spec: str, subject: str) -> bool:
    compiled = _PATHSPECS.get(spec)
    if compiled is None:
        # Imported on the first path rule checked: pathspec costs ~8 ms at start-up, and a run
        # with no rules for read/edit tools never needs it.
        import pathspec  # noqa: PLC0415

        compiled = pathspec.GitIgnoreSpec.from_lines([spec])
        _PATHSPECS[spec] = compiled
    return compiled.match_file(subject) or fnmatch.fnmatchcase(subject, spec)


_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "read": _match_path,
    "edit": _match_path,
    "execute": _match_glob,
    "fetch": _match_glob,
    "meta": _match_glob,
}


# --- dangerous shell commands -----------------------------------------------------------------

_INTERPRETERS = frozenset(
    {"sh", "bash", "zsh", "dash", "ksh", "fish", "python", "python3", "perl", "ruby", "node"}
)
_DOWNLOADERS = frozenset({"curl", "wget", "fetch", "aria2c"})
_WRITERS = frozenset(
    {"tee", "cp", "mv", "rm", "ln", "chmod", "chown", "touch", "truncate", "install", "sed", "dd"}
)
_PRIVILEGE = frozenset({"sudo", "doas", "su", "pkexec"})
_FORK_BOMB = re.compile(r"(\w+|:)\(\)\s*\{[^}]*\1\s*\|\s*\1\s*&")
_SYSTEM = frozenset({"shutdown", "reboot", "halt", "poweroff", "mkfs", "fdisk", "wipefs"})


def _is_git_internal(target: str) -> bool:
    parts = Path(target.replace("=", "/", 1) if target.startswith("of=") else target).parts
    return ".git" in parts


def _broad_target(word: str, workspace: Path, home: Path) -> bool:
    """Whether deleting ``word`` recursively would take the workspace, home or root with it."""
    text = word.replace("${HOME}", str(home)).replace("$HOME", str(home))
    if text.startswith("~"):
        text = str(home) + text[1:]
    text = text.rstrip("/") or "/"
    while text.endswith(("/*", "/.*")) or text in {"*", ".*"}:
        text = text.rsplit("/", 1)[0] if "/" in text else "."
        text = text or "/"
    path = Path(os.path.normpath(text if Path(text).is_absolute() else workspace / text))
    return path in (Path("/"), home) or workspace.is_relative_to(path)


def _rm_danger(cmd: ShellCommand, workspace: Path, home: Path) -> str | None:
    words = cmd.normalized
    if not words:
        return None
    if words[0] == "rm":
        flags = [w for w in words[1:] if w.startswith("-")]
        recursive = any(
            w == "--recursive" or (not w.startswith("--") and ("r" in w or "R" in w)) for w in flags
        )
        targets = [w for w in words[1:] if not w.startswith("-")]
        if recursive and any(_broad_target(t, workspace, home) for t in targets):
            return f"recursive delete of the workspace, home or root: {cmd.text}"
    if words[0] == "find" and "-delete" in words:
        roots = [w for w in words[1:] if not w.startswith("-")][:1] or ["."]
        if _broad_target(roots[0], workspace, home):
            return f"recursive delete of the workspace, home or root: {cmd.text}"
    return None


def _git_danger(cmd: ShellCommand) -> str | None:
    if any(_is_git_internal(t) for t in cmd.redirect_targets):
        return f"writes into .git internals: {cmd.text}"
    if cmd.program in _WRITERS:
        args = [w for w in cmd.normalized[1:] if not w.startswith("-") or w.startswith("of=")]
        if cmd.program == "sed" and not any(w.startswith("-i") for w in cmd.normalized):
            return None
        if any(_is_git_internal(a) for a in args):
            return f"writes into .git internals: {cmd.text}"
    return None


def _system_danger(cmd: ShellCommand) -> str | None:
    if set(cmd.wrappers) & _PRIVILEGE or cmd.program in _PRIVILEGE:
        return f"runs with raised privileges: {cmd.text}"
    if cmd.program in _SYSTEM or cmd.program.startswith("mkfs"):
        return f"changes the system or its disks: {cmd.text}"
    if cmd.program == "dd" and any(w.startswith("of=/dev/") for w in cmd.normalized):
        return f"writes a raw device: {cmd.text}"
    if any(
        t.startswith("/dev/") and t not in {"/dev/null", "/dev/stderr", "/dev/stdout"}
        for t in cmd.redirect_targets
    ):
        return f"writes a raw device: {cmd.text}"
    return None


def shell_danger(line: str, workspace: Path, home: Path | None = None) -> str | None:
    """Return why the command line is dangerous whatever the mode, or ``None``."""
    home = home or Path.home()
    if _FORK_BOMB.search(line):
        return "a fork bomb"
    commands, _ = analyse(line)
    for cmd in commands:
        reason = _rm_danger(cmd, workspace, home) or _git_danger(cmd) or _system_danger(cmd)
        if reason:
            return reason
    # curl ... | sh, and sh <(curl ...) / bash -c "$(curl ...)".
    for index, cmd in enumerate(commands):
        if cmd.program not in _INTERPRETERS and cmd.program not in {"eval", "source", "."}:
            continue
        earlier = commands[:index]
        piped = any(c.pipeline == cmd.pipeline and c.program in _DOWNLOADERS for c in earlier)
        nested = any(c.parent == index and c.program in _DOWNLOADERS for c in commands)
        if piped or nested:
            return f"runs a downloaded script: {line.strip()}"
    return None


def _edit_danger(tool: Tool[Any], args: BaseModel, ctx: ToolContext) -> str | None:
    for path in tool.touched_paths(args, ctx):
        if ".git" in Path(ctx.show(path)).parts:
            return f"writes into .git internals: {ctx.show(path)}"
    return None


def _shell_line(args: BaseModel) -> str:
    command = getattr(args, "command", "")
    return command if isinstance(command, str) else ""


# --- the policy -------------------------------------------------------------------------------


class ApprovalPolicy:
    """Rules from the config and ``.arcan/permissions.toml``, plus this session's answers."""

    def __init__(
        self,
        workspace: Path,
        *,
        allow: Iterable[str] = (),
        deny: Iterable[str] = (),
        ask: Iterable[str] = (),
        extra_roots: Iterable[Path] = (),
        source: str = "rules",
        home: Path | None = None,
    ) -> None:
        self.workspace = workspace.resolve()
        self.extra_roots = tuple(Path(p).resolve() for p in extra_roots)
        self.home = (home or Path.home()).resolve()
        self._allow = [Rule.parse(r, source) for r in allow]
        self._deny = [Rule.parse(r, source) for r in deny]
        self._ask = [Rule.parse(r, source) for r in ask]
        self._session_allow: list[Rule] = []
        self._session_paths: set[Path] = set()
        self._ctx = ToolContext(workspace=self.workspace, call_id="policy", emit=_discard)

    @classmethod
    def load(cls, workspace: Path, permissions: PermissionsConfig | None = None) -> ApprovalPolicy:
        """Build the policy from the user config's permissions and the project's file.

        Raises:
            ConfigError: ``.arcan/permissions.toml`` is not valid TOML or holds a bad rule.
        """
        allow = list(permissions.allow) if permissions else []
        deny = list(permissions.deny) if permissions else []
        ask = list(permissions.ask) if permissions else []
        roots = [Path(r).expanduser() for r in permissions.extra_roots] if permissions else []
        project = _read_permissions(workspace / PERMISSIONS_FILE)
        policy = cls(
            workspace,
            allow=allow,
            deny=deny,
            ask=ask,
            extra_roots=[workspace / r for r in roots],
            source="config",
        )
        source = str(workspace / PERMISSIONS_FILE)
        policy._allow += [Rule.parse(r, source) for r in project.get("allow", [])]
        policy._deny += [Rule.parse(r, source) for r in project.get("deny", [])]
        policy._ask += [Rule.parse(r, source) for r in project.get("ask", [])]
        return policy

    @property
    def roots(self) -> tuple[Path, ...]:
        """The workspace and the added roots (resolved)."""
        return (self.workspace, *self.extra_roots)

    @property
    def session_paths(self) -> frozenset[Path]:
        """Paths outside the roots the user admitted for this session."""
        return frozenset(self._session_paths)

    def subjects(
        self, tool: Tool[Any], args: BaseModel, paths: Sequence[Path] | None = None
    ) -> tuple[str, ...]:
        """The strings rules match for this call: simple commands for the shell, else paths."""
        if tool.category == "execute":
            return tuple(cmd.text for cmd in analyse(_shell_line(args))[0])
        if paths is not None and type(tool).rule_subjects is Tool.rule_subjects:
            # The default subjects are the touched paths; reuse those the caller resolved.
            return tuple(self._ctx.show(p) for p in paths)
        return tool.rule_subjects(args, self._ctx)

    def decide(
        self,
        tool: Tool[Any],
        args: BaseModel,
        mode: ApprovalMode,
        *,
        sandbox_reason: str | None = None,
        extra_paths: Iterable[Path] = (),
        paths: Sequence[Path] | None = None,
    ) -> Decision:
        """Decide on one validated call.

        Args:
            tool: the tool called.
            args: its validated input.
            mode: the approval mode in force.
            sandbox_reason: why no sandbox can run shell commands (``None``: one can).
            extra_paths: single paths admitted for this call only.
            paths: the call's touched paths when the caller has resolved them already.
        """
        if mode == "plan" and not tool.read_only:
            return Decision(
                action="deny", reason=f"plan mode is read-only; {tool.name} changes things"
            )
        if paths is None:
            paths = tool.touched_paths(args, self._ctx)
        subjects = self.subjects(tool, args, paths)
        for rule in self._deny:
            if rule.applies_to(tool) and any(
                rule.matches(tool, s) for s in _deny_forms(tool, args, subjects)
            ):
                return Decision(action="deny", reason=f"denied by the rule {rule} ({rule.source})")
        admitted = (*self.roots, *self._session_paths, *extra_paths)
        outside = tuple(p for p in paths if not is_inside(p, admitted))
        if outside:
            shown = ", ".join(str(p) for p in outside)
            return Decision(
                action="ask",
                reason=f"{shown} is outside the workspace {self.workspace}",
                scopes=("once", "session"),
                outside_paths=outside,
            )
        danger = self._danger(tool, args)
        if danger:
            return Decision(action="ask", reason=f"dangerous: {danger}", scopes=("once",))
        for rule in self._ask:
            if rule.applies_to(tool) and any(rule.matches(tool, s) for s in subjects):
                return Decision(
                    action="ask",
                    reason=f"the rule {rule} ({rule.source}) asks",
                    scopes=("once",),
                )
        covering = self._covering_rules(tool, subjects)
        if covering is not None:
            return Decision(action="allow", reason=f"allowed by {covering}")
        return self._by_mode(tool, args, subjects, mode, sandbox_reason)

    def _by_mode(
        self,
        tool: Tool[Any],
        args: BaseModel,
        subjects: Sequence[str],
        mode: ApprovalMode,
        sandbox_reason: str | None,
    ) -> Decision:
        category: ToolCategory = tool.category
        action = MODE_TABLE[mode][category]
        if action == "sandbox" and sandbox_reason is None:
            return Decision(action="allow", reason=f"{mode} mode runs the shell in the sandbox")
        if action in ("allow", "deny"):
            verb = "allows" if action == "allow" else "does not allow"
            return Decision(action=action, reason=f"{mode} mode {verb} {category} tools")
        reason = (
            f"{mode} mode asks before {category} tools run"
            if action == "ask"
            else f"{mode} mode runs the shell only in a sandbox, and none can start: "
            f"{sandbox_reason}"
        )
        # The pattern an "always" answer would save, shown to the user to accept or edit.
        return Decision(
            action="ask", reason=reason, suggested_pattern=_suggest(tool, args, subjects, self)
        )

    def _covering_rules(self, tool: Tool[Any], subjects: Sequence[str]) -> str | None:
        rules = [r for r in (*self._allow, *self._session_allow) if r.applies_to(tool)]
        if not rules:
            return None
        if not subjects:
            bare = next((r for r in rules if r.spec is None), None)
            return None if bare is None else f"the rule {bare} ({bare.source})"
        if tool.category == "execute" and analyse(_shell_line_of(subjects))[1]:
            return None  # an unparsable command line is never allowed by rule
        used: list[str] = []
        for subject in subjects:
            rule = next((r for r in rules if r.matches(tool, subject)), None)
            if rule is None:
                return None
            if str(rule) not in used:
                used.append(str(rule))
        return "the rule " + ", ".join(used)

    def _danger(self, tool: Tool[Any], args: BaseModel) -> str | None:
        check = _DANGER_CHECKS.get(tool.category)
        return None if check is None else check(self, tool, args)

    # -- remembering answers ---------------------------------------------------------------------

    def remember(self, pattern: str, scope: ApprovalScope) -> None:
        """Keep an "always allow" answer: in memory (``session``) or saved (``project``).

        Raises:
            ConfigError: ``pattern`` is not a rule, or the permissions file cannot be written.
        """
        if scope == "once":
            return
        rule = Rule.parse(pattern, "this session" if scope == "session" else str(self._file))
        if scope == "session":
            self._session_allow.append(rule)
            return
        path = self._file
        data = _read_permissions(path)
        allow = list(data.get("allow", []))
        if str(rule) not in allow:
            allow.append(str(rule))
        data["allow"] = allow
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".toml.tmp")
            import tomli_w  # noqa: PLC0415 - only when an "always" answer is saved

            tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
            tmp.replace(path)
        except OSError as error:
            raise ConfigError(
                f"cannot save the rule: {error.strerror}", source=str(path)
            ) from error
        self._allow.append(rule)

    @property
    def hides_paths(self) -> bool:
        """Whether any deny rule keeps paths from the reading tools (``read(.env)``)."""
        return any(_hides(rule) for rule in self._deny)

    def read_denied(self, path: Path) -> bool:
        """Whether a deny rule for reading covers ``path``; glob and grep leave it out."""
        shown = self._ctx.show(path)
        return any(_hides(rule) and _match_path(rule.spec or "", shown) for rule in self._deny)

    def admit_for_session(self, paths: Iterable[Path]) -> None:
        """Admit paths outside the roots for the rest of the session (a "session" answer)."""
        self._session_paths.update(paths)

    @property
    def _file(self) -> Path:
        return self.workspace / PERMISSIONS_FILE


def _hides(rule: Rule) -> bool:
    return rule.spec is not None and rule.tool in _READING


_READING = frozenset({"read", "glob", "grep"})


def _discard(msg: object, /) -> None:
    del msg


def _shell_line_of(subjects: Sequence[str]) -> str:
    return "\n".join(subjects)


def _deny_forms(tool: Tool[Any], args: BaseModel, subjects: Sequence[str]) -> list[str]:
    """Deny rules also see each command without its wrappers and with the program's base name."""
    if tool.category != "execute":
        return list(subjects)
    return [*subjects, *(" ".join(cmd.normalized) for cmd in analyse(_shell_line(args))[0])]


def _suggest(
    tool: Tool[Any], args: BaseModel, subjects: Sequence[str], policy: ApprovalPolicy
) -> str | None:
    family = tool.rule_name or tool.name
    if tool.category == "execute":
        for cmd in analyse(_shell_line(args))[0]:
            if policy._covering_rules(tool, [cmd.text]) is None and cmd.words:
                keep = (
                    cmd.words[:2]
                    if len(cmd.words) > 1 and cmd.words[1].isalpha()
                    else cmd.words[:1]
                )
                return f"{tool.name}({' '.join(keep)}*)"
        return None
    if not subjects:
        return tool.name
    first = subjects[0]
    if tool.category == "fetch":
        match = re.match(r"^(https?://[^/]+)", first)
        return f"{tool.name}({match.group(1)}/*)" if match else None
    parent = first.rsplit("/", 1)[0] if "/" in first else None
    return f"{family}({parent}/**)" if parent else f"{family}({first})"


def _read_permissions(path: Path) -> dict[str, Any]:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror}", source=str(path)) from error
    import tomllib  # noqa: PLC0415 - only with a file to parse (~2 ms of every start-up)

    try:
        with handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"invalid TOML: {error}", source=str(path)) from error
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror}", source=str(path)) from error
    for key in ("allow", "deny", "ask"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError("must be a list of rule strings", source=str(path), key=key)
    return data


_DANGER_CHECKS: dict[str, Callable[[ApprovalPolicy, Tool[Any], BaseModel], str | None]] = {
    "execute": lambda policy, tool, args: shell_danger(
        _shell_line(args), policy.workspace, policy.home
    ),
    "edit": lambda policy, tool, args: _edit_danger(tool, args, policy._ctx),
}
"""Safety checks by tool category: what makes a call ask whatever the mode."""
