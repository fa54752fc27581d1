"""The agent: type-state lifecycle, the core daemon task, the turn loop, compaction."""
