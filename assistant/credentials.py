"""Credential vending: short-lived, tenant-tagged credentials for one (store, shopper).

`database` (default): a signed, expiring credential naming the store, its database
role and the shopper. The tool executor verifies it against the context and runs
the tool as that role (tenants.roles.acting_as).

`sts`: AssumeRole with session tags TenantId and UserId (ABAC), for tools or Lambda
action groups that read AWS data. 900-second credentials, cached per (store,
shopper) and refreshed a margin before expiry; botocore's own refresh windows
(15 and 10 minutes) are longer than such credentials live, so we do not use them.

Vending never happens for an anonymous context. Credentials are never logged: their
repr hides every secret.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field

import boto3
from botocore.config import Config
from django.conf import settings
from django.core import signing
from django.utils.module_loading import import_string

from tenants.context import TenantContext
from tenants.roles import store_role_name

_SALT = "assistant.credentials.database"


class CredentialError(PermissionError):
    pass


@dataclass(frozen=True)
class DatabaseCredential:
    tenant_id: str
    schema_name: str
    role: str
    shopper_sub: str
    expires_at: float
    token: str = field(repr=False)

    def __repr__(self) -> str:
        return f"DatabaseCredential(tenant_id={self.tenant_id!r}, expires_at={self.expires_at:.0f})"


@dataclass(frozen=True)
class AwsCredential:
    tenant_id: str
    shopper_sub: str
    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expires_at: float = 0.0

    def __repr__(self) -> str:
        return f"AwsCredential(tenant_id={self.tenant_id!r}, expires_at={self.expires_at:.0f})"

    def boto3_kwargs(self) -> dict[str, str]:
        return {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }


def _require_shopper(ctx: TenantContext) -> str:
    if not ctx.shopper_sub:
        raise CredentialError("credentials are vended only for a signed-in shopper")
    return ctx.shopper_sub


class _Cache:
    def __init__(self, margin: float):
        self.margin = margin
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], object] = {}

    def get(self, key):
        with self._lock:
            item = self._items.get(key)
        if item is not None and item.expires_at - self.margin > time.time():
            return item
        return None

    def put(self, key, item) -> None:
        with self._lock:
            self._items[key] = item

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class DatabaseCredentialVendor:
    kind = "database"

    def __init__(self, ttl_seconds: int = 900, refresh_margin_seconds: int = 60):
        self.ttl = ttl_seconds
        self.cache = _Cache(refresh_margin_seconds)

    def vend(self, *, ctx: TenantContext) -> DatabaseCredential:
        sub = _require_shopper(ctx)
        key = (ctx.tenant_id, sub)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        expires_at = time.time() + self.ttl
        role = store_role_name(ctx.schema_name)
        payload = {"t": ctx.tenant_id, "s": ctx.schema_name, "r": role, "u": sub, "e": int(expires_at)}
        token = signing.dumps(payload, salt=_SALT, compress=True)
        credential = DatabaseCredential(ctx.tenant_id, ctx.schema_name, role, sub, float(int(expires_at)), token)
        self.cache.put(key, credential)
        return credential


def verify_database_credential(credential: DatabaseCredential, *, ctx: TenantContext) -> str:
    """Check signature, expiry and that it is this context's; return the role to assume."""
    try:
        payload = signing.loads(credential.token, salt=_SALT)
    except signing.BadSignature:
        raise CredentialError("credential signature is invalid") from None
    if payload.get("e", 0) <= time.time():
        raise CredentialError("credential expired")
    expected = {"t": ctx.tenant_id, "s": ctx.schema_name, "u": ctx.shopper_sub, "r": store_role_name(ctx.schema_name)}
    if any(payload.get(k) != v for k, v in expected.items()):
        raise CredentialError("credential belongs to another store or shopper")
    return payload["r"]


_SESSION_NAME_UNSAFE = re.compile(r"[^\w+=,.@-]")


def role_session_name(ctx: TenantContext) -> str:
    """[\\w+=,.@-]{2,64}; the shopper appears hashed, the store readable."""
    sub_hash = hashlib.sha256((ctx.shopper_sub or "").encode()).hexdigest()[:16]
    return _SESSION_NAME_UNSAFE.sub("-", f"sf-{ctx.tenant_id}-{sub_hash}")[:64]


class StsCredentialVendor:
    kind = "sts"

    def __init__(
        self,
        role_arn: str = "",
        duration_seconds: int = 900,
        refresh_margin_seconds: int = 120,
        region: str | None = None,
    ):
        if not role_arn:
            raise ValueError("ASSISTANT_STS_ROLE_ARN is required for sts credentials")
        self.role_arn = role_arn
        self.duration = duration_seconds
        self.region = region
        self.cache = _Cache(refresh_margin_seconds)
        self._client = None

    def client(self):
        if self._client is None:
            self._client = boto3.client(
                "sts",
                region_name=self.region,
                config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=10),
            )
        return self._client

    def vend(self, *, ctx: TenantContext) -> AwsCredential:
        sub = _require_shopper(ctx)
        key = (ctx.tenant_id, sub)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        response = self.client().assume_role(
            RoleArn=self.role_arn,
            RoleSessionName=role_session_name(ctx),
            DurationSeconds=self.duration,
            Tags=[{"Key": "TenantId", "Value": ctx.tenant_id}, {"Key": "UserId", "Value": sub}],
            TransitiveTagKeys=["TenantId", "UserId"],
        )
        c = response["Credentials"]
        credential = AwsCredential(
            tenant_id=ctx.tenant_id,
            shopper_sub=sub,
            access_key_id=c["AccessKeyId"],
            secret_access_key=c["SecretAccessKey"],
            session_token=c["SessionToken"],
            expires_at=c["Expiration"].timestamp(),
        )
        self.cache.put(key, credential)
        return credential


_VENDORS = {
    "database": "assistant.credentials.DatabaseCredentialVendor",
    "sts": "assistant.credentials.StsCredentialVendor",
}
_vendor_lock = threading.Lock()
_vendors: dict[str, object] = {}


def get_vendor(kind: str | None = None):
    """The configured vendor (ASSISTANT_CREDENTIALS), one instance per process."""
    kind = kind or settings.ASSISTANT_CREDENTIALS
    with _vendor_lock:
        if kind not in _vendors:
            if kind not in _VENDORS:
                raise ValueError(f"unknown ASSISTANT_CREDENTIALS {kind!r}; use 'database' or 'sts'")
            options = settings.ASSISTANT_CREDENTIAL_OPTIONS.get(kind, {})
            _vendors[kind] = import_string(_VENDORS[kind])(**options)
        return _vendors[kind]


def reset_vendors() -> None:
    with _vendor_lock:
        _vendors.clear()


def vend_credentials(*, ctx: TenantContext):
    return get_vendor().vend(ctx=ctx)


def vend_database_credential(*, ctx: TenantContext) -> DatabaseCredential:
    """Tools always run under the store's database role, whatever else is vended."""
    return get_vendor("database").vend(ctx=ctx)
