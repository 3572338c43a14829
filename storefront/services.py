"""Writes of shop data."""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max

from storefront.models import Order, OrderItem, ReturnPolicy, ReturnPolicyVersion
from tenants.context import TenantContext, activate

FIRST_ORDER_NUMBER = 1001
_DEMO_ITEMS = [
    ("Blue mug", Decimal("12.50")),
    ("Tea towel", Decimal("8.00")),
    ("Cast-iron pan", Decimal("39.90")),
    ("Linen apron", Decimal("24.00")),
    ("Wooden spoon set", Decimal("14.75")),
    ("Glass carafe", Decimal("19.99")),
]


def policy_set(*, ctx: TenantContext, days: int, text: str, updated_by: str = "") -> ReturnPolicy:
    with activate(ctx), transaction.atomic():
        policy = ReturnPolicy.objects.select_for_update().order_by("pk").first() or ReturnPolicy()
        policy.days = days
        policy.text = text
        policy.updated_by = updated_by[:150]
        policy.full_clean()
        policy.save()
        ReturnPolicyVersion.objects.create(days=policy.days, text=policy.text, changed_by=policy.updated_by)
        return policy


def order_add(
    *,
    ctx: TenantContext,
    shopper_sub: str,
    items: list[tuple[str, int, Decimal]] | None = None,
    status: str = Order.Status.PLACED,
    note: str = "",
    rng: random.Random | None = None,
) -> Order:
    """Add an order for a shopper of this store; items default to a few demo products."""
    rng = rng or random.Random()
    if items is None:
        items = [(name, rng.randint(1, 3), price) for name, price in rng.sample(_DEMO_ITEMS, rng.randint(1, 3))]
    with activate(ctx), transaction.atomic():
        # Serialise order numbering within this transaction.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.order_number'))")
        last = Order.objects.aggregate(m=Max("number"))["m"]
        order = Order(
            number=(last or FIRST_ORDER_NUMBER - 1) + 1,
            shopper_sub=shopper_sub,
            status=status,
            note=note,
            total=sum((price * qty for _, qty, price in items), Decimal("0.00")),
        )
        order.full_clean()
        order.save()
        OrderItem.objects.bulk_create(
            [OrderItem(order=order, name=name, quantity=qty, unit_price=price) for name, qty, price in items]
        )
        return order


def orders_clear(*, ctx: TenantContext, shopper_sub: str) -> int:
    with activate(ctx), transaction.atomic():
        deleted, per_model = Order.objects.filter(shopper_sub=shopper_sub).delete()
        return per_model.get(Order._meta.label, 0)
