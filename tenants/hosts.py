"""Host -> store resolution, one normalisation for HTTP and WebSocket (BR-04).

normalize_host: lower-case, port stripped, one trailing dot stripped. No `www.`
stripping and no fallback: an unknown host has no store.
"""

from __future__ import annotations

import re
import threading
import time

from django.conf import settings
from django_tenants.utils import get_public_schema_name

from tenants.models import Domain, Store

_HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$")
_POSITIVE_TTL = 30.0
_NEGATIVE_TTL = 3.0
_cache: dict[str, tuple[float, Store | None]] = {}
_lock = threading.Lock()


def normalize_host(raw: str | bytes | None) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("ascii")
        except UnicodeDecodeError:
            return None
    host = raw.strip().lower()
    if host.startswith("["):  # IPv6 literal: never a store
        return None
    if host.count(":") > 1:
        return None
    host, _, port = host.partition(":")
    if port and not port.isdigit():
        return None
    if host.endswith("."):
        host = host[:-1]
    if not _HOST_RE.match(host) or ".." in host:
        return None
    return host


def host_port(raw: str | bytes | None) -> str:
    """The port part of a Host header, '' when absent."""
    if isinstance(raw, bytes):
        raw = raw.decode("latin-1")
    if not raw or raw.startswith("["):
        return ""
    _, _, port = raw.strip().partition(":")
    return port


def store_for_host(raw_host: str | bytes | None) -> Store | None:
    """The store (or the public site's tenant row) a host names; None when unknown."""
    host = normalize_host(raw_host)
    if host is None:
        return None
    now = time.monotonic()
    with _lock:
        hit = _cache.get(host)
    if hit and hit[0] > now:
        return hit[1]
    domain = Domain.objects.select_related("tenant").filter(domain=host).first()
    store = domain.tenant if domain else None
    with _lock:
        _cache[host] = (now + (_POSITIVE_TTL if store else _NEGATIVE_TTL), store)
    return store


def forget_hosts() -> None:
    """Drop the lookup cache (after stores or domains change in this process)."""
    with _lock:
        _cache.clear()


def is_public(store: Store) -> bool:
    return store.schema_name == get_public_schema_name()


def store_origin(store: Store, *, scheme: str | None = None, port: str | None = None) -> str:
    """The absolute origin a store is served at, from settings (for commands)."""
    domain = store.get_primary_domain().domain
    scheme = scheme or settings.STORE_PUBLIC_SCHEME
    port = settings.STORE_PUBLIC_PORT if port is None else port
    default_port = {"http": "80", "https": "443"}[scheme]
    suffix = f":{port}" if port and port != default_port else ""
    return f"{scheme}://{domain}{suffix}"
