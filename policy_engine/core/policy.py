"""The policy file as a typed, frozen value.

``load_policy(path)`` reads ``policy/policy.yml``, checks every key's type and range, and returns a ``Policy``.
A bad file raises ``PolicyError`` naming the file and the key, e.g.
``policy.yml: returns.return_window_days must be a positive integer, got 'abc'``.  Nothing is cached or global:
the caller keeps the value and passes it to the decision functions.

``InvalidRequest`` is the error every decision function raises for request facts that cannot be decided
(unknown order line, quantity out of range, naive datetime...).  It changes nothing.  Both live in ``errors.py``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .errors import InvalidRequest, PolicyError

__all__ = [
    "PolicyError",
    "InvalidRequest",
    "WEEKDAYS",
    "ReturnsPolicy",
    "CancellationPolicy",
    "RefundsPolicy",
    "CalendarPolicy",
    "WarrantyPolicy",
    "CreditsPolicy",
    "OpeningHours",
    "ContactsPolicy",
    "IdentityPolicy",
    "Policy",
    "load_policy",
    "policy_from_mapping",
    "normalise_channel",
    "DEFAULT_POLICY_PATH",
    "policy_figures",
]

DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[2] / "policy" / "policy.yml"

#: weekday keys used in the policy file, Monday first (``date.weekday()`` order)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

REMEDIES = ("refurbished", "new", "partial_refund")

#: sanity ceilings for the identity figures: a typo like 5000 attempts or a year-long token is refused
MAX_IDENTITY_ATTEMPTS = 100
MAX_IDENTITY_MINUTES = 7 * 24 * 60
#: ceilings for the one-time codes (RET-4 step-up): 6 digits guessed at most this often, alive at most an hour
MAX_CODE_MINUTES = 60
MAX_CODE_ATTEMPTS = 10
MAX_CODE_SENDS_PER_HOUR = 20


# --------------------------------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class ReturnsPolicy:
    return_window_days: int                 # RET-1
    bulk_threshold_units: int               # RET-3 (more than this is bulk)
    redeemed_damage_report_days: int        # RET-10 / CRD-13
    prepaid_label_for_quality_returns: bool  # RET-8 / RET-9
    estimated_return_transit_days: int      # estimate only (RET-6)
    estimated_inspection_business_days: int  # estimate only (RET-6)


@dataclass(frozen=True)
class CancellationPolicy:
    self_cancel_minutes: int                # CAN-1


@dataclass(frozen=True)
class RefundsPolicy:
    processing_business_days_min: int       # REF-3
    processing_business_days_max: int       # REF-3


@dataclass(frozen=True)
class CalendarPolicy:
    business_days: frozenset[int]           # date.weekday() numbers, REF-3
    holidays: frozenset[date]


@dataclass(frozen=True)
class WarrantyPolicy:
    default_months: int                     # WAR-1
    category_months: Mapping[str, int]      # WAR-1
    sku_months: Mapping[str, int]           # WAR-1 per-SKU overrides
    extended_warranty_max_years: int        # WAR-21
    claim_window_days: int                  # WAR-10
    non_quality_report_days: int            # WAR-15
    replacement_warranty_days: int          # WAR-5
    remedy_order: tuple[str, ...]           # WAR-3
    smart_help_center_url: str              # WAR-6
    authorised_resellers: frozenset[str]    # WAR-9 / WAR-20 / RET-11

    def months_for(self, sku: str, category: str) -> int:
        """WAR-1: the SKU override, else the category's months, else the default."""
        if sku in self.sku_months:
            return self.sku_months[sku]
        return self.category_months.get(category, self.default_months)


@dataclass(frozen=True)
class CreditsPolicy:
    programme_launch: date                  # CRD-8
    earn_points_per_currency_unit: int      # CRD-9
    signup_reward: int                      # CRD-9
    profile_reward: int                     # CRD-9
    unlock_days: int                        # CRD-6
    expiry_months: int                      # CRD-7
    expiring_soon_days: int
    minimum_age: Mapping[str, int]          # CRD-2, key "default" for other regions

    @property
    def expiry_days(self) -> int:
        """The expiry period in whole days for quoting ("365 days"); decisions use ``expiry_months`` (CRD-7)."""
        return round(self.expiry_months * 365 / 12)

    def minimum_age_for(self, region: str) -> int:
        return self.minimum_age.get(region.upper(), self.minimum_age["default"])


@dataclass(frozen=True)
class OpeningHours:
    days: frozenset[int]
    open: time
    close: time

    def is_open(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.open <= local.time() < self.close

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": [WEEKDAYS[d] for d in sorted(self.days)],
            "open": self.open.strftime("%H:%M"),
            "close": self.close.strftime("%H:%M"),
        }


