"""Configuration, read from the environment (SPEC section 7)."""
import os
import secrets
from datetime import timedelta


class Config:
    LA_NAME = os.environ.get("LA_NAME", "Demo Borough Council")
    LA_CONTACT_EMAIL = os.environ.get("LA_CONTACT_EMAIL", "send.portal@example.org")
    LA_CONTACT_PHONE = os.environ.get("LA_CONTACT_PHONE", "")
    ACCESSIBILITY_STATEMENT_PREPARED = os.environ.get("ACCESSIBILITY_STATEMENT_PREPARED", "29 November 2026")
    ACCESSIBILITY_STATEMENT_REVIEWED = os.environ.get("ACCESSIBILITY_STATEMENT_REVIEWED", "29 November 2026")
    SERVICE_NAME = "SEND Professional Portal"
    OS_PLACES_API_KEY = os.environ.get("OS_PLACES_API_KEY") or None
    OS_PLACES_URL = os.environ.get("OS_PLACES_URL") or None  # tests point this at a fake
    OS_PLACES_TIMEOUT = float(os.environ.get("OS_PLACES_TIMEOUT", "5"))

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # see load_config

    # Sessions live in signed cookies, so every worker can serve every request.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "send_portal_session"
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=int(os.environ.get("SESSION_MINUTES", "30")))
    SESSION_REFRESH_EACH_REQUEST = True  # an idle timeout, not a fixed one
    # The timeout dialog opens this long before the idle time-out ends, and a
    # form page is saved as a draft this long before it (send_portal/timeout.py).
    SESSION_TIMEOUT_WARNING_SECONDS = 120
    SESSION_TIMEOUT_SAVE_SECONDS = 10
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    WTF_CSRF_SSL_STRICT = True

    # Flask-Limiter's storage: it limits registration only (sign-in failures
    # are counted in the database, send_portal/auth/limits.py).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Failed sign-ins allowed from one address (and registrations from one address).
    SIGN_IN_RATE_LIMIT = os.environ.get("SIGN_IN_RATE_LIMIT", "10 per minute;50 per hour")
    # Failed sign-ins allowed for one account, from wherever they come.
    SIGN_IN_ACCOUNT_RATE_LIMIT = os.environ.get("SIGN_IN_ACCOUNT_RATE_LIMIT", SIGN_IN_RATE_LIMIT)
    # Wrong security or recovery codes for one account, from anywhere: with a
    # day's window, so a guesser who knows the password gets 40 tries a day.
    SECOND_FACTOR_RATE_LIMIT = os.environ.get("SECOND_FACTOR_RATE_LIMIT", "5 per minute;20 per hour;40 per day")

    # Who must sign in with a security code as well as a password:
    # "admins", "everyone" or "nobody" (send_portal/auth/two_factor.py).
    TWO_FACTOR_REQUIRED = os.environ.get("TWO_FACTOR_REQUIRED", "admins")

    # Password reset requests (send_portal/auth/password_reset.py), counted in
    # the database like failed sign-ins: from one address, and for one email typed.
    PASSWORD_RESET_RATE_LIMIT = os.environ.get("PASSWORD_RESET_RATE_LIMIT", "10 per hour")
    PASSWORD_RESET_ACCOUNT_RATE_LIMIT = os.environ.get("PASSWORD_RESET_ACCOUNT_RATE_LIMIT", "3 per hour")

    # Email (send_portal/mail): written to the outbox with the change that
    # causes it, delivered by `flask --app app send-emails`.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = os.environ.get("SMTP_PORT", "")  # default 587, or 465 with SMTP_SSL
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "1") == "1"
    SMTP_SSL = os.environ.get("SMTP_SSL", "0") == "1"
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_TIMEOUT = 30
    MAIL_FROM = os.environ.get("MAIL_FROM") or LA_CONTACT_EMAIL
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "10"))
    MAIL_RETRY_MAX_MINUTES = 60
    MAIL_BATCH_SIZE = 50
    MAIL_CLAIM_SECONDS = 300  # a sender that dies mid-batch holds its rows this long
    # The address people use to reach the portal, for the links in emails
    # (never taken from a request's Host header). Unset: the emails say
    # "Sign in to the SEND Professional Portal" instead of linking.
    PORTAL_URL = os.environ.get("PORTAL_URL", "").rstrip("/")

    # 0 where a proxy in front compresses responses already (send_portal/assets.py).
    COMPRESS_RESPONSES = os.environ.get("COMPRESS_RESPONSES", "1") != "0"

    # Set when a load balancer terminates TLS in front of the app servers.
    TRUST_PROXY = os.environ.get("TRUST_PROXY", "0") == "1"

    # A hash method name, not a password.
    PASSWORD_HASH_METHOD = "scrypt"  # nosec B105
    # No request may be larger than this unless its view raises the limit for
    # itself (a SEND form page with a file question, a message with a file).
    # The proxy in front needs a limit at least as large as the biggest upload
    # a form allows (DEPLOY.md).
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Hide, Unhide and Delete post up to 1,000 people with their list's fields.
    MAX_FORM_PARTS = 1100
    PAGE_SIZE = 50
    RECENT_MONTHS = 18


class DevelopmentConfig(Config):
    # Plain HTTP on 127.0.0.1 in development: the cookie cannot be Secure there.
    SESSION_COOKIE_SECURE = False
    WTF_CSRF_SSL_STRICT = False


class TestingConfig(DevelopmentConfig):
    TESTING = True
    # Tests only: fast hashes keep the suite quick.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # nosec B105
    SIGN_IN_RATE_LIMIT = "1000 per minute"
    SIGN_IN_ACCOUNT_RATE_LIMIT = "1000 per minute"
    SECOND_FACTOR_RATE_LIMIT = "1000 per minute"
    PASSWORD_RESET_RATE_LIMIT = "1000 per minute"  # nosec B105 - a rate limit, not a password
    PASSWORD_RESET_ACCOUNT_RATE_LIMIT = "1000 per minute"  # nosec B105 - a rate limit, not a password
    # The suite signs admins in with a password alone; tests/test_two_factor.py
    # sets the other modes itself.
    TWO_FACTOR_REQUIRED = "nobody"


CONFIGS = {
    "production": Config,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def load_config(app, overrides=None):
    env = os.environ.get("SEND_PORTAL_ENV", "production")
    app.config.from_object(CONFIGS.get(env, Config))
    app.config["SEND_PORTAL_ENV"] = env
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        if env == "production" and not (overrides or {}).get("TESTING"):
            raise RuntimeError(
                "SECRET_KEY must be set in production (or set SEND_PORTAL_ENV=development)."
            )
        secret = secrets.token_hex(32)
    app.config["SECRET_KEY"] = secret
    if overrides:
        app.config.update(overrides)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "send_portal.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    # Heroku-style URLs name the old driver; psycopg 3 is the one we ship.
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri[len("postgres://"):]
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    # What people type (names, notes, messages) must not reach the logs in a
    # database error's message: SQLAlchemy leaves the bound values out.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "hide_parameters": True}
    if not uri.startswith("sqlite"):
        # A database server can restart or drop idle connections: test each
        # pooled connection before use. An SQLite file has nothing to test,
        # and the ping was a statement on every request.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
