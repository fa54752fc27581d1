"""The TUI's screens: chat (the default), session picker, help, first run."""
