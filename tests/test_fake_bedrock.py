"""The fake Bedrock runtime, exercised with real boto3 clients over HTTP."""

from __future__ import annotations

import time

import boto3
import pytest
import urllib3
from botocore.config import Config
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError

from tests.support.fake_bedrock import (
    FakeBedrock,
    chunk,
    converse_text,
    converse_tool_use,
    corrupt,
    encode_message,
    exception,
    http_error,
    pause,
    return_control,
    trace,
    truncate,
)

AGENT_EXCEPTIONS = [
    "accessDeniedException",
    "badGatewayException",
    "conflictException",
    "dependencyFailedException",
    "internalServerException",
    "modelNotReadyException",
    "resourceNotFoundException",
    "serviceQuotaExceededException",
    "throttlingException",
    "validationException",
]
CONVERSE_EXCEPTIONS = [
    "internalServerException",
    "modelStreamErrorException",
    "validationException",
    "throttlingException",
    "serviceUnavailableException",
]
USER_MESSAGE = [{"role": "user", "content": [{"text": "Where is my order?"}]}]
METADATA = {"metadata": {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}}}


@pytest.fixture
def fake():
    with FakeBedrock() as server:
        yield server


def make_client(service: str, fake: FakeBedrock, retries: dict | None = None):
    # "max_attempts" counts retries, so {"max_attempts": 1} would retry a 429/5xx once; these tests want one request.
    return boto3.client(
        service,
        endpoint_url=fake.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries=retries or {"total_max_attempts": 1, "mode": "standard"}, read_timeout=5),
    )


@pytest.fixture
def agent(fake):
    return make_client("bedrock-agent-runtime", fake)


@pytest.fixture
def runtime(fake):
    return make_client("bedrock-runtime", fake)


@pytest.fixture
def opened():
    """Iterate an event stream the test may abandon half-read; it is closed at teardown."""
    streams = []

    def open_stream(stream):
        streams.append(stream)
        return iter(stream)

    yield open_stream
    for stream in streams:
        stream.close()


def invoke(agent, session_id: str = "sess-1", **kwargs):
    return agent.invoke_agent(agentId="AGENT1", agentAliasId="ALIAS1", sessionId=session_id, inputText="hi", **kwargs)


def converse(runtime, **kwargs):
    return runtime.converse_stream(modelId="test-model", messages=USER_MESSAGE, **kwargs)


def test_encode_message_is_parsed_by_botocore():
    raw = encode_message({":message-type": "event", ":event-type": "chunk"}, b'{"a": 1}')
    buffer = EventStreamBuffer()
    buffer.add_data(raw)
    [message] = list(buffer)
    assert message.headers == {":message-type": "event", ":event-type": "chunk"}
    assert message.payload == b'{"a": 1}'
    assert message.prelude.total_length == len(raw)
    assert message.prelude.headers_length == len(raw) - 12 - 8 - 4


def test_url_is_loopback(fake):
    assert fake.url.startswith("http://127.0.0.1:")
    assert int(fake.url.rsplit(":", 1)[1]) > 0


def test_invoke_agent_streams_chunks_in_order(fake, agent):
    fake.script([chunk("Hello "), chunk("world")])
    response = invoke(agent)
    assert response["sessionId"] == "sess-1"
    assert response["contentType"] == "application/json"
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/vnd.amazon.eventstream"
    assert list(response["completion"]) == [{"chunk": {"bytes": b"Hello "}}, {"chunk": {"bytes": b"world"}}]


def test_chunk_text_is_utf8(fake, agent):
    fake.script([chunk("Commande n° 1001 ✓")])
    assert list(invoke(agent)["completion"]) == [{"chunk": {"bytes": "Commande n° 1001 ✓".encode()}}]


def test_return_control_is_parsed(fake, agent):
    fake.script([return_control("inv-42", [("get_order", {"order_number": "1001"}), ("list_my_orders", {})])])
    events = list(invoke(agent)["completion"])
    assert events == [
        {
            "returnControl": {
                "invocationId": "inv-42",
                "invocationInputs": [
                    {
                        "functionInvocationInput": {
                            "actionGroup": "store-tools",
                            "function": "get_order",
                            "parameters": [{"name": "order_number", "type": "string", "value": "1001"}],
                        }
                    },
                    {
                        "functionInvocationInput": {
                            "actionGroup": "store-tools",
                            "function": "list_my_orders",
                            "parameters": [],
                        }
                    },
                ],
            }
        }
    ]


def test_return_control_action_group_and_string_values(fake, agent):
    fake.script([return_control("inv-1", [("get_order", {"order_number": 1001})], action_group="other")])
    [event] = list(invoke(agent)["completion"])
    [call] = event["returnControl"]["invocationInputs"]
    assert call["functionInvocationInput"]["actionGroup"] == "other"
    assert call["functionInvocationInput"]["parameters"] == [
        {"name": "order_number", "type": "string", "value": "1001"}
    ]


