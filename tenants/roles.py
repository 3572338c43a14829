"""Per-store PostgreSQL roles: the database's own refusal of other stores' data.

Each store schema has a role (NOLOGIN) with USAGE on that schema only and SELECT
on the tables registered here (what the assistant's tools read). Row-level security
on shopper-keyed tables (storefront's migration) shows such a role only the rows
whose shopper equals the transaction's `app.shopper_sub` setting.

`acting_as` is the one place that assumes a role: inside one transaction,
`SET LOCAL ROLE` and `set_config(..., is_local => true)`, both undone at its end.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django_tenants.utils import get_public_schema_name

from tenants.context import TenantContext, activate

SHOPPER_SETTING = "app.shopper_sub"
_role_tables: dict[str, tuple[str, ...]] = {}
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def register_role_tables(owner: str, *tables: str) -> None:
    """Declare the tables (unqualified) a store role may SELECT; called by apps at ready()."""
    for table in tables:
        if not _IDENT.match(table):
            raise ValueError(f"invalid table name {table!r}")
    _role_tables[owner] = tables


def role_tables() -> list[str]:
    return sorted({t for tables in _role_tables.values() for t in tables})


def store_role_name(schema_name: str) -> str:
    """Roles are cluster-wide, so the name carries the database too (tests and the
    demo may share one PostgreSQL server)."""
    database = connection.settings_dict["NAME"]
    digest = hashlib.sha256(f"{database}/{schema_name}".encode()).hexdigest()[:10]
    return f"store_{digest}_{schema_name}"[:63]


def _q(identifier: str) -> str:
    return connection.ops.quote_name(identifier)


def store_role_ensure(schema_name: str) -> str:
    """Create the store's role if missing and (re)apply exactly its grants."""
    if schema_name == get_public_schema_name() or not _IDENT.match(schema_name):
        raise ValueError("not a store schema")
    role = store_role_name(schema_name)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {_q(role)} NOLOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE")
        # The application's own user must be able to SET ROLE to it.
        cursor.execute(f"GRANT {_q(role)} TO CURRENT_USER")
        cursor.execute(f"GRANT USAGE ON SCHEMA {_q(schema_name)} TO {_q(role)}")
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'",
            [schema_name],
        )
        existing = {row[0] for row in cursor.fetchall()}
        wanted = set(role_tables())
        for table in sorted(existing):
            qualified = f"{_q(schema_name)}.{_q(table)}"
            cursor.execute(f"REVOKE ALL ON {qualified} FROM {_q(role)}")
            if table in wanted:
                cursor.execute(f"GRANT SELECT ON {qualified} TO {_q(role)}")
    return role


def store_role_drop(schema_name: str) -> None:
    role = store_role_name(schema_name)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is not None:
            cursor.execute(f"DROP OWNED BY {_q(role)}")
            cursor.execute(f"DROP ROLE {_q(role)}")


@contextmanager
def acting_as(ctx: TenantContext, *, role: str) -> Iterator[None]:
    """Run the block in one transaction as the store's role, for the context's shopper."""
    if not ctx.shopper_sub:
        raise PermissionError("a store role is assumed only for a signed-in shopper")
    if role != store_role_name(ctx.schema_name):
        raise PermissionError("the role does not belong to this store")
    if connection.in_atomic_block:
        # SET LOCAL would outlive this block inside an outer transaction.
        raise RuntimeError("acting_as must not run inside another transaction")
    with activate(ctx), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {_q(role)}")
        cursor.execute("SELECT set_config(%s, %s, true)", [SHOPPER_SETTING, ctx.shopper_sub])
        yield
