"""Values shared by the import's check and its writer: the summary, timestamps, amounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from ..core.formats import normalise_email


@dataclass(frozen=True)
class ImportSummary:
    products: int = 0
    customers: int = 0
    orders: int = 0
    refunds: int = 0
    credits: int = 0
    cases: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 with Z or an offset -> aware UTC datetime (Python 3.10 does not read "Z" itself)."""
    moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    if moment.tzinfo is None:
        raise ValueError("time zone missing")
    return moment.astimezone(timezone.utc)


def money(value: str | None, default: str = "0") -> Decimal:
    return Decimal(value if value is not None else default)


def optional_time(item: dict, key: str) -> datetime | None:
    return parse_timestamp(item[key]) if item.get(key) else None


def checked_email(raw: object) -> str:
    """The normal form of an email the schema already accepted (so never None here)."""
    email = normalise_email(raw)
    if email is None:
        raise ValueError(f"not an email address: {raw!r}")
    return email