def test_trace_is_parsed_with_ids_from_the_path(fake, agent):
    orchestration = {"orchestrationTrace": {"rationale": {"text": "Look up the order", "traceId": "tr-1"}}}
    fake.script([trace(orchestration), chunk("done")])
    events = list(invoke(agent)["completion"])
    assert events == [
        {"trace": {"agentId": "AGENT1", "agentAliasId": "ALIAS1", "sessionId": "sess-1", "trace": orchestration}},
        {"chunk": {"bytes": b"done"}},
    ]


@pytest.mark.parametrize(
    "operation,kind",
    [("invoke_agent", k) for k in AGENT_EXCEPTIONS] + [("converse_stream", k) for k in CONVERSE_EXCEPTIONS],
)
def test_exception_events_raise_event_stream_error(fake, agent, runtime, opened, operation, kind):
    if operation == "invoke_agent":
        fake.script([chunk("partial"), exception(kind, "it broke")])
        events = opened(invoke(agent)["completion"])
        assert next(events) == {"chunk": {"bytes": b"partial"}}
    else:
        fake.script([converse_text("partial", pieces=1)[0], exception(kind, "it broke")])
        events = opened(converse(runtime)["stream"])
        assert next(events) == {"messageStart": {"role": "assistant"}}
    with pytest.raises(EventStreamError) as caught:
        next(events)
    assert caught.value.response["Error"] == {"Code": kind, "Message": "it broke"}


@pytest.mark.parametrize(
    "status,error_type,message",
    [
        (429, "ThrottlingException", "Rate exceeded"),
        (400, "ValidationException", "Input is invalid"),
        (403, "AccessDeniedException", "Not allowed"),
    ],
)
@pytest.mark.parametrize("operation", ["invoke_agent", "converse_stream"])
def test_http_error_raises_client_error_at_call_time(fake, agent, runtime, operation, status, error_type, message):
    fake.script([http_error(status, error_type, message)])
    with pytest.raises(ClientError) as caught:
        invoke(agent) if operation == "invoke_agent" else converse(runtime)
    assert not isinstance(caught.value, EventStreamError)
    assert caught.value.response["Error"] == {"Code": error_type, "Message": message}
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert [r["operation"] for r in fake.requests] == [operation]


def test_max_attempts_1_retries_a_throttled_call_once(fake):
    # The project's own setting: {"max_attempts": 1} allows one retry, which takes the next scripted response.
    agent = make_client("bedrock-agent-runtime", fake, retries={"max_attempts": 1, "mode": "standard"})
    fake.script([http_error(429, "ThrottlingException", "Rate exceeded")], [chunk("second try")])
    assert list(invoke(agent)["completion"]) == [{"chunk": {"bytes": b"second try"}}]
    assert len(fake.requests) == 2


def test_unscripted_request_gets_500(fake, agent):
    with pytest.raises(ClientError) as caught:
        invoke(agent)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert caught.value.response["Error"]["Message"] == "no scripted response"
    assert len(fake.requests) == 1


def test_truncate_raises_urllib3_protocol_error(fake, agent, opened):
    fake.script([chunk("first"), truncate(), chunk("never whole")])
    events = opened(invoke(agent)["completion"])
    assert next(events) == {"chunk": {"bytes": b"first"}}
    with pytest.raises(urllib3.exceptions.ProtocolError, match="Response ended prematurely"):
        next(events)


def test_truncate_in_converse_stream(fake, runtime, opened):
    fake.script([*converse_text("abc", pieces=1)[:2], truncate(), *converse_text("abc", pieces=1)[2:]])
    events = opened(converse(runtime)["stream"])
    assert next(events) == {"messageStart": {"role": "assistant"}}
    assert next(events) == {"contentBlockDelta": {"delta": {"text": "abc"}, "contentBlockIndex": 0}}
    with pytest.raises(urllib3.exceptions.ProtocolError):
        next(events)


def test_corrupt_raises_checksum_mismatch(fake, agent, opened):
    fake.script([chunk("first"), corrupt(), chunk("bad crc"), chunk("after")])
    events = opened(invoke(agent)["completion"])
    assert next(events) == {"chunk": {"bytes": b"first"}}
    with pytest.raises(ChecksumMismatch):
        next(events)


def test_pause_delivers_earlier_events_first(fake, agent, opened):
    fake.script([chunk("Hello "), pause(1.0), chunk("world")])
    started = time.monotonic()
    events = opened(invoke(agent)["completion"])
    assert next(events) == {"chunk": {"bytes": b"Hello "}}
    first = time.monotonic()
    assert next(events) == {"chunk": {"bytes": b"world"}}
    second = time.monotonic()
    assert first - started < 0.5
    assert second - first >= 0.9
    assert list(events) == []


