"""The LA admin area (SPEC section 5), one blueprint under /admin.

Each sub-feature is a module of routes with its queries (reads and writes)
beside it in ``<feature>_queries.py``:

- ``professionals``: verify, reject, deactivate, reactivate, sign out
  everywhere, reset two-factor sign-in, unauthenticate a caseload;
- ``queue``: the authentication requests (authenticate, decline,
  re-authenticate);
- ``people``: the authority's records (search, a child's record, case
  status, EHC timeline dates);
- ``audit_log``: the audit log and its CSV download;
- ``inbox``: the forms received;
- ``messages``: the LA's side of messaging, asking for a form;
- ``home``: /admin/ and the admin home page's counts.

``access.admin_required`` guards every route (other features' LA pages use
it too); ``common`` and ``common_queries`` hold what the modules share;
``forms`` the WTForms of the area."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Each module adds its routes to bp.
from . import audit_log, home, inbox, messages, people, professionals, queue  # noqa: E402,F401
