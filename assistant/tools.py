"""The assistant's tools and their executor.

The model (or the local backend) names a tool and supplies only harmless
parameters; who and which store come from the `TenantContext` the executor is
given, never from the arguments. Every call is audited in the store's schema.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, ProgrammingError

from assistant.credentials import CredentialError, DatabaseCredential, verify_database_credential
from assistant.models import ToolCall
from storefront.selectors import order_for_shopper, orders_for_shopper, policy_get
from tenants.context import TenantContext, activate
from tenants.roles import acting_as

log = logging.getLogger(__name__)

_ORDER_NUMBER_RE = re.compile(r"^#?\s*(\d{1,9})$")


class ToolArgumentError(ValueError):
    pass


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, dict[str, str]]
    run: Callable[..., dict]
    required: tuple[str, ...] = ()


@dataclass
class ToolResult:
    tool: str
    outcome: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.outcome == ToolCall.Outcome.OK

    def as_json(self) -> str:
        return json.dumps({"outcome": self.outcome, **self.data}, default=str)


def _money(value) -> str:
    return f"{value:.2f}"


def _order_json(order) -> dict:
    return {
        "order_number": order.number,
        "placed_at": order.placed_at.date().isoformat(),
        "status": order.status,
        "total": _money(order.total),
        "currency": order.currency,
        "items": [{"name": n, "quantity": q, "unit_price": _money(p)} for n, q, p in order.items],
    }


def _get_return_policy(*, ctx: TenantContext) -> dict:
    policy = policy_get(ctx=ctx)
    if policy is None:
        return {"outcome": ToolCall.Outcome.NOT_FOUND}
    return {"store": ctx.store_name, "days": policy.days, "text": policy.text}


def _list_my_orders(*, ctx: TenantContext) -> dict:
    return {"orders": [_order_json(o) for o in orders_for_shopper(ctx=ctx)]}


def parse_order_number(value: Any) -> int:
    if isinstance(value, bool):
        raise ToolArgumentError("order_number must be a number")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise ToolArgumentError("order_number must be a number")
    match = _ORDER_NUMBER_RE.match(value.strip())
    if not match:
        raise ToolArgumentError("order_number must be a number")
    return int(match.group(1))


def _get_order(*, ctx: TenantContext, order_number: Any) -> dict:
    order = order_for_shopper(ctx=ctx, number=parse_order_number(order_number))
    if order is None:
        # Another shopper's order and a missing one look the same.
        return {"outcome": ToolCall.Outcome.NOT_FOUND}
    return _order_json(order)


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec("get_return_policy", "The store's current return policy (days and text).", {}, _get_return_policy),
        ToolSpec("list_my_orders", "The signed-in shopper's own orders in this store.", {}, _list_my_orders),
        ToolSpec(
            "get_order",
            "One of the signed-in shopper's own orders, by its order number.",
            {"order_number": {"type": "string", "description": "The order number, digits only, e.g. 1001"}},
            _get_order,
            required=("order_number",),
        ),
    )
}


def _clean_arguments(spec: ToolSpec, arguments: Any) -> dict:
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise ToolArgumentError("arguments must be an object")
    unknown = set(arguments) - set(spec.parameters)
    if unknown:
        # Tenant, user, schema or anything else the model invents is refused, not ignored silently.
        raise ToolArgumentError(f"unknown arguments: {', '.join(sorted(str(u)[:40] for u in unknown))}")
    missing = [p for p in spec.required if p not in arguments]
    if missing:
        raise ToolArgumentError(f"missing arguments: {', '.join(missing)}")
    return dict(arguments)


def _audit_arguments(arguments: Any) -> dict:
    try:
        text = json.dumps(arguments, default=str)
    except (TypeError, ValueError):
        text = repr(arguments)
    return {"raw": text[:500]} if len(text) > 500 or not isinstance(arguments, dict) else arguments


def _is_permission_error(exc: DatabaseError) -> bool:
    cause = exc.__cause__
    return isinstance(exc, ProgrammingError) and getattr(cause, "sqlstate", None) == "42501"


def tool_run(
    *,
    ctx: TenantContext,
    credential: DatabaseCredential,
    name: str,
    arguments: Any = None,
    answer_pk: int | None = None,
) -> ToolResult:
    """Run one tool for the context's shopper as the store's database role, in one
    transaction, and audit it. Sync."""
    if not ctx.shopper_sub:
        raise PermissionError("tools run only for a signed-in shopper")
    started = time.perf_counter()
    spec = TOOLS.get(name) if isinstance(name, str) else None
    try:
        if spec is None:
            raise ToolArgumentError("no such tool")
        kwargs = _clean_arguments(spec, arguments)
        role = verify_database_credential(credential, ctx=ctx)
        with acting_as(ctx, role=role):
            data = spec.run(ctx=ctx, **kwargs)
        outcome = data.pop("outcome", ToolCall.Outcome.OK)
        result = ToolResult(name, outcome, data)
    except ToolArgumentError as exc:
        result = ToolResult(str(name)[:64], ToolCall.Outcome.INVALID, {"error": str(exc)})
    except CredentialError:
        log.warning("tool %s refused on store %s: bad credential", name, ctx.tenant_id)
        result = ToolResult(str(name)[:64], ToolCall.Outcome.DENIED, {"error": "access denied"})
    except DatabaseError as exc:
        if _is_permission_error(exc):
            # The database refused: the tool reached outside this store or shopper.
            log.warning("tool %s denied by the database on store %s", name, ctx.tenant_id)
            result = ToolResult(str(name)[:64], ToolCall.Outcome.DENIED, {"error": "access denied"})
        else:
            log.exception("tool %s failed on store %s", name, ctx.tenant_id)
            result = ToolResult(str(name)[:64], ToolCall.Outcome.ERROR, {"error": "the data is unavailable"})
    duration_ms = int((time.perf_counter() - started) * 1000)
    with activate(ctx):
        ToolCall.objects.create(
            answer_id=answer_pk,
            tenant_id=ctx.tenant_id,
            shopper_sub=ctx.shopper_sub,
            tool=result.tool,
            arguments=_audit_arguments(arguments),
            outcome=result.outcome,
            result_size=len(result.as_json()),
            duration_ms=duration_ms,
        )
    return result
