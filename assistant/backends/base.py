"""The one contract every agent backend fulfils.

A backend is given the context, the prompt, the conversation's history and a
`ToolBox` already bound to the context. It yields `TextDelta` and `ToolActivity`
events and returns when the answer is complete. It never receives a way to choose
the store or the shopper: the ToolBox runs tools for `ctx` only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

from assistant.credentials import vend_database_credential
from assistant.tools import TOOLS, ToolResult, tool_run
from tenants.context import TenantContext


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolActivity:
    tool: str


Event = TextDelta | ToolActivity


@dataclass(frozen=True)
class Turn:
    prompt: str
    answer: str


class AgentUnavailable(Exception):
    """The model service failed; the message is safe to show to the shopper."""


class ToolBox:
    def __init__(
        self,
        *,
        ctx: TenantContext,
        answer_pk: int | None = None,
        on_call: Callable[[str], Awaitable[None]] | None = None,
        aws_credential=None,
    ):
        self._ctx = ctx
        self._answer_pk = answer_pk
        self._on_call = on_call
        self._credential = None
        # STS credentials tagged with this store and shopper, when configured (for
        # backends whose tools run in AWS, e.g. a Lambda action group).
        self.aws_credential = aws_credential

    @staticmethod
    def catalogue() -> list[dict[str, Any]]:
        return [
            {"name": s.name, "description": s.description, "parameters": s.parameters, "required": list(s.required)}
            for s in TOOLS.values()
        ]

    async def call(self, name: str, arguments: dict | None = None) -> ToolResult:
        if self._on_call is not None:
            await self._on_call(str(name)[:64])
        if self._credential is None:
            self._credential = vend_database_credential(ctx=self._ctx)
        return await database_sync_to_async(tool_run)(
            ctx=self._ctx, credential=self._credential, name=name, arguments=arguments, answer_pk=self._answer_pk
        )


class AgentBackend:
    name = "base"

    def __init__(self, **options: Any):
        self.options = options

    def stream(
        self, *, ctx: TenantContext, prompt: str, history: list[Turn], tools: ToolBox, conversation_id: str
    ) -> AsyncIterator[Event]:
        """Yield the answer's events. `conversation_id` is the server's id of the
        conversation (a UUID), for backends that keep a session per conversation."""
        raise NotImplementedError
