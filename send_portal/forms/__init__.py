"""SEND forms: the authority's form definitions, and professionals completing
and submitting them for a child (SPEC section 4). The LA's inbox of forms
received is send_portal.admin.inbox. Forms import no other feature's code
(they link to other features' pages by endpoint name only): messages and
the admin area import forms, never the reverse."""
from . import models  # noqa: F401 - the tables join the metadata
from .views import bp  # noqa: F401
