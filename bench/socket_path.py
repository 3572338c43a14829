"""Socket path: one question on the assistant's WebSocket vs a bare Channels echo.

Starts two uvicorn servers on loopback (the product with the local backend and no
artificial chunk delay, and bench/echo_app.py), then measures with real sockets:
- sequential: N round trips on one socket (ask -> done; echo: send -> reply)
- concurrent: C sockets each doing N/C round trips at once
and prints a table with the ratio against the echo baseline measured in the same run.

  .venv/bin/python bench/socket_path.py [--n 200] [--concurrency 10]

Uses DATABASE_URL (or the embedded PostgreSQL) and REDIS_URL when set. It creates a
store `bench1` and a shopper session in that database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from importlib import import_module
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare() -> tuple[str, str]:
    """A bench store and a signed-in shopper's session key."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.core.management import call_command

    from storefront.services import policy_set
    from tenants.context import TenantContext, activate
    from tenants.oidc import STORE_SESSION_KEY
    from tenants.services import store_create

    call_command("migrate_schemas", "--shared", verbosity=0)
    store, created = store_create(tenant_id="bench1", name="Bench One", domain="bench1.localhost")
    ctx = TenantContext.for_store(store)
    if created:
        policy_set(ctx=ctx, days=30, text="Bench policy.")
    sub = "bench000-0000-4000-8000-000000000001"
    with activate(ctx):
        user, _ = get_user_model().objects.get_or_create(username=sub)
        session = import_module(settings.SESSION_ENGINE).SessionStore()
        session.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: "tenants.oidc.StoreOIDCBackend",
                HASH_SESSION_KEY: user.get_session_auth_hash(),
                STORE_SESSION_KEY: "bench1",
            }
        )
        session.save()
        return sub, session.session_key


def serve(app: str, port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--lifespan",
            "off",
            "--ws",
            "wsproto",
            "--log-level",
            "warning",
        ],
        cwd=BASE,
        env=env,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{app} did not start")


async def connect(url: str, headers: dict):
    from websockets.asyncio.client import connect as ws_connect

    return await ws_connect(url, additional_headers=headers, max_size=2**20, open_timeout=10)


async def ask_round(ws, sub: str) -> float:
    answer_id = f"{sub}.{uuid.uuid4()}"
    start = time.perf_counter()
    await ws.send(json.dumps({"type": "ask", "answerId": answer_id, "prompt": "What is your return policy?"}))
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] in ("done", "error"):
            if frame["type"] == "error":
                raise RuntimeError(frame)
            return time.perf_counter() - start


async def echo_round(ws, _sub: str) -> float:
    start = time.perf_counter()
    await ws.send('{"type": "ask", "prompt": "What is your return policy?"}')
    await ws.recv()
    return time.perf_counter() - start


async def run(url: str, headers: dict, rounds, sub: str, n: int, concurrency: int) -> dict:
    ws = await connect(url, headers)
    for _ in range(5):  # warm up
        await rounds(ws, sub)
    sequential = [await rounds(ws, sub) for _ in range(n)]
    await ws.close()
    sockets = [await connect(url, headers) for _ in range(concurrency)]

    async def worker(sock):
        return [await rounds(sock, sub) for _ in range(n // concurrency)]

    start = time.perf_counter()
    results = await asyncio.gather(*(worker(s) for s in sockets))
    elapsed = time.perf_counter() - start
    for s in sockets:
        await s.close()
    flat = [x for r in results for x in r]
    return {
        "p50_ms": statistics.median(sequential) * 1000,
        "p95_ms": statistics.quantiles(sequential, n=20)[18] * 1000,
        "conc_p50_ms": statistics.median(flat) * 1000,
        "throughput": len(flat) / elapsed,
    }


def main() -> int:
    from tests.support.net import install_loopback_resolver

    install_loopback_resolver()  # *.localhost is loopback (RFC 6761); glibc here does not know it
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    sub, session_key = prepare()
    env = dict(
        os.environ,
        ASSISTANT_LOCAL_CHUNK_DELAY="0",
        ASSISTANT_RATE_LIMIT="1000000",
        DATABASE_POOL="1",
        ASSISTANT_MAX_RUNNING="1000",
        ASSISTANT_MAX_RUNNING_PER_SHOPPER="1000",
        ASSISTANT_FRAMES_PER_SECOND="100000",
    )
    app_port, echo_port = free_port(), free_port()
    app = serve("storefront.asgi:application", app_port, env)
    echo = serve("bench.echo_app:application", echo_port, env)
    try:
        host = f"bench1.localhost:{app_port}"
        product = asyncio.run(
            run(
                f"ws://{host}/ws/assistant/",
                {"Origin": f"http://{host}", "Cookie": f"sessionid={session_key}"},
                ask_round,
                sub,
                args.n,
                args.concurrency,
            )
        )
        baseline = asyncio.run(
            run(f"ws://127.0.0.1:{echo_port}/ws/echo/", {}, echo_round, sub, args.n, args.concurrency)
        )
    finally:
        app.terminate()
        echo.terminate()
    layer = "redis" if os.environ.get("REDIS_URL") else "in-memory"
    print(f"\nsocket path, {args.n} questions, concurrency {args.concurrency}, channel layer {layer}\n")
    print(f"{'':28}{'echo (baseline)':>18}{'assistant':>14}{'ratio':>9}")
    for key, label in (
        ("p50_ms", "sequential p50 (ms)"),
        ("p95_ms", "sequential p95 (ms)"),
        ("conc_p50_ms", "concurrent p50 (ms)"),
        ("throughput", "throughput (answers/s)"),
    ):
        ratio = product[key] / baseline[key]
        print(f"{label:28}{baseline[key]:>18.2f}{product[key]:>14.2f}{ratio:>8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
