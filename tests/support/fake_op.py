"""A minimal OpenID provider on loopback whose tokens the test chooses.

The real identity provider (ministack) only issues good tokens; the refusal cases
need bad ones signed with a key the app trusts. This serves a JWKS and a token
endpoint at the wire, so the backend's real HTTP and JWT code runs.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_FAKEPOOL"
CLIENT_ID = "fake-client-id"


class FakeOP:
    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "fake-kid-1"
        self.next_token: str | None = None
        self.token_requests: list[dict] = []
        op = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/jwks.json":
                    public = jwt.algorithms.RSAAlgorithm.to_jwk(op.key.public_key(), as_dict=True)
                    self._json(200, {"keys": [{**public, "kid": op.kid, "alg": "RS256", "use": "sig"}]})
                else:
                    self._json(404, {})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                op.token_requests.append(
                    {"body": self.rfile.read(length).decode(), "auth": self.headers.get("Authorization")}
                )
                if self.path == "/oauth2/token" and op.next_token:
                    self._json(200, {"id_token": op.next_token, "access_token": "opaque", "token_type": "Bearer"})
                else:
                    self._json(400, {"error": "invalid_grant"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def settings(self) -> dict:
        return {
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": "fake-secret",
            "COGNITO_ISSUER": ISSUER,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.url}/oauth2/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.url}/oauth2/token",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.url}/jwks.json",
            "OIDC_OP_LOGOUT_ENDPOINT": f"{self.url}/logout",
        }

    def sign(self, claims: dict, *, key=None, kid: str | None = None, alg: str = "RS256") -> str:
        headers = {"kid": kid or self.kid}
        if alg == "HS256":
            return jwt.encode(claims, "fake-secret", algorithm="HS256", headers=headers)
        return jwt.encode(claims, key or self.key, algorithm=alg, headers=headers)

    @staticmethod
    def claims(*, sub: str, tenant: str | None, nonce: str, **overrides) -> dict:
        now = int(time.time())
        claims = {
            "sub": sub,
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "token_use": "id",
            "iat": now,
            "exp": now + 3600,
            "auth_time": now,
            "nonce": nonce,
            "email": f"{sub[:8]}@example.test",
            "email_verified": True,
            "cognito:username": f"user-{sub[:8]}",
        }
        if tenant is not None:
            claims["custom:tenantId"] = tenant
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def close(self):
        self.server.shutdown()
