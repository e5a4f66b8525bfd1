"""The AnkerCredits ledger replayed as lots (CRD-6, CRD-7, CRD-11): the balance split into locked / available /
expiring soon, and the check that no entry takes the ledger below zero.

Day boundaries are calendar dates in the policy timezone: credits of a payment made on day D unlock at the start of
day D + ``unlock_days`` ("day 30 unlocks") and expire at the start of the same date ``expiry_months`` (12) later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .calendar import add_months
from .errors import InvalidRequest
from .facts import LedgerEntry, LedgerKind
from .policy import Policy

#: kinds that add points / take points away; ADJUSTMENT may go either way (a manual correction or CRD-11 deduction)
EARNING_KINDS = frozenset({LedgerKind.SIGNUP, LedgerKind.PROFILE, LedgerKind.PURCHASE})
SPENDING_KINDS = frozenset({LedgerKind.REVERSAL, LedgerKind.REDEMPTION, LedgerKind.EXPIRY})


def unlock_and_expiry(paid_at: datetime, policy: Policy) -> tuple[datetime, datetime]:
    """CRD-6: unlock at the start of day (payment date + unlock_days); CRD-7: expire ``expiry_months`` later."""
    unlock_day = policy.local_date(paid_at) + timedelta(days=policy.credits.unlock_days)
    return policy.start_of_day(unlock_day), policy.start_of_day(add_months(unlock_day, policy.credits.expiry_months))


def expiry_for_unlock(unlock_at: datetime, policy: Policy) -> datetime:
    """CRD-7: the start of the unlock date's anniversary (``expiry_months`` later; 29 Feb -> 28 Feb)."""
    return policy.start_of_day(add_months(policy.local_date(unlock_at), policy.credits.expiry_months))


# ----------------------------------------------------------------------------------------------------- the ledger


@dataclass
class _Lot:
    entry_id: int
    remaining: int
    unlock_at: datetime
    expires_at: datetime
    order_number: str | None


@dataclass(frozen=True)
class CreditsSummary:
    """The balance at ``as_of``: ``balance == locked + available``; ``expiring_soon`` is part of ``available``.

    ``pending_expiry`` are expired points not yet written off by an EXPIRY entry (CRD-7); so
    ``sum(entry.points) == balance + pending_expiry``.
    """

    as_of: datetime
    balance: int
    locked: int
    available: int
    expiring_soon: int
    pending_expiry: int
    next_unlock_at: datetime | None = None
    next_unlock_points: int = 0
    next_expiry_at: datetime | None = None
    next_expiry_points: int = 0
    lots: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def _check_entry(entry: LedgerEntry) -> None:
    if isinstance(entry.points, bool) or not isinstance(entry.points, int):
        raise InvalidRequest(f"ledger entry {entry.entry_id}: points must be an integer, got {entry.points!r}")
    if entry.kind in EARNING_KINDS and entry.points < 0:
        raise InvalidRequest(f"ledger entry {entry.entry_id}: {entry.kind.value} points must be >= 0")
    if entry.kind in SPENDING_KINDS and entry.points > 0:
        raise InvalidRequest(f"ledger entry {entry.entry_id}: {entry.kind.value} points must be <= 0")
    if entry.created_at.tzinfo is None:
        raise InvalidRequest(f"ledger entry {entry.entry_id}: created_at must be timezone-aware")


def _lot_for(entry: LedgerEntry, policy: Policy) -> _Lot:
    if entry.unlock_at is not None:
        unlock_at = entry.unlock_at
    elif entry.kind is LedgerKind.PURCHASE:
        unlock_at = unlock_and_expiry(entry.created_at, policy)[0]
    else:
        unlock_at = entry.created_at  # one-time rewards and manual credits are available at once
    expires_at = entry.expires_at or expiry_for_unlock(unlock_at, policy)
    return _Lot(entry.entry_id, entry.points, unlock_at, expires_at, entry.order_number)


def _consume(lots: Iterable[_Lot], points: int) -> int:
    """Take ``points`` from ``lots`` in the given order; return what could not be taken."""
    for lot in lots:
        if points == 0:
            break
        take = min(lot.remaining, points)
        lot.remaining -= take
        points -= take
    return points


