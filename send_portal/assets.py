"""How the static files (CSS, JavaScript, icons) and pages travel.

Every address of a static file carries its content's digest (?v=...), built
by url_for, so a browser keeps a file for a year and asks again only when a
release changes it. An address without the current digest (typed, or left
from an older release) is revalidated on every use instead.

Responses are compressed (Flask-Compress) unless COMPRESS_RESPONSES=0 says a
proxy in front already does it. Pages are compressed too: BREACH needs an
attacker's page to make the victim's browser fetch ours many times with the
victim's cookies, and the session cookie is SameSite=Lax, so such fetches
carry no session and their pages hold no token or child's data."""
from __future__ import annotations

import hashlib
import os

from flask import Flask, request
from flask_compress import Compress

YEAR = 365 * 24 * 60 * 60
compress = Compress()

COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/csv",
    "text/plain",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
    "image/x-icon",
    "image/vnd.microsoft.icon",
]


def register(app: Flask) -> None:
    digests: dict[tuple[str, float], str | None] = {}

    def digest(filename: str) -> str | None:
        path = os.path.join(app.static_folder, filename)
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return None
        key = (filename, mtime)
        if key not in digests:
            with open(path, "rb") as f:
                digests[key] = hashlib.sha256(f.read()).hexdigest()[:16]
        return digests[key]

    @app.url_defaults
    def version_static_files(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = digest(values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_static_files(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args.get("v") == digest(filename):
                response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
            else:
                response.headers["Cache-Control"] = "no-cache"
        return response

    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    # zstd and brotli where the browser offers them, gzip for every other.
    app.config.setdefault("COMPRESS_ALGORITHM", ["zstd", "br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["zstd", "br", "gzip"])
    if app.config.get("COMPRESS_RESPONSES", True):
        compress.init_app(app)
