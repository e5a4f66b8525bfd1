"""bench/flow_gate.py: which intent the bot acts on under the flow gate, and the shares it reports; the same decision
as the Rasa component (nlu_components/flow_gate.py) on the same rankings."""

from __future__ import annotations

import json

import pytest

from bench.flow_gate import FALLBACK, Gate, as_read_by_the_bot, bot_reads, flow_report, gate_config
from tests.nlu.conftest import RASA_PY, run_rasa_python

FLOWS = frozenset({"request_return", "warranty_claim"})
GATE = Gate(threshold=0.4, ambiguity=0.1, flow_threshold=0.6, flow_ambiguity=0.2)


@pytest.mark.parametrize(
    ("ranking", "expected"),
    [
        ((("request_return", 0.55), ("out_of_scope", 0.2)), (FALLBACK, "request_return")),  # below the flow bar
        ((("request_return", 0.75), ("out_of_scope", 0.2)), ("request_return", None)),  # sure enough
        ((("request_return", 0.62), ("warranty_claim", 0.45)), (FALLBACK, "request_return")),  # too close to the next
        ((("faq", 0.55), ("out_of_scope", 0.2)), ("faq", None)),  # not a flow: Rasa's own bar only
        ((("faq", 0.35), ("out_of_scope", 0.2)), (FALLBACK, "faq")),  # Rasa's threshold
        ((("greet", 0.5), ("thank", 0.45)), (FALLBACK, "greet")),  # Rasa's ambiguity
        ((), (FALLBACK, None)),
    ],
)
def test_the_bot_acts_on_a_flow_intent_only_above_its_own_bar(ranking, expected):
    assert bot_reads(ranking, FLOWS, GATE) == expected


def test_the_report_counts_out_of_scope_messages_that_would_open_a_flow_and_what_the_gate_costs():
    reads = [
        ("out_of_scope", "request_return", None),  # opens a form: the failure the gate is for
        ("out_of_scope", FALLBACK, "request_return"),  # asked first: no form
        ("out_of_scope", "out_of_scope", None),
        ("out_of_scope", "faq", None),  # a wrong answer, but no form
        ("request_return", "request_return", None),  # opened at once
        ("request_return", FALLBACK, "request_return"),  # "Do you want to return an item?"
        ("warranty_claim", FALLBACK, "request_return"),  # asked about the wrong flow
        ("warranty_claim", "faq", None),
        ("greet", FALLBACK, "warranty_claim"),
        ("greet", "greet", None),
    ]
    report = flow_report(reads, FLOWS)
    assert report["out_of_scope"] == 4 and report["out_of_scope_opening_a_flow"] == 0.25
    assert report["flow_messages"] == 4
    assert (report["flow_opened"], report["flow_confirmed"], report["flow_misread"]) == (0.25, 0.25, 0.5)
    assert report["other_asked_about_a_flow"] == 0.5


def test_a_parse_is_read_as_the_bot_reads_it():
    held = {
        "intent": {"name": FALLBACK, "confidence": 0.4},
        "intent_ranking": [{"name": FALLBACK, "confidence": 0.4}, {"name": "request_return", "confidence": 0.5}],
    }
    assert as_read_by_the_bot(held) == (FALLBACK, "request_return")
    plain = {"intent": {"name": "greet", "confidence": 0.9}, "intent_ranking": [{"name": "greet", "confidence": 0.9}]}
    assert as_read_by_the_bot(plain) == ("greet", None)


def test_config_gates_the_intents_that_open_a_case_and_nothing_else():
    flows, gate = gate_config()
    assert {"request_return", "cancel_order", "warranty_claim", "order_status", "bought_elsewhere"} <= flows
    assert not flows & {"out_of_scope", "human_handoff", "faq", "credits_faq", "inform", "affirm", "deny", "stop"}
    assert gate.flow_threshold > gate.threshold and gate.flow_ambiguity >= gate.ambiguity


COMPONENT = r"""
import json, sys
from rasa.shared.nlu.training_data.message import Message
from nlu_components.flow_gate import FlowGatedFallbackClassifier
config = {**FlowGatedFallbackClassifier.get_default_config(), "threshold": 0.4, "ambiguity_threshold": 0.1,
          "flow_intents": ["request_return", "warranty_claim"], "flow_threshold": 0.6, "flow_ambiguity_threshold": 0.2}
gate = FlowGatedFallbackClassifier(config)
out = []
for ranking in json.loads(sys.argv[1]):
    ranking = [{"name": n, "confidence": c} for n, c in ranking]
    message = Message(data={"text": "x", "intent": dict(ranking[0]), "intent_ranking": [dict(r) for r in ranking]})
    gate.process([message])
    out.append({"intent": message.get("intent"), "ranking": message.get("intent_ranking")})
print(json.dumps(out))
"""


@pytest.mark.skipif(not RASA_PY.exists(), reason="needs .venv-rasa (make venvs)")
def test_the_rasa_component_holds_back_exactly_what_the_bench_says_and_keeps_the_ranking():
    rankings = [
        [["request_return", 0.55], ["out_of_scope", 0.2]],
        [["request_return", 0.75], ["out_of_scope", 0.2]],
        [["warranty_claim", 0.62], ["request_return", 0.45]],
        [["faq", 0.55], ["out_of_scope", 0.2]],
        [["greet", 0.5], ["thank", 0.45]],
        [["request_return", 1.0]],  # a button payload
    ]
    result = run_rasa_python(COMPONENT, json.dumps(rankings))
    for ranking, parsed in zip(rankings, result, strict=True):
        expected, asked = bot_reads([tuple(r) for r in ranking], FLOWS, GATE)
        assert parsed["intent"]["name"] == expected, (ranking, parsed)
        if expected == FALLBACK:
            # the two-stage fallback asks about the intent behind nlu_fallback: the classifier's ranking is kept
            assert [r["name"] for r in parsed["ranking"]][:2] == [FALLBACK, asked]


def test_every_gated_intent_has_its_own_confirmation_question():
    """A held-back message gets "Do you want to ...?" for its intent (actions/conversation.py), not "rephrase"."""
    import yaml

    from bench import paths

    responses = yaml.safe_load(paths.DOMAIN.read_text(encoding="utf-8"))["responses"]
    flows, _ = gate_config()
    missing = sorted(i for i in flows if f"utter_ask_affirmation_{i}" not in responses)
    assert not missing
    # and a button of its own when several flows are in the running ("Which of these?")
    assert not sorted(i for i in flows if f"utter_choice_{i}" not in responses)
