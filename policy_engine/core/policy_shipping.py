"""Reading the policy file's ``shipping`` section (the order status): the INS-1 lateness figure and the carriers'
tracking links.  Called by ``policy_file.policy_from_mapping`` with its reader, so errors name the key like every
other: ``policy.yml: shipping.carriers.ups.tracking_url must contain {tracking_number}, got '...'``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from .policy import Carrier, ShippingPolicy

if TYPE_CHECKING:  # policy_file imports this module
    from .policy_file import _Reader

#: the placeholder a carrier's tracking link must contain, replaced by the parcel's (URL-quoted) tracking number
TRACKING_NUMBER = "{tracking_number}"
#: a carrier code as shipments name it (the import's ``carrier``): lower case, digits, ``_``
CARRIER_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
#: sanity ceiling: a typo like 300 days would leave every late parcel unanswered for most of a year
MAX_LATE_AFTER_DAYS = 60


def shipping_policy(reader: _Reader) -> ShippingPolicy:
    """``reader``: ``policy_file._Reader`` of the ``shipping`` section."""
    late_after_days = reader.int("late_after_days")
    if late_after_days > MAX_LATE_AFTER_DAYS:
        raise reader.error("late_after_days", f"must be at most {MAX_LATE_AFTER_DAYS}", late_after_days)
    raw = reader.raw("carriers")
    if not isinstance(raw, Mapping) or not raw:
        raise reader.error("carriers", "must be a mapping of carrier codes", raw)
    listed = reader.section("carriers")
    carriers: dict[str, Carrier] = {}
    for code in raw:
        if not isinstance(code, str) or not CARRIER_CODE.fullmatch(code):
            raise reader.error("carriers", "must have carrier codes of lower-case letters, digits and _", code)
        section = listed.section(code)
        url = section.str("tracking_url")
        if not url.startswith("https://"):
            raise section.error("tracking_url", "must be an https URL", url)
        if url.count(TRACKING_NUMBER) != 1:
            raise section.error("tracking_url", f"must contain {TRACKING_NUMBER} once", url)
        try:
            url.replace(TRACKING_NUMBER, "").format()
        except (IndexError, KeyError, ValueError):
            raise section.error("tracking_url", f"must have no braces besides {TRACKING_NUMBER}", url) from None
        carriers[code] = Carrier(name=section.str("name"), tracking_url=url)
    return ShippingPolicy(late_after_days=late_after_days, carriers=MappingProxyType(carriers))
