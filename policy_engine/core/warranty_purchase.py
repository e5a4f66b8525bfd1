"""A purchase made elsewhere, as the customer states it (WAR-9, WAR-12, WAR-20): which of our products, from which
seller, when, for how much, and whether a receipt was sent.  Pure: the catalogue is passed in."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .errors import InvalidRequest
from .facts import WEB_STORE, Product
from .policy import Policy, normalise_channel
from .warranty_request import ProofOfPurchase, Purchase, normalise_country

_SKU = re.compile(r"\bA[0-9][0-9A-Z]{3}\b")
_WORD = re.compile(r"[a-z0-9]+")
_NOISE = {"anker", "the", "a", "an", "my", "it", "its", "of", "with", "and", "usb", "c"}


@dataclass(frozen=True)
class StatedPurchase:
    """What the customer told us about a purchase elsewhere; ``receipt`` is True once a receipt file was received."""

    product: Product
    seller: str
    purchased_on: date
    price: Decimal
    country: str = "US"
    receipt: bool = False


def match_product(text: str, catalogue: Iterable[Product]) -> Product | None:
    """The one product ``text`` names: its SKU (``A1289``), or the model words of its name ("737 power bank",
    "PowerCore 24K", "SOLIX C1000"); None when nothing or more than one product fits best."""
    products = list(catalogue)
    upper = str(text or "").upper()
    for sku in _SKU.findall(upper):
        hit = [p for p in products if p.sku.upper() == sku]
        if len(hit) == 1:
            return hit[0]
    words = {w for w in _WORD.findall(str(text or "").lower()) if w not in _NOISE}
    if not words:
        return None
    scored = []
    for product in products:
        name_words = set(_WORD.findall(product.name.lower())) - _NOISE
        shared = words & name_words
        numbers = {w for w in shared if any(ch.isdigit() for ch in w)}
        if numbers or len(shared) >= 2:
            scored.append((len(numbers) * 2 + len(shared), product))
    if not scored:
        return None
    scored.sort(key=lambda item: -item[0])
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None
    return scored[0][1]


def seller_is_authorised(seller: str, policy: Policy) -> bool:
    """WAR-20: our web store or one of ``warranty.authorised_resellers``."""
    channel = normalise_channel(seller)
    return channel == WEB_STORE or channel in policy.warranty.authorised_resellers


def purchase_from_statement(stated: StatedPurchase) -> Purchase:
    """The engine's ``Purchase``: a received receipt is the proof (WAR-9: a dated receipt with the description and the
    price, from an authorised reseller; staff check the file, the decision takes the customer's word); none yet
    leaves the proof missing."""
    if not isinstance(stated.price, Decimal) or stated.price < 0 or stated.price > Decimal("100000"):
        raise InvalidRequest(f"price must be an amount between 0 and 100000, got {stated.price!r}")
    seller = " ".join(str(stated.seller or "").split())
    if not seller or len(seller) > 80:
        raise InvalidRequest("the seller must be named (at most 80 characters)")
    country = normalise_country(stated.country) or "US"
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise InvalidRequest(f"country must be a two-letter code, got {stated.country!r}")
    return Purchase(
        product=stated.product,
        purchased_on=stated.purchased_on,
        country=country,
        price=stated.price,
        channel=normalise_channel(seller),
        proof=ProofOfPurchase.RECEIPT if stated.receipt else None,
    )
