"""Visiting every page a user can reach, for checks that must hold on all of
them (valid HTML, page weight). New pages are found by following links, so
they are covered without anyone listing them."""
from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

SKIP = ("/static/", "/sign-out", "/favicon.ico", "/healthz")


def pattern(url: str) -> str:
    parts = urlsplit(url)
    path = re.sub(r"\d+", "N", parts.path)
    keys = ",".join(sorted(k.split("=")[0] for k in parts.query.split("&") if k))
    return f"{path}?{keys}"


def crawl(client, starts, limit=120, per_pattern=2):
    """GET pages breadth-first from `starts`; returns [(url, response)]."""
    seen, counts, pages = set(), Counter(), []
    queue = deque(starts)
    while queue and len(pages) < limit:
        url = queue.popleft()
        if url in seen or url.startswith(SKIP) or counts[pattern(url)] >= per_pattern:
            continue
        seen.add(url)
        counts[pattern(url)] += 1
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            queue.append(response.headers["Location"])
            continue
        pages.append((url, response))
        if response.mimetype != "text/html":
            continue
        soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        for link in soup.find_all("a", href=True):
            href = link["href"].split("#")[0]
            if href.startswith("/") and not href.startswith("//"):
                queue.append(href)
    return pages


def post_forms_empty(client, pages, csrf_token):
    """Submit each POST form found with no answers: the error states."""
    results, done = [], set()
    for url, response in pages:
        if response.mimetype != "text/html":
            continue
        soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        for form in soup.find_all("form", method=re.compile("post", re.I)):
            action = form.get("action") or url
            if action.startswith(SKIP) or pattern(action) in done:
                continue
            done.add(pattern(action))
            results.append((f"POST {action}", client.post(action, data={"csrf_token": csrf_token})))
    return results
