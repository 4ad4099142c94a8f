"""A small HTTP load driver for 127.0.0.1: client threads in a closed loop
(each sends its next request when the last one has answered), one new
connection per request (gunicorn's sync workers close each one), bounded in
time. Each request's latency is measured from connect to the last byte."""
from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

USER_AGENT = "send-portal-bench/1"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')


@dataclass
class Request:
    kind: str  # what the figure is filed under, such as "hide 50"
    method: str
    path: str
    form: list[tuple[str, str]] | None = None
    htmx: bool = False
    closes: bool = False  # must follow the request before it (an unhide after its hide)


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict
    seconds: float


class Client:
    """Cookies and the CSRF token of one signed-in browser, shared by the
    threads of a load (sessions are signed cookies: any worker serves any)."""

    def __init__(self, port: int, extra_headers: dict | None = None, timeout: float = 60):
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.extra_headers = dict(extra_headers or {})
        self._lock = threading.Lock()

    def send(self, request: Request) -> Response:
        headers = {"User-Agent": USER_AGENT, "Host": f"127.0.0.1:{self.port}", **self.extra_headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if request.htmx:
            headers["HX-Request"] = "true"
        body = None
        if request.form is not None:
            fields = list(request.form)
            if self.csrf:
                fields.append(("csrf_token", self.csrf))
            body = urllib.parse.urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            if self.csrf:
                headers["X-CSRFToken"] = self.csrf
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(request.method, request.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        elapsed = time.perf_counter() - started
        for raw in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            with self._lock:
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Response(response.status, data, dict(response.headers), elapsed)

    def get(self, path: str, htmx: bool = False) -> Response:
        return self.send(Request("get", "GET", path, htmx=htmx))

    def sign_in(self, email: str, password: str) -> None:
        """Through /sign-in like a browser: the form's hidden csrf_token, then
        the new session's token from the next page's hx-headers."""
        page = self.get("/sign-in")
        match = CSRF_INPUT.search(page.body.decode())
        if not match:
            raise RuntimeError("the sign-in page has no csrf_token input")
        self.csrf = match.group(1)
        response = self.send(Request("sign in", "POST", "/sign-in", form=[("email", email), ("password", password)]))
        if response.status != 302:
            raise RuntimeError(f"sign-in failed with {response.status}: {response.body[:300]!r}")
        page = self.get("/send/select-person")
        match = CSRF_HEADER.search(page.body.decode())
        if page.status != 200 or not match:
            raise RuntimeError(f"no Select Person page after sign-in ({page.status})")
        self.csrf = match.group(1)


@dataclass
class LoadResult:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    samples: dict[str, bytes] = field(default_factory=dict)  # kind -> one body
    sizes: dict[str, list[int]] = field(default_factory=dict)

    def merge(self, other: "LoadResult") -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        for kind, values in other.sizes.items():
            self.sizes.setdefault(kind, []).extend(values)
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.errors.extend(other.errors)
        self.elapsed += other.elapsed
        for kind, body in other.samples.items():
            self.samples.setdefault(kind, body)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def run_load(client: Client, plans: list[list[Request]], seconds: float, expect=(200,)) -> LoadResult:
    """One thread per plan; each cycles through its own requests in order
    until the time is up, but never stops before a request that closes a
    pair (so a hide is always followed by its unhide)."""
    result = LoadResult()
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(plan: list[Request]) -> None:
        local = LoadResult()
        i = 0
        while True:
            request = plan[i % len(plan)]
            if time.perf_counter() >= stop_at and not request.closes:
                break
            try:
                response = client.send(request)
            except Exception as error:  # noqa: BLE001 - counted and reported
                local.errors.append(f"{request.kind}: {error!r}")
                i += 1
                continue
            local.statuses[response.status] = local.statuses.get(response.status, 0) + 1
            if response.status not in expect:
                local.errors.append(f"{request.kind} {request.path}: HTTP {response.status}")
            local.latencies.setdefault(request.kind, []).append(response.seconds)
            local.sizes.setdefault(request.kind, []).append(len(response.body))
            local.samples.setdefault(request.kind, response.body)
            i += 1
        with lock:
            result.merge(local)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(plan,), daemon=True) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    result.elapsed = time.perf_counter() - started
    return result
