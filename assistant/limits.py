"""Admission of a question: per-shopper rate and per-store answers running at once.

Counted from the stored answers in the store's schema, so every worker process
sees the same numbers. Defaults come from settings; operators override them per store
in the public admin (Store.assistant_rate_limit, Store.assistant_max_running).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from assistant.models import Answer
from tenants.context import TenantContext
from tenants.services import store_limits


@dataclass(frozen=True)
class Limits:
    rate: int
    window_seconds: int
    max_running: int


class LimitReached(Exception):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def limits_for(ctx: TenantContext) -> Limits:
    rate, running = store_limits(ctx.tenant_id)
    return Limits(
        rate=rate if rate is not None else settings.ASSISTANT_RATE_LIMIT,
        window_seconds=settings.ASSISTANT_RATE_WINDOW_SECONDS,
        max_running=running if running is not None else settings.ASSISTANT_MAX_RUNNING,
    )


class FrameBucket:
    """A socket's frame rate: `rate` per second, bursts up to twice that."""

    def __init__(self, rate: float):
        self.rate = rate
        self.capacity = 2 * rate
        self.tokens = self.capacity
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def admission_check(*, ctx: TenantContext) -> None:
    """Raise LimitReached unless this shopper may ask now. Call inside the transaction
    that stores the answer (in the store's schema): it serialises admissions per store."""
    limits = limits_for(ctx)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.answer_admission'))")
    now = timezone.now()
    window = timedelta(seconds=limits.window_seconds)
    recent = list(
        Answer.objects.filter(owner_sub=ctx.shopper_sub, created_at__gte=now - window)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: limits.rate]
    )
    if len(recent) >= limits.rate:
        retry = math.ceil((recent[-1] + window - now).total_seconds()) if recent else limits.window_seconds
        retry = max(1, retry)
        raise LimitReached(f"Too many questions. Try again in {retry} seconds.", retry)
    stale = now - timedelta(seconds=settings.ASSISTANT_ANSWER_TIMEOUT_SECONDS + 30)
    running = Answer.objects.filter(status=Answer.Status.RUNNING, created_at__gte=stale)
    if running.filter(owner_sub=ctx.shopper_sub).count() >= settings.ASSISTANT_MAX_RUNNING_PER_SHOPPER:
        raise LimitReached("Please wait for your current answers to finish.", 2)
    if running.count() >= limits.max_running:
        raise LimitReached("The assistant is busy in this store right now. Try again in 5 seconds.", 5)
