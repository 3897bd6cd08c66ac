"""The throwaway installation every benchmark runs in: a temporary folder (``VAR_DIR``: the
SQLite file, the file cache, uploads), and on PostgreSQL (``DATABASE_URL``) a database
dropped and created for the run, dropped again afterwards unless ``--keep``.

A benchmark calls ``scratch_django(prefix)`` before importing anything of the project, and
``scratch_cleanup(...)`` in its ``finally``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Scratch:
    work: Path
    url: str  # DATABASE_URL, or "" for SQLite under ``work``
    dbname: str


def _postgres(url: str, statement: str, dbname: str) -> None:
    import psycopg
    from psycopg import sql

    admin_url = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL(statement).format(sql.Identifier(dbname)))


def scratch_django(prefix: str, *, keep_redis: bool = False) -> Scratch:
    """Make the scratch folder and database, point the settings at them, set Django up.

    Production-like: ``DEBUG`` off (no query log). ``keep_redis`` keeps ``REDIS_URL`` and
    the broker from the environment (the import benchmark's progress reports); otherwise
    the cache is the scratch folder's file cache.
    """
    work = Path(tempfile.mkdtemp(prefix=f"bench-{prefix}-"))
    url = os.environ.get("DATABASE_URL", "")
    dbname = urlsplit(url).path.lstrip("/")
    os.environ["VAR_DIR"] = str(work)
    if not keep_redis:
        os.environ.pop("REDIS_URL", None)
        os.environ.pop("CELERY_BROKER_URL", None)
    if url:
        if "bench" not in dbname:
            sys.exit(f"Refusing to drop and recreate {dbname!r}: use a database named *bench*.")
        _postgres(url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", dbname)
        _postgres(url, "CREATE DATABASE {}", dbname)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DEBUG"] = "0"
    hosts = os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1")
    os.environ["ALLOWED_HOSTS"] = f"{hosts},testserver"  # the test client's host
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    return Scratch(work=work, url=url, dbname=dbname)


def scratch_cleanup(scratch: Scratch, *, keep: bool) -> None:
    from django.db import connections

    connections.close_all()
    if keep:
        where = f" and database {scratch.dbname}" if scratch.url else ""
        print(f"kept: {scratch.work}{where}")
        return
    if scratch.url:
        _postgres(scratch.url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", scratch.dbname)
    shutil.rmtree(scratch.work, ignore_errors=True)
