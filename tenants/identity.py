"""The identity provider's admin side (Amazon Cognito's `cognito-idp` API).

Used by operators' commands only: registering a store's sign-in URLs and owner
group, looking shoppers up, and creating demo users. The same calls go to real
Cognito or to the local emulator (COGNITO_ENDPOINT_URL).
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from tenants.oidc import owner_group_for

# update_user_pool_client resets every field it is not given; these are carried over.
_CLIENT_FIELDS = (
    "ClientName",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AuthSessionValidity",
)


class IdentityError(Exception):
    pass


@dataclass(frozen=True)
class IdpUser:
    username: str
    sub: str
    tenant_id: str | None


def idp_client():
    if not settings.COGNITO_USER_POOL_ID:
        raise IdentityError("COGNITO_USER_POOL_ID is not set: configure Cognito or run `make demo`.")
    extra = {}
    if settings.COGNITO_LOCAL_EMULATOR:
        from tenants.idp_local import EMULATOR_CREDENTIALS

        extra = EMULATOR_CREDENTIALS
    return boto3.client(
        "cognito-idp",
        region_name=settings.COGNITO_REGION,
        endpoint_url=settings.COGNITO_ENDPOINT_URL or None,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=15),
        **extra,
    )


def store_register(*, store, origin: str) -> None:
    """Allow sign-in and sign-out redirects to this store's origin; ensure its owner group."""
    client = idp_client()
    pool = settings.COGNITO_USER_POOL_ID
    described = client.describe_user_pool_client(UserPoolId=pool, ClientId=settings.COGNITO_CLIENT_ID)
    current = described["UserPoolClient"]
    callback = f"{origin}/oidc/callback/"
    logout = f"{origin}/"
    callbacks = list(current.get("CallbackURLs") or [])
    logouts = list(current.get("LogoutURLs") or [])
    if callback not in callbacks or logout not in logouts:
        fields = {k: current[k] for k in _CLIENT_FIELDS if current.get(k) not in (None, "", [])}
        fields["CallbackURLs"] = sorted(set(callbacks) | {callback})
        fields["LogoutURLs"] = sorted(set(logouts) | {logout})
        client.update_user_pool_client(UserPoolId=pool, ClientId=settings.COGNITO_CLIENT_ID, **fields)
    group = owner_group_for(store)
    try:
        client.get_group(GroupName=group, UserPoolId=pool)
    except client.exceptions.ResourceNotFoundException:
        client.create_group(GroupName=group, UserPoolId=pool, Description=f"Owners of store {store.tenant_id}")


def _attr(attrs: list[dict], name: str) -> str | None:
    for item in attrs:
        if item.get("Name") == name:
            return item.get("Value")
    return None


def user_lookup(username: str) -> IdpUser:
    if not isinstance(username, str) or not username.strip() or len(username) > 128 or not username.isprintable():
        raise IdentityError("a username is 1-128 printable characters")
    client = idp_client()
    try:
        user = client.admin_get_user(UserPoolId=settings.COGNITO_USER_POOL_ID, Username=username)
    except client.exceptions.UserNotFoundException:
        raise IdentityError(f"no user {username!r} in the identity provider") from None
    except (ClientError, BotoCoreError) as exc:
        raise IdentityError(f"the identity provider refused the lookup: {type(exc).__name__}") from None
    attrs = user.get("UserAttributes", [])
    sub = _attr(attrs, "sub")
    if not sub:
        raise IdentityError(f"user {username!r} has no sub")
    return IdpUser(username=user["Username"], sub=sub, tenant_id=_attr(attrs, "custom:tenantId"))


def user_ensure(*, username: str, tenant_id: str, password: str, email: str, groups: list[str]) -> IdpUser:
    """Create or update a user with a permanent password (demo seeding)."""
    client = idp_client()
    pool = settings.COGNITO_USER_POOL_ID
    attributes = [
        {"Name": "email", "Value": email},
        {"Name": "email_verified", "Value": "true"},
        {"Name": "custom:tenantId", "Value": tenant_id},
    ]
    try:
        client.admin_get_user(UserPoolId=pool, Username=username)
        client.admin_update_user_attributes(UserPoolId=pool, Username=username, UserAttributes=attributes)
    except client.exceptions.UserNotFoundException:
        client.admin_create_user(
            UserPoolId=pool, Username=username, UserAttributes=attributes, MessageAction="SUPPRESS"
        )
    client.admin_set_user_password(UserPoolId=pool, Username=username, Password=password, Permanent=True)
    for group in groups:
        client.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName=group)
    return user_lookup(username)
