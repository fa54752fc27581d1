"""Actuators: how a decision reaches the agent and the user.

Feed back
    ``feedback_message`` is the next message to the agent when the loop continues: the unmet
    setpoints, each check's first failures and what changed since its last reading, plus the
    rules' notes. Never the whole output: each check's part is already trimmed by its parser,
    and the message as a whole is capped at ``MAX_FEEDBACK_CHARS``.

Gate, compact, ask, stop
    ``directive_for`` maps a decision onto the agent core's ``Directive``: continue with feedback,
    recover, compact, ask the human, stop, each with the decision's gates (the allowed tools, an
    approval mode at most this permissive, an output cap). Gates hold for one step, so every
    directive restates them for as long as the rules ask for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from arcan_core.agent.supervisor import Directive

if TYPE_CHECKING:
    from arcan_core.harness.controller import ControllerState, Decision

__all__ = ["MAX_FEEDBACK_CHARS", "directive_for", "feedback_message", "stop_message"]

MAX_FEEDBACK_CHARS: Final = 4000
"""The feedback message is cut here: a model acts on the first failures, not on the fiftieth."""

_STOP_TEXT: Final = {
    "completed": "All setpoints are met.",
    "no_progress": "Stopped: no progress; the same failure keeps coming back. Please take a look.",
    "needs_user": "Paused: the agent needs you.",
    "budget_exceeded": "Stopped: a budget of this task is spent.",
    "blocked_by_policy": "Stopped: policy or a hook keeps refusing the agent's tool calls.",
    "cancelled": "Stopped: cancelled.",
    "error": "Stopped: an error the agent cannot work around.",
}


def _check_section(name: str, state: ControllerState) -> str:
    check = state.checks[name]
    lines = [f"## {name}: {check.value or check.status}"]
    if check.previous_value and check.previous_value != check.value:
        lines.append(f"(before: {check.previous_value})")
    if check.detail:
        lines.append(check.detail)
    return "\n".join(lines)


def feedback_message(state: ControllerState, decision: Decision) -> str | None:
    """The message that sends the agent back to work, or ``None`` when it has nothing to say."""
    unmet = state.unmet_checks()
    notes = decision.notes()
    if not unmet and not notes:
        return None
    parts: list[str] = []
    if unmet:
        met = len(state.checks) - len(unmet)
        parts.append(
            f"[harness] Not done yet: {len(unmet)} of {len(state.checks)} checks fail"
            + (f" ({met} pass)." if met else ".")
        )
        parts.extend(_check_section(name, state) for name in unmet)
    parts.extend(notes)
    hook_notes = [f"Hook {sensor} failed: {why}" for sensor, why in state.hook_failures.items()]
    parts.extend(hook_notes)
    if unmet and decision.mode != "recover":
        parts.append("Fix these, then stop; the checks run again on their own.")
    text = "\n\n".join(parts)
    if len(text) > MAX_FEEDBACK_CHARS:
        text = text[: MAX_FEEDBACK_CHARS - 12].rstrip() + "\n[… cut …]"
    return text


def stop_message(state: ControllerState, decision: Decision) -> str:
    """What the user reads when the harness stops or pauses: the outcome and the reason."""
    head = _STOP_TEXT.get(decision.stop_reason or "", "Stopped.")
    unmet = state.unmet_checks()
    tail = f" Unmet: {', '.join(unmet)}." if unmet and decision.stop_reason != "completed" else ""
    return f"[harness] {head} {decision.explain()}.{tail}".replace("..", ".")


def directive_for(
    state: ControllerState, decision: Decision, *, model_stopped: bool
) -> tuple[Directive, str | None]:
    """Map ``decision`` to the core's directive; also return the feedback text that was sent.

    ``model_stopped`` says whether the step ended without tool calls (a turn's end); mid-turn only
    stops, pauses, recovery and compaction act, the rest waits for the turn to end.
    """
    mode = decision.mode
    gates = {
        "allowed_tools": tuple(sorted(decision.tools)) if decision.tools is not None else None,
        "mode": decision.approval_mode,
        "max_output_tokens": decision.max_output_tokens,
    }
    if mode in ("stop", "ask_human"):
        action = "stop" if mode == "stop" else "ask_human"
        return Directive(action=action, feedback=stop_message(state, decision)), None
    if mode == "recover":
        text = feedback_message(state, decision)
        return Directive(action="recover", feedback=text, **gates), text
    if not model_stopped:
        action = "compact" if decision.compact else "proceed"
        return Directive(action=action, **gates), None
    # The core compacts on its own before a request that would not fit; at a turn's end the
    # harness must keep the loop going, which only "continue" does.
    text = feedback_message(state, decision)
    # "verify" reaches here only when verification could not settle (a check that keeps
    # going stale): the agent goes on with what is known rather than the task ending silently.
    if mode in ("continue", "compact", "verify") and text:
        return Directive(action="continue", feedback=text, **gates), text
    return Directive(**gates), None