def _replay(ledger: Iterable[LedgerEntry], policy: Policy) -> list[_Lot]:
    entries = sorted(ledger, key=lambda e: (e.created_at, e.entry_id))
    lots: list[_Lot] = []
    for e in entries:
        _check_entry(e)
        if e.points >= 0:
            if e.points:
                lots.append(_lot_for(e, policy))
            continue
        t, owed = e.created_at, -e.points
        live = [lot for lot in lots if lot.remaining and lot.expires_at > t]
        by_expiry = sorted(live, key=lambda lot: (lot.expires_at, lot.entry_id))
        if e.kind is LedgerKind.REDEMPTION:
            # CRD-12: only unlocked, unexpired credits can be redeemed; the earliest-expiring go first
            short = _consume([lot for lot in by_expiry if lot.unlock_at <= t], owed)
        elif e.kind is LedgerKind.EXPIRY:
            # CRD-7: writes off expired lots, the earliest first
            expired = sorted(
                (lot for lot in lots if lot.remaining and lot.expires_at <= t),
                key=lambda lot: (lot.expires_at, lot.entry_id),
            )
            short = _consume(expired, owed)
        else:
            # CRD-11 reversal / price-adjustment deduction: that order's credits first, then available, then locked
            own = [lot for lot in by_expiry if e.order_number and lot.order_number == e.order_number]
            others = [lot for lot in by_expiry if lot not in own]
            others.sort(key=lambda lot: (lot.unlock_at > t, lot.expires_at, lot.entry_id))
            short = _consume(own + others, owed)
        if short:
            raise InvalidRequest(
                f"ledger entry {e.entry_id} ({e.kind.value}, {e.points}) would make the credits balance negative"
            )
    return lots


def summarise_ledger(ledger: Iterable[LedgerEntry], policy: Policy, now: datetime) -> CreditsSummary:
    """Replay the ledger and split the balance at ``now`` (CRD-6 locked, CRD-7 expiring/expired)."""
    policy.local_date(now)  # rejects a naive clock
    lots = [lot for lot in _replay(ledger, policy) if lot.remaining > 0]
    soon = now + timedelta(days=policy.credits.expiring_soon_days)
    locked = sum(lot.remaining for lot in lots if lot.unlock_at > now and lot.expires_at > now)
    live = [lot for lot in lots if lot.unlock_at <= now < lot.expires_at]
    available = sum(lot.remaining for lot in live)
    expiring_soon = sum(lot.remaining for lot in live if lot.expires_at <= soon)
    pending = sum(lot.remaining for lot in lots if lot.expires_at <= now)
    upcoming_unlocks = sorted((lot for lot in lots if lot.unlock_at > now), key=lambda lot: lot.unlock_at)
    next_unlock = upcoming_unlocks[0].unlock_at if upcoming_unlocks else None
    next_expiry = min((lot.expires_at for lot in live), default=None)
    return CreditsSummary(
        as_of=now,
        balance=locked + available,
        locked=locked,
        available=available,
        expiring_soon=expiring_soon,
        pending_expiry=pending,
        next_unlock_at=next_unlock,
        next_unlock_points=sum(lot.remaining for lot in upcoming_unlocks if lot.unlock_at == next_unlock),
        next_expiry_at=next_expiry,
        next_expiry_points=sum(lot.remaining for lot in live if lot.expires_at == next_expiry),
        lots=tuple(
            {
                "entry_id": lot.entry_id,
                "points": lot.remaining,
                "unlock_at": lot.unlock_at,
                "expires_at": lot.expires_at,
                "order_number": lot.order_number,
            }
            for lot in lots
        ),
    )


def validate_ledger_entry(ledger: Iterable[LedgerEntry], entry: LedgerEntry, policy: Policy) -> None:
    """Raise ``InvalidRequest`` if appending ``entry`` would make the ledger invalid or negative (call before
    writing it)."""
    _replay([*ledger, entry], policy)
