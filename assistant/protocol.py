"""The WebSocket protocol's frames (DESIGN.md §5.1): parsing and validation."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

from django.conf import settings

_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# Fields a client may send; anything else (tenantId, userId, ...) is refused.
_ASK_FIELDS = {"type", "answerId", "prompt", "conversationId"}
_SUBSCRIBE_FIELDS = {"type", "answerId", "after"}
_CANCEL_FIELDS = {"type", "answerId"}


class FrameError(Exception):
    def __init__(self, code: str, message: str, answer_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.answer_id = answer_id


@dataclass(frozen=True)
class Ask:
    answer_id: str
    prompt: str
    conversation_id: str | None


@dataclass(frozen=True)
class Cancel:
    answer_id: str


@dataclass(frozen=True)
class Subscribe:
    answer_id: str
    after: int


def _printable_text(value: str) -> bool:
    """No NUL or other control characters (newline and tab are fine) and no lone
    surrogates: such text cannot be stored or encoded, and has no business in a question."""
    if any(ch in value for ch in "\x00"):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return all(ch.isprintable() or ch in "\n\t\r" for ch in value)


def answer_id_owned(answer_id: object, sub: str) -> bool:
    """`answerId` is exactly `<sub>.<canonical uuid4>` of the signed-in shopper."""
    if not isinstance(answer_id, str) or len(answer_id) > len(sub) + 37:
        return False
    prefix, dot, rest = answer_id.rpartition(".")
    return dot == "." and prefix == sub and bool(_CANONICAL_UUID.match(rest))


def answer_uuid(answer_id: str) -> str:
    return uuid.UUID(answer_id.rpartition(".")[2]).hex


def parse_frame(text: str | None, binary: bytes | None, *, sub: str) -> Ask | Subscribe | Cancel:
    if binary is not None or text is None:
        raise FrameError("bad_request", "Send JSON text frames.")
    if len(text.encode("utf-8", "surrogatepass")) > settings.ASSISTANT_MAX_FRAME_BYTES:
        raise FrameError("too_large", f"Frames are limited to {settings.ASSISTANT_MAX_FRAME_BYTES} bytes.")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError("bad_request", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise FrameError("bad_request", "The frame must be a JSON object.")
    kind = frame.get("type")
    raw_id = frame.get("answerId")
    safe_id = raw_id if answer_id_owned(raw_id, sub) else None
    if kind not in ("ask", "subscribe", "cancel"):
        raise FrameError("bad_request", "Unknown frame type; use 'ask', 'subscribe' or 'cancel'.", safe_id)
    allowed = {"ask": _ASK_FIELDS, "subscribe": _SUBSCRIBE_FIELDS, "cancel": _CANCEL_FIELDS}[kind]
    extra = set(frame) - allowed
    if extra:
        raise FrameError(
            "bad_request", "Unexpected fields: " + ", ".join(sorted(str(e)[:30] for e in extra)[:5]), safe_id
        )
    if safe_id is None:
        raise FrameError("forbidden", "answerId must be your own id followed by '.' and a new UUID.")
    if kind == "cancel":
        return Cancel(safe_id)
    if kind == "subscribe":
        after = frame.get("after", -1)
        if after is None:
            after = -1
        if isinstance(after, bool) or not isinstance(after, int) or not -1 <= after < 10**9:
            raise FrameError("bad_request", "'after' must be the last seq you received, or omitted.", safe_id)
        return Subscribe(safe_id, after)
    prompt = frame.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise FrameError("bad_request", "'prompt' must be a non-empty string.", safe_id)
    if not _printable_text(prompt):
        raise FrameError("bad_request", "The question contains characters that cannot be used.", safe_id)
    if len(prompt) > settings.ASSISTANT_MAX_PROMPT_CHARS:
        raise FrameError(
            "too_large", f"Questions are limited to {settings.ASSISTANT_MAX_PROMPT_CHARS} characters.", safe_id
        )
    conversation_id = frame.get("conversationId")
    if conversation_id is not None and (not isinstance(conversation_id, str) or len(conversation_id) > 64):
        raise FrameError("bad_request", "'conversationId' must be a string.", safe_id)
    return Ask(safe_id, prompt.strip(), conversation_id or None)


def error_frame(code: str, message: str, answer_id: str | None = None) -> dict:
    return {"type": "error", "answerId": answer_id, "code": code, "message": message}
