"""domain.yml against its contracts: a response per reason code and next step, the forms' questions and hints,
the actions the action server registers, and where each slot may come from."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from rasa_sdk import Action

import actions
from actions.base import SupportFormValidation
from tests.actions.conftest import load_domain, placeholders

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = load_domain()
TOPIC_MODULES = ["returns", "cancellation", "refunds", "warranty", "transit", "credits", "contacts", "order_status"]


def reason_codes():
    for name in TOPIC_MODULES:
        module = importlib.import_module(f"policy_engine.core.{name}")
        for code in module.REASON_CODES:
            yield module.TOPIC, code


@pytest.mark.parametrize("topic,code", sorted(set(reason_codes())))
def test_every_reason_code_has_its_response(topic, code):
    assert f"utter_{topic}_{code}" in DOMAIN["responses"]


def next_step_codes():
    codes = set()
    for path in (ROOT / "policy_engine").glob("*.py"):
        codes |= set(re.findall(r'NextStep\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    return sorted(codes)


@pytest.mark.parametrize("code", next_step_codes())
def test_every_next_step_has_its_response(code):
    assert f"utter_next_step_{code}" in DOMAIN["responses"]


def action_classes():
    for info in pkgutil.iter_modules(actions.__path__):
        module = importlib.import_module(f"actions.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Action) and cls.__module__ == module.__name__ and not inspect.isabstract(cls):
                yield cls


def test_registered_actions_and_domain_actions_agree():
    names = {cls().name() for cls in action_classes()}
    assert names == set(DOMAIN["actions"])


@pytest.mark.parametrize("form,spec", sorted(DOMAIN["forms"].items()))
def test_every_form_slot_is_asked_hinted_and_validated(form, spec):
    validators = [cls() for cls in action_classes() if issubclass(cls, SupportFormValidation) and cls.form == form]
    if validators:
        validator = validators[0]
        assert validator.ask_order == spec["required_slots"]
    else:  # a form without identity (actions/warranty_purchase.py): a plain FormValidationAction
        validator = next(cls() for cls in action_classes() if cls().name() == f"validate_{form}")
    for slot in spec["required_slots"]:
        assert f"utter_ask_{slot}" in DOMAIN["responses"] or f"action_ask_{slot}" in DOMAIN["actions"], slot
        if slot == "handoff_choice":  # its answer is tried for the question that failed: no hint of its own
            continue
        assert f"utter_invalid_{slot}" in DOMAIN["responses"], slot
        assert hasattr(validator, f"validate_{slot}"), slot


def test_customer_wording_is_not_in_python():
    """Actions dispatch responses by name: no ``text=`` and no f-string sentences.  ``combine.py`` is the one place
    that sends ``text=``: several responses of ``domain.yml``, filled and joined (``tests/actions/test_combine.py``)."""
    for path in (ROOT / "actions").glob("*.py"):
        if path.name == "combine.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert "utter_message(text" not in source and "text=" not in source, path.name


def test_form_questions_use_no_template_variables_the_form_cannot_fill():
    slot_names = set(DOMAIN["slots"])
    for name, variations in DOMAIN["responses"].items():
        if name.startswith("utter_ask_") and not name.startswith("utter_ask_order_line"):
            for variation in variations:
                assert placeholders(variation) <= slot_names, name


def test_button_payloads_with_entities_are_escaped_for_the_templating():
    for name, variations in DOMAIN["responses"].items():
        for variation in variations:
            for button in variation.get("buttons") or []:
                payload = button["payload"]
                if '":"' in payload:
                    assert "{{" in payload and "}}" in payload, name
