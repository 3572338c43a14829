"""Sign-in through Amazon Cognito (or any OIDC provider issuing the same claims).

The backend binds a shopper to the store whose host the sign-in happens on:
claims come from the verified ID token only (never userinfo, BR-18), the token's
`custom:tenantId` must equal the store's tenant id, and users are matched by `sub`.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    OIDCLogoutView,
)

from tenants.hosts import is_public

log = logging.getLogger(__name__)

STORE_SESSION_KEY = "store_tenant_id"
OWNER_GROUP_NAME = "Store owners"
# What a store owner may do in the store's admin (DESIGN.md §1).
OWNER_PERMISSIONS = {
    "storefront": [
        "view_returnpolicy",
        "view_returnpolicyversion",
        "change_returnpolicy",
        "add_returnpolicy",
        "view_order",
        "add_order",
        "change_order",
        "delete_order",
        "view_orderitem",
        "add_orderitem",
        "change_orderitem",
        "delete_orderitem",
    ],
    "assistant": ["view_toolcall"],
}

_jwks_lock = threading.Lock()
_jwks_cache: dict[str, tuple[float, dict]] = {}


def fetch_jwks(url: str, *, refresh: bool = False) -> dict:
    now = time.monotonic()
    with _jwks_lock:
        hit = _jwks_cache.get(url)
    if hit and hit[0] > now and not refresh:
        return hit[1]
    response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
    response.raise_for_status()
    jwks = response.json()
    with _jwks_lock:
        _jwks_cache[url] = (now + settings.OIDC_JWKS_CACHE_SECONDS, jwks)
    return jwks


def owner_group_for(store) -> str:
    return store.owner_group or f"{store.tenant_id}{settings.STORE_OWNER_GROUP_SUFFIX}"


def safe_next_path(request, value: str | None) -> str | None:
    """A post-login target: a relative path on this very host, nothing else (BR-14)."""
    if not value or len(value) > 2000:
        return None
    if not value.startswith("/") or value.startswith("//") or value.startswith("/\\"):
        return None
    if any(ch in value for ch in "\r\n\t\\") or not value.isprintable():
        return None
    if not url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=False):
        return None
    return value


class StoreOIDCBackend(OIDCAuthenticationBackend):
    def authenticate(self, request, **kwargs):
        store = getattr(request, "tenant", None) if request is not None else None
        if store is None or is_public(store):
            return None
        try:
            return super().authenticate(request, **kwargs)
        except (SuspiciousOperation, jwt.PyJWTError, requests.RequestException, ValueError) as exc:
            # The reason is logged, never shown; no user row is created.
            log.warning("sign-in refused on store %s: %s", store.tenant_id, type(exc).__name__ + ": " + str(exc)[:200])
            return None

    def retrieve_matching_jwk(self, token):
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        for refresh in (False, True):  # a rotated key triggers one refetch
            for jwk in fetch_jwks(self.OIDC_OP_JWKS_ENDPOINT, refresh=refresh).get("keys", []):
                if jwk.get("kid") == kid and jwk.get("alg", "RS256") == "RS256" and jwk.get("kty") == "RSA":
                    return jwt.PyJWK(jwk)
        raise SuspiciousOperation("no matching signing key")

    def verify_token(self, token, **kwargs):
        if not token:
            raise SuspiciousOperation("no ID token")
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise SuspiciousOperation("unexpected token algorithm")
        key = self.retrieve_matching_jwk(token)
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=settings.OIDC_RP_CLIENT_ID,
            issuer=settings.COGNITO_ISSUER,
            leeway=settings.OIDC_CLOCK_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
        if claims.get("token_use") != "id":
            raise SuspiciousOperation("not an ID token")
        nonce = kwargs.get("nonce")
        if not nonce or claims.get("nonce") != nonce:
            raise SuspiciousOperation("nonce mismatch")
        return claims

    def get_userinfo(self, access_token, id_token, payload):
        # The verified ID token is the only source of identity and tenant.
        return payload

    def verify_claims(self, claims):
        store = self.request.tenant
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 128:
            return False
        tenant = claims.get("custom:tenantId")
        if tenant != store.tenant_id:
            log.warning("sign-in refused on store %s: token is for another store or has none", store.tenant_id)
            return False
        return True

    def filter_users_by_claims(self, claims):
        return get_user_model().objects.filter(username=claims["sub"])

    def create_user(self, claims):
        user = get_user_model().objects.create_user(claims["sub"])
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        store = self.request.tenant
        groups = claims.get("cognito:groups") or []
        is_owner = isinstance(groups, list) and owner_group_for(store) in groups
        user.email = str(claims.get("email") or "")[:254]
        user.first_name = str(claims.get("cognito:username") or claims.get("preferred_username") or "")[:150]
        user.is_staff = is_owner
        user.is_superuser = False
        user.save()
        if is_owner:
            user.groups.add(_owner_group())
        else:
            user.groups.remove(*Group.objects.filter(name=OWNER_GROUP_NAME))
        return user


def _owner_group() -> Group:
    """The store's owners group, its permissions kept equal to OWNER_PERMISSIONS."""
    group, _ = Group.objects.get_or_create(name=OWNER_GROUP_NAME)
    wanted = {
        p.pk
        for app, codenames in OWNER_PERMISSIONS.items()
        for p in Permission.objects.filter(content_type__app_label=app, codename__in=codenames)
    }
    if set(group.permissions.values_list("pk", flat=True)) != wanted:
        group.permissions.set(wanted)
    return group


