"""Messages between the LA and the professionals working with a child."""
from . import models  # noqa: F401 - the tables join the metadata
from .views import bp  # noqa: F401
