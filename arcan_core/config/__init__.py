"""Layered configuration: defaults < user file < project file < environment < flags.

``load_config(project_dir)`` is what a front-end calls; ``ConfigBuilder`` composes layers by hand;
``secrets`` holds API-key lookup and ``redact``.
"""

from arcan_core.config.builder import ConfigBuilder, ResolvedConfig, load_config
from arcan_core.config.model import ArcanConfig

__all__ = ["ArcanConfig", "ConfigBuilder", "ResolvedConfig", "load_config"]
