"""nlu_components/tokenizer.py: the same tokens and fingerprints as Rasa's WhitespaceTokenizer, computed once.

Runs .venv-rasa in a subprocess (this suite runs in .venv-engine). The training examples below cover the attributes
the tokenizer fills (text, intent with a retrieval key, response) and awkward text (emoji, punctuation, an email).
"""

from __future__ import annotations

import pytest

from tests.nlu.conftest import RASA_PY, run_rasa_python

pytestmark = pytest.mark.skipif(not RASA_PY.exists(), reason="needs .venv-rasa (make venvs)")

COMPARE = r"""
import json
from rasa.nlu.constants import MESSAGE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu_components.tokenizer import FingerprintCachingToken, FingerprintCachingWhitespaceTokenizer

EXAMPLES = [
    {"text": "hi can u start a return for AK4829301 pls 🙏", "intent": "request_return"},
    {"text": "wie lange dauert's? refund... for ana.k@example.de!!", "intent": "faq",
     "intent_response_key": "faq/refund_timing", "response": "Refunds reach you within 5 to 10 business days."},
    {"text": "the brick gets hot & dies after 5 min (A2B7K9Q3M1X8P4ZT)", "intent": "warranty_claim"},
]

def data():
    return TrainingData([Message(data=dict(e)) for e in EXAMPLES])

cfg = WhitespaceTokenizer.get_default_config()
ours = FingerprintCachingWhitespaceTokenizer(cfg).process_training_data(data())
theirs = WhitespaceTokenizer(cfg).process_training_data(data())

def tokens(td):
    return [[(a, [(t.text, t.start, t.end, t.lemma) for t in m.get(TOKENS_NAMES[a]) or []])
             for a in MESSAGE_ATTRIBUTES] for m in td.training_examples]

def fingerprints(td):
    return [[t.fingerprint() for a in MESSAGE_ATTRIBUTES for t in m.get(TOKENS_NAMES[a]) or []]
            for m in td.training_examples]

out = {
    "same_tokens": tokens(ours) == tokens(theirs),
    "token_count": sum(len(x) for x in fingerprints(ours)),
    "all_caching": all(isinstance(t, FingerprintCachingToken)
                       for m in ours.training_examples for a in MESSAGE_ATTRIBUTES
                       for t in m.get(TOKENS_NAMES[a]) or []),
    "same_fingerprints": fingerprints(ours) == fingerprints(theirs),
    "same_data_fingerprint": ours.fingerprint() == theirs.fingerprint(),
}
# What the RegexFeaturizer does after tokenizing: set pattern flags on each token. The cached value must follow.
before = fingerprints(ours)
for td in (ours, theirs):
    for m in td.training_examples:
        for t in m.get(TOKENS_NAMES["text"]):
            t.set("pattern", {"order_number": t.text.startswith("AK")})
after = fingerprints(ours)
out["changed_after_set"] = all(b != a for b, a in zip(before, after))
out["same_fingerprints_after_set"] = after == fingerprints(theirs)
# A cached token's fingerprint is Token.fingerprint of the same content.
tok = FingerprintCachingToken("dies", 3, data={"pattern": {"x": True}})
out["equals_plain_token"] = tok.fingerprint() == Token("dies", 3, data={"pattern": {"x": True}}).fingerprint()
print(json.dumps(out))
"""


def test_tokens_and_fingerprints_equal_rasas_whitespace_tokenizer():
    out = run_rasa_python(COMPARE)
    assert out["token_count"] > 20
    assert out == {
        "same_tokens": True,
        "token_count": out["token_count"],
        "all_caching": True,
        "same_fingerprints": True,
        "same_data_fingerprint": True,
        "changed_after_set": True,
        "same_fingerprints_after_set": True,
        "equals_plain_token": True,
    }
