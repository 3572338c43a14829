"""The database refuses what the code forgets: store roles, row-level security,
credential checks (issue 3, DESIGN.md §5.5)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from django.db import DatabaseError, connection

from assistant.credentials import (
    CredentialError,
    DatabaseCredentialVendor,
    reset_vendors,
    vend_database_credential,
    verify_database_credential,
)
from assistant.models import ToolCall
from assistant.tools import TOOLS, ToolSpec, tool_run
from storefront.models import Order
from tenants.context import activate
from tenants.roles import acting_as, role_tables, store_role_name
from tests.support.field import ALICE, BOB, CANARIES_B, CAROL


def run_as(ctx, sql, params=None):
    with acting_as(ctx, role=store_role_name(ctx.schema_name)), connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM shop_b.storefront_order",
        "SELECT * FROM shop_b.storefront_returnpolicy",
        "SELECT * FROM public.tenants_store",
        "SELECT * FROM public.auth_user",
        "SELECT * FROM auth_user",
        "SELECT * FROM django_session",
        "SELECT * FROM assistant_answer",
        "SELECT * FROM assistant_toolcall",
        "INSERT INTO storefront_order (number, shopper_sub, placed_at, status, total, currency, note) "
        "VALUES (9999, 'x', now(), 'placed', 0, 'USD', '')",
        "UPDATE storefront_returnpolicy SET days = 999",
        "DELETE FROM storefront_order",
        "CREATE TABLE evil (x int)",
    ],
)
def test_store_role_is_refused_outside_its_store_and_its_grants(field, sql):
    ctx = field.shopper("a", ALICE)
    with pytest.raises(DatabaseError) as caught:
        run_as(ctx, sql)
    assert getattr(caught.value.__cause__, "sqlstate", None) == "42501"


def test_store_role_reads_only_the_shoppers_rows(field):
    alice, carol = field.shopper("a", ALICE), field.shopper("a", CAROL)
    with activate(field.a):
        assert Order.objects.count() == 2  # the app's own user sees both
    assert [r[0] for r in run_as(alice, "SELECT shopper_sub FROM storefront_order")] == [ALICE]
    assert [r[0] for r in run_as(carol, "SELECT shopper_sub FROM storefront_order")] == [CAROL]
    assert [r[0] for r in run_as(alice, "SELECT name FROM storefront_orderitem")] == ["Blue mug"]
    # A query that forgets the shopper filter still gets only the shopper's rows.
    assert run_as(alice, "SELECT count(*) FROM storefront_order WHERE 1 = 1 OR shopper_sub <> %s", [ALICE]) == [(1,)]


def test_without_the_shopper_setting_the_role_sees_no_orders(field):
    role = store_role_name("shop_a")
    with activate(field.a), connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            cursor.execute(f'SET LOCAL ROLE "{role}"')
            cursor.execute("SELECT count(*) FROM storefront_order")
            assert cursor.fetchone() == (0,)
            cursor.execute("SELECT count(*) FROM storefront_returnpolicy")
            assert cursor.fetchone() == (1,)
        finally:
            cursor.execute("ROLLBACK")


def test_role_is_gone_after_the_tool_transaction(field):
    run_as(field.shopper("a", ALICE), "SELECT 1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_setting('app.shopper_sub', true)")
        user, setting = cursor.fetchone()
    assert user == connection.settings_dict["USER"] and setting in (None, "")


def test_role_grants_are_exactly_the_registered_tables(field):
    role = store_role_name("shop_a")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE grantee = %s ORDER BY 1, 2, 3",
            [role],
        )
        grants = cursor.fetchall()
    assert grants == [("shop_a", t, "SELECT") for t in role_tables()]
    assert role_tables() == ["storefront_order", "storefront_orderitem", "storefront_returnpolicy"]


def test_roles_differ_per_store_and_the_app_user_can_assume_only_through_acting_as(field):
    assert store_role_name("shop_a") != store_role_name("shop_b")
    with pytest.raises(PermissionError):
        with acting_as(field.shopper("a", ALICE), role=store_role_name("shop_b")):
            pass
    with pytest.raises(PermissionError):
        with acting_as(field.a, role=store_role_name("shop_a")):  # no shopper
            pass


@pytest.fixture
def extra_tool():
    added = []

    def add(name, run, parameters=None):
        TOOLS[name] = ToolSpec(name, "test tool", parameters or {}, run)
        added.append(name)

    yield add
    for name in added:
        TOOLS.pop(name, None)


def _leaky_other_store(*, ctx):
    # A buggy tool that hard-codes another store's schema.
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM shop_b.storefront_returnpolicy")
        return {"text": cursor.fetchone()[0]}


def _forgetful_orders(*, ctx):
    # A buggy tool that forgets to filter by shopper.
    return {"orders": [o.shopper_sub for o in Order.objects.all()]}


def test_a_tool_that_hard_codes_another_store_is_refused_by_the_database(field, extra_tool):
    extra_tool("leaky", _leaky_other_store)
    ctx = field.shopper("a", ALICE)
    result = tool_run(ctx=ctx, credential=vend_database_credential(ctx=ctx), name="leaky")
    assert result.outcome == "access_denied"
    assert result.data == {"error": "access denied"}
    assert "POLICY-B-3Z" not in result.as_json()
    with activate(field.a):
        audit = ToolCall.objects.filter(tool="leaky").latest("created_at")
    assert (audit.outcome, audit.shopper_sub, audit.tenant_id) == ("access_denied", ALICE, "shop-a")


def test_a_tool_that_forgets_the_shopper_filter_still_sees_only_the_shopper(field, extra_tool):
    extra_tool("forgetful", _forgetful_orders)
    ctx = field.shopper("a", ALICE)
    result = tool_run(ctx=ctx, credential=vend_database_credential(ctx=ctx), name="forgetful")
    assert result.ok and result.data == {"orders": [ALICE]}


def test_credentials_of_another_store_or_shopper_are_refused(field):
    alice, carol, bob = field.shopper("a", ALICE), field.shopper("a", CAROL), field.shopper("b", BOB)
    for holder, user in ((bob, alice), (carol, alice)):
        result = tool_run(ctx=user, credential=vend_database_credential(ctx=holder), name="list_my_orders")
        assert result.outcome == "access_denied"
        for canary in CANARIES_B:
            assert canary not in result.as_json()


def test_expired_or_tampered_credentials_are_refused(field):
    alice = field.shopper("a", ALICE)
    vendor = DatabaseCredentialVendor(ttl_seconds=1, refresh_margin_seconds=0)
    credential = vendor.vend(ctx=alice)
    assert verify_database_credential(credential, ctx=alice) == store_role_name("shop_a")
    tampered = replace(credential, token=credential.token[:-2] + ("AA" if credential.token[-2:] != "AA" else "BB"))
    with pytest.raises(CredentialError):
        verify_database_credential(tampered, ctx=alice)
    time.sleep(1.1)
    with pytest.raises(CredentialError):
        verify_database_credential(credential, ctx=alice)


def test_no_credentials_for_an_anonymous_context(field):
    reset_vendors()
    with pytest.raises(CredentialError):
        vend_database_credential(ctx=field.a)


def test_credentials_are_cached_until_shortly_before_expiry(field):
    alice = field.shopper("a", ALICE)
    vendor = DatabaseCredentialVendor(ttl_seconds=900, refresh_margin_seconds=60)
    first = vendor.vend(ctx=alice)
    assert vendor.vend(ctx=alice) is first
    assert vendor.vend(ctx=field.shopper("a", CAROL)) is not first
    near_expiry = DatabaseCredentialVendor(ttl_seconds=30, refresh_margin_seconds=60)
    assert near_expiry.vend(ctx=alice) is not near_expiry.vend(ctx=alice)


def test_credential_repr_hides_the_token(field):
    credential = vend_database_credential(ctx=field.shopper("a", ALICE))
    assert credential.token not in repr(credential) and ALICE not in repr(credential)


def test_deleting_a_store_drops_its_schema_and_role(field):
    from tenants.services import store_create, store_delete

    store, _ = store_create(tenant_id="doomed", name="Doomed", domain="doomed.example.test", schema_name="doomed")
    role = store_role_name("doomed")

    def role_exists():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            return cursor.fetchone() is not None

    assert role_exists()
    store_delete(tenant_id="doomed")
    assert not role_exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'doomed'")
        assert cursor.fetchone() is None
