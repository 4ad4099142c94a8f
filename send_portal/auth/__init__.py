from . import models  # noqa: F401  (its tables are part of db.metadata)
from .views import bp  # noqa: F401
from . import password_reset  # noqa: F401,E402  (its routes join bp)
from ..mail import preferences  # noqa: F401,E402  (Your account's email choice joins bp)
