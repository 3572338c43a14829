"""The WebSocket path in process: handshake checks, frame validation, ownership.

Uses Channels' WebsocketCommunicator against storefront.asgi.application, so the
tenant middleware, the consumer and the in-memory channel layer are the real ones.
"""

from __future__ import annotations

import json
import uuid

import pytest
from channels.testing import WebsocketCommunicator

from assistant.models import Answer
from tenants.context import activate
from tests.support.backends import CountingBackend
from tests.support.field import ALICE, BOB, CAROL, session_for

A_HOST = "shop-a.example.test"
B_HOST = "shop-b.example.test"


def application():
    from storefront.asgi import application as app

    return app


def communicator(host: str, *, origin: str | None = "same", session_key: str | None = None, host_header=None):
    headers = [(b"host", (host_header or host).encode())]
    if origin == "same":
        origin = f"http://{host}"
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if session_key:
        headers.append((b"cookie", f"sessionid={session_key}".encode()))
    return WebsocketCommunicator(application(), "/ws/assistant/", headers=headers)


async def handshake(comm) -> tuple[bool, int | None]:
    connected, code = await comm.connect(timeout=5)
    if connected:
        await comm.disconnect()
    return connected, code


@pytest.fixture
def counting(backend):
    CountingBackend.calls = 0
    return backend("tests.support.backends.CountingBackend")


@pytest.fixture
def alice_key(field):
    from channels.db import database_sync_to_async

    return database_sync_to_async(session_for)(field.a, ALICE)


async def test_handshake_accepts_own_store_with_own_origin(field, alice_key):
    assert await handshake(communicator(A_HOST, session_key=await alice_key)) == (True, None)


@pytest.mark.parametrize(
    ("origin", "host_header"),
    [
        ("https://evil.example", None),
        ("http://shop-b.example.test", None),
        (None, None),
        ("http://shop-a.example.test:8443", None),
        ("https://shop-a.example.test", None),
        ("null", None),
    ],
)
async def test_handshake_refuses_foreign_or_missing_origin(field, alice_key, origin, host_header):
    assert await handshake(communicator(A_HOST, origin=origin, session_key=await alice_key)) == (False, 4403)


async def test_handshake_refuses_without_session(field):
    assert await handshake(communicator(A_HOST)) == (False, 4401)
    assert await handshake(communicator(A_HOST, session_key="not-a-session")) == (False, 4401)


async def test_a_session_of_store_a_is_worth_nothing_on_store_b(field, alice_key):
    # Cookie replayed across hosts: the key does not exist in shop_b's schema.
    assert await handshake(communicator(B_HOST, session_key=await alice_key)) == (False, 4401)


@pytest.mark.parametrize(
    "host", ["nosuch.example.test", "www.shop-a.example.test", "example.test", "evil.example", "localhost"]
)
async def test_handshake_on_unknown_or_public_host_is_refused(field, alice_key, host):
    assert await handshake(communicator(host, session_key=await alice_key)) == (False, 4404)


@pytest.mark.parametrize("host", ["SHOP-A.Example.Test", "shop-a.example.test.", "shop-a.example.test:8443"])
async def test_handshake_normalises_host_like_http(field, alice_key, host):
    comm = communicator(A_HOST, host_header=host, origin=f"http://{host.rstrip('.')}", session_key=await alice_key)
    assert await handshake(comm) == (True, None)


async def _open(session_key: str, host: str = A_HOST):
    comm = communicator(host, session_key=session_key)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    return comm


async def _frames_until_end(comm, answer_id=None) -> list[dict]:
    frames = []
    while True:
        frame = json.loads(await comm.receive_from(timeout=5))
        frames.append(frame)
        if frame["type"] in ("done", "error"):
            return frames


def _answers_of(ctx, sub) -> int:
    with activate(ctx):
        return Answer.objects.filter(owner_sub=sub).count()


