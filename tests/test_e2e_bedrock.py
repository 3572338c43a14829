"""The demo's question through each Bedrock backend, end to end: real uvicorn, real
sign-in, real socket, and the fake Bedrock at the wire."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from storefront.selectors import orders_for_shopper
from tenants.services import context_for_tenant_id
from tests.support.fake_bedrock import chunk, converse_text, converse_tool_use, exception, return_control
from tests.support.flows import ask, open_socket, session_sub, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def shopper_with_an_order(demo):
    call_command("orders", "tenant1-user", "clear")
    call_command("orders", "tenant1-user", "add")
    yield
    call_command("orders", "tenant1-user", "clear")


def test_bedrock_agent_return_of_control_end_to_end(bedrock_server, fake_bedrock, demo, shopper_with_an_order):
    server = bedrock_server("bedrock-agent")
    url = server.url("tenant1")
    session = sign_in(url, "tenant1-user", demo["tenant1-user"]["password"])
    sub = session_sub(session, url)
    fake_bedrock.reset()
    fake_bedrock.script([return_control("inv-1", [("list_my_orders", {})])], [chunk("You have "), chunk("one order.")])
    with open_socket(url, session) as ws:
        result = ask(ws, sub, "Which orders did I place?")
    assert [f["type"] for f in result["frames"]] == ["accepted", "status", "chunk", "chunk", "done"]
    assert result["text"] == "You have one order."
    first, second = fake_bedrock.requests
    assert first["json"]["sessionState"]["sessionAttributes"] == {"tenantId": "tenant1", "userId": sub}
    body = json.loads(
        second["json"]["sessionState"]["returnControlInvocationResults"][0]["functionResult"]["responseBody"]["TEXT"][
            "body"
        ]
    )
    [mine] = orders_for_shopper(ctx=context_for_tenant_id("tenant1", shopper_sub=sub))
    assert [o["order_number"] for o in body["orders"]] == [mine.number]

    fake_bedrock.reset()
    fake_bedrock.script([chunk("Partial "), exception("dependencyFailedException")])
    with open_socket(url, session) as ws:
        failed = ask(ws, sub, "Which orders did I place?")
    ends = [f for f in failed["frames"] if f["type"] in ("done", "error")]
    assert len(ends) == 1 and ends[0]["code"] == "agent_unavailable"
    assert ends[0]["message"] == "A service the assistant depends on failed. Please try again."


def test_bedrock_converse_tool_use_end_to_end(bedrock_server, fake_bedrock, demo, shopper_with_an_order):
    server = bedrock_server("bedrock-converse")
    url = server.url("tenant1")
    session = sign_in(url, "tenant1-user", demo["tenant1-user"]["password"])
    sub = session_sub(session, url)
    fake_bedrock.reset()
    fake_bedrock.script(
        [converse_tool_use("t-1", "get_return_policy", {})], [converse_text("Returns are accepted within 10 days.")]
    )
    with open_socket(url, session) as ws:
        result = ask(ws, sub, "What is your return policy?")
    assert result["end"]["type"] == "done"
    assert result["text"] == "Returns are accepted within 10 days."
    tool_result = fake_bedrock.requests[1]["json"]["messages"][-1]["content"][0]["toolResult"]
    assert tool_result["content"][0]["json"]["days"] == 10 and tool_result["status"] == "success"
