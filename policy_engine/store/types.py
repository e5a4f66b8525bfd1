"""Column types that behave the same on SQLite and PostgreSQL.

* ``UTCDateTime``: timezone-aware UTC in, timezone-aware UTC out.  PostgreSQL keeps ``timestamptz``; SQLite has no
  time zone, so the value is stored as naive UTC and tagged as UTC again when read.  Naive datetimes are refused on
  the way in (a naive time is a bug: whose clock was it?).
* ``Money``: ``Decimal`` with two places, ``NUMERIC(12, 2)``.  Floats are refused on the way in.  SQLite has no
  decimal type; the value goes in as text and comes back through ``str`` so no binary-float digit leaks into it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from sqlalchemy import DateTime, Numeric
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")
#: the largest amount NUMERIC(12, 2) holds
MONEY_MAX = Decimal("9999999999.99")


def as_utc(value: datetime) -> datetime:
    """An aware datetime converted to UTC; naive datetimes are refused."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value.isoformat()} (times must carry a time zone)")
    return value.astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        utc = as_utc(value)
        if dialect.name == "sqlite":
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def to_money(value) -> Decimal:
    """Decimal (or int, or a decimal string) -> Decimal with two places; floats and junk are refused."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"money must be Decimal, not {type(value).__name__}")
    if isinstance(value, (int, str)):
        try:
            value = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"not an amount: {value!r}") from exc
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    quantised = value.quantize(CENT)
    if quantised != value:
        raise ValueError(f"amount {value} has more than two decimal places")
    if abs(quantised) > MONEY_MAX:
        raise ValueError(f"amount {value} is too large")
    return quantised


class Money(TypeDecorator):
    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            # no native decimal: read the stored number back without SQLAlchemy's float->Decimal warning
            return dialect.type_descriptor(Numeric(12, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(12, 2))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = to_money(value)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value.quantize(CENT)
        # SQLite: an int or a float that came from a two-place decimal string; repr() gives the shortest exact digits
        return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(CENT)
