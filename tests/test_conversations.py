"""Conversations, cancel, sign-out closing sockets, deactivated stores, and the
owner's policy history (issue 5, server side)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.test import Client

from assistant.models import Answer
from storefront.models import ReturnPolicy, ReturnPolicyVersion
from storefront.selectors import policy_get
from storefront.services import policy_set
from tenants.context import activate
from tests.support.backends import CountingBackend
from tests.support.field import ALICE, CAROL, POLICY_A, session_for
from tests.test_socket import A_HOST, _frames_until_end, _open


async def _ask(comm, sub, prompt, conversation_id=None):
    answer_id = f"{sub}.{uuid.uuid4()}"
    frame = {"type": "ask", "answerId": answer_id, "prompt": prompt}
    if conversation_id:
        frame["conversationId"] = conversation_id
    await comm.send_to(text_data=json.dumps(frame))
    frames = await _frames_until_end(comm)
    return frames, "".join(f["text"] for f in frames if f["type"] == "chunk")


async def test_follow_up_uses_the_conversations_memory(field, backend):
    backend("assistant.backends.local.LocalBackend", chunk_delay=0)
    comm = await _open(await database_sync_to_async(session_for)(field.a, ALICE))
    frames, first = await _ask(comm, ALICE, "What is in order 1001?")
    conversation = frames[0]["conversationId"]
    assert "Blue mug" in first
    _, follow_up = await _ask(comm, ALICE, "and when was it placed?", conversation)
    assert re.fullmatch(r"Order 1001 was placed on \d{4}-\d{2}-\d{2}\.", follow_up)
    # without the conversation there is nothing to follow up on
    _, fresh = await _ask(comm, ALICE, "and when was it placed?")
    assert "Order 1001" not in fresh
    await comm.disconnect()


async def test_cancel_stops_the_shoppers_own_running_answer(field, backend):
    backend("tests.support.backends.CountingBackend", delay=0.1, chunks=30)
    comm = await _open(await database_sync_to_async(session_for)(field.a, ALICE))
    answer_id = f"{ALICE}.{uuid.uuid4()}"
    await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": answer_id, "prompt": "hi"}))
    frames = [json.loads(await comm.receive_from(timeout=5))]
    while not any(f["type"] == "chunk" for f in frames):
        frames.append(json.loads(await comm.receive_from(timeout=5)))
    await comm.send_to(text_data=json.dumps({"type": "cancel", "answerId": answer_id}))
    frames += await _frames_until_end(comm)
    assert frames[-1] == {"type": "error", "answerId": answer_id, "code": "cancelled", "message": "Stopped."}
    assert len([f for f in frames if f["type"] == "chunk"]) < 30

    def stored():
        with activate(field.a):
            return Answer.objects.filter(answer_id=answer_id).values_list("status", "error_code").get()

    assert await database_sync_to_async(stored)() == ("error", "cancelled")
    # nobody else's answer can be cancelled, and an unknown one is not found
    await comm.send_to(text_data=json.dumps({"type": "cancel", "answerId": f"{CAROL}.{uuid.uuid4()}"}))
    assert json.loads(await comm.receive_from(timeout=5))["code"] == "forbidden"
    await comm.send_to(text_data=json.dumps({"type": "cancel", "answerId": f"{ALICE}.{uuid.uuid4()}"}))
    assert json.loads(await comm.receive_from(timeout=5))["code"] == "not_found"
    await comm.disconnect()


async def test_sign_out_closes_only_the_sockets_of_that_session(field, backend):
    backend("tests.support.backends.CountingBackend")
    first_key = await database_sync_to_async(session_for)(field.a, ALICE)
    second_key = await database_sync_to_async(session_for)(field.a, ALICE)
    first = await _open(first_key)
    second = await _open(second_key)

    def sign_out():
        client = Client(HTTP_HOST=A_HOST)
        client.cookies["sessionid"] = first_key
        return client.post("/oidc/logout/")

    response = await sync_to_async(sign_out)()
    assert response.status_code == 302
    assert json.loads(await first.receive_from(timeout=5))["message"] == "You are signed out. Sign in again."
    assert (await first.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4401}
    frames, text = await _ask(second, ALICE, "hi")
    assert frames[-1]["type"] == "done"
    await second.disconnect()


async def test_a_deactivated_store_closes_open_sockets(field, backend):
    from tenants.hosts import forget_hosts
    from tenants.models import Store

    backend("tests.support.backends.CountingBackend")
    CountingBackend.calls = 0
    comm = await _open(await database_sync_to_async(session_for)(field.a, ALICE))
    await database_sync_to_async(Store.objects.filter(tenant_id="shop-a").update)(is_active=False)
    try:
        await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": f"{ALICE}.{uuid.uuid4()}", "prompt": "hi"}))
        assert json.loads(await comm.receive_from(timeout=5)) == {
            "type": "error",
            "answerId": None,
            "code": "not_found",
            "message": "This store is unavailable.",
        }
        assert (await comm.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4404}
    finally:
        await database_sync_to_async(Store.objects.filter(tenant_id="shop-a").update)(is_active=True)
        forget_hosts()
    assert CountingBackend.calls == 0


def test_conversations_are_listed_and_reopened_only_by_their_owner(field):
    from assistant.services import answer_start

    started = answer_start(
        ctx=field.shopper("a", ALICE),
        answer_id=f"{ALICE}.{uuid.uuid4()}",
        prompt="Alice's private question",
        conversation_id=None,
        backend="test",
    )
    alice = Client(HTTP_HOST=A_HOST)
    alice.cookies["sessionid"] = session_for(field.a, ALICE)
    listed = alice.get("/assistant/conversations/").json()["conversations"]
    assert started.conversation_id in [c["id"] for c in listed]
    detail = alice.get(f"/assistant/conversations/{started.conversation_id}/")
    assert detail.status_code == 200 and detail["Cache-Control"] == "no-store"
    assert detail.json()["turns"][0]["prompt"] == "Alice's private question"
    assert detail.json()["turns"][0]["status"] == "running"

    carol = Client(HTTP_HOST=A_HOST)
    carol.cookies["sessionid"] = session_for(field.a, CAROL)
    assert carol.get(f"/assistant/conversations/{started.conversation_id}/").status_code == 404
    assert started.conversation_id not in json.dumps(carol.get("/assistant/conversations/").json())
    assert Client(HTTP_HOST=A_HOST).get("/assistant/conversations/").status_code == 404
    assert alice.get(f"/assistant/conversations/{uuid.uuid4()}/").status_code == 404
    assert alice.get("/assistant/conversations/not-a-uuid/").status_code == 404
    # the same id on another store's host is nobody's
    b = Client(HTTP_HOST="shop-b.example.test")
    b.cookies["sessionid"] = alice.cookies["sessionid"].value
    assert b.get(f"/assistant/conversations/{started.conversation_id}/").status_code == 404


def test_policy_changes_keep_a_history_and_the_assistant_reads_the_current_one(field):
    owner = "0wner000-0000-4000-8000-0000000000a1"
    client = Client(HTTP_HOST=A_HOST)
    client.cookies["sessionid"] = session_for(field.a, owner, staff=True)
    with activate(field.a):
        before = ReturnPolicyVersion.objects.count()
        policy_pk = ReturnPolicy.objects.get().pk
    change_url = f"/admin/storefront/returnpolicy/{policy_pk}/change/"
    response = client.post(change_url, {"days": "45", "text": "45 days now, ref POLICY-A-9X", "_save": "Save"})
    assert response.status_code == 302, response.content[:300]
    try:
        with activate(field.a):
            latest = ReturnPolicyVersion.objects.first()
            assert ReturnPolicyVersion.objects.count() == before + 1
        assert (latest.days, latest.text, latest.changed_by) == (45, "45 days now, ref POLICY-A-9X", owner)
        assert policy_get(ctx=field.a).days == 45
        history = client.get("/admin/storefront/returnpolicyversion/").content.decode()
        assert "POLICY-A-9X" in history and "POLICY-B-3Z" not in history
        assert client.get(f"/admin/storefront/returnpolicyversion/{latest.pk}/change/").status_code == 200
        assert client.post(f"/admin/storefront/returnpolicyversion/{latest.pk}/delete/").status_code == 403
        # the other store's policy did not move
        assert policy_get(ctx=field.b).days == 14
    finally:
        policy_set(ctx=field.a, days=30, text=POLICY_A, updated_by="fixture")


def test_operators_public_admin_lists_stores_but_no_store_data(field, django_user_model):
    from tenants.context import public

    with public():
        operator, _ = django_user_model.objects.get_or_create(
            username="operator", defaults={"is_staff": True, "is_superuser": True}
        )
    client = Client(HTTP_HOST="localhost")  # STORE_BASE_DOMAIN: the operators' site
    client.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get("/admin/tenants/store/").content.decode()
    assert "shop-a" in page and "shop-b" in page
    for canary in ("POLICY-A-7Q", "POLICY-B-3Z", "Blue mug", ALICE):
        assert canary not in page
    assert client.get("/admin/storefront/order/").status_code == 404


async def test_answer_keeps_running_with_nobody_connected_and_resumes(field, backend):
    backend("tests.support.backends.CountingBackend", delay=0.05, chunks=10)
    key = await database_sync_to_async(session_for)(field.a, ALICE)
    comm = await _open(key)
    answer_id = f"{ALICE}.{uuid.uuid4()}"
    await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": answer_id, "prompt": "hi"}))
    seen = []
    while len(seen) < 2:
        frame = json.loads(await comm.receive_from(timeout=5))
        if frame["type"] == "chunk":
            seen.append(frame["seq"])
    await comm.disconnect()
    await asyncio.sleep(0.2)
    again = await _open(key)
    await again.send_to(text_data=json.dumps({"type": "subscribe", "answerId": answer_id, "after": seen[-1]}))
    frames = await _frames_until_end(again)
    await again.disconnect()
    assert [f["seq"] for f in frames if f["type"] == "chunk"] == list(range(seen[-1] + 1, 10))
    assert frames[-1] == {"type": "done", "answerId": answer_id, "chunks": 10}
