"""The shared fixture of ../shared/cases/field-cases.md, built in the test database."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model

from storefront.services import order_add, policy_set
from tenants.context import TenantContext, activate
from tenants.oidc import STORE_SESSION_KEY
from tenants.services import store_create

ALICE = "aaaaaaaa-0000-4000-8000-000000000001"
CAROL = "cccccccc-0000-4000-8000-000000000003"
BOB = "bbbbbbbb-0000-4000-8000-000000000002"
DAVE = "dddddddd-1111-4000-8000-000000000005"  # a second shopper of shop-b (2x2 matrix)
POLICY_A = "30 days, refund to original payment, ref POLICY-A-7Q"
POLICY_B = "14 days, store credit only, ref POLICY-B-3Z"
# Values that must never appear on the other side (the sentinel rule).
CANARIES_B = ["POLICY-B-3Z", "red kettle", "Red kettle", BOB, "shop-b", "shop_b"]
CANARIES_A = ["POLICY-A-7Q", "blue mug", "Blue mug", ALICE, CAROL, "green teapot"]


@dataclass(frozen=True)
class FieldStores:
    a: TenantContext
    b: TenantContext

    def shopper(self, store: str, sub: str) -> TenantContext:
        return getattr(self, store).for_shopper(sub)


def build_field_stores() -> FieldStores:
    store_a, created_a = store_create(
        tenant_id="shop-a", name="Shop A", domain="shop-a.example.test", schema_name="shop_a"
    )
    store_b, created_b = store_create(
        tenant_id="shop-b", name="Shop B", domain="shop-b.example.test", schema_name="shop_b"
    )
    a, b = TenantContext.for_store(store_a), TenantContext.for_store(store_b)
    if created_a:
        policy_set(ctx=a, days=30, text=POLICY_A, updated_by="fixture")
        user_for(a, ALICE)
        user_for(a, CAROL)
        order_add(ctx=a, shopper_sub=ALICE, items=[("Blue mug", 1, Decimal("12.50"))], note="alice canary A-1001")
        order_add(ctx=a, shopper_sub=CAROL, items=[("Green teapot", 1, Decimal("30.00"))], note="carol A-1002")
    if created_b:
        policy_set(ctx=b, days=14, text=POLICY_B, updated_by="fixture")
        user_for(b, BOB)
        order_add(ctx=b, shopper_sub=BOB, items=[("Red kettle", 1, Decimal("45.00"))], note="bob canary B-1001")
        user_for(b, DAVE)
        order_add(ctx=b, shopper_sub=DAVE, items=[("Yellow whisk", 2, Decimal("7.25"))], note="dave canary B-1002")
    return FieldStores(a, b)


def user_for(ctx: TenantContext, sub: str, *, staff: bool = False):
    from tenants.oidc import _owner_group

    with activate(ctx):
        user, _ = get_user_model().objects.get_or_create(username=sub)
        if staff and not user.is_staff:
            user.is_staff = True
            user.save()
            user.groups.add(_owner_group())
        return user


def session_for(ctx: TenantContext, sub: str, *, staff: bool = False) -> str:
    """A session exactly as a completed sign-in on this store leaves it; returns its key."""
    user = user_for(ctx, sub, staff=staff)
    with activate(ctx):
        engine = import_module(settings.SESSION_ENGINE)
        session = engine.SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "tenants.oidc.StoreOIDCBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[STORE_SESSION_KEY] = ctx.tenant_id
        session.save()
        return session.session_key
