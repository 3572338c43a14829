"""A fake Amazon Bedrock runtime on loopback that streams scripted answers.

It serves two operations over real HTTP, so the real botocore client parses every byte:

* ``bedrock-agent-runtime`` InvokeAgent:
  ``POST /agents/{agentId}/agentAliases/{agentAliasId}/sessions/{sessionId}/text``
* ``bedrock-runtime`` ConverseStream: ``POST /model/{modelId}/converse-stream``

A successful answer is a 200 response with ``Content-Type: application/vnd.amazon.eventstream`` whose body is
sent with ``Transfer-Encoding: chunked``, one HTTP chunk per event-stream message, so a client sees each event as
soon as it is written. The connection is closed after every response.

Event-stream encoding (all integers big-endian)::

    message = prelude | headers | payload | message_crc
    prelude = total_length (u32) | headers_length (u32) | prelude_crc (u32, CRC32 of the first 8 bytes)
    header  = name_length (u8) | name | value_type (u8, 7 = string) | value_length (u16) | value
    message_crc = CRC32 of everything before it

An event carries the headers ``:message-type: event``, ``:event-type: <member of the stream shape>`` and
``:content-type: application/json``; its payload is the event shape as JSON (blobs base64-encoded). An
exception carries ``:message-type: exception`` and ``:exception-type: <member>``, payload ``{"message": ...}``;
botocore raises it as ``EventStreamError`` while the stream is iterated.

Usage::

    fake = FakeBedrock()
    fake.script([chunk("Hello "), chunk("world")], [http_error(429, "ThrottlingException", "Rate exceeded")])
    client = boto3.client("bedrock-agent-runtime", endpoint_url=fake.url, ...)

Each scripted response (a list of steps, served FIFO, one per request) may nest lists, so the sequences
returned by ``converse_text`` / ``converse_tool_use`` can be used as a whole response or spliced into one.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import sys
import threading
import time
import uuid
import zlib
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

__all__ = [
    "FakeBedrock",
    "Step",
    "chunk",
    "converse_text",
    "converse_tool_use",
    "corrupt",
    "encode_message",
    "exception",
    "http_error",
    "pause",
    "return_control",
    "trace",
    "truncate",
]

STRING_HEADER = 7
EVENTSTREAM = "application/vnd.amazon.eventstream"
ROUTES = [
    ("invoke_agent", re.compile(r"^/agents/([^/]+)/agentAliases/([^/]+)/sessions/([^/]+)/text$")),
    ("converse_stream", re.compile(r"^/model/([^/]+)/converse-stream$")),
]


# --- wire encoding ---------------------------------------------------------------------------------------------


def encode_message(headers: dict[str, str], payload: bytes, *, bad_crc: bool = False) -> bytes:
    """One event-stream message with string headers; ``bad_crc`` flips the message CRC."""
    header_bytes = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        header_bytes += struct.pack(">B", len(raw_name)) + raw_name
        header_bytes += struct.pack(">BH", STRING_HEADER, len(raw_value)) + raw_value
    prelude = struct.pack(">II", 12 + len(header_bytes) + len(payload) + 4, len(header_bytes))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + header_bytes + payload
    crc = zlib.crc32(message) ^ (0xFFFFFFFF if bad_crc else 0)
    return message + struct.pack(">I", crc)


# --- script steps ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing the server does: ``kind`` is event, exception, http_error, pause, truncate or corrupt."""

    kind: str
    name: str = ""  # event type, exception type or HTTP error type
    payload: Any = None  # JSON payload, {"status", "message"} for http_error, seconds for pause


def chunk(text: str) -> Step:
    """An InvokeAgent ``chunk`` event (PayloadPart); ``bytes`` is a blob, so base64 in JSON."""
    return Step("event", "chunk", {"bytes": base64.b64encode(text.encode()).decode("ascii")})


def return_control(invocation_id: str, calls: list[tuple[str, dict]], action_group: str = "store-tools") -> Step:
    """An InvokeAgent ``returnControl`` event: one functionInvocationInput per ``(function, params)`` call.

    Parameter values are sent as strings (``str(value)``), each typed ``"string"``, as Bedrock does.
    """
    inputs = [
        {
            "functionInvocationInput": {
                "actionGroup": action_group,
                "function": function,
                "parameters": [{"name": k, "type": "string", "value": str(v)} for k, v in params.items()],
            }
        }
        for function, params in calls
    ]
    return Step("event", "returnControl", {"invocationId": invocation_id, "invocationInputs": inputs})


def trace(obj: dict) -> Step:
    """An InvokeAgent ``trace`` event (TracePart). ``obj`` is the ``Trace`` union, e.g.
    ``{"orchestrationTrace": {"rationale": {"text": "..."}}}``; the server adds agentId, agentAliasId and
    sessionId from the request path."""
    return Step("event", "trace", {"trace": obj})


def exception(kind: str, message: str = "Scripted failure") -> Step:
    """An exception message, e.g. ``exception("throttlingException")``; botocore raises EventStreamError."""
    return Step("exception", kind, {"message": message})


def http_error(status: int, error_type: str, message: str) -> Step:
    """A plain HTTP error instead of a stream (must be the only step of its response): ClientError at call time.

    botocore retries 429 and 5xx: with ``retries={"max_attempts": 1}`` the retry takes the next scripted response.
    """
    return Step("http_error", error_type, {"status": status, "message": message})


def pause(seconds: float) -> Step:
    """Sleep between events; everything before it has already been sent."""
    return Step("pause", payload=seconds)


def truncate() -> Step:
    """Send only the first half of the next message, then close the connection without ending the body
    (the iterating client gets ``urllib3.exceptions.ProtocolError``)."""
    return Step("truncate")


