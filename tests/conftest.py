"""Shared fixtures.

The database is a real PostgreSQL (DATABASE_URL, or the embedded one); data is
committed, as in production, because end-to-end tests read it from a separate
server process. Tests therefore create their own uniquely named data.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings

from tests.support.net import install_loopback_resolver

BASE_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS = BASE_DIR / "test-artifacts"


def pytest_configure(config):
    install_loopback_resolver()
    ARTIFACTS.mkdir(exist_ok=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    """A fresh test database for the whole session, whatever the tests are marked with."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    yield
    with django_db_blocker.unblock():
        _disconnect_everyone()
        teardown_databases(config, verbosity=0)


def _disconnect_everyone() -> None:
    """Connections of the pool and of worker threads would block dropping the test database."""
    from django.db import connection, connections

    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
    for conn in connections.all():
        conn.close()
        if hasattr(conn, "close_pool"):
            conn.close_pool()


@pytest.fixture(scope="session", autouse=True)
def _committed_db(django_db_setup, django_db_blocker):
    """One test database for the session, with the public site; every test may use it."""
    from django.db import connection

    assert connection.settings_dict["NAME"].startswith("test_"), "refusing to run tests on a non-test database"
    django_db_blocker.unblock()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0].startswith("test_")
    from tenants.services import public_site_ensure

    # Tests ask many questions as the same shoppers; the limits have tests of their own.
    settings.ASSISTANT_RATE_LIMIT = 100_000
    settings.ASSISTANT_MAX_RUNNING_PER_SHOPPER = 100
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".example.test", "example.test", "testserver"]
    public_site_ensure()
    yield
    django_db_blocker.restore()


def database_url() -> str:
    from django.db import connection

    d = connection.settings_dict
    host = quote(d.get("HOST") or "", safe="")
    port = f":{d['PORT']}" if d.get("PORT") else ""
    user = quote(d.get("USER") or "", safe="")
    password = f":{quote(d['PASSWORD'], safe='')}" if d.get("PASSWORD") else ""
    return f"postgresql://{user}{password}@{host}{port}/{d['NAME']}"


def apply_idp_settings(values: dict[str, str]) -> None:
    from storefront.idp_settings import cognito_settings

    for name, value in cognito_settings(values).items():
        setattr(settings, name, value)


@pytest.fixture(scope="session")
def idp(tmp_path_factory):
    """The local Cognito-compatible identity provider, on a free loopback port."""
    from tenants.idp_local import LocalIdp, provision_pool

    state = tmp_path_factory.mktemp("idp")
    server = LocalIdp(port=free_port(), state_dir=state)
    server.start(persist=False, log_path=state / "idp.log")
    values = provision_pool(server)
    apply_idp_settings(values)
    yield server, values
    server.stop()


@pytest.fixture(scope="session")
def server_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def demo(idp, server_port, tmp_path_factory):
    """The three demo stores and their users, seeded exactly as `make demo` does."""
    import json

    from django.core.management import call_command

    settings.STORE_PUBLIC_PORT = str(server_port)
    creds_file = tmp_path_factory.mktemp("var") / "demo-credentials.json"
    call_command("seed_demo", credentials_file=str(creds_file), quiet=True)
    return json.loads(creds_file.read_text())


class LiveServer:
    """uvicorn serving storefront.asgi on a free port, as in production."""

    def __init__(self, *, port: int, values: dict[str, str], var: Path, log_name: str, extra_env: dict[str, str]):
        self.port = port
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("COGNITO_", "OIDC_"))},
            **values,
            "DATABASE_URL": database_url(),
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "STOREFRONT_VAR_DIR": str(var),
            "PORT": str(port),
            "STORE_PUBLIC_PORT": str(port),
            "ASSISTANT_LOCAL_CHUNK_DELAY": "0.01",
            # The end-to-end tests ask many questions in a row; the limit itself is tested in process.
            "ASSISTANT_RATE_LIMIT": "1000",
            "DATABASE_POOL": "0",
            **extra_env,
        }
        self.log = open(ARTIFACTS / log_name, "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "storefront.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--ws-max-size",
                str(64 * 1024),
                "--lifespan",
                "off",
                "--no-proxy-headers",
                "--ws",
                "wsproto",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited; see test-artifacts/{log_name}")
            try:
                if requests.get(f"{self.url('tenant1')}/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the server did not start; see test-artifacts/{log_name}")

    def url(self, tenant: str) -> str:
        return f"http://{tenant}.localhost:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="session")
def live_server_url(demo, idp, server_port, tmp_path_factory):
    """The demo's server (local backend); a function tenant -> base URL."""
    server = LiveServer(
        port=server_port, values=idp[1], var=tmp_path_factory.mktemp("server-var"), log_name="server.log", extra_env={}
    )
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def fake_bedrock():
    from tests.support.fake_bedrock import FakeBedrock

    server = FakeBedrock()
    yield server
    server.close()


@pytest.fixture(scope="session")
def server_factory(demo, idp, tmp_path_factory):
    """More servers on the same database and identity provider, each with its own
    settings: server_factory("name", {"ENV": "value"}) -> LiveServer (started once)."""
    from tenants.hosts import store_origin
    from tenants.identity import store_register
    from tenants.services import stores_all

    servers: dict[str, LiveServer] = {}

    def get(name: str, extra_env: dict[str, str]) -> LiveServer:
        if name not in servers:
            port = free_port()
            for store in stores_all():
                if store.tenant_id.startswith("tenant"):
                    store_register(store=store, origin=store_origin(store, port=str(port)))
            servers[name] = LiveServer(
                port=port,
                values=idp[1],
                var=tmp_path_factory.mktemp(f"{name}-var"),
                log_name=f"server-{name}.log",
                extra_env=extra_env,
            )
        return servers[name]

    yield get
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def bedrock_server(server_factory, fake_bedrock):
    """Servers whose assistant is a Bedrock backend pointed at the fake Bedrock:
    bedrock_server("bedrock-agent") -> LiveServer."""

    def get(kind: str) -> LiveServer:
        return server_factory(
            kind,
            {
                "ASSISTANT_BACKEND": kind,
                "BEDROCK_AGENT_ID": "AGENT12345",
                "BEDROCK_AGENT_ALIAS_ID": "ALIAS12345",
                "BEDROCK_MODEL_ID": "test.model-v1",
                "BEDROCK_THROTTLE_RETRIES": "1",
                "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME": fake_bedrock.url,
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": fake_bedrock.url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "us-east-1",
            },
        )

    return get


@pytest.fixture(scope="session")
def field():
    """shop-a / shop-b with alice, carol and bob, as in the field cases."""
    from tests.support.field import build_field_stores

    return build_field_stores()


@pytest.fixture
def backend(settings):
    """Swap the assistant backend for one test: backend("dotted.Path", **options)."""
    from assistant.backends import get_backend

    def use(path: str, **options):
        settings.ASSISTANT_BACKENDS = {"default": {"BACKEND": path, "OPTIONS": options}}
        get_backend.cache_clear()
        return get_backend()

    yield use
    get_backend.cache_clear()
