"""How pages and files travel (issue 12, items 7 and 16): static files are
addressed by their content's digest and kept for a year, responses are
compressed when the browser accepts it, and no request is larger than it
needs to be."""
import gzip
import hashlib
import re

import pytest

from send_portal import create_app
from send_portal.extensions import db
from send_portal.models import Involvement


def static_addresses(html: str) -> list[str]:
    return [a.replace("&amp;", "&") for a in re.findall(r'"(/static/[^"]+)"', html)]


def test_every_static_address_in_a_page_carries_the_files_digest(app, client):
    html = client.get("/sign-in").get_data(as_text=True)
    addresses = static_addresses(html)
    assert {a.split("?")[0] for a in addresses} >= {"/static/css/portal.css", "/static/js/portal.js"}
    for address in addresses:
        path, _, query = address.partition("?v=")
        with open(app.static_folder + path[len("/static"):], "rb") as f:
            assert query == hashlib.sha256(f.read()).hexdigest()[:16], address


def test_a_versioned_file_is_kept_for_a_year_and_any_other_address_is_revalidated(client):
    versioned = next(a for a in static_addresses(client.get("/sign-in").get_data(as_text=True)) if "portal.css" in a)
    kept = client.get(versioned)
    assert kept.status_code == 200
    assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    for address in ("/static/css/portal.css", "/static/css/portal.css?v=0123456789abcdef"):
        response = client.get(address)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
        assert response.headers.get("ETag") or response.headers.get("Last-Modified")


def test_pages_stay_out_of_every_cache(client):
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"


def test_pages_and_files_are_compressed_for_a_browser_that_accepts_it(client):
    plain = client.get("/sign-in")
    assert "Content-Encoding" not in plain.headers
    packed = client.get("/sign-in", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    html = gzip.decompress(packed.get_data()).decode()
    assert "<h1" in html and len(packed.get_data()) < len(html) / 2
    css = client.get("/static/css/portal.css", headers={"Accept-Encoding": "gzip"})
    assert css.headers["Content-Encoding"] == "gzip"
    assert len(gzip.decompress(css.get_data())) == len(client.get("/static/css/portal.css").get_data())


def test_compression_can_be_left_to_the_proxy(database_url, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True, "COMPRESS_RESPONSES": False})
    response = app.test_client().get("/sign-in", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


@pytest.mark.parametrize("url", ["/sign-in", "/register", "/send/select-person/hide"])
def test_a_request_larger_than_any_page_needs_is_refused_with_a_message(client_request, professional, url):
    if url.startswith("/send"):
        client_request.sign_in(professional)
    page = client_request.parse(client_request.post(url, {"padding": "x" * (2 * 1024 * 1024)}, expected_status=413))
    assert page.find("h1").get_text(strip=True) == "What you sent is too large"
    assert "Nothing was saved" in page.get_text()


def test_a_too_large_hide_changes_nothing(client_request, professional, make_person):
    child = make_person("Ada", "Lovelace", professional=professional)
    client_request.sign_in(professional)
    client_request.post(
        "/send/select-person/hide",
        {"person_id": str(child.id), "confirmed": "yes", "padding": "x" * (2 * 1024 * 1024)},
        expected_status=413,
    )
    db.session.expire_all()
    assert db.session.query(Involvement).filter_by(person_id=child.id).one().hidden_at is None


def test_hiding_a_thousand_people_at_once_is_not_too_large(client_request, professional, make_person):
    child = make_person("Ada", "Lovelace", professional=professional)
    client_request.sign_in(professional)
    ids = [str(child.id)] + [str(2_000_000 + n) for n in range(999)]
    client_request.post("/send/select-person/hide", {"person_id": ids, "confirmed": "yes"}, expected_status=303)
    db.session.expire_all()
    assert db.session.query(Involvement).filter_by(person_id=child.id).one().hidden_at is not None
