"""What ``arcan exec`` loads and builds on its way to the first request, and why it stays correct.

Startup cost is measured in ``benches/exec_whole_process.py``; these tests pin the behaviour the
savings rest on: a real ``arcan exec`` run (a model that reads a file, over HTTP) loads none of
the modules it has no use for; a tool call whose schema compiles never imports ``jsonschema``
(yet a bad call still gets ``jsonschema``'s wording); the tools' schemas come precomputed and
equal to what their models give; and a plain-HTTP provider client never loads a CA bundle while
anything else keeps full TLS verification.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given

from arcan_core.errors import ToolError, ToolInputError
from arcan_core.protocol.events import Event
from arcan_core.protocol.events import Warning as WarningEvent
from arcan_core.providers.http import tls_verify_for
from arcan_core.tools.builtin import BUILTIN_TOOLS
from arcan_core.tools.registry import ToolRegistry, default_registry
from tests.loopback.replies import Reply, ToolCall
from tests.loopback.server import ThreadedLoopback
from tests.test_protocol_roundtrip import events_strategy

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import BaseModel

    from arcan_core.tools.schema import SchemaPair

# ``arcan exec`` as the console script runs it, writing to the file given as the first argument,
# when the process exits, the names of the loaded modules and whether ``Event``'s own validator
# and serializer (one for every payload type) were built.
EXEC_RECORDING_MODULES = """
import atexit, json, sys
out = sys.argv.pop(1)

def record():
    import gc
    event = sys.modules["arcan_core.protocol.events"].Event
    done = {
        "modules": sorted(sys.modules),
        "event_built": event.__pydantic_complete__,
        "collector": [gc.isenabled(), gc.get_freeze_count()],
    }
    with open(out, "w") as file:
        json.dump(done, file)

