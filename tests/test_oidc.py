"""Sign-in: the backend takes identity and store only from a verified ID token for
this store (BR-14, BR-15, BR-18). Tokens come from a fake provider at the wire."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from storefront.selectors import orders_for_shopper
from tenants.context import activate
from tests.support.fake_op import CLIENT_ID, ISSUER, FakeOP
from tests.support.field import ALICE

A_HOST = "shop-a.example.test"
B_HOST = "shop-b.example.test"


@pytest.fixture(scope="module")
def fake_op():
    op = FakeOP()
    yield op
    op.close()


@pytest.fixture
def op(fake_op, settings, field):
    for name, value in fake_op.settings().items():
        setattr(settings, name, value)
    fake_op.next_token = None
    return fake_op


def start_login(client: Client, next_path: str | None = "/") -> dict:
    params = {"next": next_path} if next_path is not None else {}
    r = client.get("/oidc/authenticate/", params)
    assert r.status_code == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(r["Location"]).query).items()}


def users(ctx, sub):
    with activate(ctx):
        return list(get_user_model().objects.filter(username=sub).values_list("username", "is_staff"))


def new_sub() -> str:
    return f"eeeeeeee-0000-4000-8000-{int(time.time() * 1e6) % 10**12:012d}"


def test_valid_token_for_this_store_signs_in_by_sub(op, field):
    client = Client(HTTP_HOST=A_HOST)
    params = start_login(client)
    assert params["redirect_uri"] == f"http://{A_HOST}/oidc/callback/"
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["client_id"] == CLIENT_ID
    sub = new_sub()
    op.next_token = op.sign(op.claims(sub=sub, tenant="shop-a", nonce=params["nonce"]))
    r = client.get("/oidc/callback/", {"code": "c1", "state": params["state"]})
    assert r.status_code == 302 and r["Location"] == "/"
    assert users(field.a, sub) == [(sub, False)]
    assert users(field.b, sub) == []
    # The code exchange sent the PKCE verifier and authenticated the client.
    assert "code_verifier=" in op.token_requests[-1]["body"]
    assert op.token_requests[-1]["auth"].startswith("Basic ")
    page = client.get("/")
    assert page.status_code == 200 and 'id="chat-form"' in page.content.decode()


REFUSED = {
    "another store's tenant": lambda op, n, s: op.sign(op.claims(sub=s, tenant="shop-b", nonce=n)),
    "no tenant claim": lambda op, n, s: op.sign(op.claims(sub=s, tenant=None, nonce=n)),
    "tenant differs in case": lambda op, n, s: op.sign(op.claims(sub=s, tenant="SHOP-A", nonce=n)),
    "wrong audience": lambda op, n, s: op.sign(op.claims(sub=s, tenant="shop-a", nonce=n, aud="other-client")),
    "wrong issuer": lambda op, n, s: op.sign(op.claims(sub=s, tenant="shop-a", nonce=n, iss=ISSUER + "x")),
    "expired": lambda op, n, s: op.sign(op.claims(sub=s, tenant="shop-a", nonce=n, exp=int(time.time()) - 600)),
    "access token": lambda op, n, s: op.sign(op.claims(sub=s, tenant="shop-a", nonce=n, token_use="access")),
    "nonce mismatch": lambda op, n, s: op.sign(op.claims(sub=s, tenant="shop-a", nonce="other")),
    "no nonce": lambda op, n, s: op.sign(
        {k: v for k, v in op.claims(sub=s, tenant="shop-a", nonce=n).items() if k != "nonce"}
    ),
    "signed by another key": lambda op, n, s: op.sign(op.claims(sub=s, tenant="shop-a", nonce=n), key=op.other_key),
    "unknown key id": lambda op, n, s: op.sign(op.claims(sub=s, tenant="shop-a", nonce=n), kid="nope"),
    "HS256 with the client secret": lambda op, n, s: op.sign(op.claims(sub=s, tenant="shop-a", nonce=n), alg="HS256"),
    "unsigned": lambda op, n, s: (
        "eyJhbGciOiJub25lIn0." + op.sign(op.claims(sub=s, tenant="shop-a", nonce=n)).split(".")[1] + "."
    ),
    "no sub": lambda op, n, s: op.sign(
        {k: v for k, v in op.claims(sub=s, tenant="shop-a", nonce=n).items() if k != "sub"}
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_tokens_create_no_user_and_no_session(op, field, case):
    client = Client(HTTP_HOST=A_HOST)
    params = start_login(client)
    sub = new_sub()
    op.next_token = REFUSED[case](op, params["nonce"], sub)
    r = client.get("/oidc/callback/", {"code": "c", "state": params["state"]})
    assert r.status_code == 403
    assert "We could not sign you in" in r.content.decode()
    assert users(field.a, sub) == []
    assert 'id="signin"' in client.get("/").content.decode()


def test_same_email_different_sub_is_a_different_account(op, field):
    """BR-18c: matched by sub, never by email."""
    client = Client(HTTP_HOST=A_HOST)
    params = start_login(client)
    mallory = "dddddddd-0000-4000-8000-000000000004"
    op.next_token = op.sign(
        op.claims(
            sub=mallory, tenant="shop-a", nonce=params["nonce"], email="aaaaaaaa@example.test", email_verified=False
        )
    )
    assert client.get("/oidc/callback/", {"code": "c", "state": params["state"]}).status_code == 302
    assert users(field.a, mallory) == [(mallory, False)]
    assert orders_for_shopper(ctx=field.a.for_shopper(mallory)) == []
    page = client.get("/").content.decode()
    assert "Blue mug" not in page and "1001" not in page


def test_owner_rights_come_from_the_stores_group_in_the_token(op, field):
    client = Client(HTTP_HOST=A_HOST)
    params = start_login(client, "/admin/")
    owner = new_sub()
    op.next_token = op.sign(
        op.claims(sub=owner, tenant="shop-a", nonce=params["nonce"], **{"cognito:groups": ["shop-a-owners"]})
    )
    r = client.get("/oidc/callback/", {"code": "c", "state": params["state"]})
    assert r["Location"] == "/admin/"
    assert users(field.a, owner) == [(owner, True)]
    admin = client.get("/admin/")
    assert admin.status_code == 200 and "Return policy" in admin.content.decode()

    other = Client(HTTP_HOST=A_HOST)
    params = start_login(other, "/admin/")
    not_owner = new_sub()
    op.next_token = op.sign(
        op.claims(sub=not_owner, tenant="shop-a", nonce=params["nonce"], **{"cognito:groups": ["shop-b-owners"]})
    )
    other.get("/oidc/callback/", {"code": "c", "state": params["state"]})
    assert users(field.a, not_owner) == [(not_owner, False)]
    assert other.get("/admin/", follow=True).status_code == 403


def test_unknown_or_replayed_state_is_a_friendly_error(op, field):
    client = Client(HTTP_HOST=A_HOST)
    r = client.get("/oidc/callback/", {"code": "c", "state": "never-issued"})
    assert r.status_code in (400, 403) and "Start again" in r.content.decode()
    params = start_login(client)
    sub = new_sub()
    op.next_token = op.sign(op.claims(sub=sub, tenant="shop-a", nonce=params["nonce"]))
    assert client.get("/oidc/callback/", {"code": "c", "state": params["state"]}).status_code == 302
    replay = Client(HTTP_HOST=A_HOST).get("/oidc/callback/", {"code": "c", "state": params["state"]})
    assert replay.status_code in (400, 403) and "Start again" in replay.content.decode()


def test_callback_delivered_to_another_store_signs_in_nobody(op, field):
    """BR-15a: state lives in shop-a's session; shop-b knows nothing of it."""
    client_a = Client(HTTP_HOST=A_HOST)
    params = start_login(client_a)
    sub = new_sub()
    op.next_token = op.sign(op.claims(sub=sub, tenant="shop-b", nonce=params["nonce"]))
    client_b = Client(HTTP_HOST=B_HOST)
    client_b.cookies = client_a.cookies  # even with the cookie replayed across hosts
    r = client_b.get("/oidc/callback/", {"code": "c", "state": params["state"]})
    assert r.status_code in (400, 403)
    assert users(field.b, sub) == [] and users(field.a, sub) == []


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "https://shop-b.example.test/orders/",
        "http://shop-a.example.test.evil.example/",
        "/\r\nSet-Cookie:x=1",
    ],
)
def test_next_is_only_a_path_on_this_store(op, field, target):
    client = Client(HTTP_HOST=A_HOST)
    params = start_login(client, target)
    op.next_token = op.sign(op.claims(sub=new_sub(), tenant="shop-a", nonce=params["nonce"]))
    r = client.get("/oidc/callback/", {"code": "c", "state": params["state"]})
    assert r.status_code == 302
    assert r["Location"] == "/"