@pytest.mark.parametrize(
    "answer_id",
    [
        f"{BOB}.{uuid.uuid4()}",  # another store's shopper
        f"{CAROL}.{uuid.uuid4()}",  # another shopper of the same store
        f"{ALICE}.{str(uuid.uuid4()).upper()}",  # not canonical
        f"{ALICE}.{uuid.uuid4().hex}",  # not canonical
        f"{ALICE}.{uuid.uuid1()}",  # not a uuid4
        f"{ALICE}",
        f"{ALICE}.{uuid.uuid4()}.x",
        f"x{ALICE}.{uuid.uuid4()}",
        "",
        None,
        12,
    ],
)
async def test_answer_id_not_owned_is_forbidden_and_the_backend_never_runs(field, alice_key, counting, answer_id):
    from channels.db import database_sync_to_async

    before = await database_sync_to_async(_answers_of)(field.a, ALICE)
    comm = await _open(await alice_key)
    await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": answer_id, "prompt": "list my orders"}))
    frame = json.loads(await comm.receive_from(timeout=5))
    assert frame == {
        "type": "error",
        "answerId": None,
        "code": "forbidden",
        "message": "answerId must be your own id followed by '.' and a new UUID.",
    }
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()
    assert CountingBackend.calls == 0
    assert await database_sync_to_async(_answers_of)(field.a, ALICE) == before


async def test_own_answer_id_is_answered_in_contiguous_chunks(field, alice_key, counting):
    comm = await _open(await alice_key)
    answer_id = f"{ALICE}.{uuid.uuid4()}"
    await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": answer_id, "prompt": "hello"}))
    frames = await _frames_until_end(comm)
    await comm.disconnect()
    assert frames[0]["type"] == "accepted" and frames[0]["answerId"] == answer_id
    chunks = [f for f in frames if f["type"] == "chunk"]
    assert [c["seq"] for c in chunks] == [0, 1, 2]
    assert "".join(c["text"] for c in chunks) == "part 0 part 1 part 2 "
    assert frames[-1] == {"type": "done", "answerId": answer_id, "chunks": 3}
    assert CountingBackend.calls == 1


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_request"),
        ("[1, 2]", "bad_request"),
        (json.dumps({"type": "hello"}), "bad_request"),
        (json.dumps({"type": "ask", "answerId": "{sub}.{uuid}", "prompt": ""}), "bad_request"),
        (json.dumps({"type": "ask", "answerId": "{sub}.{uuid}", "prompt": 7}), "bad_request"),
        (json.dumps({"type": "ask", "answerId": "{sub}.{uuid}", "prompt": "x" * 2001}), "too_large"),
        (json.dumps({"type": "ask", "answerId": "{sub}.{uuid}", "prompt": "hi", "tenantId": "shop-b"}), "bad_request"),
        (json.dumps({"type": "ask", "answerId": "{sub}.{uuid}", "prompt": "hi", "userId": BOB}), "bad_request"),
        (json.dumps({"type": "subscribe", "answerId": "{sub}.{uuid}", "after": "x"}), "bad_request"),
        ("[" * 100000, "too_large"),
    ],
)
async def test_bad_frames_get_a_clear_error_and_no_answer(field, alice_key, counting, frame, code):
    comm = await _open(await alice_key)
    await comm.send_to(text_data=frame.replace("{sub}", ALICE).replace("{uuid}", str(uuid.uuid4())))
    reply = json.loads(await comm.receive_from(timeout=5))
    assert reply["type"] == "error" and reply["code"] == code and reply["message"]
    # The socket stays usable after a bad frame.
    answer_id = f"{ALICE}.{uuid.uuid4()}"
    await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": answer_id, "prompt": "hello"}))
    frames = await _frames_until_end(comm)
    assert frames[-1]["type"] == "done"
    await comm.disconnect()
    assert CountingBackend.calls == 1


async def test_binary_frames_are_refused(field, alice_key, counting):
    comm = await _open(await alice_key)
    await comm.send_to(bytes_data=b"\x00\x01")
    reply = json.loads(await comm.receive_from(timeout=5))
    assert reply["code"] == "bad_request"
    await comm.disconnect()


async def test_answer_id_cannot_be_reused(field, alice_key, counting):
    comm = await _open(await alice_key)
    answer_id = f"{ALICE}.{uuid.uuid4()}"
    await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": answer_id, "prompt": "hello"}))
    await _frames_until_end(comm)
    await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": answer_id, "prompt": "again"}))
    reply = json.loads(await comm.receive_from(timeout=5))
    assert reply["code"] == "bad_request" and reply["answerId"] == answer_id
    await comm.disconnect()
    assert CountingBackend.calls == 1


