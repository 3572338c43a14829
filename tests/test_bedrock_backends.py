"""The Bedrock backends against a fake Bedrock speaking the AWS event-stream encoding
at the wire: boto3 is pointed at it through its standard endpoint settings, so the
real botocore parser reads every byte."""

from __future__ import annotations

import json
import uuid

import pytest
from channels.db import database_sync_to_async

from assistant.backends.base import AgentUnavailable, TextDelta, ToolBox, Turn
from assistant.backends.bedrock import BedrockAgentBackend, BedrockConverseBackend
from assistant.credentials import AwsCredential
from tests.support.fake_bedrock import (
    FakeBedrock,
    chunk,
    converse_text,
    converse_tool_use,
    corrupt,
    exception,
    http_error,
    pause,
    return_control,
    trace,
    truncate,
)
from tests.support.field import ALICE, CANARIES_B, session_for
from tests.test_fake_bedrock import AGENT_EXCEPTIONS, CONVERSE_EXCEPTIONS
from tests.test_socket import _frames_until_end, _open

CONVERSATION = str(uuid.uuid4())


@pytest.fixture(scope="module")
def fake():
    server = FakeBedrock()
    yield server
    server.close()


@pytest.fixture
def bedrock(fake, monkeypatch):
    fake.reset()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", fake.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return fake


def agent(**options):
    return BedrockAgentBackend(
        agent_id="AGENT12345", agent_alias_id="ALIAS12345", region="us-east-1", backoff=0.01, **options
    )


def converse(**options):
    return BedrockConverseBackend(model_id="test.model-v1", region="us-east-1", backoff=0.01, **options)


async def run(backend, ctx, prompt="hello", history=(), aws_credential=None):
    tools = ToolBox(ctx=ctx, aws_credential=aws_credential)
    events = []
    async for event in backend.stream(
        ctx=ctx, prompt=prompt, history=list(history), tools=tools, conversation_id=CONVERSATION
    ):
        events.append(event)
    return events


def text_of(events) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_agent_streams_chunks_with_the_contexts_session_attributes(bedrock, field):
    bedrock.script(
        [
            chunk("Items can "),
            trace({"orchestrationTrace": {"rationale": {"text": "thinking"}}}),
            chunk("be returned "),
            chunk("in 30 days."),
        ]
    )
    events = await run(agent(), field.shopper("a", ALICE), "What is your return policy?")
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Items can ", "be returned ", "in 30 days."]
    [request] = bedrock.requests
    assert request["operation"] == "invoke_agent"
    session = f"shop-a.{uuid.UUID(CONVERSATION).hex}"
    assert request["path"] == f"/agents/AGENT12345/agentAliases/ALIAS12345/sessions/{session}/text"
    body = request["json"]
    assert body["inputText"] == "What is your return policy?"
    assert body["sessionState"] == {"sessionAttributes": {"tenantId": "shop-a", "userId": ALICE}}
    assert body["enableTrace"] is False
    assert body["streamingConfigurations"] == {"streamFinalResponse": True}


async def test_agent_two_rounds_of_return_of_control(bedrock, field):
    bedrock.script(
        [return_control("inv-1", [("get_order", {"order_number": "1001"})])],
        [
            return_control(
                "inv-2",
                [
                    ("list_my_orders", {}),
                    ("get_order", {"order_number": "1002"}),
                    ("get_order", {"order_number": "1001 OR 1=1"}),
                ],
            )
        ],
        [chunk("You ordered "), chunk("a blue mug.")],
    )
    events = await run(agent(), field.shopper("a", ALICE), "Where is order 1001?")
    assert text_of(events) == "You ordered a blue mug."
    first, second, third = bedrock.requests
    assert first["json"]["inputText"] == "Where is order 1001?"
    state = second["json"]["sessionState"]
    assert state["invocationId"] == "inv-1"
    assert state["sessionAttributes"] == {"tenantId": "shop-a", "userId": ALICE}
    [result] = state["returnControlInvocationResults"]
    fn = result["functionResult"]
    assert (fn["actionGroup"], fn["function"]) == ("store-tools", "get_order")
    assert "responseState" not in fn
    body = json.loads(fn["responseBody"]["TEXT"]["body"])
    assert body["outcome"] == "ok" and body["items"][0]["name"] == "Blue mug"
    state = third["json"]["sessionState"]
    assert state["invocationId"] == "inv-2"
    results = [r["functionResult"] for r in state["returnControlInvocationResults"]]
    assert [r["function"] for r in results] == ["list_my_orders", "get_order", "get_order"]
    orders = json.loads(results[0]["responseBody"]["TEXT"]["body"])["orders"]
    assert [o["order_number"] for o in orders] == [1001]  # alice's only
    assert json.loads(results[1]["responseBody"]["TEXT"]["body"]) == {"outcome": "not_found"}  # carol's
    assert "responseState" not in results[1]
    assert json.loads(results[2]["responseBody"]["TEXT"]["body"])["outcome"] == "invalid_arguments"
    assert results[2]["responseState"] == "REPROMPT"
    assert "inputText" not in third["json"]


