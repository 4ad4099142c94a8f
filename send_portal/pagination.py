"""Pages of a list: the one Page type of every paged list, the one way to
read a page (paginate), and its GOV.UK pagination, drawn the same way for
every list (pagination; page addresses come from
send_portal.portal.page_addresses).

The pagination is a Python function rather than a Jinja macro: the caseload
draws it on every filter keystroke, and as a macro it cost a template load,
a module built for the import and a dozen escapes for each page link
(measured: docs/PERFORMANCE.md, "Figures from the code's comments").
Registered as a template global in send_portal.display."""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass
class Page:
    """One page of a list: its rows, how many the whole list holds, which page
    this is and how many rows a page has. Every paged list (the caseload, the
    admin lists, the forms inbox, notifications, the statutory clock) is one,
    or extends one."""

    rows: list
    total: int
    page: int
    page_size: int

    @property
    def page_count(self) -> int:
        return page_count(self.total, self.page_size)

    @property
    def first(self) -> int:
        """The number of the first row shown (0 for an empty list)."""
        return 0 if self.total == 0 else (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)

    @property
    def offset(self) -> int:
        """How many rows of the list come before this page."""
        return (self.page - 1) * self.page_size


def page_count(total: int, page_size: int) -> int:
    """How many pages a list of total rows fills (an empty list has one)."""
    return max(1, -(-total // page_size))


def clamp_page(page: int, total: int, page_size: int) -> int:
    """The page asked for, within the list's pages: a page past the end (a
    list that shrank since its link was drawn) is the last page."""
    return min(max(1, page), page_count(total, page_size))


def paginate(total: int, page: int, page_size: int, read_rows, page_type=Page, **fields) -> Page:
    """The one way a list is paged: page (clamped to the list's pages) of a
    list of total rows, with its rows from read_rows(limit, offset).
    page_type is Page or a subclass with more fields (given in fields)."""
    page = clamp_page(page, total, page_size)
    rows = list(read_rows(page_size, (page - 1) * page_size)) if total else []
    return page_type(rows=rows, total=total, page=page, page_size=page_size, **fields)


def _page_numbers(page: int, page_count: int) -> list[int | None]:
    """The pages to show: the first, the last and one either side of the
    current page; None for an ellipsis where pages are left out."""
    candidates = [1, *range(max(2, page - 2), min(page_count - 1, page + 2) + 1), page_count]
    shown: list[int | None] = []
    for n in candidates:
        if n == 1 or n == page_count or abs(n - page) <= 1:
            shown.append(n)
        elif abs(n - page) == 2:
            shown.append(None)
    return shown


def pagination(result, page_url, label: str, results_id: str | None = None, heading_id: str | None = None) -> Markup:
    """The pages of result (page, page_count). page_url(n) gives each page's
    address. With results_id, htmx swaps that region in place and pushes the
    address (which loads the whole page when opened directly), then focus
    goes to heading_id.

    Written with str.format over values escaped here (the label, the ids and
    each address; page numbers are integers): Markup.format escapes through
    string.Formatter, which made this slower than the macro it replaced
    (docs/PERFORMANCE.md, "Figures from the code's comments")."""
    if result.page_count <= 1:
        return Markup("")
    hx = ""
    if results_id:
        target = escape(results_id)
        hx = (f' hx-target="#{target}" hx-select="#{target}" hx-swap="outerHTML" hx-push-url="true"'
              f' data-focus-after="#{escape(heading_id or results_id)}"')

    def link(n: int, inner: str, extra: str = "") -> str:
        url = escape(page_url(int(n)))
        pushed = f' hx-get="{url}"{hx}' if results_id else ""
        return f'<a class="govuk-link govuk-pagination__link" href="{url}"{extra}{pushed}>{inner}</a>'

    page, page_count = int(result.page), int(result.page_count)
    parts = [f'<nav class="govuk-pagination" aria-label="{escape(label)}">']
    if page > 1:
        parts.append('<div class="govuk-pagination__prev">' + link(
            page - 1,
            '<span class="govuk-pagination__link-title">Previous<span class="govuk-visually-hidden"> page</span></span>',
            ' rel="prev"',
        ) + "</div>")
    parts.append('<ul class="govuk-pagination__list">')
    for n in _page_numbers(page, page_count):
        if n is None:
            parts.append('<li class="govuk-pagination__item govuk-pagination__item--ellipses">&ctdot;</li>')
        elif n == page:
            parts.append('<li class="govuk-pagination__item govuk-pagination__item--current">'
                         + link(n, str(n), f' aria-label="Page {n}" aria-current="page"') + "</li>")
        else:
            parts.append('<li class="govuk-pagination__item">' + link(n, str(n), f' aria-label="Page {n}"') + "</li>")
    parts.append("</ul>")
    if page < page_count:
        parts.append('<div class="govuk-pagination__next">' + link(
            page + 1,
            '<span class="govuk-pagination__link-title">Next<span class="govuk-visually-hidden"> page</span></span>',
            ' rel="next"',
        ) + "</div>")
    parts.append("</nav>")
    # Every value above was escaped here or is an integer.
    return Markup("\n".join(parts))  # nosec B704 - built from escaped parts


def showing(result, noun_one: str, noun_many: str) -> str:
    """"Showing 1 to 50 of 1,240 people"."""
    return f"Showing {result.first} to {result.last} of {result.total:,} {noun_one if result.total == 1 else noun_many}"
