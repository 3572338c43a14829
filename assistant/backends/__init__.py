"""Agent backends, pluggable like Django's CACHES (DESIGN.md §5.3).

settings.ASSISTANT_BACKENDS = {"default": {"BACKEND": "<dotted path>", "OPTIONS": {...}}}
is loaded and validated at start-up (AssistantConfig.ready).
"""

from __future__ import annotations

import logging
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from assistant.backends.base import AgentBackend

log = logging.getLogger(__name__)


def _load(alias: str) -> AgentBackend:
    config = settings.ASSISTANT_BACKENDS.get(alias)
    if not isinstance(config, dict) or "BACKEND" not in config:
        raise ImproperlyConfigured(f"ASSISTANT_BACKENDS[{alias!r}] needs a BACKEND")
    try:
        cls = import_string(config["BACKEND"])
    except ImportError as exc:
        raise ImproperlyConfigured(f"cannot import assistant backend {config['BACKEND']!r}: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, AgentBackend)):
        raise ImproperlyConfigured(f"{config['BACKEND']!r} is not an AgentBackend")
    return cls(**config.get("OPTIONS", {}))


@cache
def get_backend(alias: str = "default") -> AgentBackend:
    return _load(alias)


def validate_backends() -> None:
    get_backend.cache_clear()
    for alias in settings.ASSISTANT_BACKENDS:
        backend = get_backend(alias)
        log.debug("assistant backend %s: %s", alias, type(backend).__name__)
