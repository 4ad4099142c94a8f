"""The rows of the Select Person table, written by one function that the
page and its htmx partials both call (templates/caseload/select_person.html).

Fifty rows are most of what a filter keystroke renders. As Jinja markup each
row cost about 35 escapes, attribute look-ups and filter calls (for the
CPU time see docs/PERFORMANCE.md, "Figures from the code's comments");
written here it is one format call a row with two escapes
(the name and the link), which is what makes a keystroke cost little more
than its query. Everything from the database is escaped: names through
markupsafe.escape, ids are integers, dates are formatted, and the case
status tag escapes its text (display.case_status_tag)."""
from __future__ import annotations

from collections import Counter
from functools import lru_cache

from markupsafe import Markup, escape

from ..display import case_status_tag, long_date

# One row, without the indentation that a template would send for every row.
# The checkbox is named "Select" and the full name (SPEC section 7); only where
# the same full name is on the page more than once does the date of birth
# follow (", born 14 March 2015"), so that those children are told apart.
_SELECT = (
    '<td class="govuk-table__cell app-select-col">'
    '<div class="govuk-checkboxes govuk-checkboxes--small"><div class="govuk-checkboxes__item">'
    '<input class="govuk-checkboxes__input" id="select-{id}" name="person_id" type="checkbox" value="{id}">'
    '<label class="govuk-label govuk-checkboxes__label" for="select-{id}">'
    '<span class="govuk-visually-hidden">Select {name}{born_label}</span></label>'
    "</div></div></td>"
)
_CELLS = (
    '<th scope="row" class="govuk-table__header"><a class="govuk-link" href="{href}">{name}</a></th>'
    '<td class="govuk-table__cell">{born}</td>'
    '<td class="govuk-table__cell">{status}</td>'
    "{extra}</tr>\n"
)
_ROW = '<tr class="govuk-table__row">' + _SELECT + _CELLS
# A team's or a covered colleague's list: no Select (Hide and Delete are one's
# own), and for a team the professional whose involvement it is.
_ROW_UNSELECTABLE = '<tr class="govuk-table__row">' + _CELLS
_LAST_ACTIVITY = '<td class="govuk-table__cell">{}</td>'
_PROFESSIONAL = '<td class="govuk-table__cell">{}</td>'

# Dates of birth repeat across a caseload; formatting one is a strftime.
_date = lru_cache(maxsize=8192)(long_date)


def caseload_rows(
    rows, child_href_start: str, child_href_end: str, recent: bool = False, selectable: bool = True,
    professional: bool = False,
) -> Markup:
    """The <tr> of each (involvement, person) of a caseload Page. A child's
    address is child_href_start + id + child_href_end (one url_for a page).
    selectable: the Select checkbox (one's own list); professional: the
    Professional column (the team's)."""
    start, end = escape(child_href_start), escape(child_href_end)
    rows = list(rows)
    # Names are compared exactly as written (case-sensitive full name): the
    # label says the name as shown, so two labels read alike only then.
    counts = Counter(f"{person.given_name} {person.family_name}" for _, person in rows)
    parts = []
    row = _ROW if selectable else _ROW_UNSELECTABLE
    for involvement, person in rows:
        person_id = int(person.id)
        full_name = f"{person.given_name} {person.family_name}"
        born = _date(person.date_of_birth)
        extra = _PROFESSIONAL.format(escape(involvement.professional_name)) if professional else ""
        if recent:
            extra += _LAST_ACTIVITY.format(_date(person.last_activity_at.date()) if person.last_activity_at else "")
        parts.append(row.format(
            id=person_id,
            name=escape(full_name),
            href=f"{start}{person_id}{end}",
            born=born,
            born_label=f", born {born}" if born and counts[full_name] > 1 else "",
            status=case_status_tag(involvement.case_status),
            extra=extra,
        ))
    # Every value in parts was escaped or formatted from an integer or a date above.
    return Markup("".join(parts))  # nosec B704 - built from escaped parts
