"""Formats and limits of what customers and staff type, in one place (docs/architecture.md, "Entities and formats").

Two kinds of pattern per identifier: the *canonical* form the core and the store accept (``fullmatch`` after
normalising), and the lenient *in text* form the actions use to find the identifier inside a sentence.

* Order number (RET-4): ``AK`` + 7 digits, stored upper-case.
* Email (RET-4): an ordinary address, stored lower-case, at most ``EMAIL_LEN`` characters.
* Serial number (WAR-7): 16 upper-case letters/digits starting with a letter, at least 4 digits.
* One-time code (RET-4 step-up): 6 digits.
* Free text the customer types (the defect description, WAR-7): ``TEXT_MAX_CHARS``; short answers (serial, country)
  ``SHORT_TEXT_MAX_CHARS``.
* Extended warranty (WAR-21): the policy file's ``warranty.extended_warranty_max_years`` decides; the database keeps
  a CHECK ceiling ``EXTENDED_WARRANTY_YEARS_CEILING`` (see its comment).
"""

from __future__ import annotations

import re

__all__ = [
    "ORDER_NUMBER",
    "ORDER_NUMBER_IN_TEXT",
    "EMAIL",
    "EMAIL_IN_TEXT",
    "EMAIL_LEN",
    "SERIAL_NUMBER",
    "SERIAL_IN_TEXT",
    "SERIAL_MIN_DIGITS",
    "VERIFICATION_CODE",
    "VERIFICATION_CODE_IN_TEXT",
    "TEXT_MAX_CHARS",
    "SHORT_TEXT_MAX_CHARS",
    "DEFECT_MIN_CHARS",
    "EXTENDED_WARRANTY_YEARS_CEILING",
    "extended_warranty_check",
]

# ------------------------------------------------------------------------------------------- identity (RET-4)

#: canonical order number, after removing spaces, dashes and ``#`` and upper-casing (``store.identity``)
ORDER_NUMBER = re.compile(r"AK\d{7}")
#: an order number inside a customer's sentence: ``ak 1234567``, ``AK-1234567`` (``actions.base``); group 1 = digits
ORDER_NUMBER_IN_TEXT = re.compile(r"AK\s*-?\s*(\d{7})(?!\d)", re.IGNORECASE)

#: longest email stored (column size; RFC 5321 path limit)
EMAIL_LEN = 254
#: canonical email, after stripping and lower-casing (``store.identity``)
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
#: an email inside a customer's sentence (``actions.base``)
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

#: the step-up's one-time code (``store.identity``)
VERIFICATION_CODE = re.compile(r"\d{6}")
#: the code inside a sentence, maybe split 3+3 by a space or a dash (``actions.base``)
VERIFICATION_CODE_IN_TEXT = re.compile(r"(?<![\dA-Za-z])(\d{3})[\s-]?(\d{3})(?![\d])")

# ------------------------------------------------------------------------------------------- warranty (WAR-7)

#: canonical serial number: 16 upper-case letters/digits starting with a letter, at least 4 digits
SERIAL_NUMBER = re.compile(r"^(?=(?:[A-Z]*\d){4})[A-Z][A-Z0-9]{15}$")
#: a serial-number candidate inside an upper-cased sentence; the actions then require ``SERIAL_MIN_DIGITS`` digits
SERIAL_IN_TEXT = re.compile(r"\b[A-Z][A-Z0-9]{15}\b")
SERIAL_MIN_DIGITS = 4

#: free text the customer types (defect description): the service's input check, the form and the column size
TEXT_MAX_CHARS = 500
#: serial numbers, country names typed by the customer (the service's input check)
SHORT_TEXT_MAX_CHARS = 64
#: a defect description shorter than this is asked again (the form)
DEFECT_MIN_CHARS = 3

# ------------------------------------------------------------------------------------------- WAR-21

#: The database's CHECK on ``order_lines.extended_warranty_years`` (migration 0001_initial_schema).  The rule itself
#: is ``warranty.extended_warranty_max_years`` in policy/policy.yml (3), checked by ``warranty.py`` when deciding;
#: this is only a storage ceiling equal to today's figure.  It is not read from the policy file at import time on
#: purpose: a schema must not depend on ``POLICY_FILE``, and changing an existing database's CHECK needs a new
#: Alembic migration.  ``tests/store`` pins that the policy file's figure does not exceed it.
EXTENDED_WARRANTY_YEARS_CEILING = 3


def extended_warranty_check(column: str = "extended_warranty_years") -> str:
    """The SQL of the WAR-21 storage CHECK (the same text as migration 0001)."""
    return f"{column} BETWEEN 0 AND {EXTENDED_WARRANTY_YEARS_CEILING}"


# ------------------------------------------------------------------ typed values to their one normal form (or None)
def normalise_order_number(raw: object) -> str | None:
    """``" ak 123 4567 "`` / ``"#AK1234567"`` -> ``"AK1234567"``; anything else -> None."""
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    candidate = re.sub(r"[\s\-#]", "", raw).upper()
    return candidate if ORDER_NUMBER.fullmatch(candidate) else None


def normalise_email(raw: object) -> str | None:
    if not isinstance(raw, str) or len(raw) > EMAIL_LEN + 10:
        return None
    candidate = raw.strip().lower()
    if len(candidate) > EMAIL_LEN or not EMAIL.fullmatch(candidate):
        return None
    return candidate


def normalise_code(raw: object) -> str | None:
    """``" 123 456 "`` / ``"123-456"`` -> ``"123456"``; anything else -> None."""
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 1_000_000:
        raw = f"{raw:06d}"
    if not isinstance(raw, str) or len(raw) > 32:
        return None
    candidate = re.sub(r"[\s\-]", "", raw)
    return candidate if VERIFICATION_CODE.fullmatch(candidate) else None
