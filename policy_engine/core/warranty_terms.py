"""The warranty's terms as figures (WAR-1, WAR-5, WAR-9, WAR-10, WAR-16, WAR-21): months of cover, end date, claim
deadline, partial refund, replacement cover, remedy, proof of purchase."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from .calendar import add_months
from .errors import InvalidRequest
from .facts import WEB_STORE, Order, OrderLine, Product
from .policy import Policy, normalise_channel
from .warranty_request import ProofOfPurchase, Purchase

# ------------------------------------------------------------------------------------------------ figures


def purchase_from_order(order: Order, line: OrderLine) -> Purchase:
    """A web-store order line as a ``Purchase``: the verified order number and the order's shipping address are the
    proof (WAR-9); the price is what was paid for one unit."""
    unit = (line.paid / line.quantity).quantize(Decimal("0.01"), rounding=ROUND_DOWN) if line.quantity else line.paid
    return Purchase(
        product=line.product,
        purchased_on=order.placed_at,
        country=order.country,
        price=max(Decimal("0"), unit),
        channel=normalise_channel(order.channel),
        proof=ProofOfPurchase.ORDER_NUMBER_AND_ADDRESS if normalise_channel(order.channel) == WEB_STORE else None,
        proof_complete=True,
        free_gift=line.free_gift,
        extended_warranty_years=line.extended_warranty_years,
    )


def warranty_months(purchase: Purchase, policy: Policy) -> int:
    """WAR-1 per-SKU override, else per-category months; WAR-21 a paid extended warranty of N years (at most
    ``extended_warranty_max_years``) adds N years to the product's own period, so every plan that can be bought
    extends the cover (docs/policy.md, "Extended warranty")."""
    base = policy.warranty.months_for(purchase.product.sku, purchase.product.category)
    years = purchase.extended_warranty_years
    if isinstance(years, bool) or not isinstance(years, int) or years < 0:
        raise InvalidRequest(f"extended_warranty_years must be an integer >= 0, got {years!r}")
    if years > policy.warranty.extended_warranty_max_years:
        raise InvalidRequest(
            f"extended_warranty_years {years} is more than the {policy.warranty.extended_warranty_max_years} allowed"
        )
    return base + years * 12


def warranty_end(purchased_on: date, months: int) -> date:
    """WAR-1/WAR-14: the last covered day is the same day-of-month ``months`` after the purchase date (inclusive)."""
    return add_months(purchased_on, months)


def claim_deadline(end: date, claim_opened_on: date, policy: Policy) -> date:
    """WAR-10: the later of the warranty end and the claim's opening date + ``claim_window_days`` (inclusive)."""
    return max(end, claim_opened_on + timedelta(days=policy.warranty.claim_window_days))


def partial_refund_amount(price: Decimal, purchased_on: date, end: date, on: date) -> Decimal:
    """WAR-3: a refund prorated by the unused share of the warranty period; WAR-22: never above the price paid
    and never below zero.  Rounded down to the cent."""
    if price <= 0:
        return Decimal("0.00")
    total = (end - purchased_on).days
    if total <= 0:
        return Decimal("0.00")
    unused = min(max((end - on).days, 0), total)
    amount = (price * unused / total).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return min(max(amount, Decimal("0.00")), price)


def replacement_warranty_until(original_end: date, replacement_ships_on: date, policy: Policy) -> date:
    """WAR-5 (text cut off; reading in docs/policy.md): the longer of the rest of the original warranty and
    ``replacement_warranty_days`` after the replacement ships."""
    return max(original_end, replacement_ships_on + timedelta(days=policy.warranty.replacement_warranty_days))


def choose_remedy(product: Product, preferred: str | None, policy: Policy) -> str:
    """WAR-3 in policy order: refurbished of equal value if available, else new, else a partial refund; a partial
    refund also when the customer prefers it to a replacement.  WAR-4: the company picks the replacement."""
    if preferred == "partial_refund":
        return "partial_refund"
    for remedy in policy.warranty.remedy_order:
        if remedy == "refurbished" and product.refurbished_available:
            return remedy
        if remedy == "new" and product.new_available:
            return remedy
        if remedy == "partial_refund":
            return remedy
    return "partial_refund"


def proof_is_valid(purchase: Purchase, policy: Policy) -> bool:
    """WAR-9: order number + original shipping address (web-store purchase); an invoice naming the seller and the
    product; a dated receipt with description and price from an authorised reseller."""
    channel = normalise_channel(purchase.channel)
    if not purchase.proof_complete or purchase.proof is None:
        return False
    if purchase.proof is ProofOfPurchase.ORDER_NUMBER_AND_ADDRESS:
        return channel == WEB_STORE
    if purchase.proof is ProofOfPurchase.RECEIPT:
        return channel == WEB_STORE or channel in policy.warranty.authorised_resellers
    return True  # INVOICE with the seller's name and the product
