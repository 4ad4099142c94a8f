"""SEND Professional Portal: the application factory."""
from __future__ import annotations

import logging

from flask import Flask, abort, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from . import assets
from .config import load_config
from .extensions import csrf, db, limiter, login_manager, migrate
from .htmx import is_htmx
from .sessions import IdleTimeoutSessionInterface

__version__ = "0.1.0"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def create_app(overrides: dict | None = None) -> Flask:
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(
        __name__,
        template_folder=os.path.join(root, "templates"),
        static_folder=os.path.join(root, "static"),
        instance_relative_config=True,
    )
    load_config(app, overrides)
    app.session_interface = IdleTimeoutSessionInterface()

    # Ids in URLs fit the database's integer: a larger one is simply not found.
    app.url_map.converters["int"] = BoundedIntConverter
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "begin", _sqlite_begin)
    migrate.init_app(app, db, directory=os.path.join(root, "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    # Off: Flask-Login's "strong" mode only ever acted as "basic" here (it
    # ends a session whose address or browser changed only when the session
    # is not permanent, and ours are), and it read X-Forwarded-For even
    # without a proxy. Sessions are ended on the server instead
    # (send_portal/auth/user_sessions.py): at sign-out, from another device,
    # by an administrator and on deactivation.
    login_manager.session_protection = None

    from . import admin, auth, caseload, forms, messages, notifications, people, portal, timeout
    from .cli import register_cli

    app.register_blueprint(auth.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(caseload.bp)
    app.register_blueprint(people.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(forms.bp)
    app.register_blueprint(messages.bp)
    app.register_blueprint(timeout.bp)
    from . import clock

    app.register_blueprint(clock.bp)
    app.register_blueprint(notifications.bp)
    from . import organisations

    app.register_blueprint(organisations.bp)
    register_cli(app)

    _register_security(app)
    assets.register(app)
    _register_errors(app)
    _register_template_globals(app)
    _register_request_log(app)
    _register_health(app)
    if app.config.get("TRUST_PROXY"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return app


def _register_request_log(app: Flask) -> None:
    """One line a request: method, path (never the query string, which can hold
    a child's name), status, time, and the user's number (not their name)."""
    import time

    from flask import g, session

    log = logging.getLogger("send_portal.requests")

    @app.before_request
    def start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        if request.path.startswith("/static/") or app.testing:
            return response
        elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        # From the signed session, not current_user: logging must not load the
        # user from the database for requests that never needed them.
        user = session.get("_user_id") or "-"
        # The route's rule, not the path: a path can hold a secret, such as
        # the token of a live password-reset link.
        where = request.url_rule.rule if request.url_rule is not None else request.path
        log.info(
            "%s %s %s %.1fms user=%s htmx=%s",
            request.method, where, response.status_code, elapsed, user,
            "1" if request.headers.get("HX-Request") else "0",
        )
        return response


def _register_health(app: Flask) -> None:
    from flask import jsonify
    from sqlalchemy import text

    @app.get("/healthz")
    @limiter.exempt
    def health():
        """For the load balancer: the app is up and the database answers."""
        try:
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
        except Exception:  # noqa: BLE001 - any database failure means unhealthy
            db.session.rollback()
            logging.getLogger(__name__).exception("health check: database unavailable")
            return jsonify(status="unavailable", database="unavailable"), 503
        return jsonify(status="ok", database="ok")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # noqa: ARG001
    """WAL and a busy timeout let readers and one writer share the SQLite file."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        # Transactions are begun by _sqlite_begin, not by the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


class BoundedIntConverter(IntegerConverter):
    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _sqlite_begin(connection) -> None:
    """A request that writes takes SQLite's write lock when it begins (BEGIN
    IMMEDIATE), waiting up to the busy timeout. A deferred transaction that
    reads and then writes could instead fail at once with "database is
    locked" when another worker wrote in between. After a view has committed
    its change and said so (extensions.writes_committed), the rest of the
    request only reads and begins as a reader."""
    from flask import g, has_request_context

    reading = has_request_context() and (
        request.method in ("GET", "HEAD", "OPTIONS") or g.get("writes_committed", False)
    )
    connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")


def _register_security(app: Flask) -> None:
    @app.before_request
    def refuse_control_characters():
        """Nobody types a NUL byte; PostgreSQL cannot store one in text."""
        values = list(request.args.values())
        if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            values += list(request.form.values())
        if any("\x00" in value for value in values):
            abort(400, "The request contained a character that is not allowed. Remove it and try again.")

    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not request.path.startswith("/static/"):
            # Children's data: never kept by the browser or a proxy.
            response.headers["Cache-Control"] = "no-store"
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response


def _register_errors(app: Flask) -> None:
    def error_page(status: int, title: str, message: str):
        return render_template("errors/error.html", title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        app.logger.info("CSRF rejected: %s", error.description)
        from .timeout import keep_answers_sent_after_time_out

        kept = keep_answers_sent_after_time_out()  # a SEND form page sent after the session ended
        if kept is not None:
            return kept
        if is_htmx():
            from urllib.parse import urlsplit

            from flask import make_response, url_for
            from flask_login import current_user

            if not current_user.is_authenticated:
                # The session (and its token) expired: sign in again, then come back.
                current = urlsplit(request.headers.get("HX-Current-URL", ""))
                back = current.path + (f"?{current.query}" if current.query else "") if current.path.startswith("/") else None
                response = make_response("", 401)
                response.headers["HX-Redirect"] = url_for("auth.sign_in", next=back)
                return response
            # Signed in again elsewhere: the page's token is stale, so reload it.
            response = make_response("", 400)
            response.headers["HX-Refresh"] = "true"
            return response
        return error_page(
            400,
            "Your session has expired",
            "The form you sent was out of date or incomplete. Go back, reload the page and try again.",
        )

    @app.errorhandler(400)
    def bad_request(error):
        return error_page(400, "There is a problem with your request", getattr(error, "description", "") or "")

    @app.errorhandler(403)
    def forbidden(error):  # noqa: ARG001
        return error_page(403, "You do not have access to this page", "")

    @app.errorhandler(404)
    def not_found(error):  # noqa: ARG001
        return error_page(404, "Page not found", "If you typed the web address, check it is correct.")

    @app.errorhandler(405)
    def not_allowed(error):  # noqa: ARG001
        return error_page(405, "Page not found", "This page cannot be used in that way.")

    @app.errorhandler(429)
    def too_many(error):  # noqa: ARG001
        # Flask-Limiter's refusals (registration); it adds Retry-After itself.
        import math
        import time

        limit = limiter.current_limit
        # As Flask-Limiter works out its Retry-After.
        minutes = max(1, math.ceil(int(limit.reset_at - time.time()) / 60)) if limit else 1
        return error_page(
            429,
            "Too many attempts",
            f"There have been too many attempts from your network. Wait {minutes} minute{'' if minutes == 1 else 's'}, then try again.",
        )

    @app.errorhandler(413)
    def too_large(error):  # noqa: ARG001
        db.session.rollback()
        return error_page(
            413,
            "What you sent is too large",
            "Nothing was saved. Go back and send less: a shorter text, or fewer people at a time.",
        )

    @app.errorhandler(500)
    def server_error(error):  # noqa: ARG001
        db.session.rollback()
        return error_page(500, "Sorry, there is a problem with the service", "Try again later.")


def _register_template_globals(app: Flask) -> None:
    from . import display
    from .portal import fixed_url

    display.register(app)
    app.jinja_env.globals["fixed_url"] = fixed_url

    @app.context_processor
    def service_context():
        return {
            "la_name": app.config["LA_NAME"],
            "service_name": app.config["SERVICE_NAME"],
            "csrf_token": generate_csrf,
            "is_htmx": is_htmx(),
        }