atexit.register(record)
from arcan_tui.cli import entry
entry()
"""

NOT_FOR_EXEC = (
    # Front-end libraries, and parts of arcan only other commands or features use.
    "textual",
    "rich",
    "prompt_toolkit",
    "httpx._main",
    "arcan_core.mcp",
    "arcan_core.acp",
    "arcan_core.harness",
    "arcan_core.store.reader",
    "arcan_core.store.index",
    "arcan_tui.commands.sessions_cmd",
    "arcan_tui.commands.config_cmd",
    "arcan_tui.commands.models_cmd",
    "arcan_tui.commands.mcp_cmd",
    "arcan_tui.commands.acp_cmd",
    "arcan_tui.commands.shell_cmd",
    "arcan_tui.commands.harness_cmd",
    # The built-in tools it does not call (the model only reads).
    "arcan_core.tools.builtin.search",
    "arcan_core.tools.builtin.write",
    "arcan_core.tools.builtin.edit",
    "arcan_core.tools.builtin.patch",
    "arcan_core.tools.builtin.bash",
    "arcan_core.tools.builtin.todo",
    "arcan_core.tools.builtin.web_fetch",
    # Loaded on first use by what needs them: invalid tool calls, path rules and searches,
    # saved permissions, TOML files, diffs of edits, HTML pages.
    "jsonschema",
    "pathspec",
    "tomli_w",
    "tomllib",
    "difflib",
    "markdownify",
    "bs4",
)


def test_an_exec_run_loads_only_what_it_uses(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("hello\n")
    record = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCAN_", "ANTHROPIC_"))}
    env.update(
        ANTHROPIC_API_KEY="loopback",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        HOME=str(tmp_path / "home"),
    )
    with ThreadedLoopback() as server:
        server.enqueue(
            Reply(tool_calls=(ToolCall("read", {"path": "notes.txt"}),)),
            Reply(text="The notes say hello."),
        )
        done = subprocess.run(
            [
                *(sys.executable, "-c", EXEC_RECORDING_MODULES, str(record)),
                *("exec", "-C", str(project), "--provider", "anthropic"),
                *("--base-url", server.anthropic_base_url, "--model", "loopback-model"),
                "read notes.txt",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "The notes say hello."
    recorded = json.loads(record.read_text())
    assert recorded["event_built"] is False
    # Start-up's objects were frozen once the core was open, and the collector ran the task.
    collecting, frozen = recorded["collector"]
    assert collecting is True
    assert frozen > 10_000
    loaded = set(recorded["modules"])
    # The run did what it was meant to: a request, a tool call, a session log.
    assert {"arcan_core.agent.loop", "arcan_core.tools.builtin.read", "arcan_core.store.log"} <= (
        loaded
    )
    assert sorted(name for name in loaded if _within(name, NOT_FOR_EXEC)) == []


def _within(module: str, packages: tuple[str, ...]) -> bool:
    """Whether ``module`` is one of ``packages`` or inside one of them."""
    return any(module == package or module.startswith(package + ".") for package in packages)


LAZY_REGISTRY = """
import json, sys
from arcan_core.tools.registry import default_registry
registry = default_registry()
registry.specs("ask")
before = sorted(m for m in sys.modules if m.startswith("arcan_core.tools.builtin."))
registry.validator("read").parse(json.dumps({"path": "notes.txt"}))
after = sorted(m for m in sys.modules if m.startswith("arcan_core.tools.builtin."))
print(json.dumps([before, after]))
"""


def test_the_default_registry_loads_a_tool_module_on_its_first_call() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LAZY_REGISTRY],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    before, after = json.loads(done.stdout)
    assert before == ["arcan_core.tools.builtin.lazy"]
    # ``read`` and its file helpers; no other tool's module.
    assert after == [
        "arcan_core.tools.builtin._files",
        "arcan_core.tools.builtin.lazy",
        "arcan_core.tools.builtin.read",
    ]


def test_the_lazy_builtins_are_the_builtins() -> None:
    lazy, eager = default_registry(), ToolRegistry(BUILTIN_TOOLS)
    assert lazy.names() == eager.names()
    for mode in ("plan", "ask", "auto-edit", "full-auto"):
        assert lazy.specs(mode) == eager.specs(mode)
    for name in eager.names():
        stand_in, real = lazy.get(name), eager.get(name)
        assert stand_in is not None
        assert real is not None
        described = (stand_in.read_only, stand_in.category, stand_in.rule_name)
        assert described == (real.read_only, real.category, real.rule_name)
        assert stand_in.input_model is real.input_model


async def test_a_lazy_builtin_runs_as_the_real_tool(tmp_path: Path) -> None:
    from arcan_core.tools.base import ToolContext  # noqa: PLC0415

    (tmp_path / "notes.txt").write_text("hello\n")
    registry = default_registry()
    tool = registry.get("read")
    assert tool is not None
    _, args = registry.validator("read").parse(json.dumps({"path": "notes.txt"}))
    ctx = ToolContext(workspace=tmp_path, call_id="c1", emit=lambda msg: None)
    assert tool.touched_paths(args, ctx) == (tmp_path / "notes.txt",)
    assert tool.summary(args, ctx) == "read notes.txt"
    result = await tool.run(args, ctx)
    assert "hello" in result.content
    # Attributes of a particular tool class are the real instance's.
    grep = registry.get("grep")
    assert grep is not None
    assert grep.rg == BUILTIN_TOOLS[2]().rg  # type: ignore[attr-defined]


VALID_CALL_ONLY = """
import json, sys
from arcan_core.tools.registry import default_registry
registry = default_registry()
registry.validator("read").parse(json.dumps({"path": "notes.txt"}))
print(json.dumps("jsonschema" in sys.modules))
"""


def test_a_valid_call_of_a_builtin_tool_never_imports_jsonschema() -> None:
    done = subprocess.run(
        [sys.executable, "-c", VALID_CALL_ONLY],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(done.stdout) is False


def test_an_invalid_call_is_still_worded_by_jsonschema() -> None:
    validator = default_registry().validator("read")
    with pytest.raises(ToolInputError) as caught:
        validator.parse(json.dumps({"path": 3}))
    assert "at $.path: 3 is not of type 'string'" in str(caught.value)


def test_plain_http_gets_a_context_that_trusts_no_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    context = tls_verify_for("http://127.0.0.1:8080/v1")
    assert isinstance(context, ssl.SSLContext)
    # Fail closed: an https:// hop would be verified against an empty trust store.
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.get_ca_certs() == []


@pytest.mark.parametrize("url", ["https://api.anthropic.com", "HTTPS://example.test/v1", None])
def test_anything_but_plain_http_keeps_full_verification(url: str | None) -> None:
    assert tls_verify_for(url) is True


def test_a_configured_proxy_keeps_full_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.test:3128")
    assert tls_verify_for("http://127.0.0.1:8080/v1") is True


def test_registering_the_builtin_tools_builds_no_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    from arcan_core.tools import schema  # noqa: PLC0415

    built: list[str] = []
    real = schema.build_schemas

    def counting(model: type[BaseModel]) -> SchemaPair:
        built.append(model.__name__)
        return real(model)

    monkeypatch.setattr(schema, "build_schemas", counting)
    registry = ToolRegistry(BUILTIN_TOOLS)
    validator = registry.validator("read")
    # Both schemas of every built-in come from the precomputed file; the validator is compiled
    # when a call needs it, once.
    assert built == []
    assert registry.validator("read") is validator
    assert validator.parse(json.dumps({"path": "a.txt"}))[0] == {"path": "a.txt"}


def test_the_precomputed_schemas_are_what_the_models_give(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from arcan_core.tools import schema  # noqa: PLC0415
    from arcan_core.tools.builtin.precompute import render  # noqa: PLC0415
    from arcan_core.tools.schema import PRECOMPUTED_FILE  # noqa: PLC0415

    stored = json.loads(PRECOMPUTED_FILE.read_text(encoding="utf-8"))
    expected = json.loads(render())
    hint = "run `python -m arcan_core.tools.builtin.precompute`"
    # The tool table is arcan's own code: it must always be current.
    assert stored["tools"] == expected["tools"], hint
    if stored["pydantic"] == expected["pydantic"]:
        # Fails after a change to a tool's input model until the file is written again.
        assert PRECOMPUTED_FILE.read_text(encoding="utf-8") == render(), hint
    else:
        # Written with another pydantic (an install newer than the file): its schemas are not
        # trusted, every schema is built instead.
        monkeypatch.setattr(schema, "_document", None)
        assert schema.precomputed()["schemas"] == {}


def test_schemas_stored_for_another_pydantic_are_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from arcan_core.tools import schema  # noqa: PLC0415

    monkeypatch.setattr(schema, "_document", None)
    monkeypatch.setattr(schema, "pydantic_version", lambda: "0.0-other")
    document = schema.precomputed()
    assert document["schemas"] == {}
    assert document["tools"]  # the tool table does not depend on pydantic
    pair = schema.schemas_of(BUILTIN_TOOLS[0].input_model)
    assert pair.validation == schema.build_schemas(BUILTIN_TOOLS[0].input_model).validation


def test_every_builtin_schema_is_the_built_one_and_a_copy() -> None:
    from arcan_core.tools.schema import build_schemas, schemas_of  # noqa: PLC0415

    for tool in BUILTIN_TOOLS:
        built = build_schemas(tool.input_model)
        assert tool.input_schema() == built.model_facing
        assert tool.validation_schema() == built.validation
        # Key order is what the model reads: the input model's declaration order.
        assert list(tool.input_schema()["properties"]) == list(built.model_facing["properties"])
    first = schemas_of(BUILTIN_TOOLS[0].input_model)
    first.model_facing["properties"].clear()
    assert schemas_of(BUILTIN_TOOLS[0].input_model).model_facing["properties"]


def test_a_model_without_a_precomputed_schema_gets_built_ones() -> None:
    from pydantic import BaseModel as Model  # noqa: PLC0415

    from arcan_core.tools.schema import build_schemas, schemas_of  # noqa: PLC0415

    class LocalInput(Model):
        """A plugin's input."""

        path: str
        limit: int | None = None

    pair = schemas_of(LocalInput)
    expected = build_schemas(LocalInput)
    assert pair.model_facing == expected.model_facing
    assert pair.validation == expected.validation
    assert pair.validation["required"] == ["path"]


