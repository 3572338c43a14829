"""Per-shopper question rate (sliding window, in this process)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from django.conf import settings

from tenants.context import TenantContext

_lock = threading.Lock()
_asked: dict[tuple[str, str], deque[float]] = defaultdict(deque)


def rate_check(*, ctx: TenantContext) -> float:
    """Record a question; return 0 when allowed, else seconds until the next is allowed."""
    now = time.monotonic()
    window = settings.ASSISTANT_RATE_WINDOW_SECONDS
    key = (ctx.tenant_id, ctx.shopper_sub or "")
    with _lock:
        asked = _asked[key]
        while asked and asked[0] <= now - window:
            asked.popleft()
        if len(asked) >= settings.ASSISTANT_RATE_LIMIT:
            return max(0.1, asked[0] + window - now)
        asked.append(now)
        return 0.0


def rate_reset() -> None:
    with _lock:
        _asked.clear()
