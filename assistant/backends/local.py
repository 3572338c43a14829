"""The offline, deterministic backend (the default).

It understands the questions the tools can answer, calls the tools through the same
ToolBox as a model would, and writes the answer from their results only: it never
repeats the prompt and never states a policy it did not read (BR-23).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from assistant.backends.base import AgentBackend, Event, TextDelta, ToolActivity, ToolBox, Turn
from assistant.tools import ToolResult
from tenants.context import TenantContext

_QUOTED_ORDER = re.compile(r"order[_\s]?(?:number|no\.?|id)?\W{0,6}[\"'“]([^\"'”]{1,60})[\"'”]", re.I)
_ORDER_NUMBER = re.compile(r"(?:\border\b|#)\D{0,15}?(\d{1,12})\b", re.I)
_ORDERS = re.compile(r"\border(s|ed)?\b|\bpurchases?\b|\bbought\b", re.I)
_POLICY = re.compile(r"\breturn(s|ed|ing)?\b|\brefunds?\b|\bpolic(y|ies)\b|\bexchange\b|\bsend (it )?back\b", re.I)
_DAYS = re.compile(r"\b(\d{1,4})\s*days?\b", re.I)
_WHEN = re.compile(r"\bwhen\b|\bwhat date\b", re.I)
_FOLLOW_UP = re.compile(r"^\s*(and|what about|how about)\b|\b(it|that one|that order)\b", re.I)

HELP = (
    "I can help with this store's return policy and with your own orders. "
    'Try "What is your return policy?", "Which orders did I place?" or "Where is order 1001?"'
)


def _chunks(text: str, words_per_chunk: int = 4) -> list[str]:
    parts = re.findall(r"\S+\s*", text)
    return ["".join(parts[i : i + words_per_chunk]) for i in range(0, len(parts), words_per_chunk)] or [text]


def _order_line(order: dict) -> str:
    return (
        f"Order {order['order_number']}, placed {order['placed_at']}, status {order['status']}, "
        f"total {order['total']} {order['currency']}"
    )


def _policy_answer(result: ToolResult, prompt: str) -> str:
    if not result.ok:
        return (
            "I could not retrieve the return policy just now, so I won't guess. "
            "Please see the store's return policy page at /policy/."
        )
    days = result.data["days"]
    text = f"Items can be returned within {days} days. {result.data['text']}".strip()
    asked = _DAYS.search(prompt)
    if asked:
        n = int(asked.group(1))
        verdict = "is within" if n <= days else "is outside"
        text += f" A return after {n} days {verdict} the {days}-day window."
    return text


def _orders_answer(result: ToolResult) -> str:
    if not result.ok:
        return "I could not look up your orders just now. Please try again in a moment."
    orders = result.data["orders"]
    if not orders:
        return "You have not placed any orders yet."
    noun = "order" if len(orders) == 1 else "orders"
    return f"You have placed {len(orders)} {noun}:\n" + "\n".join(f"- {_order_line(o)}" for o in orders)


def _order_answer(result: ToolResult, prompt: str = "") -> str:
    if result.outcome == "invalid_arguments":
        return "That does not look like an order number. Order numbers are digits only, for example 1001."
    if not result.ok:
        return "I could not find that order among your orders."
    if _WHEN.search(prompt):
        return f"Order {result.data['order_number']} was placed on {result.data['placed_at']}."
    items = ", ".join(f"{i['quantity']} x {i['name']}" for i in result.data["items"]) or "no items"
    return f"{_order_line(result.data)}. Items: {items}."


class LocalBackend(AgentBackend):
    name = "local"

    def __init__(self, chunk_delay: float = 0.03, **options):
        super().__init__(**options)
        self.chunk_delay = float(chunk_delay)

    def _order_reference(self, prompt: str, history: list[Turn]) -> str | None:
        quoted = _QUOTED_ORDER.search(prompt)
        if quoted:
            return quoted.group(1)
        number = _ORDER_NUMBER.search(prompt)
        if number:
            return number.group(1)
        if history and _FOLLOW_UP.search(prompt):
            # "and when was it placed?" after a question about one order.
            for turn in reversed(history):
                earlier = _ORDER_NUMBER.search(turn.prompt)
                if earlier:
                    return earlier.group(1)
        return None

    async def stream(
        self, *, ctx: TenantContext, prompt: str, history: list[Turn], tools: ToolBox, conversation_id: str = ""
    ) -> AsyncIterator[Event]:
        parts: list[str] = []
        reference = self._order_reference(prompt, history)
        if reference is not None:
            yield ToolActivity("get_order")
            parts.append(_order_answer(await tools.call("get_order", {"order_number": reference}), prompt))
        elif _ORDERS.search(prompt):
            yield ToolActivity("list_my_orders")
            parts.append(_orders_answer(await tools.call("list_my_orders")))
        if _POLICY.search(prompt):
            yield ToolActivity("get_return_policy")
            parts.append(_policy_answer(await tools.call("get_return_policy"), prompt))
        text = "\n\n".join(parts) or HELP
        for i, piece in enumerate(_chunks(text)):
            if i and self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            yield TextDelta(piece)
