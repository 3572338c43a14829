"""Host normalisation and the store pages across two stores (BR-04, habit 7)."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants.hosts import normalize_host
from tests.support.field import ALICE, BOB, CANARIES_A, CANARIES_B, session_for


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SHOP-A.Example.Test", "shop-a.example.test"),
        ("shop-a.example.test.", "shop-a.example.test"),
        ("shop-a.example.test:8443", "shop-a.example.test"),
        ("shop-a.example.test.:80", "shop-a.example.test"),
        (b"Shop-A.example.test", "shop-a.example.test"),
        ("www.shop-a.example.test", "www.shop-a.example.test"),
        ("[::1]:8000", None),
        ("shop-a..example.test", None),
        ("shop a.example.test", None),
        ("shop-a.example.test:80:80", None),
        ("shop-a.example.test:x", None),
        ("", None),
        (b"\xff", None),
        (None, None),
    ],
)
def test_normalize_host(raw, expected):
    assert normalize_host(raw) == expected


@pytest.mark.parametrize("host", ["SHOP-A.Example.Test", "shop-a.example.test.", "shop-a.example.test:8443"])
def test_variants_of_a_store_host_reach_that_store(field, host):
    page = Client(HTTP_HOST=host).get("/policy/").content.decode()
    assert "POLICY-A-7Q" in page and "POLICY-B-3Z" not in page


@pytest.mark.parametrize("host", ["nosuch.example.test", "www.shop-a.example.test"])
def test_unknown_store_is_404_without_cookies(field, host):
    r = Client(HTTP_HOST=host).get("/")
    assert r.status_code == 404
    assert not r.cookies
    assert "No such store" in r.content.decode()


def test_foreign_host_is_400(field):
    assert Client(HTTP_HOST="evil.example").get("/").status_code == 400


def test_forwarded_host_from_a_client_is_ignored(field):
    page = Client(HTTP_HOST="shop-a.example.test", HTTP_X_FORWARDED_HOST="shop-b.example.test").get("/policy/")
    text = page.content.decode()
    assert "POLICY-A-7Q" in text and "POLICY-B-3Z" not in text


def test_public_site_has_no_store_pages_and_no_assistant(field):
    client = Client(HTTP_HOST="localhost")  # STORE_BASE_DOMAIN, the operators' site
    assert client.get("/healthz").status_code == 200
    for path in ("/", "/policy/", "/oidc/authenticate/", "/ws/assistant/"):
        assert client.get(path).status_code == 404


def test_store_page_shows_only_the_shoppers_own_orders_of_this_store(field):
    client = Client(HTTP_HOST="shop-a.example.test")
    client.cookies["sessionid"] = session_for(field.a, ALICE)
    page = client.get("/").content.decode()
    assert "1001" in page and "POLICY-A-7Q" in page
    for canary in CANARIES_B:
        assert canary not in page
    assert "1002" not in page  # carol's order in the same store

    client_b = Client(HTTP_HOST="shop-b.example.test")
    client_b.cookies["sessionid"] = session_for(field.b, BOB)
    page_b = client_b.get("/").content.decode()
    assert "POLICY-B-3Z" in page_b and "1001" in page_b
    for canary in CANARIES_A:
        assert canary not in page_b


def test_deactivated_store_is_unavailable(field):
    from tenants.hosts import forget_hosts
    from tenants.models import Store

    Store.objects.filter(tenant_id="shop-b").update(is_active=False)
    forget_hosts()
    try:
        r = Client(HTTP_HOST="shop-b.example.test").get("/")
        assert r.status_code == 404 and "Store unavailable" in r.content.decode()
    finally:
        Store.objects.filter(tenant_id="shop-b").update(is_active=True)
        forget_hosts()


def test_every_store_page_shows_the_signed_in_shopper(field):
    client = Client(HTTP_HOST="shop-a.example.test")
    client.cookies["sessionid"] = session_for(field.a, ALICE)
    for path in ("/", "/policy/"):
        page = client.get(path).content.decode()
        assert "Signed in as" in page and 'id="signout"' in page and 'id="signin"' not in page
    assert client.get("/favicon.ico").status_code == 204
