"""Runs one answer: the backend's events become numbered, stored, published chunks.

The run is an asyncio task of its own, not the socket's: it goes on when the
shopper's socket drops, and a reconnecting owner resumes with `subscribe`.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from assistant.backends import get_backend
from assistant.backends.base import AgentUnavailable, TextDelta, ToolActivity, ToolBox, Turn
from assistant.credentials import CredentialError, vend_credentials
from assistant.groups import answer_group, control_group
from assistant.output import redact_answer_text
from assistant.services import answer_finish, chunk_append
from tenants.context import TenantContext

log = logging.getLogger(__name__)
_running: set[asyncio.Task] = set()


async def _publish(group: str, frame: dict) -> None:
    await get_channel_layer().group_send(group, {"type": "answer.frame", "frame": frame})


async def answer_run(
    *, ctx: TenantContext, answer_id: str, answer_pk: int, prompt: str, history: list[Turn], conversation_id: str
) -> None:
    group = answer_group(ctx=ctx, answer_id=answer_id)
    layer = get_channel_layer()
    seq = 0

    async def on_tool(name: str) -> None:
        await _publish(group, {"type": "status", "answerId": answer_id, "state": "tool", "tool": name})

    async def produce() -> None:
        nonlocal seq
        aws_credential = None
        if settings.ASSISTANT_CREDENTIALS == "sts":
            # A network call: off the shared database thread.
            aws_credential = await sync_to_async(vend_credentials, thread_sensitive=False)(ctx=ctx)
        tools = ToolBox(ctx=ctx, answer_pk=answer_pk, on_call=on_tool, aws_credential=aws_credential)
        async with asyncio.timeout(settings.ASSISTANT_ANSWER_TIMEOUT_SECONDS):
            backend = get_backend()
            async for event in backend.stream(
                ctx=ctx, prompt=prompt, history=history, tools=tools, conversation_id=conversation_id
            ):
                if isinstance(event, TextDelta) and event.text:
                    text = redact_answer_text(event.text)
                    await database_sync_to_async(chunk_append)(ctx=ctx, answer_pk=answer_pk, seq=seq, text=text)
                    await _publish(group, {"type": "chunk", "answerId": answer_id, "seq": seq, "text": text})
                    seq += 1
                elif isinstance(event, ToolActivity):
                    pass  # published by the ToolBox when the call happens

    # The shopper's `cancel` reaches whichever worker runs this answer through the
    # channel layer: this task listens on the answer's control group.
    control = control_group(ctx=ctx, answer_id=answer_id)
    channel = await layer.new_channel()
    await layer.group_add(control, channel)
    work = asyncio.ensure_future(produce())
    cancelled = False

    async def listen() -> None:
        nonlocal cancelled
        try:
            while True:
                message = await layer.receive(channel)
                if message.get("type") == "answer.cancel":
                    cancelled = True
                    work.cancel()
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            # channels_redis turns a cancelled read into a TimeoutError; also: the layer
            # went away, and the answer can no longer be cancelled.
            log.debug("cancel listener stopped on store %s", ctx.tenant_id, exc_info=True)

    listener = asyncio.ensure_future(listen())
    error: tuple[str, str] | None = None
    try:
        await work
    except CredentialError:
        error = ("forbidden", "You are not allowed to use the assistant here.")
    except AgentUnavailable as exc:
        error = ("agent_unavailable", str(exc) or "The assistant is unavailable right now. Please try again.")
    except TimeoutError:
        error = ("agent_unavailable", "The assistant took too long to answer. Please try again.")
    except asyncio.CancelledError:
        error = ("cancelled", "Stopped.") if cancelled else ("internal", "The answer was stopped.")
        if not cancelled:
            work.cancel()
            raise
    except Exception:
        log.exception("answer failed on store %s", ctx.tenant_id)
        error = ("internal", "Something went wrong while answering. Please try again.")
    finally:
        # Not awaited: a Redis read being cancelled can take seconds to unwind.
        listener.cancel()
        await layer.group_discard(control, channel)
        code = error[0] if error else ""
        try:
            await database_sync_to_async(answer_finish)(ctx=ctx, answer_pk=answer_pk, error_code=code)
        finally:
            if error:
                await _publish(group, {"type": "error", "answerId": answer_id, "code": error[0], "message": error[1]})
            else:
                await _publish(group, {"type": "done", "answerId": answer_id, "chunks": seq})


async def answer_cancel(*, ctx: TenantContext, answer_id: str) -> None:
    await get_channel_layer().group_send(control_group(ctx=ctx, answer_id=answer_id), {"type": "answer.cancel"})


def answer_spawn(**kwargs) -> asyncio.Task:
    task = asyncio.get_running_loop().create_task(answer_run(**kwargs))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task
