"""What a warranty claim is about (WAR-7, WAR-9, WAR-20): the purchase, its proof, the claim's facts as the
customer gives them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from . import formats
from .facts import WEB_STORE, Product

CAUSES = (None, "quality", "wear", "lost_or_stolen", "third_party_repair", "external_damage", "misuse", "non_quality")


class ProofOfPurchase(str, enum.Enum):
    """WAR-9: the three kinds of valid proof."""

    ORDER_NUMBER_AND_ADDRESS = "order_number_and_address"  # online purchase from the brand's web store
    INVOICE = "invoice"  # sales invoice with the seller's name and the product
    RECEIPT = "receipt"  # dated receipt from an authorised reseller


@dataclass(frozen=True)
class Purchase:
    """A purchase outside our order database (a reseller, or a web-store order not in this store).

    ``channel`` is ``WEB_STORE`` or the seller's name (normalised against the policy's authorised list).
    ``proof`` is None while the customer has not provided any proof yet (-> ``missing``).
    ``proof_complete``: the invoice names the seller and the product / the receipt is dated and shows the product
    description and price (WAR-9); False makes the proof invalid (WAR-12).
    """

    product: Product
    purchased_on: date | datetime
    country: str
    price: Decimal
    channel: str = WEB_STORE
    proof: ProofOfPurchase | None = None
    proof_complete: bool = True
    free_gift: bool = False  # WAR-16
    extended_warranty_years: int = 0  # WAR-21


@dataclass(frozen=True)
class WarrantyRequest:
    line_id: int | None
    serial_number: str | None = None
    defect: str = ""
    cause: str | None = None  # one of CAUSES; "non_quality" is an addition for WAR-15
    troubleshooting_done: bool | None = None
    evidence_provided: bool = False
    country_now: str | None = None
    shipped_internationally: bool = False
    preferred_remedy: str | None = None  # None | "replacement" | "partial_refund"
    claim_opened_at: datetime | None = None  # WAR-10: None = the claim is opened now


REMEDY_PREFERENCES = (None, "replacement", "refurbished", "new", "partial_refund")

SERIAL_NUMBER = formats.SERIAL_NUMBER  # WAR-7 (formats.py)

_COUNTRY_ALIASES = {
    "USA": "US",
    "UNITED STATES": "US",
    "UNITED STATES OF AMERICA": "US",
    "AMERICA": "US",
    "UK": "GB",
    "UNITED KINGDOM": "GB",
    "GREAT BRITAIN": "GB",
    "ENGLAND": "GB",
    "GERMANY": "DE",
    "DEUTSCHLAND": "DE",
    "FRANCE": "FR",
    "CANADA": "CA",
    "JAPAN": "JP",
    "INDIA": "IN",
    "MEXICO": "MX",
    "SPAIN": "ES",
    "ITALY": "IT",
    "AUSTRALIA": "AU",
    "UNITED ARAB EMIRATES": "AE",
    "UAE": "AE",
}


def normalise_country(country: str | None) -> str | None:
    """``"united states"`` -> ``"US"``; two-letter codes are upper-cased; None stays None."""
    if country is None or not str(country).strip():
        return None
    key = " ".join(str(country).strip().upper().split())
    return _COUNTRY_ALIASES.get(key, key)
