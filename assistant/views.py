"""Reactions of the assistant to the HTTP side."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET

from assistant.groups import session_digest, shopper_group
from assistant.selectors import conversation_turns, conversations_for_shopper
from tenants.context import TenantContext, context_for_request


def close_shopper_sockets(ctx: TenantContext, session_key: str) -> None:
    """On sign-out: close the assistant sockets opened with this session (they would
    otherwise keep their authority until their next frame)."""
    async_to_sync(get_channel_layer().group_send)(
        shopper_group(ctx=ctx), {"type": "session.ended", "session": session_digest(session_key)}
    )


def _shopper_ctx(request) -> TenantContext:
    ctx = context_for_request(request)
    if ctx is None or not ctx.shopper_sub:
        raise Http404
    return ctx


def _json(data) -> JsonResponse:
    response = JsonResponse(data)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def conversation_list(request):
    """The signed-in shopper's own conversations, newest first."""
    ctx = _shopper_ctx(request)
    return _json(
        {
            "conversations": [
                {"id": c.id, "title": c.title, "createdAt": c.created_at.isoformat(), "answers": c.answers}
                for c in conversations_for_shopper(ctx=ctx)
            ]
        }
    )


@require_GET
def conversation_detail(request, conversation_id):
    """One of the shopper's own conversations; anyone else's is a 404 like a missing one."""
    ctx = _shopper_ctx(request)
    turns = conversation_turns(ctx=ctx, conversation_id=conversation_id)
    if turns is None:
        raise Http404
    return _json(
        {
            "id": str(conversation_id),
            "turns": [
                {"answerId": t.answer_id, "prompt": t.prompt, "text": t.text, "status": t.status, "lastSeq": t.last_seq}
                for t in turns
            ],
        }
    )