def test_converse_text_events(fake, runtime):
    fake.script(converse_text("Your order shipped.", pieces=3))
    events = list(converse(runtime)["stream"])
    assert events == [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"text": "Your o"}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"text": "rder s"}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"text": "hipped."}, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
        METADATA,
    ]


def test_converse_text_stop_reason_and_short_text(fake, runtime):
    fake.script([converse_text("ok", stop_reason="max_tokens", pieces=5)])
    events = list(converse(runtime)["stream"])
    assert [e for e in events if "contentBlockDelta" in e] == [
        {"contentBlockDelta": {"delta": {"text": "o"}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"text": "k"}, "contentBlockIndex": 0}},
    ]
    assert events[-2] == {"messageStop": {"stopReason": "max_tokens"}}


def test_converse_tool_use_after_text(fake, runtime):
    fake.script(converse_tool_use("t1", "get_order", {"order_number": "1001"}, text_before="Checking."))
    events = list(converse(runtime)["stream"])
    assert events == [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"text": "Chec"}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"text": "king."}, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"contentBlockStart": {"start": {"toolUse": {"toolUseId": "t1", "name": "get_order"}}, "contentBlockIndex": 1}},
        {"contentBlockDelta": {"delta": {"toolUse": {"input": '{"order_numb'}}, "contentBlockIndex": 1}},
        {"contentBlockDelta": {"delta": {"toolUse": {"input": 'er": "1001"}'}}, "contentBlockIndex": 1}},
        {"contentBlockStop": {"contentBlockIndex": 1}},
        {"messageStop": {"stopReason": "tool_use"}},
        METADATA,
    ]


def test_converse_tool_use_without_text_is_block_0(fake, runtime):
    fake.script([converse_tool_use("t2", "list_my_orders", {})])
    events = list(converse(runtime)["stream"])
    assert events == [
        {"messageStart": {"role": "assistant"}},
        {
            "contentBlockStart": {
                "start": {"toolUse": {"toolUseId": "t2", "name": "list_my_orders"}},
                "contentBlockIndex": 0,
            }
        },
        {"contentBlockDelta": {"delta": {"toolUse": {"input": "{"}}, "contentBlockIndex": 0}},
        {"contentBlockDelta": {"delta": {"toolUse": {"input": "}"}}, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "tool_use"}},
        METADATA,
    ]


def test_requests_are_recorded(fake, agent, runtime):
    fake.script([chunk("a")], converse_text("b"))
    session_state = {"sessionAttributes": {"tenant": "acme"}}
    list(
        invoke(
            agent,
            session_id="sess-9",
            sessionState=session_state,
            enableTrace=True,
            streamingConfigurations={"streamFinalResponse": True},
        )["completion"]
    )
    tool_config = {"tools": [{"toolSpec": {"name": "get_order", "inputSchema": {"json": {"type": "object"}}}}]}
    list(
        runtime.converse_stream(
            modelId="anthropic.claude-3-haiku-20240307-v1:0",
            messages=USER_MESSAGE,
            system=[{"text": "Be brief."}],
            toolConfig=tool_config,
        )["stream"]
    )
    invoke_request, converse_request = fake.requests
    assert invoke_request["operation"] == "invoke_agent"
    assert invoke_request["path"] == "/agents/AGENT1/agentAliases/ALIAS1/sessions/sess-9/text"
    assert invoke_request["json"] == {
        "inputText": "hi",
        "sessionState": session_state,
        "enableTrace": True,
        "streamingConfigurations": {"streamFinalResponse": True},
    }
    assert invoke_request["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=testing/")
    assert converse_request["operation"] == "converse_stream"
    assert converse_request["path"] == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
    assert converse_request["json"] == {
        "messages": USER_MESSAGE,
        "system": [{"text": "Be brief."}],
        "toolConfig": tool_config,
    }


def test_script_is_fifo_and_reset_clears(fake, agent):
    fake.script([chunk("one")], [chunk("two")], [chunk("three")])
    assert list(invoke(agent)["completion"]) == [{"chunk": {"bytes": b"one"}}]
    assert list(invoke(agent)["completion"]) == [{"chunk": {"bytes": b"two"}}]
    fake.reset()
    assert fake.requests == []
    with pytest.raises(ClientError):
        invoke(agent)  # "three" was dropped by reset
    assert len(fake.requests) == 1


def test_http_error_must_be_alone():
    with FakeBedrock() as fake:
        with pytest.raises(ValueError, match="only step"):
            fake.script([chunk("a"), http_error(429, "ThrottlingException", "Rate exceeded")])
        assert fake.requests == []
