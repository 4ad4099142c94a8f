"""The Professional Portal home page, the admin landing page and the static
service pages."""
import re
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, get_flashed_messages, redirect, render_template, request, url_for
from flask_login import current_user, login_required

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


def flashed_message_and_error() -> tuple[str | None, str | None]:
    """(success message, error message) flashed by the request before."""
    message = error = None
    for category, text in get_flashed_messages(with_categories=True):
        if category == "error":
            error = text
        else:
            message = text
    return message, error


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
