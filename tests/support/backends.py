"""Backends used only by tests."""

from __future__ import annotations

import asyncio

from assistant.backends.base import AgentBackend, TextDelta


class CountingBackend(AgentBackend):
    """Counts how often it is called; answers with a fixed text in several chunks."""

    name = "counting"
    calls = 0

    def __init__(self, delay: float = 0.0, chunks: int = 3, **options):
        super().__init__(**options)
        self.delay = delay
        self.chunks = chunks

    async def stream(self, *, ctx, prompt, history, tools):
        type(self).calls += 1
        for i in range(self.chunks):
            if self.delay:
                await asyncio.sleep(self.delay)
            yield TextDelta(f"part {i} ")
