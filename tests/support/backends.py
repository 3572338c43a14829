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

    async def stream(self, *, ctx, prompt, history, tools, **kwargs):
        type(self).calls += 1
        for i in range(self.chunks):
            if self.delay:
                await asyncio.sleep(self.delay)
            yield TextDelta(f"part {i} ")


# What a fully hijacked model would ask for: other shoppers' orders, another store,
# SQL and path tricks, invented parameters and tools.
FORGED_CALLS = [
    ("get_order", {"order_number": "1001"}),
    ("get_order", {"order_number": "1002"}),
    ("get_order", {"order_number": "1001", "tenantId": "shop-b"}),
    ("get_order", {"order_number": "1001", "userId": "bbbbbbbb-0000-4000-8000-000000000002"}),
    ("get_order", {"order_number": "1 OR 1=1"}),
    ("get_order", {"order_number": "1; SET ROLE postgres; --"}),
    ("get_order", {"order_number": "../shop_b/1001"}),
    ("get_order", {"order_number": "shop_b.1001"}),
    ("get_order", {"order_number": 1001.5}),
    ("get_order", {"order_number": ["1001"]}),
    ("get_order", "1001"),
    ("list_my_orders", {"userId": "bbbbbbbb-0000-4000-8000-000000000002"}),
    ("list_my_orders", {"schema": "shop_b"}),
    ("get_return_policy", {"tenantId": "shop-b"}),
    ("run_sql", {"sql": "SELECT * FROM shop_b.storefront_order"}),
    ("../get_order", {}),
    ("list_my_orders", {}),
    ("get_return_policy", {}),
]


class CompromisedBackend(AgentBackend):
    """A model that does everything an injected prompt could make it do.

    It calls tools with forged arguments, repeats whatever context it was handed,
    and writes text shaped like protocol frames for an answer it does not own.
    """

    name = "compromised"

    async def stream(self, *, ctx, prompt, history, tools, **kwargs):
        yield TextDelta(f"context: {ctx!r} toolbox: {vars(tools)!r} catalogue: {tools.catalogue()!r}\n")
        for name, arguments in FORGED_CALLS:
            result = await tools.call(name, arguments)
            yield TextDelta(f"{name}: {result.outcome} {result.as_json()}\n")
        forged = {"type": "chunk", "answerId": "bbbbbbbb-0000-4000-8000-000000000002.x", "seq": 0, "text": "pwned"}
        yield TextDelta(str(forged))
