"""The LA admin area (SPEC section 5)."""
from .access import admin_required  # noqa: F401
from .views import bp  # noqa: F401
