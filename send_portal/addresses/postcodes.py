"""UK postcodes, accepted in any case and spacing and shown normalised."""
import re

# The shapes of a UK postcode (outward code, then digit and two letters).
_POSTCODE = re.compile(r"^(GIR0AA|[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{2})$")


def normalise_postcode(text: str) -> str | None:
    """'ab1  2cd' -> 'AB12CD'; None when it is not a UK postcode."""
    key = re.sub(r"\s+", "", text or "").upper()
    if not key or len(key) > 8 or not _POSTCODE.match(key):
        return None
    return key


def format_postcode(key: str) -> str:
    """'AB12CD' -> 'AB1 2CD'."""
    return f"{key[:-3]} {key[-3:]}"