def test_a_safe_next_path_is_kept(op, field):
    client = Client(HTTP_HOST=A_HOST)
    params = start_login(client, "/policy/?x=1")
    op.next_token = op.sign(op.claims(sub=new_sub(), tenant="shop-a", nonce=params["nonce"]))
    assert client.get("/oidc/callback/", {"code": "c", "state": params["state"]})["Location"] == "/policy/?x=1"


def test_a_session_of_store_a_is_worth_nothing_on_store_b_pages(op, field):
    client = Client(HTTP_HOST=A_HOST)
    params = start_login(client)
    op.next_token = op.sign(
        op.claims(
            sub=ALICE, tenant="shop-a", nonce=params["nonce"], **{"cognito:groups": ["shop-a-owners", "shop-b-owners"]}
        )
    )
    client.get("/oidc/callback/", {"code": "c", "state": params["state"]})
    assert 'id="chat-form"' in client.get("/").content.decode()
    b = Client(HTTP_HOST=B_HOST)
    b.cookies = client.cookies
    page = b.get("/").content.decode()
    assert 'id="signin"' in page and "chat-form" not in page
    for canary in ("Blue mug", ALICE):
        assert canary not in page
    admin = b.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")


def test_sign_in_does_not_exist_on_the_public_site(op, field):
    assert Client(HTTP_HOST="localhost").get("/oidc/authenticate/").status_code == 404
