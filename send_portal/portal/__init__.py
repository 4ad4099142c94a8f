"""The Professional Portal home page, the admin landing page and the static
service pages."""
import re
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, flash, get_flashed_messages, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..htmx import is_htmx

bp = Blueprint("portal", __name__)


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    return redirect(url_for("portal.home"))


@bp.route("/home")
@login_required
def home():
    if current_user.is_admin:
        return render_template("portal/admin_home.html")
    from ..notifications.due import days_left_text, due_list

    due, due_total, today = due_list(current_user)
    return render_template("portal/home.html", due=due, due_total=due_total, today=today, days_left_text=days_left_text)


@bp.route("/accessibility")
def accessibility():
    return render_template("portal/accessibility.html")


@bp.route("/favicon.ico")
def favicon():
    return Response(status=204)


URL_SAFE = "!$'()*,/:;?@"  # what werkzeug's url_for leaves unquoted in a query


def fixed_url(endpoint: str, **values) -> str:
    """url_for for an address that holds nothing a person typed (a view, an
    action), built once for each application root: url_for walks the
    routing map, and a caseload page drew a dozen addresses."""
    cache = current_app.extensions.setdefault("send_portal.fixed_urls", {})
    key = (request.script_root, endpoint, *sorted(values.items()))
    url = cache.get(key)
    if url is None:
        url = cache[key] = url_for(endpoint, **values)
    return url


def _path_arguments(endpoint: str) -> frozenset:
    cache = current_app.extensions.setdefault("send_portal.path_arguments", {})
    names = cache.get(endpoint)
    if names is None:
        names = cache[endpoint] = frozenset().union(
            *(rule.arguments for rule in current_app.url_map.iter_rules(endpoint))
        )
    return names


def list_address(endpoint: str, page: int = 1, **args) -> str:
    """A list page's address: empty arguments (a default view, no filter) and
    page 1 are left out, so each list has one address per state. The path (the
    view) is a fixed_url; what was typed goes in the query string, encoded as
    url_for encodes it."""
    args = {name: value for name, value in args.items() if value}
    if page > 1:
        args["page"] = page
    path_names = _path_arguments(endpoint)
    path = fixed_url(endpoint, **{name: value for name, value in args.items() if name in path_names})
    query = [(name, value) for name, value in args.items() if name not in path_names]
    return f"{path}?{urlencode(query, safe=URL_SAFE)}" if query else path


def page_addresses(endpoint: str, **args):
    """page_url(n) for the pages of one list, as list_address gives them: the
    address is worked out once and each page adds its number (a caseload page
    links up to seven pages on every keystroke)."""
    first = list_address(endpoint, 1, **args)
    joiner = "&" if "?" in first else "?"
    return lambda n: first if n <= 1 else f"{first}{joiner}page={int(n)}"


def page_number(raw: str | None) -> int:
    """A ?page= value: ASCII digits only ("²".isdigit() is True), else a 400."""
    raw = raw or "1"
    if not re.fullmatch(r"[0-9]{1,7}", raw):
        abort(400, "The page number must be a whole number, such as 2.")
    return max(1, int(raw))


# The largest key an Integer column holds (PostgreSQL's integer; SQLite's is
# larger): a bigger number bound to one is a database error, not "not found".
DATABASE_INT_MAX = 2**31 - 1


def database_id(raw: str | None) -> int | None:
    """An id sent in a form or query string: ASCII digits naming a key the
    database can hold, else None (no such row: the caller says 400 or 404)."""
    if not raw or not re.fullmatch(r"[0-9]{1,10}", raw):
        return None
    value = int(raw)
    return value if 1 <= value <= DATABASE_INT_MAX else None


def form_errors(form) -> list[tuple[str, str]]:
    """A checked WTForms form's errors in the one shape every error summary
    takes (components/error_summary.html): (the id of the field to link to,
    or None, message), the first error of each field, in the form's order.
    A radio group links to its first radio ("id-0")."""
    return [
        (f"{field.id}-0" if field.type == "RadioField" else field.id, field.errors[0])
        for field in form
        if field.errors and field.type != "CSRFTokenField"
    ]


def flashed_message_and_error(message: str | None = None, error: str | None = None,
                              errors=()) -> tuple[str | None, str | None]:
    """What a page says about the last thing done, as (message, error): at
    most one of the two is set. The one precedence every page follows
    between its own outcome and what the request before it flashed (a
    success after a redirect, or an error):

    1. The page's own errors win: ``errors`` (a form this request checked,
       shown in its error summary) or ``error``. Flashed messages are then
       left unread, so they show on the next page.
    2. Then the page's own outcome, ``message`` (flashed ones wait likewise).
    3. Otherwise what was flashed: a flashed error wins over a flashed
       message, which is flashed again to show on the next page (of several
       of a kind, the last).

    An htmx partial reads no flashed message: it has no banner for one, and
    the message waits for the next full page."""
    if errors or error:
        return None, error
    if message:
        return message, None
    if is_htmx():
        return None, None
    flashed_message = flashed_error = None
    for category, text in get_flashed_messages(with_categories=True):
        if category == "error":
            flashed_error = text
        else:
            flashed_message = FlashedMessage(text)
            flashed_message.category = category
    if flashed_error:
        if flashed_message:
            flash(str(flashed_message), flashed_message.category)
        return None, flashed_error
    return flashed_message, None


class FlashedMessage(str):
    """A flashed message's text; category is "success", or "info" for a
    notice that is not the outcome of something done (components/feedback.html
    shows it as "Important")."""

    category = "success"


def professional_required(view):
    """Only professionals reach the SEND pages; others get 404."""
    from functools import wraps

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_professional:
            abort(404)
        return view(*args, **kwargs)

    return wrapped
