"""Writes of the assistant's records. Sync functions, each entering the context itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from assistant.backends.base import Turn
from assistant.limits import admission_check
from assistant.models import Answer, AnswerChunk, Conversation
from tenants.context import TenantContext, activate

HISTORY_TURNS = 10


class AnswerIdTaken(Exception):
    pass


class ConversationNotFound(Exception):
    pass


@dataclass(frozen=True)
class StartedAnswer:
    pk: int
    conversation_id: str
    history: list[Turn]


def answer_start(
    *, ctx: TenantContext, answer_id: str, prompt: str, conversation_id: str | None, backend: str
) -> StartedAnswer:
    with activate(ctx), transaction.atomic():
        admission_check(ctx=ctx)
        if conversation_id:
            try:
                conv_uuid = uuid.UUID(conversation_id)
            except ValueError:
                raise ConversationNotFound from None
            conversation = Conversation.objects.filter(pk=conv_uuid, owner_sub=ctx.shopper_sub).first()
            if conversation is None:
                raise ConversationNotFound
        else:
            conversation = Conversation.objects.create(owner_sub=ctx.shopper_sub, title=prompt[:120])
        earlier = list(
            Answer.objects.filter(conversation=conversation, status=Answer.Status.DONE)
            .order_by("-created_at")
            .values_list("prompt", "text")[:HISTORY_TURNS]
        )
        try:
            with transaction.atomic():
                answer = Answer.objects.create(
                    answer_id=answer_id,
                    owner_sub=ctx.shopper_sub,
                    conversation=conversation,
                    prompt=prompt,
                    backend=backend,
                )
        except IntegrityError:
            raise AnswerIdTaken from None
        return StartedAnswer(answer.pk, str(conversation.pk), [Turn(p, t) for p, t in reversed(earlier)])


def chunk_append(*, ctx: TenantContext, answer_pk: int, seq: int, text: str) -> None:
    with activate(ctx), transaction.atomic():
        AnswerChunk.objects.create(answer_id=answer_pk, seq=seq, text=text)
        updates = {"chunk_count": F("chunk_count") + 1}
        if seq == 0:
            updates["first_chunk_at"] = timezone.now()
        Answer.objects.filter(pk=answer_pk).update(**updates)


def answer_finish(*, ctx: TenantContext, answer_pk: int, error_code: str = "") -> None:
    with activate(ctx), transaction.atomic():
        text = "".join(AnswerChunk.objects.filter(answer_id=answer_pk).order_by("seq").values_list("text", flat=True))
        Answer.objects.filter(pk=answer_pk).update(
            status=Answer.Status.ERROR if error_code else Answer.Status.DONE,
            error_code=error_code,
            text=text,
            finished_at=timezone.now(),
        )