async def test_agent_forged_tenant_parameters_are_refused(bedrock, field):
    bedrock.script(
        [
            return_control(
                "inv-1",
                [
                    ("get_order", {"order_number": "1001", "tenantId": "shop-b"}),
                    ("list_my_orders", {"userId": "bbbbbbbb-0000-4000-8000-000000000002"}),
                ],
            )
        ],
        [chunk("done")],
    )
    await run(agent(), field.shopper("a", ALICE))
    results = bedrock.requests[1]["json"]["sessionState"]["returnControlInvocationResults"]
    for result in results:
        body = result["functionResult"]["responseBody"]["TEXT"]["body"]
        assert json.loads(body)["outcome"] == "invalid_arguments"
        for canary in CANARIES_B:
            assert canary not in body or canary in ("shop-b",)


@pytest.mark.parametrize("kind", AGENT_EXCEPTIONS)
@pytest.mark.parametrize("after_first_chunk", [False, True])
async def test_agent_exception_events_end_the_answer_with_a_clear_message(bedrock, field, kind, after_first_chunk):
    steps = [chunk("Partial ")] if after_first_chunk else []
    retryable = kind in ("throttlingException", "modelNotReadyException")
    attempts = 1 if after_first_chunk or not retryable else 3
    for _ in range(attempts):
        bedrock.script([*steps, exception(kind, "boom")])
    with pytest.raises(AgentUnavailable) as failed:
        await run(agent(throttle_retries=2), field.shopper("a", ALICE))
    assert str(failed.value) and "boom" not in str(failed.value)
    assert len(bedrock.requests) == attempts


async def test_agent_throttling_before_the_first_chunk_is_retried(bedrock, field):
    bedrock.script(
        [exception("throttlingException")], [http_error(429, "ThrottlingException", "Rate exceeded")], [chunk("Hello")]
    )
    events = await run(agent(throttle_retries=3), field.shopper("a", ALICE))
    assert text_of(events) == "Hello" and len(bedrock.requests) == 3


@pytest.mark.parametrize(
    "status,kind", [(403, "AccessDeniedException"), (400, "ValidationException"), (404, "ResourceNotFoundException")]
)
async def test_agent_http_errors_at_call_time(bedrock, field, status, kind):
    bedrock.script([http_error(status, kind, "nope")])
    with pytest.raises(AgentUnavailable):
        await run(agent(), field.shopper("a", ALICE))


@pytest.mark.parametrize("broken", [truncate, corrupt])
async def test_agent_truncated_or_corrupted_stream(bedrock, field, broken):
    bedrock.script([chunk("Hello "), broken(), chunk("world")])
    with pytest.raises(AgentUnavailable) as failed:
        await run(agent(), field.shopper("a", ALICE))
    assert "cut off" in str(failed.value) or "try again" in str(failed.value).lower()


async def test_agent_slow_stream_past_the_read_timeout(bedrock, field):
    bedrock.script([chunk("Hello "), pause(2.0), chunk("world")])
    with pytest.raises(AgentUnavailable) as failed:
        await run(agent(read_timeout=0.5), field.shopper("a", ALICE))
    assert "too long" in str(failed.value)


async def test_agent_lambda_mode_puts_credentials_only_in_session_attributes(bedrock, field):
    credential = AwsCredential("shop-a", ALICE, "ASIAFAKETESTKEY00001", "fakeSecretTESTONLY/abc", "FAKETOKEN", 0.0)
    bedrock.script([chunk("ok")])
    await run(agent(lambda_credentials=True), field.shopper("a", ALICE), aws_credential=credential)
    state = bedrock.requests[0]["json"]["sessionState"]
    assert state["sessionAttributes"] == {
        "tenantId": "shop-a",
        "userId": ALICE,
        "accessKeyId": "ASIAFAKETESTKEY00001",
        "secretAccessKey": "fakeSecretTESTONLY/abc",
        "sessionToken": "FAKETOKEN",
    }
    assert "promptSessionAttributes" not in state


async def test_converse_streams_text_with_history_and_tools(bedrock, field):
    bedrock.script([converse_text("You have one order.", pieces=3)])
    history = [Turn("Where is order 1001?", "Order 1001 is placed.")]
    events = await run(converse(), field.shopper("a", ALICE), "And when?", history)
    assert text_of(events) == "You have one order."
    body = bedrock.requests[0]["json"]
    assert bedrock.requests[0]["path"] == "/model/test.model-v1/converse-stream"
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "Where is order 1001?"}]},
        {"role": "assistant", "content": [{"text": "Order 1001 is placed."}]},
        {"role": "user", "content": [{"text": "And when?"}]},
    ]
    names = [t["toolSpec"]["name"] for t in body["toolConfig"]["tools"]]
    assert names == ["get_return_policy", "list_my_orders", "get_order"]
    assert "shop-a" not in json.dumps(body) and ALICE not in json.dumps(body)


