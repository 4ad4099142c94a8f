"""One small interface, two providers: the local gazetteer and OS Places.
A failure of the remote service is a message and the manual route, never a 500."""
from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Address as AddressRecord
from .postcodes import format_postcode

log = logging.getLogger(__name__)

OS_PLACES_URL = "https://api.os.uk/search/places/v1/postcode"


@dataclass(frozen=True)
class Address:
    uprn: str
    address_line_1: str
    address_line_2: str
    town: str
    postcode: str

    @property
    def one_line(self) -> str:
        return ", ".join(p for p in (self.address_line_1, self.address_line_2, self.town, self.postcode) if p)


@dataclass
class LookupResult:
    addresses: list[Address] = field(default_factory=list)
    # Said to the user when the look-up itself failed (not when none were found).
    problem: str | None = None


class GazetteerProvider:
    """The authority's LLPG or AddressBase extract, loaded by import-addresses."""

    def lookup(self, postcode_key: str) -> LookupResult:
        rows = db.session.scalars(
            select(AddressRecord)
            .where(AddressRecord.postcode_key == postcode_key)
            .order_by(AddressRecord.address_line_1, AddressRecord.uprn)
            .limit(500)
        )
        return LookupResult(
            [Address(r.uprn, r.address_line_1, r.address_line_2 or "", r.town, r.postcode) for r in rows]
        )

    def get(self, postcode_key: str, uprn: str) -> Address | None:
        return next((a for a in self.lookup(postcode_key).addresses if a.uprn == uprn), None)


class OSPlacesProvider:
    """Ordnance Survey's Places API (postcode endpoint), with a short timeout."""

    def __init__(self, api_key: str, base_url: str = OS_PLACES_URL, timeout: float = 5.0):
        if urllib.parse.urlsplit(base_url).scheme not in ("https", "http"):
            raise ValueError("OS_PLACES_URL must be an http(s) URL")
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = timeout

    def lookup(self, postcode_key: str) -> LookupResult:
        query = urllib.parse.urlencode({"postcode": postcode_key, "key": self.api_key, "maxresults": 100})
        unavailable = "The address finder is not working at the moment. Enter the address by hand."
        try:
            # Scheme checked in __init__.
            with urllib.request.urlopen(f"{self.base_url}?{query}", timeout=self.timeout) as response:  # nosec B310
                payload = json.loads(response.read(2_000_000).decode("utf-8"))
        except urllib.error.HTTPError as error:
            if error.code == 400:  # OS Places: a postcode it does not know
                return LookupResult()
            log.warning("OS Places answered HTTP %s", error.code)
            return LookupResult(problem=unavailable)
        except (urllib.error.URLError, socket.timeout, TimeoutError, ValueError, OSError) as error:
            log.warning("OS Places look-up failed: %s", type(error).__name__)
            return LookupResult(problem=unavailable)
        addresses = []
        for result in payload.get("results", []) if isinstance(payload, dict) else []:
            dpa = result.get("DPA") if isinstance(result, dict) else None
            if not isinstance(dpa, dict) or not dpa.get("UPRN"):
                continue
            street = " ".join(
                str(dpa[k]) for k in ("BUILDING_NUMBER", "DEPENDENT_THOROUGHFARE_NAME", "THOROUGHFARE_NAME") if dpa.get(k)
            )
            premises = ", ".join(str(dpa[k]) for k in ("SUB_BUILDING_NAME", "BUILDING_NAME", "ORGANISATION_NAME") if dpa.get(k))
            line_1, line_2 = (premises, street) if premises else (street, str(dpa.get("DEPENDENT_LOCALITY", "")))
            addresses.append(
                Address(
                    uprn=str(dpa["UPRN"])[:20],
                    address_line_1=(line_1 or str(dpa.get("ADDRESS", "")).split(",")[0])[:200].title(),
                    address_line_2=line_2[:200].title(),
                    town=str(dpa.get("POST_TOWN", ""))[:100].title(),
                    postcode=format_postcode(str(dpa.get("POSTCODE", postcode_key)).replace(" ", "").upper()),
                )
            )
        return LookupResult(addresses)

    def get(self, postcode_key: str, uprn: str) -> Address | None:
        return next((a for a in self.lookup(postcode_key).addresses if a.uprn == uprn), None)


def provider_for(app=None):
    app = app or current_app
    key = app.config.get("OS_PLACES_API_KEY")
    if key:
        return OSPlacesProvider(key, app.config.get("OS_PLACES_URL") or OS_PLACES_URL, float(app.config.get("OS_PLACES_TIMEOUT", 5)))
    return GazetteerProvider()
