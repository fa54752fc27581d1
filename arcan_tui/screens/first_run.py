"""First run with no provider configured: say what was found and offer the built-in demo.

Instead of failing, the screen lists the API-key variables arcan looks for (names only; values
are never shown) and probes the default ports of local model servers, then explains how to
configure a provider. ``d`` starts the scripted demo, ``l`` a local server that answered, ``q``
quits. The screen dismisses with the provider to use, or ``None``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from arcan_tui.worker_errors import ReportsWorkerErrors

if TYPE_CHECKING:
    from pathlib import Path

    from textual.app import ComposeResult

__all__ = ["FirstRunScreen", "key_variables"]


def key_variables() -> list[tuple[str, str, bool]]:
    """Return ``(provider, variable, is set)`` for every installed provider that needs a key."""
    from arcan_core.providers.registry import provider_class, provider_names  # noqa: PLC0415

    found: list[tuple[str, str, bool]] = []
    for name in provider_names():
        variable = provider_class(name).api_key_env
        if variable:
            found.append((name, variable, bool(os.environ.get(variable, "").strip())))
    return found


class FirstRunScreen(ReportsWorkerErrors, Screen[str | None]):
    """What arcan found, how to configure a provider, and the demo."""

    DEFAULT_CSS = """
    FirstRunScreen { align: center middle; }
    FirstRunScreen > Vertical {
        width: 90; max-width: 95%; height: auto; border: round $primary; padding: 1 2;
        background: $surface;
    }
    FirstRunScreen #first-run-local { margin: 1 0 0 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "demo", "demo"),
        Binding("l", "local", "local server"),
        Binding("q", "quit_setup", "quit"),
        Binding("escape", "quit_setup", "quit", show=False),
    ]

    def __init__(self, project_dir: Path) -> None:
        super().__init__()
        self.project_dir = project_dir
        self.local: tuple[str, str] | None = None
        self._local_line = Static("looking for local model servers…", id="first-run-local")

    def compose(self) -> ComposeResult:
        """Findings, instructions, keys."""
        parts: list[tuple[str, str] | str] = [
            ("No model provider is configured.\n\n", "bold"),
            "API keys arcan looks for:\n",
        ]
        for provider, variable, is_set in key_variables():
            mark = ("set", "$text-success") if is_set else ("not set", "$text-muted")
            parts.extend([f"  {variable:<22} ({provider}) ", mark, "\n"])
        with Vertical():
            yield Static(Content.assemble(*parts).rstrip(), markup=False)
            yield self._local_line
            yield Static(
                Content.assemble(
                    ("\nTo configure one:\n", "bold"),
                    "  export ANTHROPIC_API_KEY=…   or   export OPENAI_API_KEY=…\n",
                    "  arcan --provider local --base-url http://127.0.0.1:8080\n",
                    '  or put  provider = "anthropic"  in ~/.config/arcan/config.toml\n\n',
                    ("d", "bold $text-accent"),
                    " try the built-in demo   ",
                    ("l", "bold $text-accent"),
                    " use the local server   ",
                    ("q", "bold $text-accent"),
                    " quit",
                ),
                markup=False,
            )

    def on_mount(self) -> None:
        """Probe local servers in the background."""
        self.run_worker(
            self._probe(),
            exclusive=True,
            group="probe",
            name="probing local model servers",
            exit_on_error=False,
        )

    async def _probe(self) -> None:
        from arcan_core.providers.local import probe_local_servers  # noqa: PLC0415

        self.local = await probe_local_servers()
        if self.local is None:
            self._local_line.update("No local model server answered on the default ports.")
        else:
            server, url = self.local
            self._local_line.update(f"Found {server} at {url}: press l to use it.")

    def action_demo(self) -> None:
        """Play the scripted demo."""
        self.dismiss("scripted")

    def action_local(self) -> None:
        """Use the local server that answered."""
        if self.local is not None:
            self.dismiss("local")

    def action_quit_setup(self) -> None:
        """Quit arcan."""
        self.dismiss(None)
