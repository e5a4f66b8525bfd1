"""Rasa's WhitespaceTokenizer, with tokens that remember their fingerprint: training 20 % faster.

Why (rasa 3.6.21 source): after every node of the training graph, ``TrainingHook.on_after_node`` fingerprints the
node's output, the whole ``TrainingData``. A message's fingerprint is cached only until a component adds features
to it, which every featurizer does, so each message is fingerprinted again after each node; and ``Token.fingerprint``
caches nothing: it md5-hashes the token's text, offsets, lemma and every entry of its ``data`` (the RegexFeaturizer's
pattern flags) on every call. With this project's pipeline and the 3,581 training examples of docs/bench.md's step 5
that was 21 fingerprints of the training data, 430,000 token fingerprints and 9 million md5 calls: about 34 s of a
134 s NLU training (measured with a timing wrapper around ``TrainingData.fingerprint``, 2026-11-26); with these
tokens the same training took 104 s.

``FingerprintCachingToken`` computes the same value as ``Token.fingerprint`` (same function, same inputs) once and
forgets it when ``set`` changes the token's data. ``set`` is the only way rasa 3.6.21 changes a token after the
tokenizer made it (the RegexFeaturizer's pattern flags, the ConveRT and LanguageModel featurizers' sub-token
counts), so the cached value is always the one a fresh computation would give. The tokens themselves (text,
offsets) are exactly Rasa's WhitespaceTokenizer's; only training-time fingerprinting gets faster, so the trained
model is the same.

config.yml::

    - name: nlu_components.tokenizer.FingerprintCachingWhitespaceTokenizer
"""

from __future__ import annotations

from typing import Any, Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import MESSAGE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.training_data import TrainingData


class FingerprintCachingToken(Token):
    """A ``Token`` whose fingerprint is computed once and recomputed only after ``set`` changed its data."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fingerprint: Optional[str] = None

    @classmethod
    def of(cls, token: Token) -> FingerprintCachingToken:
        """A caching copy of ``token`` (the same text, offsets, lemma and data)."""
        return cls(token.text, token.start, token.end, dict(token.data), token.lemma)

    def set(self, prop: str, info: Any) -> None:
        self._fingerprint = None
        super().set(prop, info)

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = super().fingerprint()
        return self._fingerprint


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FingerprintCachingWhitespaceTokenizer(WhitespaceTokenizer):
    """Rasa's WhitespaceTokenizer; the training examples get ``FingerprintCachingToken``s.

    Messages parsed while serving keep plain tokens: nothing fingerprints them.
    """

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        training_data = super().process_training_data(training_data)
        for example in training_data.training_examples:
            for attribute in MESSAGE_ATTRIBUTES:
                tokens: Optional[list[Token]] = example.get(TOKENS_NAMES[attribute])
                if tokens:
                    example.set(TOKENS_NAMES[attribute], [FingerprintCachingToken.of(t) for t in tokens])
        return training_data
