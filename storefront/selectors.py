"""Reads of shop data. Each takes the context explicitly and returns evaluated
values (never a lazy queryset that could be iterated in another schema, BR-06)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from storefront.models import Order, ReturnPolicy
from tenants.context import TenantContext, activate


@dataclass(frozen=True)
class PolicyView:
    days: int
    text: str
    updated_at: datetime


@dataclass(frozen=True)
class OrderView:
    number: int
    placed_at: datetime
    status: str
    total: Decimal
    currency: str
    items: tuple[tuple[str, int, Decimal], ...]


def policy_get(*, ctx: TenantContext) -> PolicyView | None:
    with activate(ctx):
        policy = ReturnPolicy.objects.order_by("pk").first()
        return PolicyView(policy.days, policy.text, policy.updated_at) if policy else None


def _order_view(order: Order) -> OrderView:
    return OrderView(
        number=order.number,
        placed_at=order.placed_at,
        status=order.get_status_display(),
        total=order.total,
        currency=order.currency,
        items=tuple((i.name, i.quantity, i.unit_price) for i in order.items.all()),
    )


def orders_for_shopper(*, ctx: TenantContext) -> list[OrderView]:
    """The signed-in shopper's own orders in this store, newest first."""
    if not ctx.shopper_sub:
        return []
    with activate(ctx):
        orders = Order.objects.filter(shopper_sub=ctx.shopper_sub).prefetch_related("items")
        return [_order_view(o) for o in orders]


def order_for_shopper(*, ctx: TenantContext, number: int) -> OrderView | None:
    """One of the shopper's own orders; another shopper's order is None, as is a missing one."""
    if not ctx.shopper_sub:
        return None
    with activate(ctx):
        order = Order.objects.filter(shopper_sub=ctx.shopper_sub, number=number).prefetch_related("items").first()
        return _order_view(order) if order else None