async def test_converse_tool_use_loop(bedrock, field):
    bedrock.script(
        [converse_tool_use("tool-1", "get_order", {"order_number": "1001"}, text_before="Let me check. ")],
        [converse_tool_use("tool-2", "get_order", {"order_number": "1002"})],
        [converse_text("Your order 1001 holds a blue mug.")],
    )
    events = await run(converse(), field.shopper("a", ALICE), "Where is order 1001?")
    assert text_of(events) == "Let me check. Your order 1001 holds a blue mug."
    second = bedrock.requests[1]["json"]["messages"]
    assert second[-2] == {
        "role": "assistant",
        "content": [
            {"text": "Let me check. "},
            {"toolUse": {"toolUseId": "tool-1", "name": "get_order", "input": {"order_number": "1001"}}},
        ],
    }
    [result] = second[-1]["content"]
    assert result["toolResult"]["toolUseId"] == "tool-1" and result["toolResult"]["status"] == "success"
    assert result["toolResult"]["content"][0]["json"]["items"][0]["name"] == "Blue mug"
    third = bedrock.requests[2]["json"]["messages"]
    assert third[-1]["content"][0]["toolResult"]["content"][0]["json"] == {"outcome": "not_found"}


@pytest.mark.parametrize("kind", CONVERSE_EXCEPTIONS)
async def test_converse_exceptions(bedrock, field, kind):
    attempts = 3 if kind in ("throttlingException", "serviceUnavailableException") else 1
    for _ in range(attempts):
        bedrock.script([exception(kind)])
    with pytest.raises(AgentUnavailable):
        await run(converse(throttle_retries=2), field.shopper("a", ALICE))
    assert len(bedrock.requests) == attempts


@pytest.mark.parametrize("broken", [truncate, corrupt])
async def test_converse_broken_streams(bedrock, field, broken):
    bedrock.script([*converse_text("Hello there friend")[:2], broken(), *converse_text("x")[2:]])
    with pytest.raises(AgentUnavailable):
        await run(converse(), field.shopper("a", ALICE))


async def test_converse_slow_stream_times_out(bedrock, field):
    steps = converse_text("Hello there friend", pieces=3)
    bedrock.script([*steps[:2], pause(2.0), *steps[2:]])
    with pytest.raises(AgentUnavailable):
        await run(converse(read_timeout=0.5), field.shopper("a", ALICE))


@pytest.mark.parametrize("after_first_chunk", [False, True])
async def test_socket_gets_exactly_one_error_frame(bedrock, field, backend, after_first_chunk):
    backend(
        "assistant.backends.bedrock.BedrockAgentBackend",
        agent_id="AGENT12345",
        agent_alias_id="ALIAS12345",
        region="us-east-1",
        throttle_retries=0,
    )
    bedrock.script([*([chunk("Partial ")] if after_first_chunk else []), exception("internalServerException")])
    comm = await _open(await database_sync_to_async(session_for)(field.a, ALICE))
    answer_id = f"{ALICE}.{uuid.uuid4()}"
    await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": answer_id, "prompt": "hi"}))
    frames = await _frames_until_end(comm)
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()
    ends = [f for f in frames if f["type"] in ("done", "error")]
    assert ends == [
        {
            "type": "error",
            "answerId": answer_id,
            "code": "agent_unavailable",
            "message": "The assistant service had an internal error. Please try again.",
        }
    ]
    assert [f["text"] for f in frames if f["type"] == "chunk"] == (["Partial "] if after_first_chunk else [])


async def test_socket_answer_through_return_of_control(bedrock, field, backend):
    backend(
        "assistant.backends.bedrock.BedrockAgentBackend",
        agent_id="AGENT12345",
        agent_alias_id="ALIAS12345",
        region="us-east-1",
    )
    bedrock.script([return_control("inv-1", [("list_my_orders", {})])], [chunk("You have "), chunk("one order.")])
    comm = await _open(await database_sync_to_async(session_for)(field.a, ALICE))
    answer_id = f"{ALICE}.{uuid.uuid4()}"
    await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": answer_id, "prompt": "my orders?"}))
    frames = await _frames_until_end(comm)
    await comm.disconnect()
    assert [f["type"] for f in frames] == ["accepted", "status", "chunk", "chunk", "done"]
    assert frames[1] == {"type": "status", "answerId": answer_id, "state": "tool", "tool": "list_my_orders"}
    session = bedrock.requests[0]["path"].split("/sessions/")[1].split("/")[0]
    assert session == f"shop-a.{uuid.UUID(frames[0]['conversationId']).hex}"
