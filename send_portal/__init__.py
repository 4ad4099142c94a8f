"""SEND Professional Portal: the application factory."""
from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .config import load_config
from .extensions import csrf, db, limiter, login_manager, migrate
from .htmx import is_htmx

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

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(root, "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from . import auth, caseload, people, portal
    from .cli import register_cli

    app.register_blueprint(auth.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(caseload.bp)
    app.register_blueprint(people.bp)
    register_cli(app)

    _register_security(app)
    _register_errors(app)
    _register_template_globals(app)
    logging.basicConfig(level=logging.INFO)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # noqa: ARG001
    """WAL and a busy timeout let readers and one writer share the SQLite file."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _register_security(app: Flask) -> None:
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
        return error_page(
            429,
            "Too many attempts",
            "You have tried to sign in too many times. Wait a few minutes, then try again.",
        )

    @app.errorhandler(500)
    def server_error(error):  # noqa: ARG001
        db.session.rollback()
        return error_page(500, "Sorry, there is a problem with the service", "Try again later.")


def _register_template_globals(app: Flask) -> None:
    @app.context_processor
    def service_context():
        return {
            "la_name": app.config["LA_NAME"],
            "service_name": app.config["SERVICE_NAME"],
            "csrf_token": generate_csrf,
            "is_htmx": is_htmx(),
        }
