"""The TUI's widgets, one concern a module, each with its CSS beside it."""
