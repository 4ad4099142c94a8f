"""What the admin area's queries share: the Conflict a change can meet, one
page of a list, and the text filters of its lists.

LA administrators see every record, so nothing here is scoped to a caseload;
what a *professional* may see is decided by send_portal.caseload.queries and
send_portal.rules, and the changes made in the admin area (verify,
authenticate, decline, unauthenticate) are what they read.

Every change joins the caller's transaction together with its audit entries;
the view commits once, so a change and its audit entries land together or
not at all."""
from __future__ import annotations

from sqlalchemy import and_, exists, func, or_, true

from ..extensions import db
from ..models import Person, PersonNameToken, User
from ..names import query_terms
from ..pagination import Page, paginate


class Conflict(Exception):
    """The change cannot be made as things stand; the message says why, and
    field names the answer to change, if one would help."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def paged(statement, count_statement, page: int, page_size: int, scalars: bool = False) -> Page:
    def read_rows(limit: int, offset: int) -> list:
        result = db.session.execute(statement.limit(limit).offset(offset))
        return list(result.unique().scalars()) if scalars else [tuple(r) for r in result.unique()]

    return paginate(db.session.scalar(count_statement) or 0, page, page_size, read_rows)


def contains(column, text: str):
    """Case-insensitive 'contains', with LIKE's wildcards taken literally."""
    return func.lower(column).contains(text.lower(), autoescape=True)


def name_filter_condition(query: str):
    """The Person filter's matching (caseload.queries), on a query of people:
    each word typed starts some word of the given or family name, ignoring
    case and accents; a range scan of the name-token index per word."""
    conditions = []
    for term in query_terms(query):
        upper = term[:-1] + chr(ord(term[-1]) + 1)
        conditions.append(
            exists().where(
                PersonNameToken.person_id == Person.id,
                PersonNameToken.token >= term,
                PersonNameToken.token < upper,
            )
        )
    return and_(true(), *conditions)


def user_text_condition(query: str):
    """Each word typed appears in the name, email address or organisation."""
    conditions = []
    for word in query.split()[:5]:
        word = word[:50]
        conditions.append(
            or_(
                contains(User.given_name, word),
                contains(User.family_name, word),
                contains(User.email, word),
                contains(func.coalesce(User.organisation, ""), word),
            )
        )
    return and_(true(), *conditions)
