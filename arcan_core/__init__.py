"""arcan's agent as a library: protocol, providers, tools, store, harness.

This package never imports a UI library (textual, rich, prompt_toolkit); a test enforces it.
"""

__version__ = "0.1.0"
