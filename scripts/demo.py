"""`make demo`: start what the demo needs, seed it, serve the three stores.

- the local identity provider on 127.0.0.1:$IDP_PORT (unless Cognito is configured),
- migrations and `seed_demo`,
- uvicorn on $HOST:$PORT serving http://tenantN.localhost:$PORT.
Ctrl-C stops everything; the identity provider saves its state under var/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
VAR = BASE_DIR / "var"
PY = sys.executable


def run(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def wait_listening(host: str, port: int, server: subprocess.Popen, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection((host if host != "0.0.0.0" else "127.0.0.1", port), timeout=1).close()  # noqa: S104
            return True
        except OSError:
            time.sleep(0.1)
    return False


def main() -> int:
    from tenants.idp_local import LocalIdp, provision_pool, read_env, write_env

    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HOST", "127.0.0.1")
    env = dict(os.environ, PORT=port, STORE_PUBLIC_PORT=os.environ.get("STORE_PUBLIC_PORT", port))
    idp = None
    if not os.environ.get("COGNITO_USER_POOL_ID"):
        idp_port = int(os.environ.get("IDP_PORT", "9229"))
        idp = LocalIdp(port=idp_port, state_dir=VAR / "idp-state")
        if idp.healthy():
            print(f"An identity provider already answers on {idp.url}; stop it or set IDP_PORT.", file=sys.stderr)
            return 1
        idp.start(persist=True, log_path=VAR / "idp.log")
        print(f"identity provider: {idp.url}")
        idp_env = VAR / "idp.env"
        values = provision_pool(idp, pool_id=read_env(idp_env).get("COGNITO_USER_POOL_ID"))
        write_env(idp_env, values)
        env.update(values)
    try:
        run("migrate_schemas", "--shared", "-v", "0", env=env)
        run("migrate_schemas", "--tenant", "-v", "0", env=env)
        run("seed_demo", env=env)
        run("collectstatic", "--noinput", "-v", "0", env=env)
        command = [
            PY, "-m", "uvicorn", "storefront.asgi:application", "--host", host, "--port", port,
            "--ws-max-size", str(64 * 1024), "--no-server-header", "--lifespan", "off", "--ws", "wsproto",
            # X-Forwarded-* are not trusted unless an operator sets a proxy up (README).
            "--no-proxy-headers",
        ]  # fmt: skip
        server = subprocess.Popen(command, cwd=BASE_DIR, env=env)
        try:
            if wait_listening(host, int(port), server):
                print(
                    f"\nServing the stores on {host}:{port}. Open http://tenant1.localhost:{port} (Ctrl-C stops)\n",
                    flush=True,
                )
            return server.wait()
        except KeyboardInterrupt:
            server.send_signal(signal.SIGINT)
            return server.wait()
    finally:
        if idp is not None:
            idp.stop()


if __name__ == "__main__":
    sys.exit(main())