def test_a_tool_supplying_a_broken_schema_still_fails_at_registration() -> None:
    class Broken(BUILTIN_TOOLS[0]):  # type: ignore[misc, valid-type]
        name = "broken"

        @classmethod
        def validation_schema(cls) -> dict[str, Any]:
            return {"type": "object", "properties": {"a": {"type": "strin"}}}

    with pytest.raises(ToolError, match="not valid JSON Schema"):
        ToolRegistry([Broken])


@given(event=events_strategy())
def test_an_envelope_written_from_its_payload_is_the_models_json(event: Event) -> None:
    # What the log and ``--json`` write must stay byte for byte what pydantic writes.
    assert event.to_json() == event.model_dump_json()
    unvalidated = Event.model_construct(**dict(event))
    assert unvalidated.to_json() == event.model_dump_json()
    assert Event.model_validate_json(unvalidated.to_json()) == event


def test_a_lone_surrogate_fails_like_the_model_and_the_log_still_writes_the_line() -> None:
    from pydantic_core import PydanticSerializationError  # noqa: PLC0415

    from arcan_core.store.log import _json_line  # noqa: PLC0415

    event = Event.model_construct(
        session_id="s", seq=0, ts=datetime.now(UTC), msg=WarningEvent(message="bad \udcff byte")
    )
    with pytest.raises(PydanticSerializationError):
        event.to_json()
    assert json.loads(_json_line(event))["msg"]["message"].startswith("bad ")


