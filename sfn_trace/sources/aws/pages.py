"""A GetExecutionHistory page decoded where botocore spends its time.

botocore reads an answer in two passes: :func:`json.loads` of the body, then a walk of the
whole result along the operation's output shape, member by member, to turn the values that
JSON cannot hold (timestamps, blobs) into Python ones. For a page of 1,000 history events
with execution data the walk costs more than the decoding (41 ms against 16 ms for a 1.9 MB
page, botocore's timestamp reader already replaced), and a long history is 25 such pages.

:class:`ParserFactory`, registered as the ``response_parser_factory`` of the botocore session
sfn-trace's clients come from (:func:`sfn_trace.sources.aws.client.new_session`), makes
botocore's own JSON parser, except for one shape: a ``GetExecutionHistoryOutput`` body is
decoded by msgspec (5 ms for the same page) and its one timestamp member,
``events[].timestamp`` (the only member of the output shape JSON cannot hold), read by
botocore's timestamp reader as set on the factory. The result is what botocore's walk gives:
the same members with the same values, nulls left out as botocore leaves them out (at the
levels a history event has: the event, its details, their ``*Details`` objects). A member
the installed botocore does not model yet (a newer event type's details) is kept, where
botocore drops it: :meth:`~sfn_trace.model.events.HistoryEvent.from_api` reads any
``*EventDetails`` member, so a new event type is seen, not lost.

Anything else goes botocore's way: error answers, a body msgspec refuses (not UTF-8, not
JSON, lone surrogates, numbers beyond a float), and a body of another form than a page.

botocore makes a parser for every answer, and its parser keeps a method bound to itself
(its default blob reader) unless it is given one: a reference cycle per answer, which only
the cyclic collector frees, and the program runs without it (``sfn_trace.cli.main``), so a
scan's memory would grow with every page it reads. The factory gives every parser the same
blob reader, :func:`base64.b64decode` (what botocore's default calls), and no cycle is made.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, cast

from botocore.parsers import PROTOCOL_PARSERS, JSONParser, ResponseParserFactory

__all__ = ["HISTORY_PAGE", "ParserFactory", "decode_page"]

HISTORY_PAGE = "GetExecutionHistoryOutput"
"""The output shape decoded here."""


class ParserFactory(ResponseParserFactory):  # type: ignore[misc]
    """botocore's parser factory, whose ``json`` parser decodes history pages fast."""

    def create_parser(self, protocol_name: str) -> Any:
        # A blob reader of its own, not one bound to the parser: no cycle (see the module).
        defaults = {"blob_parser": base64.b64decode, **self._defaults}
        if protocol_name == "json":
            return _JSONParser(**defaults)
        return PROTOCOL_PARSERS[protocol_name](**defaults)


class _JSONParser(JSONParser):  # type: ignore[misc]
    def _handle_json_body(self, raw_body: bytes, shape: Any) -> Any:
        if shape is not None and shape.name == HISTORY_PAGE and raw_body:
            page = decode_page(raw_body, self._timestamp_parser)
            if page is not None:
                return page
        return super()._handle_json_body(raw_body, shape)


def decode_page(body: bytes, timestamp: Callable[[Any], Any]) -> dict[str, Any] | None:
    """The page in ``body`` as botocore's walk gives it, or None when it is not a page
    msgspec reads (botocore's parser then reads it, and reports what it must)."""
    import msgspec.json

    try:
        page: Any = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return None
    if not isinstance(page, dict):
        return None
    events = page.get("events")
    if not isinstance(events, list):
        return None
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            return None
        if None in event.values():
            event = events[index] = _without_nulls(event)
        stamp = event.get("timestamp")
        if stamp is not None:
            event["timestamp"] = timestamp(stamp)
        for value in event.values():
            if isinstance(value, dict):
                _drop_nulls(value)
    if None in page.values():
        page = _without_nulls(page)
    return cast("dict[str, Any]", page)


def _drop_nulls(details: dict[str, Any]) -> None:
    """An event's details without their null members, in place (and those of the objects
    they hold: ``inputDetails``, ``outputDetails``, ``assignedVariablesDetails``)."""
    if None in details.values():
        for key in [key for key, value in details.items() if value is None]:
            del details[key]
    for value in details.values():
        if isinstance(value, dict) and None in value.values():
            for key in [key for key, inner in value.items() if inner is None]:
                del value[key]


def _without_nulls(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value is not None}
