"""``arcan shell``: the line-mode front-end, a prompt-toolkit client of the core.

For terminals where a full-screen app does not suit: screen readers, ``script`` and tmux logs,
editor terminal panes, slow links, and anyone who wants their scrollback to stay theirs. It sends
operations to a ``CoreHandle`` and prints the events it gets back; it holds no agent logic.

Modules, each small and testable on its own:

- ``session``: ``ShellSession``, the controller (prompt loop, event pump, turns, approvals).
- ``prompt``: the prompt-toolkit ``PromptSession`` (keys, completion, history, toolbar).
- ``renderer``: events to text (streamed replies, tool lines, diffs, markdown re-render).
- ``approvals``: one-key inline approval questions.
- ``commands``: the slash-command registry.
- ``keys``: reading single keys while no prompt is shown (Ctrl+C, approval answers).
- ``state``: the toolbar's fold over events.
- ``host``: how the shell opens cores and lists sessions.

Nothing here imports ``arcan_core.protocol`` at module level: the first prompt is drawn before the
core (and pydantic) has loaded, so launch-to-prompt stays short.
"""

__all__ = ["BANNER"]

BANNER = "arcan shell · /help lists commands · Ctrl+D quits"
"""The first line the shell prints (the command line paints it before prompt-toolkit loads)."""
