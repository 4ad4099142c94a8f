"""In-portal notifications (unread count in the header, a notifications
page), the professional's Due list and the daily reminders job."""
from . import models  # noqa: F401 - the tables join the metadata
from .events import link_to, notify, notify_admins  # noqa: F401
from .reminders import register as _register_commands
from .views import bp

_register_commands(bp.cli)
