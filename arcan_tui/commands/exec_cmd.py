"""``arcan exec [PROMPT]``: run one task headless and exit.

The prompt comes from the argument or, when absent, from standard input. The final answer goes to
stdout, progress to stderr; ``--json`` streams the session's events as JSON lines instead. Calls
that need approval are denied with a reason the model reads (pick ``--mode`` to allow more).

Exit codes: 0 the task finished; 1 it failed (a provider error, a limit reached); 2 usage or
configuration error; 130 interrupted (Ctrl-C; a second Ctrl-C exits at once). With
``--until-green`` the harness drives the task, and 0 means every setpoint was met.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from arcan_core.agent.session import CoreOptions
    from arcan_core.harness.loop import Harness
    from arcan_tui.headless import HeadlessPrinter

HELP = "run one task without the TUI: answer on stdout, progress on stderr"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
STREAM_READ_BATCH_S = 0.05
"""How often a headless run reads a streamed reply's socket: 20 wake-ups a second instead of one
per delta (200 a second for a fast model); the answer is printed when the task ends anyway."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the prompt and the headless options."""
    parser.add_argument("prompt", nargs="?", help="the task (default: read from stdin)")
    parser.add_argument(
        "--json", action="store_true", help="print the session's events as JSON lines"
    )
    parser.add_argument("--max-turns", type=int, metavar="N", help="most model steps for the task")
    parser.add_argument("--max-cost", type=float, metavar="USD", help="most dollars for the task")
    import argparse  # noqa: PLC0415 - the module imports it only for type checking

    # SUPPRESS, not None: an unset flag here must leave alone the same flag given before the
    # subcommand (``arcan --continue exec …``), which the top-level parser already stored.
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument(
        "-c",
        "--continue",
        dest="continue_",
        action="store_true",
        default=argparse.SUPPRESS,
        help="go on with the latest session of the project",
    )
    resume.add_argument(
        "-r", "--resume", metavar="ID", default=argparse.SUPPRESS, help="go on with session ID"
    )
    parser.add_argument(
        "--script", metavar="FILE", help="transcript for --provider scripted (tests, demos)"
    )
    parser.add_argument(
        "--no-checkpoints", action="store_true", help="do not snapshot the working tree"
    )
    parser.add_argument(
        "--until-green",
        action="store_true",
        help="drive the task with the harness until every check passes (exit 0 only then)",
    )


def _prompt(args: argparse.Namespace) -> str:
    from arcan_core.errors import UsageError  # noqa: PLC0415

    if args.prompt is not None:
        text: str = args.prompt
    elif not sys.stdin.isatty():
        text = sys.stdin.read()
    else:
        raise UsageError(
            "no prompt: give one as an argument or on standard input",
            hint='arcan exec "explain this repository"',
        )
    if not text.strip():
        raise UsageError("the prompt is empty", hint='arcan exec "explain this repository"')
    return text.strip()


def _check_budgets(args: argparse.Namespace) -> None:
    """Refuse budgets that cannot be met, before any configuration or session is touched.

    Raises:
        UsageError: ``--max-turns`` below 1, or ``--max-cost`` negative or not a number.
    """
    import math  # noqa: PLC0415

    from arcan_core.errors import UsageError  # noqa: PLC0415

    if args.max_turns is not None and args.max_turns < 1:
        raise UsageError(
            f"--max-turns {args.max_turns}: the task needs at least 1 step",
            hint="give a positive count, such as --max-turns 10",
        )
    if args.max_cost is not None and not (math.isfinite(args.max_cost) and args.max_cost >= 0):
        raise UsageError(
            f"--max-cost {args.max_cost:g}: a budget in dollars must be 0 or more",
            hint="give an amount such as --max-cost 0.50",
        )


def _options(args: argparse.Namespace) -> CoreOptions:
    from arcan_core.agent.session import CoreOptions  # noqa: PLC0415
    from arcan_core.agent.state import TurnLimits  # noqa: PLC0415
    from arcan_core.config.builder import load_config  # noqa: PLC0415
    from arcan_tui.cli import config_flags, project_dir  # noqa: PLC0415

    project = project_dir(args)
    flags = config_flags(args)
    flags["script"] = args.script
    config = load_config(project, flags=flags).config
    # The budgets go into the harness table too: with --until-green the harness, not the core's
    # step limit, enforces them (``harnessed`` takes its limits from that table).
    budgets: dict[str, object] = {}
    if args.max_turns is not None:
        budgets["max_turns"] = args.max_turns
    if args.max_cost is not None:
        budgets["max_cost_usd"] = args.max_cost
    if budgets:
        config = config.model_copy(update={"harness": config.harness.model_copy(update=budgets)})
    harness = config.harness
    limits = TurnLimits(
        max_steps=args.max_turns if args.max_turns is not None else harness.max_turns,
        max_cost_usd=args.max_cost if args.max_cost is not None else harness.max_cost_usd,
        max_tokens=harness.max_tokens,
    )
    given: str | None = getattr(args, "resume", None)
    resume = given or ("continue" if getattr(args, "continue_", False) else "new")
    return CoreOptions(
        project_dir=project,
        config=config,
        resume=resume,
        interactive=False,
        limits=limits,
        checkpoints=not args.no_checkpoints,
        # No watcher or background check runs a one-shot task would not wait for; with
        # --until-green the harness ``harnessed`` builds reads the checks (see ARCHITECTURE.md,
        # "The core builds its own harness").
        live_checks=False,
        # Nothing here shows a delta (stdout gets the final answer, --json the logged records):
        # reading the stream in batches saves most of the per-delta wake-ups.
        read_batch_s=STREAM_READ_BATCH_S,
    )


