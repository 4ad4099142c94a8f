"""Flask extensions, created once and bound in create_app()."""
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints so Alembic migrations work the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
# Batch mode lets SQLite alter columns, by rebuilding the table, which drops
# the table's triggers: a revision that rebuilds a table with triggers wraps
# it in send_portal.triggers.rebuilding, and migrations/env.py stops any
# upgrade after which a trigger is missing.
migrate = Migrate(render_as_batch=True)
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def writes_committed() -> None:
    """Say that this request's change is committed and what is left of it only
    reads (re-rendering the list after a Hide, say). On SQLite its next
    transaction then begins without the write lock, so other people's writes
    need not wait for a page to be drawn (see send_portal._sqlite_begin)."""
    from flask import g

    g.writes_committed = True
