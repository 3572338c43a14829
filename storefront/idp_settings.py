"""Identity-provider settings derived from a handful of environment variables.

Kept apart from settings.py so the test suite can point a running process at an
identity provider it started itself (same derivation, no drift).
"""

from __future__ import annotations

from collections.abc import Mapping


def cognito_settings(env: Mapping[str, str]) -> dict[str, object]:
    region = env.get("COGNITO_REGION") or env.get("AWS_REGION") or "us-east-1"
    pool = env.get("COGNITO_USER_POOL_ID", "")
    domain = env.get("COGNITO_DOMAIN", "").rstrip("/")  # hosted UI base URL
    endpoint = env.get("COGNITO_ENDPOINT_URL", "").rstrip("/")  # emulator only
    # Tokens always name the AWS-style issuer (the emulator mimics it); the key set
    # is fetched from the endpoint actually in use.
    aws = f"https://cognito-idp.{region}.amazonaws.com"
    issuer = env.get("COGNITO_ISSUER") or f"{aws}/{pool}"
    client_id = env.get("COGNITO_CLIENT_ID", "")
    return {
        "COGNITO_REGION": region,
        "COGNITO_USER_POOL_ID": pool,
        "COGNITO_CLIENT_ID": client_id,
        "COGNITO_CLIENT_SECRET": env.get("COGNITO_CLIENT_SECRET", ""),
        "COGNITO_DOMAIN": domain,
        "COGNITO_ENDPOINT_URL": endpoint,
        "COGNITO_LOCAL_EMULATOR": env.get("COGNITO_LOCAL_EMULATOR", "").lower() in {"1", "true", "yes"},
        "COGNITO_ISSUER": issuer,
        "OIDC_RP_CLIENT_ID": client_id,
        "OIDC_RP_CLIENT_SECRET": env.get("COGNITO_CLIENT_SECRET", ""),
        "OIDC_OP_AUTHORIZATION_ENDPOINT": env.get("OIDC_OP_AUTHORIZATION_ENDPOINT") or f"{domain}/oauth2/authorize",
        "OIDC_OP_TOKEN_ENDPOINT": env.get("OIDC_OP_TOKEN_ENDPOINT") or f"{domain}/oauth2/token",
        "OIDC_OP_USER_ENDPOINT": env.get("OIDC_OP_USER_ENDPOINT") or f"{domain}/oauth2/userInfo",
        "OIDC_OP_JWKS_ENDPOINT": env.get("OIDC_OP_JWKS_ENDPOINT") or f"{endpoint or aws}/{pool}/.well-known/jwks.json",
        "OIDC_OP_LOGOUT_ENDPOINT": env.get("OIDC_OP_LOGOUT_ENDPOINT") or f"{domain}/logout",
    }
