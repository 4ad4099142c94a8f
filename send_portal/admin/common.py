"""What the admin area's views share: reading a list's filter and page, and
counting children in words."""
from __future__ import annotations

from flask import abort, current_app

from ..portal import page_number

MAX_QUERY = 200


def children_count(n: int) -> str:
    return "1 child" if n == 1 else f"{n:,} children"


def page_size() -> int:
    return current_app.config["PAGE_SIZE"]


def text_arg(source, name: str, label: str) -> str:
    value = (source.get(name) or "").strip()
    if len(value) > MAX_QUERY:
        abort(400, f"{label} must be {MAX_QUERY} characters or fewer.")
    return value


def page_arg(source) -> int:
    return page_number(source.get("page"))
