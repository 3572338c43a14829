"""Isolation on the real server: every injection prompt of
../shared/cases/injection-prompts.txt as a real frame on a real socket, hostile
handshakes and oversized frames against uvicorn, and no secret in the server log."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from assistant.models import Answer
from storefront.models import Order, OrderItem
from tenants.context import activate
from tenants.identity import user_lookup
from tenants.services import context_for_tenant_id
from tests.support.flows import ask, open_socket, session_sub, sign_in

pytestmark = pytest.mark.e2e
PROMPTS_FILE = Path(__file__).resolve().parent / "cases" / "injection-prompts.txt"
CANARY_ORDERS = {
    "tenant2": ("tenant2-user", 777002, "Canary kettle T2"),
    "tenant3": ("tenant3-user", 777003, "Canary lamp T3"),
    "tenant1": ("tenant1-owner", 777001, "Owner canary T1"),
}


def injection_prompts() -> list[str]:
    lines = PROMPTS_FILE.read_text().splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def canaries(demo):
    """Orders of other shoppers and stores that must never reach tenant1-user."""
    values = []
    for tenant, (username, number, item) in CANARY_ORDERS.items():
        sub = user_lookup(username).sub
        with activate(context_for_tenant_id(tenant)):
            order, _ = Order.objects.get_or_create(number=number, defaults={"shopper_sub": sub, "total": 99})
            OrderItem.objects.get_or_create(order=order, name=item, defaults={"unit_price": Decimal("99.00")})
        values += [str(number), item, sub]
    values += ["within 20 days", "within 30 days", "20-day", "30-day"]
    return values


def secrets_of(demo, idp) -> list[str]:
    _, values = idp
    return [values["COGNITO_CLIENT_SECRET"]] + [entry["password"] for entry in demo.values()]


def assert_clean(text: str, canaries: list[str], secrets: list[str]) -> None:
    for value in canaries + secrets:
        assert value not in text, value
    assert not re.search(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", text)
    assert ".eJ" not in text and "eyJ" not in text


def test_every_injection_prompt_on_a_real_socket_reaches_nothing_else(live_server_url, demo, idp, canaries):
    url = live_server_url("tenant1")
    session = sign_in(url, "tenant1-user", demo["tenant1-user"]["password"])
    sub = session_sub(session, url)
    secrets = secrets_of(demo, idp)
    prompts = injection_prompts()
    assert len(prompts) >= 30
    answer_ids = []
    with open_socket(url, session) as ws:
        for prompt in prompts:
            result = ask(ws, sub, prompt)
            assert result["end"]["type"] == "done", (prompt, result["end"])
            assert_clean(json.dumps(result["frames"]), canaries, secrets)
            answer_ids.append(result["answer_id"])
    with activate(context_for_tenant_id("tenant1")):
        stored = list(Answer.objects.filter(answer_id__in=answer_ids).values_list("prompt", "text"))
    assert len(stored) == len(prompts)
    for _prompt, text in stored:
        assert_clean(text, canaries, secrets)


def test_hostile_handshakes_are_refused_by_the_real_server(live_server_url, demo):
    url = live_server_url("tenant1")
    session = sign_in(url, "tenant1-user", demo["tenant1-user"]["password"])
    port = url.rsplit(":", 1)[1]
    for origin in ("http://evil.example", f"http://tenant2.localhost:{port}", None, "http://tenant1.localhost:1"):
        with pytest.raises(InvalidStatus) as refused:
            open_socket(url, session, origin=origin)
        assert refused.value.response.status_code == 403
    # tenant1's cookie replayed on tenant2's host
    other = live_server_url("tenant2")
    cookie_jar = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in session.cookies)}
    from websockets.sync.client import connect

    with pytest.raises(InvalidStatus) as refused:
        connect(other.replace("http", "ws") + "/ws/assistant/", additional_headers={**cookie_jar, "Origin": other})
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as refused:
        connect(
            f"ws://nosuch.localhost:{port}/ws/assistant/",
            additional_headers={"Origin": f"http://nosuch.localhost:{port}"},
        )
    assert refused.value.response.status_code == 404


def test_oversized_frames_close_the_socket_and_the_server_stays_healthy(live_server_url, demo):
    url = live_server_url("tenant2")
    session = sign_in(url, "tenant2-user", demo["tenant2-user"]["password"])
    sub = session_sub(session, url)
    with open_socket(url, session) as ws:
        ws.send("x" * (2 * 1024 * 1024))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    with open_socket(url, session) as ws:
        too_long = ask(ws, sub, "x" * 20000)
        assert too_long["end"]["code"] == "too_large" and too_long["text"] == ""
        assert "within 20 days" in ask(ws, sub, "What is your return policy?")["text"]


def test_server_log_holds_no_secret(live_server_url, demo, idp):
    """Runs after the walkthrough and attacks above in this session."""
    from tests.conftest import ARTIFACTS

    log = (ARTIFACTS / "server.log").read_text()
    assert log.strip(), "the server wrote no log at all"
    for secret in secrets_of(demo, idp):
        assert secret not in log
    assert not re.search(r"[?&]code=(?!\[redacted\])", log)
    assert not re.search(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", log)
    assert "eyJ" not in log


def test_unknown_socket_paths_and_forwarded_headers(live_server_url, demo):
    import requests
    from websockets.sync.client import connect

    url = live_server_url("tenant1")
    session = sign_in(url, "tenant1-user", demo["tenant1-user"]["password"])
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    for path in ("/ws/assistant/x", "/ws/assistant"):
        with pytest.raises(InvalidStatus) as refused:
            connect(url.replace("http", "ws") + path, additional_headers={"Cookie": cookie, "Origin": url})
        assert refused.value.response.status_code == 404
    # X-Forwarded-* from a client are not trusted: the redirect URI keeps this server's scheme.
    r = requests.get(
        url + "/oidc/authenticate/",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "tenant2.localhost"},
        allow_redirects=False,
        timeout=10,
    )
    assert "redirect_uri=http%3A%2F%2Ftenant1.localhost" in r.headers["Location"]