def test_the_bus_refuses_a_clock_without_a_time_zone_and_a_negative_start() -> None:
    from arcan_core.agent.bus import EventBus  # noqa: PLC0415

    with pytest.raises(ValueError, match="sequence"):
        EventBus("s", next_seq=-1)
    bus = EventBus("s", clock=lambda: datetime(2026, 1, 1))  # noqa: DTZ001 - the point
    with pytest.raises(ValueError, match="timezone"):
        bus.publish(WarningEvent(message="x"))


def test_a_new_log_and_its_first_records_are_made_durable_by_one_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arcan_core.protocol.events import TurnStarted  # noqa: PLC0415
    from arcan_core.protocol.records import SessionHeader  # noqa: PLC0415
    from arcan_core.store import ProjectPaths, SessionWriter, load_session  # noqa: PLC0415

    synced: list[int] = []
    real_fsync = os.fsync

    def counting(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting)
    created = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    header = SessionHeader(
        session_id="20261125T090000-abcdef",
        arcan_version="0.1.0",
        created=created,
        cwd=str(tmp_path),
        provider="anthropic",
        model="m",
    )
    first = Event(
        session_id=header.session_id,
        seq=0,
        ts=created,
        msg=TurnStarted(turn_id="t1", prompt="fix the tests"),
    )
    paths = ProjectPaths(tmp_path)
    writer = SessionWriter.create(paths, header, records=[first])
    # The log and its directory: the first record did not cost a sync of its own.
    assert len(synced) == 2
    writer.close()
    loaded = load_session(writer.path)
    assert loaded.header == header
    assert loaded.events == [first]
    meta = json.loads(paths.session_meta(header.session_id).read_text())
    assert (meta["turns"], meta["title"]) == (1, "fix the tests")


def test_exec_leaves_a_collector_its_caller_turned_off_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gc  # noqa: PLC0415

    from arcan_tui.cli import main  # noqa: PLC0415

    for name in ("XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name))
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"text": "done"}]))
    project = tmp_path / "project"
    project.mkdir()
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        argv = ["exec", "-C", str(project), "--provider", "scripted", "--script", str(script)]
        assert main([*argv, "go"]) == 0
        assert not gc.isenabled()
        assert gc.get_freeze_count() == frozen
    finally:
        gc.enable()
    assert capsys.readouterr().out.strip() == "done"
