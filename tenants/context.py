"""The tenant context: who and where, decided once at the edge, passed explicitly.

Only this package switches schemas. Everything else receives a `TenantContext` and
calls `activate(ctx)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.db import connection
from django_tenants.utils import get_public_schema_name, schema_context


@dataclass(frozen=True, slots=True)
class TenantContext:
    tenant_id: str
    schema_name: str
    store_name: str
    shopper_sub: str | None = None

    def for_shopper(self, sub: str) -> TenantContext:
        return replace(self, shopper_sub=sub)

    @classmethod
    def for_store(cls, store) -> TenantContext:
        return cls(tenant_id=store.tenant_id, schema_name=store.schema_name, store_name=store.name)

    def __repr__(self) -> str:  # never print more than needed into logs
        return f"TenantContext(tenant_id={self.tenant_id!r}, shopper={'yes' if self.shopper_sub else 'no'})"


@contextmanager
def activate(ctx: TenantContext) -> Iterator[None]:
    """Run the block in the store's schema, restoring the previous one after."""
    if ctx.schema_name == get_public_schema_name():
        raise ValueError("a store context never points at the public schema")
    with schema_context(ctx.schema_name):
        yield


@contextmanager
def public() -> Iterator[None]:
    with schema_context(get_public_schema_name()):
        yield


def current_schema() -> str:
    return connection.schema_name


def context_for_request(request) -> TenantContext | None:
    """The context of an HTTP request on a store host; the shopper only when the
    session was made on this very store."""
    from tenants.oidc import STORE_SESSION_KEY

    store = getattr(request, "tenant", None)
    if store is None or store.schema_name == get_public_schema_name():
        return None
    ctx = TenantContext.for_store(store)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and request.session.get(STORE_SESSION_KEY) == store.tenant_id:
        return ctx.for_shopper(user.username)
    return ctx
