"""The request log and the database engine keep secrets and typed values out
of the logs: a live reset token is part of its link's path, so the log names
the route instead; a database error's message leaves out the bound values."""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select, text as sql
from sqlalchemy.exc import DBAPIError

from send_portal.extensions import db
from send_portal.mail.models import OutboxEmail

from .conftest import ClientRequest

LINK_RE = re.compile(r"/reset-password/([A-Za-z0-9_-]{20,})")


@pytest.fixture
def logged(app, caplog):
    """The request log, which stays quiet while the app is testing, on."""
    app.config["TESTING"] = False
    caplog.set_level(logging.INFO, logger="send_portal.requests")
    yield caplog
    app.config["TESTING"] = True


def _request_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "send_portal.requests"]


def test_a_reset_link_s_token_is_not_logged(app, logged, professional):
    app.config["PORTAL_URL"] = "https://portal.la.example"
    client = ClientRequest(app.test_client())
    client.post("/forgot-password", {"email": professional.email}, expected_status=303)
    token = LINK_RE.search(db.session.scalar(select(OutboxEmail.body))).group(1)
    logged.clear()
    response = client.client.get(f"/reset-password/{token}")
    assert response.status_code == 200
    lines = _request_lines(logged)
    assert len(lines) == 1
    assert lines[0].startswith("GET /reset-password/<token> 200 ")
    assert token not in logged.text


def test_a_path_with_no_route_is_logged_as_asked(app, logged):
    app.test_client().get("/no-such-page")
    (line,) = _request_lines(logged)
    assert line.startswith("GET /no-such-page 404 ")


def test_database_errors_leave_out_the_typed_values(app):
    assert db.engine.hide_parameters is True
    with pytest.raises(DBAPIError) as raised:
        db.session.execute(sql("SELECT no_such_column FROM users WHERE email = :typed"), {"typed": "amelia.secret@example"})
    db.session.rollback()
    assert "amelia.secret@example" not in str(raised.value)
