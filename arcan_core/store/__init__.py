"""The session store under ``.arcan/``: append-only logs, index, lock, checkpoints."""
