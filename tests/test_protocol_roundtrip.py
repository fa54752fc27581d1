"""Every persisted or transmitted protocol type survives model -> JSON -> model unchanged.

Strategies are derived from the pydantic models themselves (``model_strategy``), so a new event,
operation or content block is covered the day it joins its union; a field type the derivation
does not know makes these tests fail instead of being skipped. The store tests reuse the
strategies from here.
"""

from __future__ import annotations

import inspect
import types
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel, TypeAdapter

from arcan_core.protocol import events, messages, operations
from arcan_core.protocol.events import SCHEMA_VERSION, Event, EventMsg
from arcan_core.protocol.messages import ContentBlock, Message
from arcan_core.protocol.operations import Operation, Submission
from arcan_core.protocol.records import SessionHeader
from arcan_core.store.reader import parse_event_line, parse_header_line

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=8,
)
aware_datetimes = st.datetimes(
    min_value=datetime(1990, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
    max_value=datetime(2200, 1, 1),  # noqa: DTZ001
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    ),
)


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            bounds["min_value"] = item.ge
        elif isinstance(item, annotated_types.Gt):
            low: Any = item.gt
            bounds["min_value"] = low + (1 if isinstance(low, int) else 1e-9)
        elif isinstance(item, annotated_types.Le):
            bounds["max_value"] = item.le
    return bounds


def strategy_for(  # noqa: PLR0911 - one case per kind of annotation
    annotation: Any, metadata: list[Any] | None = None
) -> st.SearchStrategy[Any]:
    """Derive a strategy from a type annotation of the protocol; raise ``TypeError`` if unknown."""
    bounds = _bounds(metadata or [])
    origin = get_origin(annotation)
    args = get_args(annotation)
    if annotation is Any:
        return json_values
    if annotation is AwareDatetime:
        return aware_datetimes
    if origin is Annotated:
        return strategy_for(args[0], [*(metadata or []), *args[1:]])
    if origin in (Union, types.UnionType):
        return st.one_of([strategy_for(arg, metadata) for arg in args])
    if origin is Literal:
        return st.sampled_from(args)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(strategy_for(args[0]), max_size=3).map(tuple)
    if origin is dict:
        return st.dictionaries(text, strategy_for(args[1]), max_size=3)
    if annotation is type(None):
        return st.none()
    if annotation is str:
        return text
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(**{"min_value": -(2**31), "max_value": 2**31, **bounds})
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False, **bounds)
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return model_strategy(annotation)
    raise TypeError(f"no strategy for {annotation!r}")


def model_strategy(cls: type[BaseModel]) -> st.SearchStrategy[Any]:
    """Build instances of ``cls`` with every field drawn (defaults included in the draws)."""
    fields = {
        # ``v`` is the schema version of the record, not data: readers refuse other values.
        name: st.just(SCHEMA_VERSION)
        if name == "v"
        else strategy_for(info.annotation, list(info.metadata))
        for name, info in cls.model_fields.items()
    }
    return st.fixed_dictionaries(fields).map(lambda values: cls(**values))


def union_members(union: Any) -> list[type[BaseModel]]:
    """The classes of a discriminated union (``Annotated[A | B, Field(...)]``)."""
    return list(get_args(get_args(union)[0]))


def events_strategy(session_id: str = "s") -> st.SearchStrategy[Event]:
    """Envelopes with any payload, for ``session_id``."""
    return st.builds(
        Event,
        session_id=st.just(session_id),
        seq=st.integers(min_value=0, max_value=10**9),
        ts=aware_datetimes,
        parent_call_id=st.none() | text,
        msg=strategy_for(EventMsg),
    )


EVENT_MSGS = union_members(EventMsg)
OPERATIONS = union_members(Operation)
BLOCKS = union_members(ContentBlock)
RECORDS: list[type[BaseModel]] = [Event, Submission, SessionHeader, Message, messages.Usage]


def _declared(module: types.ModuleType, discriminator: str) -> set[type[BaseModel]]:
    """Classes of ``module`` that carry the discriminator field: every one must be in its union."""
    return {
        value
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
        and discriminator in value.model_fields
        and get_origin(value.model_fields[discriminator].annotation) is Literal
    }


def test_every_declared_payload_is_in_its_union() -> None:
    assert _declared(events, "type") == set(EVENT_MSGS)
    assert _declared(operations, "op") == set(OPERATIONS)
    assert _declared(messages, "type") == set(BLOCKS)


@pytest.mark.parametrize("cls", [*EVENT_MSGS, *OPERATIONS, *BLOCKS, *RECORDS], ids=str)
def test_every_type_has_a_strategy(cls: type[BaseModel]) -> None:
    # Raises TypeError for a field type the derivation does not know.
    model_strategy(cls)


@pytest.mark.parametrize("cls", [*EVENT_MSGS, *OPERATIONS, *BLOCKS, *RECORDS], ids=str)
@settings(max_examples=20)
@given(data=st.data())
def test_model_json_model_is_identity(cls: type[BaseModel], data: st.DataObject) -> None:
    value = data.draw(model_strategy(cls))
    assert cls.model_validate_json(value.model_dump_json()) == value


@given(event=events_strategy())
def test_event_round_trips_through_the_union_and_the_log_parser(event: Event) -> None:
    wire = event.model_dump_json()
    assert Event.model_validate_json(wire) == event
    assert parse_event_line(wire.encode()) == event
    payload = TypeAdapter(EventMsg).validate_json(event.msg.model_dump_json())
    assert payload == event.msg
    assert type(payload) is type(event.msg)


@given(submission=model_strategy(Submission))
def test_operation_round_trips_through_the_union(submission: Submission) -> None:
    again = Submission.model_validate_json(submission.model_dump_json())
    assert again == submission
    assert type(again.op) is type(submission.op)


@given(header=model_strategy(SessionHeader))
def test_header_round_trips_through_the_log_parser(header: SessionHeader) -> None:
    assert parse_header_line(header.model_dump_json().encode()) == header


def test_unknown_payload_type_is_refused() -> None:
    wire = '{"session_id":"s","seq":0,"ts":"2026-01-01T00:00:00Z","msg":{"type":"nope"}}'
    with pytest.raises(ValueError, match="nope"):
        Event.model_validate_json(wire)
