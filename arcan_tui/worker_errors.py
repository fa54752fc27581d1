"""Errors escaping background work: one clear line and a hint in the app, never a traceback.

Textual's default for a worker that raises is to end the app and print a full traceback. arcan's
workers are started with ``exit_on_error=False``; the node that started one mixes in
``ReportsWorkerErrors``, whose handler hands the error to ``ArcanApp.report_failure``: the
message (scrubbed of secrets) goes to the transcript and the status bar, and with ``--debug`` or
``ARCAN_DEBUG`` the traceback goes to the debug log, as ``arcan_tui.errors_edge`` does on exit.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState

__all__ = ["ReportsWorkerErrors"]


class ReportsWorkerErrors:
    """Mixin for a Textual node: report its failed workers through the app instead of crashing."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Hand a failed worker's error to ``ArcanApp.report_failure``."""
        from arcan_tui.app import ArcanApp  # noqa: PLC0415 - the app imports the screens

        error = event.worker.error
        if event.state is not WorkerState.ERROR or error is None:
            return
        app = event.worker.node.app
        if isinstance(app, ArcanApp):
            app.report_failure(error, event.worker.name or "background work")
