"""``arcan models``: the models the provider offers, with their limits and prices.

The list comes from the provider's ``GET /v1/models``, merged with the model registry (context
window, output limit, USD per million tokens, config overrides applied). ``--offline`` shows the
registry alone, without a request.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from arcan_core.config.model import ArcanConfig
    from arcan_core.providers.base import ModelInfo, Provider

HELP = "list the models the provider offers, with context window and prices"

_HEADER = ("model", "context", "max out", "$/M in", "$/M out", "$/M cache r", "$/M cache w")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--json`` and ``--offline``."""
    parser.add_argument("--json", action="store_true", help="print JSON (one array of objects)")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="show the built-in model registry only, without asking the provider",
    )


def _tokens(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    return f"{round(count / 1000)}k" if count >= 1000 else str(count)


def _price(value: float, known: bool) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") if known else "-"


def _row(info: ModelInfo, known: bool, current: bool) -> tuple[str, ...]:
    return (
        ("* " if current else "  ") + info.id,
        _tokens(info.context_window),
        _tokens(info.max_output_tokens),
        _price(info.input_per_mtok, known),
        _price(info.output_per_mtok, known),
        _price(info.cache_read_per_mtok, known),
        _price(info.cache_write_per_mtok, known),
    )


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"


async def _listed(provider: Provider) -> list[str]:
    try:
        return await provider.list_models()
    finally:
        await provider.aclose()


def collect(config: ArcanConfig, *, offline: bool) -> tuple[str, list[tuple[ModelInfo, bool]]]:
    """Return the provider name and ``(model info, known to the registry)`` per model.

    Raises:
        ConfigError: no provider is configured or detectable.
        ProviderError: the provider could not list its models.
    """
    from arcan_core.errors import AuthError  # noqa: PLC0415
    from arcan_core.providers.models import known_models, model_info  # noqa: PLC0415
    from arcan_core.providers.registry import create_provider, settings_for  # noqa: PLC0415

    settings = settings_for(config)
    provider = create_provider(settings)
    name = provider.name
    registry = [info.id for info in known_models(name)]
    try:
        ids = registry if offline else asyncio.run(_listed(provider))
    except AuthError as error:
        if settings.api_key:
            raise  # a rejected key: the provider's own message says what to check
        # No key at all: the registry's models can still be listed, so say how.
        raise AuthError(
            error.message,
            hint=f"{error.hint or 'set the API key'}; `arcan models --offline` lists the "
            "models arcan knows without asking the provider",
        ) from error
    rows = []
    for model_id in ids:
        info = model_info(name, model_id, config.models)
        known = model_id in config.models or info.input_per_mtok + info.output_per_mtok > 0
        rows.append((info, known))
    return name, rows


def run(args: argparse.Namespace) -> int:
    """Print the provider's models."""
    from arcan_core.config import load_config  # noqa: PLC0415 - keep `arcan --help` light
    from arcan_tui.cli import config_flags, project_dir  # noqa: PLC0415 - the cli imports us

    config = load_config(project_dir(args), flags=config_flags(args)).config
    name, rows = collect(config, offline=args.offline)
    current = config.model
    if args.json:
        payload = [
            {**info.model_dump(mode="json"), "priced": known, "current": info.id == current}
            for info, known in rows
        ]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return 0
    if not rows:
        sys.stdout.write(f"{name}: the provider lists no models\n")
        return 0
    table = [_HEADER] + [_row(info, known, info.id == current) for info, known in rows]
    sys.stdout.write(f"{name} models (prices in USD per million tokens)\n")
    sys.stdout.write(_table([(f"  {table[0][0]}", *table[0][1:]), *table[1:]]))
    return 0
