"""The GOV.UK pagination every list draws (send_portal.pagination), read as a
user's browser would: which pages are offered, where they go, and that what
it is given is escaped."""
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup

from send_portal.pagination import pagination, showing


def draw(page, page_count, **kwargs):
    html = str(pagination(SimpleNamespace(page=page, page_count=page_count),
                          lambda n: f"/list?q=a&b=<{n}>", kwargs.pop("label", "Pages of people"), **kwargs))
    return BeautifulSoup(html, "html.parser")


def offered(soup):
    return [a.get_text(" ", strip=True) for a in soup.find_all("a")]


def test_a_single_page_draws_nothing():
    assert str(pagination(SimpleNamespace(page=1, page_count=1), str, "Pages")) == ""


@pytest.mark.parametrize(("page", "count", "expected", "gaps"), [
    (1, 2, ["1", "2", "Next page"], 0),
    (1, 10, ["1", "2", "10", "Next page"], 1),
    (5, 10, ["Previous page", "1", "4", "5", "6", "10", "Next page"], 2),
    (10, 10, ["Previous page", "1", "9", "10"], 1),
    (3, 5, ["Previous page", "1", "2", "3", "4", "5", "Next page"], 0),
])
def test_the_first_the_last_and_the_pages_either_side(page, count, expected, gaps):
    soup = draw(page, count)
    assert offered(soup) == expected
    assert len(soup.select("li.govuk-pagination__item--ellipses")) == gaps
    current = soup.find_all("a", attrs={"aria-current": "page"})
    assert [a["aria-label"] for a in current] == [f"Page {page}"]
    assert "govuk-pagination__item--current" in current[0].parent["class"]


def test_addresses_and_the_label_are_escaped():
    soup = draw(2, 3, label='Pages of "people" <b>')
    nav = soup.find("nav")
    assert nav["aria-label"] == 'Pages of "people" <b>'
    assert soup.find("b") is None
    assert [a["href"] for a in soup.find_all("a")] == ["/list?q=a&b=<1>", "/list?q=a&b=<1>", "/list?q=a&b=<2>",
                                                      "/list?q=a&b=<3>", "/list?q=a&b=<3>"]
    assert soup.find("a", attrs={"rel": "prev"})["href"] == "/list?q=a&b=<1>"
    assert soup.find("a", attrs={"rel": "next"})["href"] == "/list?q=a&b=<3>"


def test_without_a_results_region_the_links_are_plain():
    for a in draw(2, 3).find_all("a"):
        assert not [name for name in a.attrs if name.startswith(("hx-", "data-"))]


def test_with_a_results_region_htmx_swaps_it_and_focus_goes_to_the_heading():
    for a in draw(2, 3, results_id="results", heading_id="results-heading").find_all("a"):
        assert a["hx-get"] == a["href"]
        assert (a["hx-target"], a["hx-select"], a["hx-swap"], a["hx-push-url"]) == ("#results", "#results", "outerHTML", "true")
        assert a["data-focus-after"] == "#results-heading"


def test_showing_counts_people():
    assert showing(SimpleNamespace(first=1, last=50, total=1240), "person", "people") == "Showing 1 to 50 of 1,240 people"
    assert showing(SimpleNamespace(first=1, last=1, total=1), "person", "people") == "Showing 1 to 1 of 1 person"
