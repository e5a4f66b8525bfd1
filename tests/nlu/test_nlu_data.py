"""Consistency of the NLU training data, the held-out sets and the Bitext build (fast, no model, no rasa import)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict

import pytest
import yaml

from tests.nlu.conftest import (
    ADDED_AFTER,
    ALL_TRAINED_INTENTS,
    CONTRACT_ENTITIES,
    PAYLOAD_ONLY_INTENTS,
    RETRIEVAL_INTENTS,
    ROOT,
    nlu_yaml,
    training_files,
)

MIN_OWN_EXAMPLES = {"default": 30, "retrieval": 10, "chitchat": 10}
CHITCHAT = {"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "stop"}


def own_examples(examples):
    return [e for e in examples if not e.source.endswith("bitext_train.yml")]


def test_every_contract_intent_has_enough_examples(training_examples):
    counts = Counter(e.intent for e in training_examples)
    for intent in sorted(ALL_TRAINED_INTENTS):
        kind = "retrieval" if intent in RETRIEVAL_INTENTS else "chitchat" if intent in CHITCHAT else "default"
        assert counts[intent] >= MIN_OWN_EXAMPLES[kind], f"{intent}: only {counts[intent]} own examples"


def test_no_intent_outside_the_contract(training_examples, heldout_examples):
    used = {e.intent for e in training_examples}
    for examples in heldout_examples.values():
        used |= {e.intent for e in examples}
    assert used - ALL_TRAINED_INTENTS == set()


def test_every_domain_intent_has_examples(training_examples):
    domain_file = ROOT / "domain.yml"
    if not domain_file.exists():
        pytest.skip("domain.yml not written yet")
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    names = [next(iter(i)) if isinstance(i, dict) else i for i in domain.get("intents", [])]
    trained_base = {e.intent.split("/")[0] for e in training_examples}
    missing = [n for n in names if n not in trained_base and n != "nlu_fallback" and n not in PAYLOAD_ONLY_INTENTS]
    assert missing == []


def test_held_out_utterances_never_in_training(training_examples, heldout_examples):
    trained = {nlu_yaml.normalize(e.text) for e in training_examples}
    for name, examples in heldout_examples.items():
        leaked = [e.text for e in examples if nlu_yaml.normalize(e.text) in trained]
        assert leaked == [], f"{name} held-out utterances found in training: {leaked[:5]}"


def test_test_sets_share_no_utterance_with_the_tuning_sets(heldout_examples):
    """A figure on the test sets (own, bitext) says something only if nothing was tuned on those very utterances."""
    tuning = {nlu_yaml.normalize(e.text) for name in ("dev", "bitext-dev") for e in heldout_examples[name]}
    for name in ("own", "own-2", "fresh-15", "bitext"):
        shared = [e.text for e in heldout_examples[name] if nlu_yaml.normalize(e.text) in tuning]
        assert shared == [], f"{name} test utterances also in a tuning set: {shared[:5]}"


def test_held_out_sets_cover_the_contract(heldout_examples):
    for name in ("own", "own-2", "fresh-15"):
        expected = ALL_TRAINED_INTENTS - ADDED_AFTER.get(name, set())
        assert expected - {e.intent for e in heldout_examples[name]} == set(), name
    bitext = Counter(e.intent for e in heldout_examples["bitext"])
    for intent in ("cancel_order", "refund_status", "request_return", "human_handoff", "out_of_scope"):
        assert bitext[intent] >= 50, intent


def test_no_utterance_has_two_intents(training_examples):
    labels = defaultdict(set)
    for example in training_examples:
        labels[nlu_yaml.normalize(example.text)].add(example.intent)
    clashes = {text: sorted(intents) for text, intents in labels.items() if len(intents) > 1}
    assert clashes == {}


def test_entity_types_are_the_contract(training_examples, heldout_examples):
    used = {ent.entity for e in training_examples for ent in e.entities}
    used |= {ent.entity for ex in heldout_examples.values() for e in ex for ent in e.entities}
    assert used <= CONTRACT_ENTITIES
    assert {"order_number", "email", "serial_number", "channel", "country", "product", "condition"} <= used


def test_annotated_fixed_format_values_match_their_regex(training_examples, heldout_examples, regexes):
    """Every annotated order number / email / serial is exactly what the regex extracts (no silent misses)."""
    examples = list(training_examples) + heldout_examples["own"] + heldout_examples["own-2"] + heldout_examples["dev"]
    checked = 0
    for example in examples:
        for ent in example.entities:
            if ent.entity in ("order_number", "email", "serial_number"):
                spans = {
                    (m.start(), m.end())
                    for p in regexes[ent.entity]
                    for m in re.finditer(p, example.text, flags=re.IGNORECASE)
                }
                assert (ent.start, ent.end) in spans, f"{ent.entity} {ent.text!r} in {example.text!r}"
                checked += 1
    assert checked >= 100


def test_fixed_format_entities_are_varied(training_examples):
    values = defaultdict(set)
    for example in training_examples:
        for ent in example.entities:
            values[ent.entity].add(ent.text)
    assert len(values["order_number"]) >= 40
    assert any(v.islower() for v in values["order_number"])
    assert len(values["email"]) >= 30
    assert len({v.split("@")[1].lower() for v in values["email"]}) >= 10
    assert len(values["serial_number"]) >= 20


def test_unannotated_fixed_formats_do_not_hide_in_examples(training_examples, regexes):
    """An order number written in an example but not annotated would teach DIET that it is not an entity."""
    for example in training_examples:
        annotated = {(ent.start, ent.end) for ent in example.entities}
        for kind in ("order_number", "email", "serial_number"):
            for pattern in regexes[kind]:
                for match in re.finditer(pattern, example.text, flags=re.IGNORECASE):
                    assert (match.start(), match.end()) in annotated, f"unannotated {kind} in {example.text!r}"


def test_synonyms_normalise_to_the_values_the_engine_uses():
    synonyms = nlu_yaml.read_blocks(training_files(), "synonym")
    lookups = nlu_yaml.read_blocks(training_files(), "lookup")
    conditions = {"unopened", "undamaged", "damaged"}
    channel_values = {"amazon", "ebay", "walmart", "best buy", "target", "anker.com", "anker app"}
    for item in lookups["channel"]:
        target = next((name for name, items in synonyms.items() if item in items), item)
        assert target in channel_values | {"costco", "newegg", "aliexpress", "temu"}, item
    for item in lookups["country"]:
        target = next((name for name, items in synonyms.items() if item in items), None)
        assert target is not None and re.fullmatch(r"[A-Z]{2}", target), f"country {item!r} -> {target!r}"
    for kind, values in (("condition", conditions), ("transit_problem", {"lost", "damaged", "delayed"})):
        for item in lookups[kind]:
            target = next((name for name, items in synonyms.items() if item in items), item)
            assert target in values, f"{kind} {item!r} -> {target!r}"


def test_condition_annotations_normalise_to_the_three_values(training_examples):
    synonyms = nlu_yaml.read_blocks(training_files(), "synonym")
    for example in training_examples:
        for ent in example.entities:
            if ent.entity == "condition":
                value = (
                    ent.value
                    if ent.value != ent.text
                    else next((name for name, items in synonyms.items() if ent.text.lower() in items), ent.text)
                )
                assert value in {"unopened", "undamaged", "damaged"}, f"{ent.text!r} in {example.text!r}"


def test_bitext_mapping_is_complete_and_targets_contract_intents():
    mapping = yaml.safe_load((ROOT / "nlu_eval" / "bitext_intent_map.yml").read_text(encoding="utf-8"))
    assert len(mapping["intents"]) == 27
    targets = {spec["target"] for spec in mapping["intents"].values()}
    targets |= {o["target"] for spec in mapping["intents"].values() for o in spec.get("overrides") or []}
    assert targets - {None} <= ALL_TRAINED_INTENTS
    for name in ("newsletter_subscription", "payment_issue", "check_invoice", "delivery_options", "create_account"):
        assert mapping["intents"][name]["target"] == "out_of_scope"
    assert all(spec.get("why") for spec in mapping["intents"].values())


def test_bitext_files_are_up_to_date():
    csv_path = ROOT.parent / "shared" / "data" / "bitext" / "customer-service-8k.csv"
    if not csv_path.is_file():
        pytest.skip("Bitext CSV not available")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_bitext.py"), "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


def test_placeholders_are_filled_and_annotated():
    import random

    from nlu_tools import bitext as build_bitext

    filled = build_bitext.fill_placeholders(
        "where is {{Order Number}}, I used {{Email Address}} and serial {{Serial Number}}", random.Random(1)
    )
    text, entities = nlu_yaml.parse_annotated(filled)
    assert [e.entity for e in entities] == ["order_number", "email", "serial_number"]
    assert re.fullmatch(r"AK\d{7}", entities[0].text)
    assert "{{" not in text
    assert build_bitext.fill_placeholders("my {{Account Category}}", random.Random(1)) is None


def test_parse_annotated_offsets():
    text, entities = nlu_yaml.parse_annotated(
        'order [AK1234567](order_number) is [sealed]{"entity": "condition", "value": "unopened"} ok'
    )
    assert text == "order AK1234567 is sealed ok"
    assert [(e.entity, e.value, text[e.start : e.end]) for e in entities] == [
        ("order_number", "AK1234567", "AK1234567"),
        ("condition", "unopened", "sealed"),
    ]


def test_annotated_lookup_values_are_in_their_lookup_table(training_examples, heldout_examples):
    """channel / country / condition come only from the lookup tables (the filter drops DIET's copies), so every
    annotated value must be an entry, or the annotation teaches nothing the bot can extract."""
    lookups = nlu_yaml.read_blocks(training_files(), "lookup")
    regexes = nlu_yaml.read_blocks(training_files(), "regex")
    for example in (
        list(training_examples) + heldout_examples["own"] + heldout_examples["own-2"] + heldout_examples["dev"]
    ):
        for ent in example.entities:
            if ent.entity in ("channel", "country", "condition", "transit_problem"):
                in_lookup = ent.text.lower() in {x.lower() for x in lookups[ent.entity]}
                in_regex = any(re.fullmatch(p, ent.text) for p in regexes.get(ent.entity, []))
                assert in_lookup or in_regex, f"{ent.entity} {ent.text!r} in {example.text!r}"
