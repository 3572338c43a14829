"""Reads of the assistant's records."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.models import Answer, AnswerChunk
from tenants.context import TenantContext, activate


@dataclass(frozen=True)
class AnswerState:
    pk: int
    status: str
    error_code: str
    chunk_count: int
    chunks: list[tuple[int, str]]


def answer_state(*, ctx: TenantContext, answer_id: str, after: int = -1) -> AnswerState | None:
    """The shopper's own answer and its chunks after `after`; someone else's is None."""
    with activate(ctx):
        answer = Answer.objects.filter(answer_id=answer_id, owner_sub=ctx.shopper_sub).first()
        if answer is None:
            return None
        chunks = list(
            AnswerChunk.objects.filter(answer=answer, seq__gt=after).order_by("seq").values_list("seq", "text")
        )
        return AnswerState(answer.pk, answer.status, answer.error_code, answer.chunk_count, chunks)
