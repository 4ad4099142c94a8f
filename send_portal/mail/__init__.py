"""Email: an outbox table written in the same transaction as the change that
causes each email, and a sender (`flask --app app send-emails`) that delivers
it over SMTP with retries, so nothing is lost while the mail server is down
and no request ever waits for one."""
from . import models  # noqa: F401 - the table joins the metadata
from .outbox import queue_email  # noqa: F401