def corrupt() -> Step:
    """Send the next message with a wrong message CRC (``botocore.eventstream.ChecksumMismatch``)."""
    return Step("corrupt")


def _event(event_type: str, payload: dict) -> Step:
    return Step("event", event_type, payload)


def _split(text: str, pieces: int) -> list[str]:
    """``text`` in ``pieces`` nearly equal parts (fewer if it is shorter), none empty."""
    pieces = max(1, pieces)
    bounds = [i * len(text) // pieces for i in range(pieces + 1)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


def _text_block(text: str, pieces: int) -> list[Step]:
    deltas = [_event("contentBlockDelta", {"delta": {"text": p}, "contentBlockIndex": 0}) for p in _split(text, pieces)]
    return [*deltas, _event("contentBlockStop", {"contentBlockIndex": 0})]


def _message_end(stop_reason: str) -> list[Step]:
    usage = {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}
    return [
        _event("messageStop", {"stopReason": stop_reason}),
        _event("metadata", {"usage": usage, "metrics": {"latencyMs": 1}}),
    ]


def converse_text(text: str, stop_reason: str = "end_turn", pieces: int = 3) -> list[Step]:
    """A whole ConverseStream text answer: messageStart, ``pieces`` text deltas, stops and metadata."""
    return [_event("messageStart", {"role": "assistant"}), *_text_block(text, pieces), *_message_end(stop_reason)]


def converse_tool_use(tool_use_id: str, name: str, input_dict: dict, text_before: str = "") -> list[Step]:
    """A whole ConverseStream tool call: optional text block 0 (two deltas), then a toolUse block whose JSON
    input arrives in two deltas, then messageStop ``tool_use`` and metadata. The toolUse block is index 1 after
    text, index 0 without (as Bedrock numbers blocks)."""
    steps = [_event("messageStart", {"role": "assistant"})]
    index = 0
    if text_before:
        steps += _text_block(text_before, 2)
        index = 1
    raw_input = json.dumps(input_dict)
    half = len(raw_input) // 2
    steps.append(
        _event(
            "contentBlockStart",
            {"start": {"toolUse": {"toolUseId": tool_use_id, "name": name}}, "contentBlockIndex": index},
        )
    )
    for part in (raw_input[:half], raw_input[half:]):
        steps.append(_event("contentBlockDelta", {"delta": {"toolUse": {"input": part}}, "contentBlockIndex": index}))
    steps.append(_event("contentBlockStop", {"contentBlockIndex": index}))
    return steps + _message_end("tool_use")


def _flatten(response: Any) -> list[Step]:
    if isinstance(response, Step):
        return [response]
    return [step for item in response for step in _flatten(item)]


# --- server ----------------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeBedrock

    def handle_error(self, request, client_address):
        # A client that stops reading mid-stream (after a corrupt message, say) is expected, not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):
        pass

    def do_POST(self):
        self.close_connection = True
        raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        operation, params = next(((op, m.groups()) for op, rx in ROUTES if (m := rx.match(self.path))), (None, ()))
        if operation is None:
            self._send_error(404, "UnknownOperationException", f"the fake serves no operation at {self.path}")
            return
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            body = None
        record = {"path": self.path, "headers": dict(self.headers.items()), "json": body, "operation": operation}
        steps = self.server.fake._take(record)
        if steps is None:
            self._send_error(500, "InternalServerException", "no scripted response")
        elif steps[0].kind == "http_error":
            self._send_error(steps[0].payload["status"], steps[0].name, steps[0].payload["message"])
        else:
            self._stream(operation, [unquote(p) for p in params], steps)

    def _send_error(self, status: int, error_type: str, message: str):
        data = json.dumps({"message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, operation: str, params: list[str], steps: list[Step]):
        self.send_response(200)
        self.send_header("Content-Type", EVENTSTREAM)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.send_header("Connection", "close")
        if operation == "invoke_agent":
            self.send_header("x-amzn-bedrock-agent-content-type", "application/json")
            self.send_header("x-amz-bedrock-agent-session-id", params[2])
        self.end_headers()
        damage = None  # "truncate" or "corrupt": applies to the next message
        for step in steps:
            if step.kind == "pause":
                time.sleep(step.payload)
                continue
            if step.kind in ("truncate", "corrupt"):
                damage = step.kind
                continue
            payload = step.payload
            if step.kind == "event":
                headers = {":message-type": "event", ":event-type": step.name}
                if step.name == "trace" and operation == "invoke_agent":
                    payload = {"agentId": params[0], "agentAliasId": params[1], "sessionId": params[2], **payload}
            else:
                headers = {":message-type": "exception", ":exception-type": step.name}
            headers[":content-type"] = "application/json"
            message = encode_message(headers, json.dumps(payload).encode(), bad_crc=damage == "corrupt")
            if damage == "truncate":
                self._write_chunk(message[: len(message) // 2])
                return  # no terminating chunk: the body ends prematurely
            self._write_chunk(message)
            damage = None
        if damage != "truncate":
            self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, data: bytes):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


class FakeBedrock:
    """The fake runtime, serving on ``self.url`` from construction until ``close()``."""

    def __init__(self):
        self._lock = threading.Lock()
        self._script: deque[list[Step]] = deque()
        self.requests: list[dict] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-bedrock", daemon=True
        )
        self._thread.start()

    def script(self, *responses) -> None:
        """Queue one response (a list of steps, or a single step) per future request, first in first out."""
        for response in responses:
            steps = _flatten(response)
            if any(s.kind == "http_error" for s in steps) and len(steps) != 1:
                raise ValueError("http_error must be the only step of its response")
            with self._lock:
                self._script.append(steps)

    def _take(self, record: dict) -> list[Step] | None:
        with self._lock:
            self.requests.append(record)
            return self._script.popleft() if self._script else None

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeBedrock:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
