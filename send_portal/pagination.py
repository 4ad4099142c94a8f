"""Pages of a list (GOV.UK pagination), for the caseload and every admin list.

A Python function rather than a Jinja macro: the caseload draws it on every
filter keystroke, and as a macro it cost a template load, a module built for
the import and a dozen escapes for each page link (a sixth of a keystroke's
rendering). Registered as a template global in send_portal.display."""
from __future__ import annotations

from markupsafe import Markup, escape


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
    goes to heading_id."""
    if result.page_count <= 1:
        return Markup("")
    attrs = ""
    if results_id:
        attrs = Markup(
            ' hx-target="#{0}" hx-select="#{0}" hx-swap="outerHTML" hx-push-url="true" data-focus-after="#{1}"'
        ).format(results_id, heading_id or results_id)

    def link(n: int, inner, extra: Markup = Markup("")) -> Markup:
        url = escape(page_url(n))
        hx = Markup(' hx-get="{}"').format(url) + attrs if results_id else ""
        return Markup('<a class="govuk-link govuk-pagination__link" href="{}"{}{}>{}</a>').format(url, extra, hx, inner)

    parts = [Markup('<nav class="govuk-pagination" aria-label="{}">').format(label)]
    if result.page > 1:
        parts.append(Markup('<div class="govuk-pagination__prev">{}</div>').format(link(
            result.page - 1,
            Markup('<span class="govuk-pagination__link-title">Previous<span class="govuk-visually-hidden"> page</span></span>'),
            Markup(' rel="prev"'),
        )))
    parts.append(Markup('<ul class="govuk-pagination__list">'))
    for n in _page_numbers(result.page, result.page_count):
        if n is None:
            parts.append(Markup('<li class="govuk-pagination__item govuk-pagination__item--ellipses">&ctdot;</li>'))
            continue
        current = n == result.page
        parts.append(Markup('<li class="govuk-pagination__item{}">{}</li>').format(
            " govuk-pagination__item--current" if current else "",
            link(n, n, Markup(' aria-label="Page {}"{}').format(n, Markup(' aria-current="page"') if current else "")),
        ))
    parts.append(Markup("</ul>"))
    if result.page < result.page_count:
        parts.append(Markup('<div class="govuk-pagination__next">{}</div>').format(link(
            result.page + 1,
            Markup('<span class="govuk-pagination__link-title">Next<span class="govuk-visually-hidden"> page</span></span>'),
            Markup(' rel="next"'),
        )))
    parts.append(Markup("</nav>"))
    return Markup("\n").join(parts)


def showing(result, noun_one: str, noun_many: str) -> str:
    """"Showing 1 to 50 of 1,240 people"."""
    return f"Showing {result.first} to {result.last} of {result.total:,} {noun_one if result.total == 1 else noun_many}"