def _require_key(options: CoreOptions) -> None:
    """Fail before the core opens (and a session is made) when the provider's key is missing.

    A missing key is configuration, like an unknown provider: exit 2 with the variable to set,
    not a failed turn in a new session. The provider class says through the registry whether it
    needs a key (``api_key_env``), so no provider is named here. A key the server rejects is
    still found only by the first request and ends the task with exit 1.

    Raises:
        ConfigError: the provider needs a key and neither the environment nor the key file
            holds one (or no provider is configured at all).
    """
    from arcan_core.errors import ConfigError  # noqa: PLC0415
    from arcan_core.providers.registry import provider_class, settings_for  # noqa: PLC0415

    settings = settings_for(options.config, env=options.env)
    key_env = provider_class(settings.name).api_key_env
    if key_env and not settings.api_key:
        raise ConfigError(
            f"no API key for the {settings.name} provider",
            hint=f"set {key_env} (or pick another provider with --provider)",
        )


async def _drive(
    options: CoreOptions,
    prompt: str,
    printer: HeadlessPrinter,
    harness: Harness | None = None,
    *,
    on_open: Callable[[], None] | None = None,
) -> int:
    import asyncio  # noqa: PLC0415
    import signal  # noqa: PLC0415

    from arcan_core.agent.session import open_core  # noqa: PLC0415
    from arcan_core.protocol.events import TurnFinished, TurnStarted  # noqa: PLC0415
    from arcan_core.protocol.operations import Interrupt, Shutdown, SubmitPrompt  # noqa: PLC0415

    if harness is not None:
        await harness.start()
    core = await open_core(options)
    if on_open is not None:
        on_open()
    # The printer shows records only (the answer once, tool lines, the JSON of the log).
    events = core.subscribe(deltas=False)
    interrupted = False

    def on_sigint() -> None:
        nonlocal interrupted
        if interrupted:
            raise KeyboardInterrupt
        interrupted = True
        core.submit(Interrupt())

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        core.submit(SubmitPrompt(text=prompt))
        turn_id: str | None = None
        async for event in events:
            printer.handle(event)
            msg = event.msg
            if event.parent_call_id is not None:
                continue
            if isinstance(msg, TurnStarted) and turn_id is None:
                turn_id = msg.turn_id
            elif isinstance(msg, TurnFinished) and msg.turn_id == turn_id:
                core.submit(Shutdown())
        await core.wait_closed()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        if harness is not None:
            await harness.close()
    limit = core.last_turn.limit_hit if core.last_turn is not None else None
    notes = [f"stopped: {limit}"] if limit else []
    if printer.summary.denied:
        # Each ⊘ line says how to allow its call; no mode fits every denial (a dangerous
        # command asks in all of them), so the summary only counts.
        notes.append(f"{printer.summary.denied} call(s) denied for want of approval (see above)")
    printer.final(note=" · ".join(notes) or None)
    code = _exit_code(printer.summary.stop_reason, limit=limit, interrupted=interrupted)
    if harness is not None and code == EXIT_OK:
        # --until-green: success means every setpoint met, not merely that the model stopped.
        green = harness.outcome == "completed" and harness.all_met
        return EXIT_OK if green else EXIT_FAILED
    return code


def _exit_code(stop_reason: str | None, *, limit: str | None, interrupted: bool) -> int:
    if interrupted or stop_reason == "interrupted":
        return EXIT_INTERRUPTED
    if stop_reason in ("error", "refusal", None) or limit is not None:
        return EXIT_FAILED
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Run the task and return the exit code."""
    import gc  # noqa: PLC0415

    # Start-up builds some 65,000 container objects (modules, classes, pydantic schemas) that
    # live as long as the process, so the cyclic collector's passes over them while they are
    # built, and the interpreter's last pass at exit, free next to nothing: ~40 ms of a ~300 ms
    # run. It is off until the core is open; then they are frozen (later collections and the
    # exit skip them) and it is on again for the task, however long that runs (ARCHITECTURE.md,
    # "The cyclic collector in arcan exec").
    if not gc.isenabled():
        return _run(args)  # an embedder that manages the collector itself
    gc.disable()

    def settle() -> None:
        gc.freeze()
        gc.enable()

    try:
        return _run(args, on_open=settle)
    finally:
        gc.enable()


def _run(args: argparse.Namespace, *, on_open: Callable[[], None] | None = None) -> int:
    import asyncio  # noqa: PLC0415

    from arcan_tui.headless import HeadlessPrinter, skip_httpx_cli  # noqa: PLC0415

    skip_httpx_cli()
    _check_budgets(args)
    prompt = _prompt(args)
    options = _options(args)
    _require_key(options)
    harness = None
    if args.until_green:
        from arcan_core.harness.loop import harnessed  # noqa: PLC0415

        options, harness = harnessed(options)
        sys.stderr.write(harness.setpoints.describe() + "\n")
        if not harness.setpoints.harness.checks:
            from arcan_core.errors import UsageError  # noqa: PLC0415

            # With nothing to check, "every setpoint met" would be vacuously true: exit 0 for
            # a task nobody verified.
            raise UsageError(
                "--until-green needs checks to turn green, and this project has none",
                hint="add [harness.checks.NAME] tables, or run `arcan harness init`",
            )
    printer = HeadlessPrinter(sys.stdout, sys.stderr, json_lines=args.json)
    return asyncio.run(_drive(options, prompt, printer, harness, on_open=on_open))