@dataclass(frozen=True)
class ContactsPolicy:
    email: str
    phone_us: str
    phone_hours: OpeningHours
    live_chat_hours: OpeningHours
    hours_timezone: str


@dataclass(frozen=True)
class IdentityPolicy:
    """RET-4 identity checks (order number + purchase email): how many wrong guesses, how long a lock-out lasts, how
    long a verification stays valid.  Security figures a support lead may tune, not policy text."""

    max_failed_attempts: int                # failures (per conversation, client, order number) before step-up
    lockout_minutes: int                    # counting window and lock-out duration
    token_lifetime_minutes: int             # a verification (server-side grant) expires after this
    code_lifetime_minutes: int              # a one-time code sent to the purchase email expires after this
    code_max_attempts: int                  # wrong entries of one code before it is void
    code_max_sends_per_hour: int            # codes sent per order number per hour


@dataclass(frozen=True)
class Policy:
    version: str
    effective_from: date
    timezone: str
    returns: ReturnsPolicy
    cancellation: CancellationPolicy
    refunds: RefundsPolicy
    calendar: CalendarPolicy
    warranty: WarrantyPolicy
    credits: CreditsPolicy
    contacts: ContactsPolicy
    identity: IdentityPolicy

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        """The calendar date of ``moment`` in the policy timezone (all day-based boundaries use it)."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidRequest(f"datetime must be timezone-aware, got naive {moment.isoformat()}")
        return moment.astimezone(self.tz).date()

    def start_of_day(self, day: date) -> datetime:
        """Midnight at the start of ``day`` in the policy timezone (timezone-aware)."""
        return datetime.combine(day, time(0, 0), tzinfo=self.tz)


# --------------------------------------------------------------------------------------------------- loading


def normalise_channel(name: str | None) -> str:
    """``"Best Buy"`` -> ``"best_buy"``; the web store's aliases (``anker.com``, ``anker``) -> ``"web_store"``."""
    from .facts import WEB_STORE

    if name is None:
        return ""
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    key = key.replace("&", "_and_").replace("__", "_").strip("_")
    if key in {"web_store", "anker.com", "anker", "anker_com", "www.anker.com", "webstore", "anker_web_store"}:
        return WEB_STORE
    return key


