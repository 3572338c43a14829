"""Reads of the assistant's records."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.models import Answer, AnswerChunk, Conversation
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


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    created_at: object
    answers: int


@dataclass(frozen=True)
class TurnView:
    answer_id: str
    prompt: str
    text: str
    status: str
    last_seq: int


def conversations_for_shopper(*, ctx: TenantContext, limit: int = 20) -> list[ConversationSummary]:
    from django.db.models import Count

    if not ctx.shopper_sub:
        return []
    with activate(ctx):
        rows = (
            Conversation.objects.filter(owner_sub=ctx.shopper_sub)
            .annotate(n=Count("answers"))
            .order_by("-created_at")[:limit]
        )
        return [ConversationSummary(str(c.pk), c.title, c.created_at, c.n) for c in rows]


def conversation_turns(*, ctx: TenantContext, conversation_id: str) -> list[TurnView] | None:
    """The shopper's own conversation, every turn (a running answer with the text so far);
    someone else's, or a malformed id, is None."""
    import uuid

    try:
        key = uuid.UUID(str(conversation_id))
    except ValueError:
        return None
    if not ctx.shopper_sub:
        return None
    with activate(ctx):
        conversation = Conversation.objects.filter(pk=key, owner_sub=ctx.shopper_sub).first()
        if conversation is None:
            return None
        turns = []
        for answer in conversation.answers.order_by("created_at"):
            text = answer.text
            if answer.status == Answer.Status.RUNNING:
                text = "".join(answer.chunks.order_by("seq").values_list("text", flat=True))
            turns.append(TurnView(answer.answer_id, answer.prompt, text, answer.status, answer.chunk_count - 1))
        return turns
