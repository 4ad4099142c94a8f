"""Running the real app under gunicorn on 127.0.0.1 for load and fault tests,
and a small HTTP client that signs in like a browser without JavaScript."""
from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSRF_TOKEN = re.compile(r'"X-CSRFToken": "([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with the project's own gunicorn.conf.py, bound to 127.0.0.1."""

    def __init__(self, database_url: str, workers: int = 4, log_path: Path | None = None):
        self.port = free_port()
        self.database_url = database_url
        self.workers = workers
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> "Gunicorn":
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            SEND_PORTAL_ENV="development",
            SECRET_KEY="load-test-secret-key",
            SIGN_IN_RATE_LIMIT="10000 per minute",
            BIND=f"127.0.0.1:{self.port}",
            WEB_CONCURRENCY=str(self.workers),
            LOG_LEVEL="warning",
        )
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"), "app:app"],
            cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not become healthy in time")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a power cut would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies, CSRF tokens and forms, as a browser with scripts off."""

    def __init__(self, base: str, timeout: float = 30):
        self.base = base
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)
        self.csrf = ""

    def request(self, method: str, path: str, data: dict | list | None = None, headers: dict | None = None) -> tuple[int, str, dict]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)

    def get(self, path: str, htmx: bool = False):
        status, body, headers = self.request("GET", path, headers={"HX-Request": "true"} if htmx else None)
        match = CSRF_TOKEN.search(body)
        if match:
            self.csrf = match.group(1)
        return status, body, headers

    def post(self, path: str, data: dict, htmx: bool = False):
        fields = {"csrf_token": self.csrf, **data}
        return self.request("POST", path, fields, headers={"HX-Request": "true"} if htmx else None)

    def sign_in(self, email: str, password: str) -> None:
        self.get("/sign-in")
        status, body, headers = self.post("/sign-in", {"email": email, "password": password})
        assert status == 302, (status, body[:500])
        self.get("/accessibility")  # every page carries the new session's CSRF token
