"""Where the store lives and how to open it.

The database is given as ``--db URL``, else ``RUBRIC_XL_DB``, else the SQLite
file ``rubric-xl.db`` in the current folder.  A plain path means an SQLite
file; ``postgresql://user:pw@host/db`` a shared PostgreSQL server (driven by
psycopg 3).  Opening a store brings its schema to the newest Alembic migration.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..errors import InputFileError, Problem

DEFAULT_DB = "rubric-xl.db"
ENV = "RUBRIC_XL_DB"
MIGRATIONS = Path(__file__).with_name("migrations")


def resolve_url(db: str | None) -> str:
    """The SQLAlchemy URL for *db* (a URL or a path), ``RUBRIC_XL_DB`` or the default file."""
    text = (db or os.environ.get(ENV) or DEFAULT_DB).strip()
    if "://" not in text:
        return "sqlite:///" + str(Path(text).expanduser())
    if text.startswith("postgresql://") or text.startswith("postgres://"):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def shown(url: str) -> str:
    """The URL as shown to the user: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _fail(url: str, msg: str) -> InputFileError:
    return InputFileError("无法打开考核记录库", [Problem(shown(url), msg)])


def _sqlite_engine(url: str) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        p = Path(path)
        if p.is_dir():
            raise _fail(url, "这是一个目录，应为数据库文件")
        if not p.parent.is_dir():
            raise _fail(url, f"目录 {p.parent} 不存在")
    engine = create_engine(url, connect_args={"timeout": 60})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):  # pragma: no branch
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        dbapi_conn.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # writers queue on the file lock instead of failing half-way (SQLAlchemy's pysqlite recipe)
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def open_engine(db: str | None) -> Engine:
    """An engine for *db* with the schema migrated to the newest version.
    Raises :class:`InputFileError` (Chinese) when the database cannot be opened."""
    url = resolve_url(db)
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise _fail(url, "数据库地址格式无效（应为文件路径，或 postgresql://用户:密码@主机/库名）") from None
    if backend not in ("sqlite", "postgresql"):
        raise _fail(url, f"不支持的数据库类型 {backend}（可用 SQLite 文件或 PostgreSQL）")
    try:
        engine = _sqlite_engine(url) if backend == "sqlite" else create_engine(url, pool_pre_ping=True)
        migrate(engine)
    except InputFileError:
        raise
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise _fail(url, f"无法连接或初始化数据库：{detail}") from None
    return engine


_MIGRATING = threading.Lock()  # Alembic's environment is process-global: one migration at a time


def _current(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest Alembic revision (idempotent; a store that
    is already current is only read).  Safe from several threads; when another
    process migrated the same database at the same moment, its result is accepted."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with _MIGRATING:
        if _current(engine) == head:
            return
        try:
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError:
            if _current(engine) != head:
                raise