async def test_subscribe_to_another_shoppers_answer_is_not_found(field, counting):
    from channels.db import database_sync_to_async

    carol = await _open(await database_sync_to_async(session_for)(field.a, CAROL))
    carol_answer = f"{CAROL}.{uuid.uuid4()}"
    await carol.send_to(text_data=json.dumps({"type": "ask", "answerId": carol_answer, "prompt": "hello"}))
    await _frames_until_end(carol)
    await carol.disconnect()

    alice = await _open(await database_sync_to_async(session_for)(field.a, ALICE))
    # Alice cannot even name carol's answer (forbidden); her own unknown one is not_found.
    await alice.send_to(text_data=json.dumps({"type": "subscribe", "answerId": carol_answer}))
    assert json.loads(await alice.receive_from(timeout=5))["code"] == "forbidden"
    await alice.send_to(text_data=json.dumps({"type": "subscribe", "answerId": f"{ALICE}.{uuid.uuid4()}"}))
    assert json.loads(await alice.receive_from(timeout=5))["code"] == "not_found"
    await alice.disconnect()


async def test_subscribe_replays_a_finished_answer_after_a_seq(field, alice_key, counting):
    key = await alice_key
    comm = await _open(key)
    answer_id = f"{ALICE}.{uuid.uuid4()}"
    await comm.send_to(text_data=json.dumps({"type": "ask", "answerId": answer_id, "prompt": "hello"}))
    await _frames_until_end(comm)
    await comm.disconnect()

    again = await _open(key)
    await again.send_to(text_data=json.dumps({"type": "subscribe", "answerId": answer_id, "after": 0}))
    frames = await _frames_until_end(again)
    await again.disconnect()
    assert [(f["type"], f.get("seq")) for f in frames] == [("chunk", 1), ("chunk", 2), ("done", None)]
    assert frames[-1]["chunks"] == 3


async def test_another_shoppers_conversation_is_not_found(field, counting):
    from channels.db import database_sync_to_async

    carol = await _open(await database_sync_to_async(session_for)(field.a, CAROL))
    await carol.send_to(text_data=json.dumps({"type": "ask", "answerId": f"{CAROL}.{uuid.uuid4()}", "prompt": "hi"}))
    carol_conversation = (await _frames_until_end(carol))[0]["conversationId"]
    await carol.disconnect()

    alice = await _open(await database_sync_to_async(session_for)(field.a, ALICE))
    answer_id = f"{ALICE}.{uuid.uuid4()}"
    await alice.send_to(
        text_data=json.dumps(
            {"type": "ask", "answerId": answer_id, "prompt": "and?", "conversationId": carol_conversation}
        )
    )
    reply = json.loads(await alice.receive_from(timeout=5))
    await alice.disconnect()
    assert reply == {"type": "error", "answerId": answer_id, "code": "not_found", "message": "No such conversation."}
    assert CountingBackend.calls == 1


@pytest.mark.parametrize("prompt_json", ['"a\\u0000b"', '"a\\ud800b"', '"\\u0007bell"', '"\\u202eRTL"'])
async def test_unusable_characters_in_a_prompt_are_a_clear_error(field, alice_key, counting, prompt_json):
    comm = await _open(await alice_key)
    answer_id = f"{ALICE}.{uuid.uuid4()}"
    await comm.send_to(text_data=f'{{"type": "ask", "answerId": "{answer_id}", "prompt": {prompt_json}}}')
    reply = json.loads(await comm.receive_from(timeout=5))
    assert reply == {
        "type": "error",
        "answerId": answer_id,
        "code": "bad_request",
        "message": "The question contains characters that cannot be used.",
    }
    await comm.send_to(
        text_data=json.dumps(
            {"type": "ask", "answerId": f"{ALICE}.{uuid.uuid4()}", "prompt": "line one\nline two\ttabbed, ünïcödé ✓"}
        )
    )
    assert (await _frames_until_end(comm))[-1]["type"] == "done"
    await comm.disconnect()
    assert CountingBackend.calls == 1


@pytest.mark.parametrize("path", ["/ws/assistant", "/ws/assistant/x", "/WS/ASSISTANT/", "/ws//assistant/"])
async def test_other_websocket_paths_are_not_found(field, alice_key, path):
    key = await alice_key
    comm = WebsocketCommunicator(
        application(),
        path,
        headers=[
            (b"host", A_HOST.encode()),
            (b"origin", f"http://{A_HOST}".encode()),
            (b"cookie", f"sessionid={key}".encode()),
        ],
    )
    assert await handshake(comm) == (False, 4404)
