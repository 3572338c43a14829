"""Tenant resolution and authentication for the WebSocket path (BR-08, BR-09).

HTTP middleware does not run for WebSockets, so this ASGI middleware does the same
job before the consumer sees the connection: the store from Host (same
normalisation as HTTP), the Origin must be this store's own origin, and the session
cookie is resolved to a shopper inside the store's schema. A handshake that fails
any check is refused before `accept` and never reaches the consumer.
"""

from __future__ import annotations

import json
import logging
from importlib import import_module
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.http import parse_cookie
from django.utils.crypto import constant_time_compare

from tenants.context import TenantContext, activate, public
from tenants.hosts import host_port, is_public, normalize_host, store_for_host
from tenants.oidc import STORE_SESSION_KEY

log = logging.getLogger(__name__)

NOT_SIGNED_IN = 4401
FORBIDDEN = 4403
UNKNOWN_STORE = 4404
_HTTP_STATUS = {NOT_SIGNED_IN: 401, FORBIDDEN: 403, UNKNOWN_STORE: 404}
_REASON = {NOT_SIGNED_IN: "not signed in", FORBIDDEN: "wrong store or origin", UNKNOWN_STORE: "not found"}


def _header(scope, name: bytes) -> bytes | None:
    values = [v for k, v in scope.get("headers", []) if k.lower() == name]
    return values[0] if len(values) == 1 else None  # a repeated Host/Origin is refused


def origin_matches(origin: bytes | None, host: bytes | None, *, secure: bool) -> bool:
    """The Origin must be exactly this host's own origin: same scheme, host and port."""
    if not origin or not host:
        return False
    try:
        parts = urlsplit(origin.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    if parts.scheme != ("https" if secure else "http") or parts.path or parts.query or parts.username:
        return False
    try:
        origin_port = str(parts.port or "")
    except ValueError:
        return False
    default = "443" if secure else "80"
    return normalize_host(parts.hostname) == normalize_host(host) and (origin_port or default) == (
        host_port(host) or default
    )


def shopper_for_session(ctx: TenantContext, session_key: str | None) -> str | None:
    """The signed-in shopper's sub for a session key of this store, else None."""
    if not session_key or len(session_key) > 64:
        return None
    with activate(ctx):
        engine = import_module(settings.SESSION_ENGINE)
        session = engine.SessionStore(session_key)
        if not session.exists(session_key):
            return None
        if session.get(STORE_SESSION_KEY) != ctx.tenant_id:
            return None
        if session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
            return None
        user = get_user_model().objects.filter(pk=session.get(SESSION_KEY), is_active=True).first()
        if user is None:
            return None
        if not constant_time_compare(session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()):
            return None
        return user.username


def store_is_active(ctx: TenantContext) -> bool:
    """Read fresh (no cache): an operator's deactivation reaches open sockets at once."""
    from tenants.models import Store

    with public():
        return Store.objects.filter(tenant_id=ctx.tenant_id, is_active=True).exists()


async def deny(scope, receive, send, code: int) -> None:
    """Refuse the handshake. Servers that support the denial-response extension get an
    HTTP status (401/403/404) and a JSON body; others a close before accept."""
    message = await receive()
    if message.get("type") != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        body = json.dumps({"code": code, "error": _REASON[code]}).encode()
        await send(
            {
                "type": "websocket.http.response.start",
                "status": _HTTP_STATUS[code],
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": code})


class StoreWebSocketMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        host = _header(scope, b"host")
        store = await database_sync_to_async(store_for_host)(host)
        if store is None or is_public(store) or not store.is_active:
            log.info("websocket refused: no active store for host %r", (host or b"")[:100])
            return await deny(scope, receive, send, UNKNOWN_STORE)
        secure = scope.get("scheme") == "wss"
        if not origin_matches(_header(scope, b"origin"), host, secure=secure):
            log.info("websocket refused on store %s: bad origin", store.tenant_id)
            return await deny(scope, receive, send, FORBIDDEN)
        ctx = TenantContext.for_store(store)
        cookie = _header(scope, b"cookie")
        cookies = parse_cookie(cookie.decode("latin-1")) if cookie else {}
        session_key = cookies.get(settings.SESSION_COOKIE_NAME)
        sub = await database_sync_to_async(shopper_for_session)(ctx, session_key)
        if sub is None:
            return await deny(scope, receive, send, NOT_SIGNED_IN)
        scope = dict(scope, tenant_ctx=ctx.for_shopper(sub), session_key=session_key)
        return await self.inner(scope, receive, send)


async def websocket_not_found(scope, receive, send) -> None:
    """Any WebSocket path that is not the assistant's: refused like an unknown store."""
    log.info("websocket refused: no such path %r", scope.get("path", "")[:100])
    await deny(scope, receive, send, UNKNOWN_STORE)
