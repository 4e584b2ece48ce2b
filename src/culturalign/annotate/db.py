"""The annotation database: tables and engine (SQLite in WAL mode, or PostgreSQL).

Every submission is its own row (annotator, time, item version, task, payload). An
edit inserts a new row and marks the earlier one as no longer current, so the history
of every judgment is kept. A per-annotator ``nonce`` from the rendered form makes a
replayed POST (double click, network retry) land on the row it already created
instead of duplicating it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)

from culturalign.errors import ConfigError, MissingDependency

metadata = MetaData()

annotators = Table(
    "annotators",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False, default="annotator"),
    Column("created_at", String(40), nullable=False),
)

login_tokens = Table(
    "login_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("used_at", String(40)),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_hash", String(64), nullable=False, unique=True),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
    Column("revoked", Integer, nullable=False, default=0),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(400), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
    Column("tasks", String(100), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

item_versions = Table(
    "item_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content", Text, nullable=False),  # JSON snapshot: question, reference, responses
    Column("content_hash", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("item_id", "version"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("assigned_at", String(40), nullable=False),
    UniqueConstraint("annotator_id", "item_id"),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("item_version", Integer, nullable=False),
    Column("task", String(20), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("is_current", Integer, nullable=False),
    Column("previous_id", Integer, ForeignKey("submissions.id")),
    UniqueConstraint("annotator_id", "nonce"),
    Index(
        "one_current_per_task",
        "annotator_id",
        "item_id",
        "task",
        unique=True,
        sqlite_where=text("is_current = 1"),
        postgresql_where=text("is_current = 1"),
    ),
)

# What an annotator can judge: rows of (kind "culture" | "language", value). Kept in
# their own table (not columns on ``annotators``) so that databases made before routing
# existed gain it through ``create_all`` without a migration.
annotator_skills = Table(
    "annotator_skills",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", String(200), nullable=False),
    UniqueConstraint("annotator_id", "kind", "value"),
)

# A coordinator's decision on one task of one item version; exports use it in place of
# the annotators' merged answers. The latest row per (item, version, task) counts.
adjudications = Table(
    "adjudications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("item_version", Integer, nullable=False),
    Column("task", String(20), nullable=False),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    Column("payload", Text, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", String(40), nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)


def database_url(db: str | Path) -> str:
    """Accept a file path (SQLite) or a SQLAlchemy URL (``postgresql://...``)."""
    db = str(db)
    if "://" in db:
        if db.startswith("postgres://"):
            db = "postgresql://" + db[len("postgres://") :]
        if db.startswith("postgresql://"):
            db = "postgresql+psycopg://" + db[len("postgresql://") :]
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def _sqlite_pragmas(engine: Engine) -> None:
    """WAL for concurrent readers; writes take the lock up front (BEGIN IMMEDIATE) so two
    writers queue on the busy timeout instead of failing on a lock upgrade."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(db: str | Path) -> Engine:
    url = database_url(db)
    if url.startswith("sqlite"):
        path = Path(url[len("sqlite:///") :])
        if not path.parent.is_dir():
            raise ConfigError(f"--db: folder {path.parent} does not exist")
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20)
        _sqlite_pragmas(engine)
    elif url.startswith("postgresql"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise MissingDependency("psycopg", extra="postgres", why="for a PostgreSQL database") from None
        engine = create_engine(url, pool_size=20, pool_pre_ping=True)
    else:
        raise ConfigError(
            f"--db: unsupported database {url.split(':', 1)[0]!r}; use a file path or postgresql://"
        )
    metadata.create_all(engine)
    return engine
