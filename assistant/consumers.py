"""The assistant's WebSocket consumer: thin, every database step in one sync function.

By the time `connect` runs, tenants.asgi.StoreWebSocketMiddleware has resolved the
store from Host, checked the Origin and the session, and put a TenantContext with
the shopper's sub in the scope. Nothing in a frame can change it.
"""

from __future__ import annotations

import json
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from assistant.backends import get_backend
from assistant.groups import answer_group, session_digest, shopper_group
from assistant.limits import FrameBucket, LimitReached
from assistant.protocol import Ask, Cancel, FrameError, Subscribe, error_frame, parse_frame
from assistant.runner import answer_cancel, answer_spawn
from assistant.selectors import answer_state
from assistant.services import AnswerIdTaken, ConversationNotFound, answer_start
from tenants.asgi import NOT_SIGNED_IN, UNKNOWN_STORE, shopper_for_session, store_is_active

log = logging.getLogger(__name__)


class AssistantConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.ctx = self.scope["tenant_ctx"]
        self.session_key = self.scope["session_key"]
        # answerId -> next seq this socket expects, for the answers it follows.
        self.following: dict[str, int] = {}
        self.frames = FrameBucket(settings.ASSISTANT_FRAMES_PER_SECOND)
        # Sign-out closes this shopper's sockets of the ended session (see assistant.views).
        self.shopper_group = shopper_group(ctx=self.ctx)
        await self.channel_layer.group_add(self.shopper_group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for answer_id in list(self.following):
            await self._unfollow(answer_id)
        await self.channel_layer.group_discard(self.shopper_group, self.channel_name)

    async def session_ended(self, event):
        if event.get("session") == session_digest(self.session_key or ""):
            await self.send_json(error_frame("forbidden", "You are signed out. Sign in again."))
            await self.close(code=NOT_SIGNED_IN)

    async def send_json(self, frame: dict) -> None:
        await self.send(text_data=json.dumps(frame))

    async def receive(self, text_data=None, bytes_data=None):
        try:
            if not self.frames.take():
                raise FrameError("rate_limited", "Too many messages. Slow down and try again in a second.")
            frame = parse_frame(text_data, bytes_data, sub=self.ctx.shopper_sub)
            if not await database_sync_to_async(store_is_active)(self.ctx):
                await self.send_json(error_frame("not_found", "This store is unavailable."))
                await self.close(code=UNKNOWN_STORE)
                return
            if not await self._still_signed_in():
                await self.send_json(error_frame("forbidden", "You are signed out. Sign in again."))
                await self.close(code=NOT_SIGNED_IN)
                return
            if isinstance(frame, Ask):
                await self._ask(frame)
            elif isinstance(frame, Cancel):
                await self._cancel(frame)
            else:
                await self._subscribe(frame)
        except FrameError as exc:
            await self.send_json(error_frame(exc.code, exc.message, exc.answer_id))
        except OSError:
            return  # the client went away while we answered it
        except Exception:
            # A bug must not drop the socket without a word; the details stay in the log.
            log.exception("frame failed on store %s", self.ctx.tenant_id)
            await self.send_json(error_frame("internal", "Something went wrong. Please try again."))

    async def _still_signed_in(self) -> bool:
        sub = await database_sync_to_async(shopper_for_session)(self.ctx, self.session_key)
        return sub == self.ctx.shopper_sub

    async def _ask(self, ask: Ask) -> None:
        if len(self.following) >= settings.ASSISTANT_MAX_FOLLOWED:
            raise FrameError("rate_limited", "This page follows too many answers at once.", ask.answer_id)
        backend = get_backend()
        try:
            started = await database_sync_to_async(answer_start)(
                ctx=self.ctx,
                answer_id=ask.answer_id,
                prompt=ask.prompt,
                conversation_id=ask.conversation_id,
                backend=backend.name,
            )
        except AnswerIdTaken:
            raise FrameError("bad_request", "This answerId was already used; send a new one.", ask.answer_id) from None
        except LimitReached as exc:
            raise FrameError("rate_limited", str(exc), ask.answer_id) from None
        except ConversationNotFound:
            raise FrameError("not_found", "No such conversation.", ask.answer_id) from None
        await self._follow(ask.answer_id, 0)
        await self.send_json({"type": "accepted", "answerId": ask.answer_id, "conversationId": started.conversation_id})
        answer_spawn(
            ctx=self.ctx,
            answer_id=ask.answer_id,
            answer_pk=started.pk,
            prompt=ask.prompt,
            history=started.history,
            conversation_id=started.conversation_id,
        )

    async def _cancel(self, cancel: Cancel) -> None:
        state = await database_sync_to_async(answer_state)(ctx=self.ctx, answer_id=cancel.answer_id, after=10**9)
        if state is None:
            raise FrameError("not_found", "No such answer.", cancel.answer_id)
        if state.status == "running":
            await answer_cancel(ctx=self.ctx, answer_id=cancel.answer_id)

    async def _subscribe(self, sub: Subscribe) -> None:
        # Join first, then read what is stored, so nothing falls between the two.
        exists = await database_sync_to_async(answer_state)(ctx=self.ctx, answer_id=sub.answer_id, after=sub.after)
        if exists is None:
            raise FrameError("not_found", "No such answer.", sub.answer_id)
        await self._follow(sub.answer_id, sub.after + 1)
        state = await database_sync_to_async(answer_state)(ctx=self.ctx, answer_id=sub.answer_id, after=sub.after)
        for seq, text in state.chunks:
            await self._forward({"type": "chunk", "answerId": sub.answer_id, "seq": seq, "text": text})
        if state.status == "done":
            await self._forward({"type": "done", "answerId": sub.answer_id, "chunks": state.chunk_count})
        elif state.status == "error":
            await self._forward(
                error_frame(state.error_code or "internal", "The answer did not complete.", sub.answer_id)
            )

    async def _follow(self, answer_id: str, next_seq: int) -> None:
        if answer_id not in self.following and len(self.following) >= settings.ASSISTANT_MAX_FOLLOWED:
            raise FrameError("rate_limited", "This page follows too many answers at once.", answer_id)
        if answer_id not in self.following:
            await self.channel_layer.group_add(answer_group(ctx=self.ctx, answer_id=answer_id), self.channel_name)
        self.following[answer_id] = next_seq

    async def _unfollow(self, answer_id: str) -> None:
        if self.following.pop(answer_id, None) is not None:
            await self.channel_layer.group_discard(answer_group(ctx=self.ctx, answer_id=answer_id), self.channel_name)

    async def answer_frame(self, event):
        await self._forward(event["frame"])

    async def _forward(self, frame: dict) -> None:
        answer_id = frame.get("answerId")
        if answer_id not in self.following:
            return
        if frame["type"] == "chunk":
            expected = self.following[answer_id]
            if frame["seq"] < expected:
                return  # already sent from the stored chunks
            if frame["seq"] > expected:  # fill a gap from storage
                state = await database_sync_to_async(answer_state)(
                    ctx=self.ctx, answer_id=answer_id, after=expected - 1
                )
                for seq, text in state.chunks if state else []:
                    if expected <= seq < frame["seq"]:
                        await self.send_json({"type": "chunk", "answerId": answer_id, "seq": seq, "text": text})
            self.following[answer_id] = frame["seq"] + 1
            await self.send_json(frame)
        elif frame["type"] in ("done", "error"):
            await self._unfollow(answer_id)
            await self.send_json(frame)
        else:
            await self.send_json(frame)
