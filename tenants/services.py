"""Writes on stores: provisioning. Only this package creates schemas."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import get_public_schema_name

from tenants.context import TenantContext, public
from tenants.hosts import forget_hosts, normalize_host
from tenants.models import PUBLIC_TENANT_ID, Domain, Store, validate_tenant_id

log = logging.getLogger(__name__)


def public_site_ensure() -> Store:
    """The public schema's tenant row and the base domain (operators' site)."""
    with public():
        store, _ = Store.objects.get_or_create(
            schema_name=get_public_schema_name(),
            defaults={"tenant_id": PUBLIC_TENANT_ID, "name": "Operators"},
        )
        Domain.objects.get_or_create(domain=settings.STORE_BASE_DOMAIN, defaults={"tenant": store, "is_primary": True})
    forget_hosts()
    return store


def store_create(
    *, tenant_id: str, name: str, domain: str | None = None, schema_name: str | None = None, owner_group: str = ""
) -> tuple[Store, bool]:
    """Create a store with its schema (migrated) and primary domain; idempotent.

    Returns (store, created). An existing store with the same tenant id is returned
    unchanged when its schema agrees; a conflicting one is an error.
    """
    validate_tenant_id(tenant_id)
    if tenant_id == PUBLIC_TENANT_ID:
        raise ValidationError("that tenant id is reserved")
    schema_name = schema_name or tenant_id.replace("-", "_")
    domain = normalize_host(domain or f"{tenant_id}.{settings.STORE_BASE_DOMAIN}")
    if domain is None:
        raise ValidationError("invalid domain")
    public_site_ensure()
    with public():
        existing = Store.objects.filter(tenant_id=tenant_id).first()
        if existing is not None:
            if existing.schema_name != schema_name:
                raise ValidationError(f"store {tenant_id} exists with schema {existing.schema_name}")
            return existing, False
        taken = Domain.objects.filter(domain=domain).first()
        if taken is not None:
            raise ValidationError(f"domain {domain} already belongs to another store")
        if Store.objects.filter(schema_name=schema_name).exists():
            raise ValidationError(f"schema {schema_name} is already used")
        store = Store(tenant_id=tenant_id, name=name, schema_name=schema_name, owner_group=owner_group)
        store.full_clean(exclude=["schema_name"])
        store.save()  # creates and migrates the schema (django-tenants)
        with transaction.atomic():
            Domain.objects.create(domain=domain, tenant=store, is_primary=True)
    forget_hosts()
    log.info("store %s created (schema %s, domain %s)", tenant_id, schema_name, domain)
    return store, True


def store_delete(*, tenant_id: str) -> None:
    """Drop a store: its schema (all its data) and its database role."""
    from tenants.roles import store_role_drop

    store = store_by_tenant_id(tenant_id)
    if store is None:
        raise LookupError(f"no store with tenant id {tenant_id!r}")
    schema = store.schema_name
    with public():
        Domain.objects.filter(tenant=store).delete()
        store.delete(force_drop=True)
    store_role_drop(schema)
    forget_hosts()
    log.info("store %s deleted (schema %s dropped)", tenant_id, schema)


def store_by_tenant_id(tenant_id: str) -> Store | None:
    with public():
        return Store.objects.filter(tenant_id=tenant_id).exclude(schema_name=get_public_schema_name()).first()


def context_for_tenant_id(tenant_id: str, *, shopper_sub: str | None = None) -> TenantContext:
    """A context for commands: the store named by tenant id, or an error."""
    store = store_by_tenant_id(tenant_id)
    if store is None:
        raise LookupError(f"no store with tenant id {tenant_id!r}")
    ctx = TenantContext.for_store(store)
    return ctx.for_shopper(shopper_sub) if shopper_sub else ctx


def store_limits(tenant_id: str) -> tuple[int | None, int | None]:
    """The operator's per-store overrides of the assistant's limits (None: default)."""
    with public():
        row = Store.objects.filter(tenant_id=tenant_id).values_list("assistant_rate_limit", "assistant_max_running")
        return row.first() or (None, None)


def stores_all() -> list[Store]:
    with public():
        return list(Store.objects.exclude(schema_name=get_public_schema_name()).order_by("tenant_id"))
