"""SEND forms: the authority's form definitions, professionals completing and
submitting them for a child, and the LA's inbox (SPEC section 4)."""
from . import models  # noqa: F401 - the tables join the metadata
from .views import bp  # noqa: F401
from . import inbox  # noqa: F401,E402 - the LA's routes, on the same blueprint
