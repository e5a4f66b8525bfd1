"""nlu_components/intent_classifier.py: the same feature matrix, and so the same model, as Rasa's classifier; a
persisted and loaded classifier that predicts as Rasa's skops-stored one does; damaged files refused.

Runs .venv-rasa in a subprocess (this suite runs in .venv-engine). The messages go through Rasa's own tokenizer and
both CountVectorsFeaturizers of config.yml (word and char_wb, so each message carries two sparse sequence and two
sparse sentence features) and get two dense sentence features and a dense sequence feature, as the sentence
embedding adds.
"""

from __future__ import annotations

import pytest

from tests.nlu.conftest import RASA_PY, run_rasa_python

pytestmark = pytest.mark.skipif(not RASA_PY.exists(), reason="needs .venv-rasa (make venvs)")

COMPARE = r"""
import json, tempfile
import numpy as np
from pathlib import Path
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu_components.intent_classifier import SentenceFeatureLogisticRegressionClassifier

TEXTS = [("hi can u start a return for AK4829301 pls", "request_return"),
         ("where is my money for the charger i sent back", "refund_status"),
         ("cancel it before it ships", "cancel_order"), ("the brick dies after 5 min", "warranty_claim"),
         ("no", "deny")]
storage = LocalModelStorage(Path(tempfile.mkdtemp()))
context = ExecutionContext(GraphSchema({}), "test")
data = TrainingData([Message(data={"text": t, "intent": i}) for t, i in TEXTS])
data = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
for n, extra in enumerate(({}, {"analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4})):
    config = {**CountVectorsFeaturizer.get_default_config(), **extra}
    cvf = CountVectorsFeaturizer.create(config, storage, Resource(f"cvf{n}"), context)
    cvf.train(data)
    cvf.process_training_data(data)
rng = np.random.default_rng(7)
for m in data.training_examples:
    tokens = len(m.get("text_tokens"))
    m.add_features(Features(rng.normal(size=(tokens, 3)).astype(np.float32), "sequence", "text", "emb"))
    m.add_features(Features(rng.normal(size=(1, 4)).astype(np.float32), "sentence", "text", "emb"))
    m.add_features(Features(rng.normal(size=(1, 2)).astype(np.float32), "sentence", "text", "emb2"))

def classifier(cls):
    return cls.create(cls.get_default_config(), storage, Resource(cls.__name__), context)

ours = classifier(SentenceFeatureLogisticRegressionClassifier)._create_X(data.training_examples)
theirs = classifier(LogisticRegressionClassifier)._create_X(data.training_examples)
a, b = ours.tocsr(), theirs.tocsr()
print(json.dumps({
    "shape": list(a.shape), "same_shape": a.shape == b.shape, "same_format": ours.format == theirs.format,
    "same_dtype": str(a.dtype) == str(b.dtype), "same_values": bool((a != b).nnz == 0),
    "same_layout": all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("data", "indices", "indptr")),
    "dense_columns": int(a[:, -6:].count_nonzero()),
}))
"""


def test_feature_matrix_equals_rasas_logistic_regression():
    out = run_rasa_python(COMPARE)
    assert out["shape"][0] == 5 and out["shape"][1] > 50  # word + char n-gram columns, then the 6 dense ones
    assert out["dense_columns"] == 5 * 6  # the 4 + 2 dense sentence columns of every message, after the sparse ones
    assert {k: v for k, v in out.items() if k.startswith("same")} == {
        "same_shape": True,
        "same_format": True,
        "same_dtype": True,
        "same_values": True,
        "same_layout": True,
    }


ROUND_TRIP = r"""
import json, tempfile
import numpy as np
from pathlib import Path
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu_components.intent_classifier import SentenceFeatureLogisticRegressionClassifier

rng = np.random.default_rng(3)
def message(intent=None):
    m = Message(data={"text": "x", **({"intent": intent} if intent else {})})
    m.add_features(Features(rng.normal(size=(1, 8)).astype(np.float32), "sentence", "text", "emb"))
    return m
train = TrainingData([message(i) for i in ["a", "b", "c"] * 20])
probe = [message() for _ in range(10)]
context = ExecutionContext(GraphSchema({}), "node")

def fit_and_reload(cls):
    storage = LocalModelStorage(Path(tempfile.mkdtemp()))
    resource = Resource(cls.__name__)
    cls.create(cls.get_default_config(), storage, resource, context).train(train)
    return cls.load(cls.get_default_config(), storage, resource, context), storage, resource

def ranking(component):
    msgs = [Message(data=dict(m.data), features=list(m.features)) for m in probe]
    component.process(msgs)
    return [[(r["name"], r["confidence"]) for r in m.get("intent_ranking")] for m in msgs]

ours, storage, resource = fit_and_reload(SentenceFeatureLogisticRegressionClassifier)
theirs, _, _ = fit_and_reload(LogisticRegressionClassifier)
out = {"same_ranking": ranking(ours) == ranking(theirs), "intents": sorted({r[0] for x in ranking(ours) for r in x})}
# a damaged file (an object array, which would need pickle) is refused: an untrained component, not code run
with storage.write_to(resource) as d:
    np.savez(d / f"{resource.name}.npz", coef_=np.array([object()], dtype=object))
broken = SentenceFeatureLogisticRegressionClassifier.load({}, storage, resource, context)
out["damaged_untrained"] = not hasattr(broken.clf, "coef_")
missing = SentenceFeatureLogisticRegressionClassifier.load({}, storage, Resource("nothing"), context)
out["missing_untrained"] = not hasattr(missing.clf, "coef_")
print(json.dumps(out))
"""

NO_SKOPS = r"""
import json, sys, tempfile
import numpy as np
from pathlib import Path
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu_components.intent_classifier import SentenceFeatureLogisticRegressionClassifier as C

rng = np.random.default_rng(3)
ms = [Message(data={"text": "x", "intent": i}) for i in ["a", "b"] * 10]
for m in ms:
    m.add_features(Features(rng.normal(size=(1, 4)).astype(np.float32), "sentence", "text", "emb"))
storage, resource = LocalModelStorage(Path(tempfile.mkdtemp())), Resource("r")
context = ExecutionContext(GraphSchema({}), "n")
C.create(C.get_default_config(), storage, resource, context).train(TrainingData(ms))
C.load(C.get_default_config(), storage, resource, context)
print(json.dumps({"skops_imported": "skops.io" in sys.modules}))
"""


def test_persisted_classifier_predicts_as_rasas_and_refuses_damaged_files():
    out = run_rasa_python(ROUND_TRIP)
    assert out["intents"] == ["a", "b", "c"]
    assert out["same_ranking"] is True  # names and confidences equal to the last bit after a save and a load
    assert out["damaged_untrained"] is True and out["missing_untrained"] is True


def test_training_and_loading_never_import_skops():
    # the point of the .npz storage: importing skops.io costs about 9 s in a process that has loaded Rasa
    assert run_rasa_python(NO_SKOPS) == {"skops_imported": False}