class StoreAuthenticationRequestView(OIDCAuthenticationRequestView):
    def get(self, request):
        response = super().get(request)
        request.session["oidc_login_next"] = safe_next_path(request, request.GET.get("next"))
        return response


class StoreAuthenticationCallbackView(OIDCAuthenticationCallbackView):
    def get(self, request):
        try:
            return super().get(request)
        except SuspiciousOperation:
            # Unknown, replayed or foreign state (BR-15): no login, a way to start again.
            return self._failure(400, "This sign-in link has expired or was already used.")

    @property
    def success_url(self):
        return safe_next_path(self.request, self.request.session.get("oidc_login_next")) or "/"

    def login_success(self):
        response = super().login_success()
        self.request.session[STORE_SESSION_KEY] = self.request.tenant.tenant_id
        return response

    def login_failure(self):
        store = getattr(self.request, "tenant", None)
        name = store.name if store is not None else "this store"
        return self._failure(
            403, f"We could not sign you in to {name}. If your account belongs to another store, sign in there."
        )

    def _failure(self, status: int, message: str):
        from tenants.context import context_for_request

        context = {"ctx": context_for_request(self.request), "message": message}
        return render(self.request, "storefront/signin_failed.html", context, status=status)


_session_end_hooks: list = []


def on_session_end(hook):
    """Register hook(ctx, session_key), called after a shopper signs out (apps do so at ready())."""
    if hook not in _session_end_hooks:
        _session_end_hooks.append(hook)
    return hook


class StoreLogoutView(OIDCLogoutView):
    """Ends the Django session, signs out of the identity provider, then tells the
    registered hooks (the assistant closes that session's sockets)."""

    def post(self, request):
        from tenants.context import context_for_request

        ctx = context_for_request(request)
        session_key = request.session.session_key
        response = super().post(request)
        if ctx is not None and ctx.shopper_sub and session_key:
            for hook in _session_end_hooks:
                hook(ctx, session_key)
        return response


def provider_logout_url(request) -> str:
    """Cognito's logout endpoint, sending the browser back to this store's home."""
    params = {"client_id": settings.OIDC_RP_CLIENT_ID, "logout_uri": request.build_absolute_uri("/")}
    return f"{settings.OIDC_OP_LOGOUT_ENDPOINT}?{urlencode(params)}"
