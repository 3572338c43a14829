"""Channel-layer group names: scoped by store and answer (or shopper), never by a
bare user pk. Names stay within the layer's 100-character, [a-z0-9._-] rules."""

import hashlib

from assistant.protocol import answer_uuid
from tenants.context import TenantContext


def answer_group(*, ctx: TenantContext, answer_id: str) -> str:
    """Where an answer's frames go; only its owner's sockets join."""
    return f"ans.{ctx.tenant_id}.{answer_uuid(answer_id)}"


def control_group(*, ctx: TenantContext, answer_id: str) -> str:
    """Where the worker producing an answer listens for `cancel`."""
    return f"ctl.{ctx.tenant_id}.{answer_uuid(answer_id)}"


def shopper_group(*, ctx: TenantContext) -> str:
    """Every open socket of one shopper in one store (closed on sign-out)."""
    digest = hashlib.sha256((ctx.shopper_sub or "").encode()).hexdigest()[:32]
    return f"shp.{ctx.tenant_id}.{digest}"


def session_digest(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()[:32]
