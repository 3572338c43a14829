"""Issue 2's walkthrough, end to end: real uvicorn, real identity provider, real
redirect flow through the provider's login form, real WebSocket."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command
from websockets.exceptions import ConnectionClosed, InvalidStatus

from storefront.management.commands.seed_demo import DEMO_POLICY_TEXT
from storefront.selectors import orders_for_shopper, policy_get
from storefront.services import policy_set
from tenants.services import context_for_tenant_id
from tests.support.flows import ask, open_socket, session_sub, sign_in

pytestmark = pytest.mark.e2e
DAYS = {"tenant1": 10, "tenant2": 20, "tenant3": 30}


@pytest.mark.parametrize("tenant", ["tenant1", "tenant2", "tenant3"])
def test_shopper_signs_in_and_the_assistant_answers_for_their_store(live_server_url, demo, tenant, capsys):
    url = live_server_url(tenant)
    username = f"{tenant}-user"
    session = sign_in(url, username, demo[username]["password"])
    assert session.last_response.status_code == 200
    assert session.last_response.url == url + "/"
    sub = session_sub(session, url)
    ctx = context_for_tenant_id(tenant, shopper_sub=sub)
    call_command("orders", username, "clear")

    with open_socket(url, session) as ws:
        policy = ask(ws, sub, "What is your return policy?")
        assert policy["end"] == {"type": "done", "answerId": policy["answer_id"], "chunks": len(policy["seqs"])}
        assert len(policy["seqs"]) > 1 and policy["seqs"] == list(range(len(policy["seqs"])))
        assert f"within {DAYS[tenant]} days" in policy["text"]
        for other, days in DAYS.items():
            if other != tenant:
                assert f"within {days} days" not in policy["text"]

        none = ask(ws, sub, "Which orders did I place?")
        assert none["text"] == "You have not placed any orders yet."

        capsys.readouterr()
        call_command("orders", username, "add")
        added = capsys.readouterr().out
        number = int(re.search(r"added order (\d+)", added).group(1))
        assert f"for {username} in {tenant}" in added
        [order] = orders_for_shopper(ctx=ctx)
        assert order.number == number

        listed = ask(ws, sub, "Which orders did I place?")
        assert listed["text"].startswith("You have placed 1 order:")
        assert (
            f"Order {number}, placed {order.placed_at.date().isoformat()}, status {order.status}, "
            f"total {order.total:.2f} {order.currency}"
        ) in listed["text"]

        call_command("orders", username, "clear")
        assert orders_for_shopper(ctx=ctx) == []
        assert ask(ws, sub, "Which orders did I place?")["text"] == "You have not placed any orders yet."


def test_orders_command_writes_into_the_shoppers_own_store(live_server_url, demo):
    from tenants.identity import user_lookup

    subs = {t: user_lookup(f"{t}-user").sub for t in DAYS}
    call_command("orders", "tenant2-user", "add")
    try:
        assert len(orders_for_shopper(ctx=context_for_tenant_id("tenant2", shopper_sub=subs["tenant2"]))) == 1
        for other in ("tenant1", "tenant3"):
            # Neither the other stores' shoppers nor tenant2's shopper id in another store see it.
            for sub in subs.values():
                assert orders_for_shopper(ctx=context_for_tenant_id(other, shopper_sub=sub)) == []
    finally:
        call_command("orders", "tenant2-user", "clear")


def test_owner_changes_the_policy_in_admin_and_the_assistant_follows(live_server_url, demo):
    url = live_server_url("tenant1")
    ctx = context_for_tenant_id("tenant1")
    owner = sign_in(url, "tenant1-owner", demo["tenant1-owner"]["password"], next_path="/admin/")
    assert owner.last_response.url == url + "/admin/"
    assert "Tenant One Home Goods — administration" in owner.last_response.text
    changelist = owner.get(url + "/admin/storefront/returnpolicy/")
    assert changelist.status_code == 200
    policy_pk = re.search(r'href="/admin/storefront/returnpolicy/(\d+)/change/', changelist.text).group(1)
    change_url = f"{url}/admin/storefront/returnpolicy/{policy_pk}/change/"
    form = owner.get(change_url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    saved = owner.post(
        change_url,
        data={"csrfmiddlewaretoken": token, "days": "15", "text": DEMO_POLICY_TEXT, "_save": "Save"},
        headers={"Referer": change_url},
        allow_redirects=False,
    )
    assert saved.status_code == 302, saved.text[:500]
    try:
        assert policy_get(ctx=ctx).days == 15
        shopper = sign_in(url, "tenant1-user", demo["tenant1-user"]["password"])
        sub = session_sub(shopper, url)
        with open_socket(url, shopper) as ws:
            answer = ask(ws, sub, "What is your return policy?")
        assert "within 15 days" in answer["text"]
        assert "within 10 days" not in answer["text"]
    finally:
        policy_set(ctx=ctx, days=10, updated_by="test", text=DEMO_POLICY_TEXT)


def test_a_shopper_is_not_an_owner(live_server_url, demo):
    url = live_server_url("tenant1")
    shopper = sign_in(url, "tenant1-user", demo["tenant1-user"]["password"])
    admin = shopper.get(url + "/admin/", allow_redirects=True)
    assert admin.status_code == 403
    assert "for the store's owners" in admin.text


def test_sign_out_ends_the_session_and_goes_through_the_provider(live_server_url, demo, idp):
    url = live_server_url("tenant3")
    session = sign_in(url, "tenant3-user", demo["tenant3-user"]["password"])
    sub = session_sub(session, url)
    with open_socket(url, session) as ws:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', session.get(url + "/").text).group(1)
        out = session.post(
            url + "/oidc/logout/",
            data={"csrfmiddlewaretoken": token},
            headers={"Referer": url + "/"},
            allow_redirects=False,
        )
        assert out.status_code == 302
        idp_server, values = idp
        assert out.headers["Location"].startswith(f"{idp_server.url}/logout?client_id={values['COGNITO_CLIENT_ID']}")
        back = session.get(out.headers["Location"], allow_redirects=False)
        assert back.headers["Location"] == url + "/"
        assert 'id="signin"' in session.get(url + "/").text
        # Sign-out closed the socket opened with that session.
        frame = json.loads(ws.recv(timeout=5))
        assert frame == {
            "type": "error",
            "answerId": None,
            "code": "forbidden",
            "message": "You are signed out. Sign in again.",
        }
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd.code == 4401
    # and a socket opened with the old cookie is refused
    with pytest.raises(InvalidStatus) as refused:
        open_socket(url, session)
    assert refused.value.response.status_code == 401
    assert sub
