"""The local Cognito-compatible identity provider used by the demo and the tests.

It is the `ministack` package, installed in its own virtualenv (.idp-venv: it pins
its own botocore), bound to 127.0.0.1 only. Seeding talks to it with boto3's
`cognito-idp` client exactly as to real Cognito; only the endpoint differs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import requests

BASE_DIR = Path(__file__).resolve().parent.parent
IDP_VENV = Path(os.environ.get("IDP_VENV", BASE_DIR / ".idp-venv"))
POOL_NAME = "storefront-local"
CLIENT_NAME = "storefront-web"
# The emulator does not check credentials; boto3 needs some to sign with.
EMULATOR_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


@dataclass
class LocalIdp:
    port: int
    state_dir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/_ministack/health", timeout=1).ok
        except requests.RequestException:
            return False

    def start(self, *, persist: bool, log_path: Path | None = None, timeout: float = 20.0) -> None:
        exe = IDP_VENV / "bin" / "ministack"
        if not exe.exists():
            raise RuntimeError(f"{exe} is missing: run `make .idp-venv` (part of `make demo` and `make test`).")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_dir / "tmp"
        tmp.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", str(self.state_dir)),
            "BIND_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(self.port),
            "STATE_DIR": str(self.state_dir),
            "TMPDIR": str(tmp),
            "PERSIST_STATE": "1" if persist else "0",
            # Listeners ministack would otherwise open on all interfaces.
            "IOT_MTLS_ENABLED": "0",
            "SFTP_ENABLED": "0",
            "SERVICES": "cognito-idp",
            "LOG_LEVEL": "WARNING",
        }
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL
        # Its state holds the token-signing private keys and passwords: owner-only files.
        self.state_dir.chmod(0o700)
        self.process = subprocess.Popen(
            [str(exe)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            umask=0o077,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the identity provider exited with code {self.process.returncode}")
            if self.healthy():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the identity provider did not start in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # SIGTERM lets it write its state (PERSIST_STATE) before exiting.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None

    def client(self, region: str = "us-east-1"):
        return boto3.client("cognito-idp", endpoint_url=self.url, region_name=region, **EMULATOR_CREDENTIALS)


def provision_pool(idp: LocalIdp, *, pool_id: str | None = None, region: str = "us-east-1") -> dict[str, str]:
    """Create (or find) the local user pool and app client; return settings for it."""
    client = idp.client(region)
    if pool_id:
        try:
            client.describe_user_pool(UserPoolId=pool_id)
        except client.exceptions.ResourceNotFoundException:
            pool_id = None
    if not pool_id:
        pool_id = client.create_user_pool(
            PoolName=POOL_NAME,
            Schema=[{"Name": "tenantId", "AttributeDataType": "String", "Mutable": True}],
            AutoVerifiedAttributes=["email"],
        )["UserPool"]["Id"]
    clients = client.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    existing = next((c for c in clients if c["ClientName"] == CLIENT_NAME), None)
    if existing:
        app = client.describe_user_pool_client(UserPoolId=pool_id, ClientId=existing["ClientId"])["UserPoolClient"]
    else:
        app = client.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=CLIENT_NAME,
            GenerateSecret=True,
            AllowedOAuthFlowsUserPoolClient=True,
            AllowedOAuthFlows=["code"],
            AllowedOAuthScopes=["openid", "email", "profile"],
            SupportedIdentityProviders=["COGNITO"],
            CallbackURLs=["http://localhost/oidc/callback/"],
            LogoutURLs=["http://localhost/"],
        )["UserPoolClient"]
    return {
        "COGNITO_REGION": region,
        "COGNITO_USER_POOL_ID": pool_id,
        "COGNITO_CLIENT_ID": app["ClientId"],
        "COGNITO_CLIENT_SECRET": app["ClientSecret"],
        "COGNITO_DOMAIN": idp.url,
        "COGNITO_ENDPOINT_URL": idp.url,
        "COGNITO_LOCAL_EMULATOR": "1",
    }


def write_env(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    path.chmod(0o600)


def read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


if __name__ == "__main__":  # pragma: no cover - manual use
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9229
    idp = LocalIdp(port=port, state_dir=BASE_DIR / "var" / "idp-state")
    idp.start(persist=True)
    print(idp.url)
