"""Two stores x two shoppers, each with its own canary item: every read path shows a
shopper their own canary and never any of the other three (habit 7)."""

from __future__ import annotations

import json
import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from assistant.credentials import vend_database_credential
from assistant.tools import tool_run
from tests.support.field import ALICE, BOB, CAROL, DAVE, session_for
from tests.test_socket import _frames_until_end, _open

SHOPPERS = {
    "alice": ("a", ALICE, "Blue mug", "shop-a.example.test", "POLICY-A-7Q"),
    "carol": ("a", CAROL, "Green teapot", "shop-a.example.test", "POLICY-A-7Q"),
    "bob": ("b", BOB, "Red kettle", "shop-b.example.test", "POLICY-B-3Z"),
    "dave": ("b", DAVE, "Yellow whisk", "shop-b.example.test", "POLICY-B-3Z"),
}


def others(name: str) -> list[str]:
    me = SHOPPERS[name]
    values = []
    for other, (store, sub, item, _, policy) in SHOPPERS.items():
        if other != name:
            values += [sub, item]
            if store != me[0]:
                values.append(policy)
    return values


@pytest.mark.parametrize("name", sorted(SHOPPERS))
def test_tools(field, name):
    store, sub, item, _, policy = SHOPPERS[name]
    ctx = field.shopper(store, sub)
    credential = vend_database_credential(ctx=ctx)
    results = [
        tool_run(ctx=ctx, credential=credential, name="list_my_orders"),
        tool_run(ctx=ctx, credential=credential, name="get_return_policy"),
    ]
    results += [
        tool_run(ctx=ctx, credential=credential, name="get_order", arguments={"order_number": n})
        for n in ("1001", "1002", "1003")
    ]
    text = " ".join(r.as_json() for r in results)
    assert item in text and policy in text
    for value in others(name):
        assert value not in text, value


@pytest.mark.parametrize("name", sorted(SHOPPERS))
def test_page(field, name):
    store, sub, item, host, policy = SHOPPERS[name]
    client = Client(HTTP_HOST=host)
    client.cookies["sessionid"] = session_for(getattr(field, store), sub)
    page = client.get("/").content.decode() + client.get("/policy/").content.decode()
    assert policy in page
    for value in others(name):
        assert value not in page, value


@pytest.mark.parametrize("name", sorted(SHOPPERS))
async def test_socket(field, backend, name):
    backend("assistant.backends.local.LocalBackend", chunk_delay=0)
    store, sub, item, host, policy = SHOPPERS[name]
    comm = await _open(await database_sync_to_async(session_for)(getattr(field, store), sub), host=host)
    texts = []
    for prompt in (
        "Which orders did I place?",
        "What is in order 1001?",
        "What is in order 1002?",
        "What is your return policy?",
    ):
        await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": f"{sub}.{uuid.uuid4()}", "prompt": prompt}))
        texts.append(json.dumps(await _frames_until_end(comm)))
    await comm.disconnect()
    joined = " ".join(texts)
    assert item in joined and policy in joined
    for value in others(name):
        assert value not in joined.replace(f'"answerId": "{sub}', ""), value


@pytest.mark.parametrize("owner_store", ["a", "b"])
def test_owner_admin_lists_only_its_store(field, owner_store):
    host = {"a": "shop-a.example.test", "b": "shop-b.example.test"}[owner_store]
    owner_sub = f"0wner000-0000-4000-8000-00000000000{owner_store}"
    client = Client(HTTP_HOST=host)
    client.cookies["sessionid"] = session_for(getattr(field, owner_store), owner_sub, staff=True)
    mine = [n for n, s in SHOPPERS.items() if s[0] == owner_store]
    theirs = [n for n, s in SHOPPERS.items() if s[0] != owner_store]
    orders = client.get("/admin/storefront/order/")
    assert orders.status_code == 200
    page = orders.content.decode()
    for name in mine:
        assert SHOPPERS[name][1] in page
    for name in theirs:
        assert SHOPPERS[name][1] not in page
    policy = client.get("/admin/storefront/returnpolicy/")
    assert policy.status_code == 200
    # Users, groups and the assistant's answers are not an owner's business here.
    for path in ("/admin/auth/user/", "/admin/auth/group/", "/admin/assistant/answer/", "/admin/tenants/store/"):
        assert client.get(path).status_code == 404
    assert client.get("/admin/assistant/toolcall/").status_code == 200
    # The owner's session means nothing on the other store's admin.
    other_host = {"a": "shop-b.example.test", "b": "shop-a.example.test"}[owner_store]
    other = Client(HTTP_HOST=other_host)
    other.cookies["sessionid"] = client.cookies["sessionid"].value
    assert other.get("/admin/storefront/order/")["Location"].startswith("/admin/login/")
