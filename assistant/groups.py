"""Channel-layer group names: scoped by store and answer, never by a bare user pk."""

from assistant.protocol import answer_uuid
from tenants.context import TenantContext


def answer_group(*, ctx: TenantContext, answer_id: str) -> str:
    return f"ans.{ctx.tenant_id}.{answer_uuid(answer_id)}"
