"""Subcommands of ``arcan``, one module each (see ``arcan_tui.cli``)."""
