"""Database steps of running answers, off the shared database thread.

Channels' `database_sync_to_async` runs every call on one shared thread, so the
chunks of many concurrent answers would queue behind each other. An answer's steps
are awaited one after another, so they keep their order on a pool of threads; each
thread has its own connection (from the psycopg pool), and every step enters its
store's context itself, so no schema state is shared.
"""

from channels.db import database_sync_to_async


def run_in_db_pool(func):
    return database_sync_to_async(func, thread_sensitive=False)