class _Reader:
    """Reads one mapping of the policy file; every error names ``<file>: <dotted.key>``."""

    def __init__(self, data: Any, where: str, source: str) -> None:
        self.source = source
        self.where = where
        if not isinstance(data, Mapping):
            raise self.error("", "must be a mapping", data)
        self.data = data

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where and key else (self.where or key)

    def error(self, key: str, must: str, got: Any) -> PolicyError:
        return PolicyError(f"{self.source}: {self.path(key) or '<top level>'} {must}, got {got!r}")

    def raw(self, key: str) -> Any:
        if key not in self.data:
            raise PolicyError(f"{self.source}: {self.path(key)} is missing")
        return self.data[key]

    def section(self, key: str) -> "_Reader":
        return _Reader(self.raw(key), self.path(key), self.source)

    def int(self, key: str, *, minimum: int = 1) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise self.error(key, f"must be {kind}", value)
        return value

    def bool(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.error(key, "must be true or false", value)
        return value

    def str(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string", value)
        return value.strip()

    def date(self, key: str) -> date:
        return _as_date(self.raw(key), lambda got: self.error(key, "must be a date (YYYY-MM-DD)", got))

    def time(self, key: str) -> time:
        value = self.raw(key)
        if isinstance(value, str) and re.fullmatch(r"\d{2}:\d{2}", value):
            try:
                return time.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(key, "must be a time HH:MM in quotes", value)

    def list(self, key: str) -> list[Any]:
        value = self.raw(key)
        if not isinstance(value, list):
            raise self.error(key, "must be a list", value)
        return value

    def weekdays(self, key: str) -> frozenset[int]:
        days = self.list(key)
        out = set()
        for d in days:
            if not isinstance(d, str) or d.lower() not in WEEKDAYS:
                raise self.error(key, f"must list weekdays from {list(WEEKDAYS)}", d)
            out.add(WEEKDAYS.index(d.lower()))
        if not out:
            raise self.error(key, "must list at least one weekday", days)
        return frozenset(out)

    def int_map(self, key: str, *, minimum: int = 1, required: tuple[str, ...] = ()) -> Mapping[str, int]:
        value = self.raw(key)
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a mapping", value)
        out: dict[str, int] = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
                raise PolicyError(
                    f"{self.source}: {self.path(key)}.{k} must be "
                    f"{'a positive integer' if minimum == 1 else f'an integer >= {minimum}'}, got {v!r}"
                )
            out[str(k)] = v
        for k in required:
            if k not in out:
                raise PolicyError(f"{self.source}: {self.path(key)}.{k} is missing")
        return MappingProxyType(out)


def _as_date(value: Any, error) -> date:
    if isinstance(value, datetime):
        raise error(value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise error(value)


def _timezone(reader: _Reader, key: str) -> str:
    name = reader.str(key)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise reader.error(key, "must be an IANA timezone name", name) from None
    return name


def _hours(reader: _Reader) -> OpeningHours:
    opening = OpeningHours(days=reader.weekdays("days"), open=reader.time("open"), close=reader.time("close"))
    if opening.close <= opening.open:
        raise reader.error("close", "must be later than open", reader.raw("close"))
    return opening


def policy_from_mapping(data: Any, source: str = "policy.yml") -> Policy:
    """Build and validate a ``Policy`` from the parsed YAML mapping (``source`` names the file in errors)."""
    top = _Reader(data, "", source)

    version = top.raw("version")
    if isinstance(version, bool) or not isinstance(version, (str, int, float)) or not str(version).strip():
        raise top.error("version", "must be a non-empty string", version)

    r = top.section("returns")
    returns = ReturnsPolicy(
        return_window_days=r.int("return_window_days"),
        bulk_threshold_units=r.int("bulk_threshold_units"),
        redeemed_damage_report_days=r.int("redeemed_damage_report_days"),
        prepaid_label_for_quality_returns=r.bool("prepaid_label_for_quality_returns"),
        estimated_return_transit_days=r.int("estimated_return_transit_days", minimum=0),
        estimated_inspection_business_days=r.int("estimated_inspection_business_days", minimum=0),
    )

    c = top.section("cancellation")
    cancellation = CancellationPolicy(self_cancel_minutes=c.int("self_cancel_minutes"))

    f = top.section("refunds")
    refunds = RefundsPolicy(
        processing_business_days_min=f.int("processing_business_days_min"),
        processing_business_days_max=f.int("processing_business_days_max"),
    )
    if refunds.processing_business_days_max < refunds.processing_business_days_min:
        raise f.error(
            "processing_business_days_max",
            f"must be >= processing_business_days_min ({refunds.processing_business_days_min})",
            refunds.processing_business_days_max,
        )

    k = top.section("calendar")
    raw_holidays = k.raw("holidays") or []
    if not isinstance(raw_holidays, list):
        raise k.error("holidays", "must be a list of dates", raw_holidays)
    holidays = frozenset(
        _as_date(h, lambda got: k.error("holidays", "must be a list of dates (YYYY-MM-DD)", got)) for h in raw_holidays
    )
    calendar = CalendarPolicy(business_days=k.weekdays("business_days"), holidays=holidays)

    w = top.section("warranty")
    remedy_order = tuple(w.list("remedy_order"))
    if sorted(remedy_order) != sorted(REMEDIES):
        raise w.error("remedy_order", f"must list each of {list(REMEDIES)} once", list(remedy_order))
    resellers = w.list("authorised_resellers")
    for name in resellers:
        if not isinstance(name, str) or not name.strip():
            raise w.error("authorised_resellers", "must be a list of seller names", name)
    url = w.str("smart_help_center_url")
    if not re.match(r"https?://", url):
        raise w.error("smart_help_center_url", "must be an http(s) URL", url)
    warranty = WarrantyPolicy(
        default_months=w.int("default_months"),
        category_months=w.int_map("category_months"),
        sku_months=w.int_map("sku_months"),
        extended_warranty_max_years=w.int("extended_warranty_max_years"),
        claim_window_days=w.int("claim_window_days"),
        non_quality_report_days=w.int("non_quality_report_days"),
        replacement_warranty_days=w.int("replacement_warranty_days"),
        remedy_order=remedy_order,
        smart_help_center_url=url,
        authorised_resellers=frozenset(normalise_channel(n) for n in resellers),
    )

    s = top.section("credits")
    min_age = s.int_map("minimum_age", required=("default",))
    credits = CreditsPolicy(
        programme_launch=s.date("programme_launch"),
        earn_points_per_currency_unit=s.int("earn_points_per_currency_unit", minimum=0),
        signup_reward=s.int("signup_reward", minimum=0),
        profile_reward=s.int("profile_reward", minimum=0),
        unlock_days=s.int("unlock_days", minimum=0),
        expiry_months=s.int("expiry_months"),
        expiring_soon_days=s.int("expiring_soon_days", minimum=0),
        minimum_age=MappingProxyType({key.upper() if key != "default" else key: v for key, v in min_age.items()}),
    )

    t = top.section("contacts")
    email = t.str("email")
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise t.error("email", "must be an email address", email)
    contacts = ContactsPolicy(
        email=email,
        phone_us=t.str("phone_us"),
        phone_hours=_hours(t.section("phone_hours")),
        live_chat_hours=_hours(t.section("live_chat_hours")),
        hours_timezone=_timezone(t, "hours_timezone"),
    )

    i = top.section("identity")
    identity = IdentityPolicy(
        max_failed_attempts=i.int("max_failed_attempts"),
        lockout_minutes=i.int("lockout_minutes"),
        token_lifetime_minutes=i.int("token_lifetime_minutes"),
        code_lifetime_minutes=i.int("code_lifetime_minutes"),
        code_max_attempts=i.int("code_max_attempts"),
        code_max_sends_per_hour=i.int("code_max_sends_per_hour"),
    )
    for key, limit in (("max_failed_attempts", MAX_IDENTITY_ATTEMPTS), ("lockout_minutes", MAX_IDENTITY_MINUTES),
                       ("token_lifetime_minutes", MAX_IDENTITY_MINUTES),
                       ("code_lifetime_minutes", MAX_CODE_MINUTES), ("code_max_attempts", MAX_CODE_ATTEMPTS),
                       ("code_max_sends_per_hour", MAX_CODE_SENDS_PER_HOUR)):
        if getattr(identity, key) > limit:
            raise i.error(key, f"must be at most {limit}", getattr(identity, key))

    return Policy(
        version=str(version).strip(),
        effective_from=top.date("effective_from"),
        timezone=_timezone(top, "timezone"),
        returns=returns,
        cancellation=cancellation,
        refunds=refunds,
        calendar=calendar,
        warranty=warranty,
        credits=credits,
        contacts=contacts,
        identity=identity,
    )


def load_policy(path: str | Path = DEFAULT_POLICY_PATH) -> Policy:
    """Read and validate the policy file; raise ``PolicyError`` with ``<file name>: <key> ...`` on any problem."""
    path = Path(path)
    source = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{source}: cannot read policy file {str(path)!r}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: not valid YAML: {exc}") from None
    return policy_from_mapping(data, source)


def policy_figures(policy: Policy) -> dict[str, str]:
    """The figures the FAQ answers quote, as strings keyed by the template variables of ``domain.yml``: the one source
    of ``SupportService.policy_values()`` (actions/faq.py)."""
    r, w, c, t = policy.returns, policy.warranty, policy.credits, policy.contacts
    figures: dict[str, Any] = {
        "policy_version": policy.version,
        "return_window_days": r.return_window_days,                      # RET-1
        "bulk_threshold_units": r.bulk_threshold_units,                  # RET-3
        "redeemed_damage_report_days": r.redeemed_damage_report_days,    # RET-10 / CRD-13
        "self_cancel_minutes": policy.cancellation.self_cancel_minutes,  # CAN-1
        "refund_business_days_min": policy.refunds.processing_business_days_min,  # REF-3
        "refund_business_days_max": policy.refunds.processing_business_days_max,  # REF-3
        "warranty_default_months": w.default_months,                     # WAR-1
        **{f"warranty_months_{category}": months for category, months in w.category_months.items()},  # WAR-1
        "extended_warranty_max_years": w.extended_warranty_max_years,    # WAR-21
        "claim_window_days": w.claim_window_days,                        # WAR-10
        "non_quality_report_days": w.non_quality_report_days,            # WAR-15
        "replacement_warranty_days": w.replacement_warranty_days,        # WAR-5
        "smart_help_center_url": w.smart_help_center_url,                # WAR-6
        "signup_reward": c.signup_reward,                                # CRD-9
        "profile_reward": c.profile_reward,                              # CRD-9
        "earn_points_per_currency_unit": c.earn_points_per_currency_unit,  # CRD-9
        "credits_unlock_days": c.unlock_days,                            # CRD-6
        "credits_expiry_days": c.expiry_days,                            # CRD-7 (quoted in days)
        "credits_expiry_months": c.expiry_months,                        # CRD-7
        "credits_programme_launch": c.programme_launch.isoformat(),      # CRD-8
        "minimum_age_eu": c.minimum_age_for("EU"),                       # CRD-2
        "minimum_age_us": c.minimum_age_for("US"),                       # CRD-2
        "support_email": t.email,                                        # CON-1
        "support_phone_us": t.phone_us,                                  # CON-1
        "phone_open": t.phone_hours.open.strftime("%H:%M"),
        "phone_close": t.phone_hours.close.strftime("%H:%M"),
        "chat_open": t.live_chat_hours.open.strftime("%H:%M"),
        "chat_close": t.live_chat_hours.close.strftime("%H:%M"),
        "hours_timezone": t.hours_timezone,
    }
    for category in ("power_station", "charger", "power_bank"):  # quoted by the FAQ even without a category figure
        figures.setdefault(f"warranty_months_{category}", w.default_months)
    return {k: str(v) for k, v in figures.items()}
