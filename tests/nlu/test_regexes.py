"""The fixed-format entity regexes of data/nlu/lookups.yml against the documented formats (docs/architecture.md).

They are compiled as RegexEntityExtractor uses them (config.yml: case_sensitive false -> re.IGNORECASE) and must find
exactly the value inside a realistic sentence, and nothing in a near-miss.
"""

from __future__ import annotations

import re

import pytest


def extract(patterns: list[str], text: str) -> list[str]:
    return [m.group(0) for p in patterns for m in re.finditer(p, text, flags=re.IGNORECASE)]


ORDER_NUMBERS = ["AK1234567", "ak7654321", "Ak0000001"]
ORDER_NEAR_MISSES = [
    "AK123456",
    "AK12345678",
    "AKX1234567",
    "BK1234567",
    "AK 1234567",
    "AK12345A7",
    "XAK1234567",
    "1234567",
    "order 12345678",
]
EMAILS = [
    "jo@x.com",
    "maria.lopez+anker@gmail.com",
    "TKIM88@YAHOO.COM",
    "dave_r@outlook.co.uk",
    "first.last@sub.company.io",
    "x1@web.de",
    "ella-mae@uni-hamburg.de",
    "a@b.ai",
]
EMAIL_NEAR_MISSES = ["jo@x", "jo@.com", "@gmail.com", "jo at gmail dot com", "jo@gmail.c", "jo.gmail.com", "jo@-x.com"]
SERIALS = ["A2633C1F23100457", "Z0000000000000000"[:16], "AB12CD34EF56GH78", "a2633c1f23100457"]
SERIAL_NEAR_MISSES = [
    "A2633C1F2310045",
    "A2633C1F231004570",
    "12633C1F23100457",
    "ABCDEFGHIJKL123X",
    "A2633C1F-3100457",
    "ABCDEFGHIJKLMNOP",
]


@pytest.mark.parametrize("value", ORDER_NUMBERS)
def test_order_number_found_in_sentence(regexes, value):
    assert extract(regexes["order_number"], f"my order is {value}, can you check?") == [value]


@pytest.mark.parametrize("value", ORDER_NEAR_MISSES)
def test_order_number_near_miss_not_matched(regexes, value):
    assert extract(regexes["order_number"], f"my order is {value} thanks") == []


@pytest.mark.parametrize("value", EMAILS)
def test_email_found_in_sentence(regexes, value):
    assert extract(regexes["email"], f"email: {value}. order AK1234567") == [value]


@pytest.mark.parametrize("value", EMAIL_NEAR_MISSES)
def test_email_near_miss_not_matched(regexes, value):
    assert extract(regexes["email"], f"my email is {value} ok") == []


@pytest.mark.parametrize("value", SERIALS)
def test_serial_number_found_in_sentence(regexes, value):
    assert extract(regexes["serial_number"], f"serial {value}, it died") == [value]


@pytest.mark.parametrize("value", SERIAL_NEAR_MISSES)
def test_serial_number_near_miss_not_matched(regexes, value):
    assert extract(regexes["serial_number"], f"the serial is {value} i think") == []


def test_order_number_and_serial_do_not_overlap(regexes):
    text = "order AK1234567 serial A2633C1F23100457 email jo@x.com"
    assert extract(regexes["order_number"], text) == ["AK1234567"]
    assert extract(regexes["serial_number"], text) == ["A2633C1F23100457"]
    assert extract(regexes["email"], text) == ["jo@x.com"]


def test_country_us_only_in_capitals(regexes):
    assert extract(regexes["country"], "bought it in the US") == ["US"]
    assert extract(regexes["country"], "can you help us please") == []


# RET-4 step-up (issue 12): the one-time code emailed to the purchase address is 6 digits standing alone
CODES = ["482913", "073615", "000000"]
CODE_NEAR_MISSES = ["48291", "4829130", "AK4829130", "A482913", "482913x", "12 345", "1234567"]


@pytest.mark.parametrize("value", CODES)
def test_verification_code_found_in_sentence(regexes, value):
    assert extract(regexes["verification_code"], f"the code is {value}, thanks") == [value]
    assert extract(regexes["verification_code"], value) == [value]


@pytest.mark.parametrize("value", CODE_NEAR_MISSES)
def test_verification_code_near_miss_not_matched(regexes, value):
    assert extract(regexes["verification_code"], f"the code is {value} thanks") == []


def test_verification_code_is_not_found_in_order_numbers_or_serials(regexes):
    assert extract(regexes["verification_code"], "order AK1234567, serial A2633C1F23100457, 2 units") == []


# a case number's digits are not a one-time code (RET-000123 typed while the code is asked, or in the same message)
CASE_NUMBERS_WITH_SIX_DIGITS = [
    "RET-000123",
    "RET 000123",
    "ret-000123",
    "CAN 000002",
    "war-000007",
    "INS\t000019",
    "WAR-E000003",
    "WAR-E-000003",
    "war e 000003",
]


@pytest.mark.parametrize("value", CASE_NUMBERS_WITH_SIX_DIGITS)
def test_verification_code_is_not_found_in_case_numbers(regexes, value):
    assert extract(regexes["verification_code"], f"what about case {value}?") == []
    assert extract(regexes["verification_code"], value) == []


def test_verification_code_is_found_beside_a_case_number(regexes):
    assert extract(regexes["verification_code"], "case RET-000123, the code is 482913") == ["482913"]
    assert extract(regexes["verification_code"], "WAR-E000003 482913") == ["482913"]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("status of RET-000123 please", "RET-000123"),
        ("what's happening with WAR-E000003", "WAR-E000003"),
        ("claim war-e-000007?", "war-e-000007"),
        ("case WAR E 12", "WAR E 12"),
        ("ins 19", "ins 19"),
    ],
)
def test_case_number_found_in_sentence_including_purchase_claims(regexes, text, number):
    assert extract(regexes["case_number"], text) == [number]
