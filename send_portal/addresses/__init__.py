"""Address look-up by postcode: the authority's own gazetteer, or OS Places
when the deployment sets OS_PLACES_API_KEY."""
from .postcodes import format_postcode, normalise_postcode  # noqa: F401
from .providers import Address, LookupResult, provider_for  # noqa: F401
