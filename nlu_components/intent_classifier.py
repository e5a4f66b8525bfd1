"""Rasa's LogisticRegressionClassifier, building its feature matrix from the sentence features only and storing its
weights as plain NumPy arrays.

Why (rasa 3.6.21 source): ``LogisticRegressionClassifier._create_X`` calls ``Message.get_sparse_features``, which
deep-copies and stacks the message's *sequence* features (one row per token, from both CountVectorsFeaturizers) as
well as its sentence features, and then uses only the sentence features. Over the training data of docs/bench.md's
step 7 that combining took 14 of the 32 s the classifier's training took in a profiled cold training run
(2026-11-27).

``SentenceFeatureLogisticRegressionClassifier._create_X`` combines the same sentence features in the same order
with the same scipy and numpy calls (``hstack`` one after the other for sparse ones, ``np.concatenate`` for dense
ones, then one ``hstack`` of the two and one ``vstack`` of the rows), so the matrix, and with it the trained
model and every prediction, is the one Rasa's classifier builds. tests/nlu/test_intent_classifier.py compares the
two matrices.

Storage: Rasa's classifier saves the fitted scikit-learn model with skops, and importing ``skops.io`` builds its list
of trusted types by importing every scikit-learn module: 9 s in a process that has loaded Rasa (measured 2026-11-27;
1.7 s in a bare Python). That was 7.5 s of each training run and is paid again by every server process that loads the
model. A fitted ``LogisticRegression`` predicts from ``coef_``, ``intercept_`` and ``classes_`` alone, so this class
saves those (and ``n_iter_``, ``n_features_in_``) in an ``.npz`` file read with ``allow_pickle=False``: no code runs
on load, as with skops' trusted types. The loaded classifier gives the same probabilities to the last bit.

config.yml::

    - name: nlu_components.intent_classifier.SentenceFeatureLogisticRegressionClassifier
"""

from __future__ import annotations

import logging
from typing import Any, Optional

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack

logger = logging.getLogger(__name__)
FITTED = ("coef_", "intercept_", "classes_", "n_iter_", "n_features_in_")


def _sentence_matrix(message: Message, sparse: bool) -> Optional[object]:
    """The message's text sentence features of one kind, combined as ``Features.combine_with_features`` does."""
    combined = None
    for feature in message.features:
        if feature.attribute != TEXT or feature.type != FEATURE_TYPE_SENTENCE or feature.is_sparse() != sparse:
            continue
        if combined is None:
            combined = feature.features
        elif sparse:
            combined = hstack([combined, feature.features])
        else:
            combined = np.concatenate((combined, feature.features), axis=-1)
    return combined


def _one_row(message: Message) -> csr_matrix:
    """The feature row ``_create_X`` builds for one message (the sparse sentence features side by side, then the
    dense ones), as one canonical CSR row: the same dtype, column indices, values and order as scipy's ``hstack``
    and ``vstack`` give (checked over the tuning sets: identical arrays and probabilities), in a tenth of the time
    (about 1.2 ms of a message's parse went to stacking the blocks; docs/bench.md, "Where a message's CPU goes")."""
    columns: list[np.ndarray] = []
    values: list[np.ndarray] = []
    dense_parts: list[np.ndarray] = []
    width = 0
    for feature in message.features:
        if feature.attribute != TEXT or feature.type != FEATURE_TYPE_SENTENCE:
            continue
        if feature.is_sparse():
            block = feature.features.tocoo()
            columns.append(block.col.astype(np.int64) + width)
            values.append(block.data)
            width += block.shape[1]
        else:
            dense_parts.append(np.asarray(feature.features).reshape(-1))
    for dense in dense_parts:  # after every sparse block, as in _create_X
        nonzero = np.flatnonzero(dense)
        columns.append(nonzero + width)
        values.append(dense[nonzero])
        width += dense.shape[0]
    dtype = np.result_type(*[v.dtype for v in values]) if values else np.float64
    data = np.concatenate(values).astype(dtype, copy=False) if values else np.zeros(0, dtype)
    cols = np.concatenate(columns) if columns else np.zeros(0, np.int64)
    return coo_matrix((data, (np.zeros(len(cols), np.int64), cols)), shape=(1, width)).tocsr()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceFeatureLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Rasa's logistic regression intent classifier; its feature matrix skips the unused sequence features, and it
    stores its weights without skops."""

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        if len(messages) == 1:  # a customer's message: the same row, built without scipy's general stacking
            return _one_row(messages[0])
        rows = []
        for message in messages:
            sparse = _sentence_matrix(message, sparse=True)
            dense = _sentence_matrix(message, sparse=False)
            rows.append(
                hstack(
                    [csr_matrix(sparse if sparse is not None else []), csr_matrix(dense if dense is not None else [])]
                )
            )
        return vstack(rows)

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            arrays = {name: np.asarray(getattr(self.clf, name)) for name in FITTED}
            arrays["classes_"] = arrays["classes_"].astype(str)  # never an object array: no pickle needed to read it
            np.savez(model_dir / f"{self._resource.name}.npz", **arrays)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceFeatureLogisticRegressionClassifier:
        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with (
                model_storage.read_from(resource) as model_dir,
                np.load(model_dir / f"{resource.name}.npz", allow_pickle=False) as arrays,
            ):
                for name in FITTED:
                    value = arrays[name]
                    setattr(component.clf, name, value.item() if value.ndim == 0 else value)
        except (ValueError, KeyError, OSError) as error:
            # as Rasa's classifier does when its file is missing: an untrained component, and a log line that says why
            logger.warning(f"Could not load the intent classifier '{resource.name}' ({error}); it is untrained.")
            return cls.create(config, model_storage, resource, execution_context)
        return component
