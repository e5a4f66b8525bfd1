"""Rasa's ResponseSelector, run only on the messages whose intent is its retrieval intent.

Why (issue 14, item 1): the project has one selector per retrieval intent (``faq``, ``credits_faq``), and Rasa runs
both, each a TensorFlow prediction, on every message, whatever its intent: in a py-spy profile of the serving
benchmark (docs/bench.md, "Where a message's CPU goes") they were the largest single part of a message's CPU, about
as much as the sentence embedding. Their answer is read only when the message's intent is the selector's retrieval
intent: Rasa's retrieval actions, ``actions/faq.py`` (``retrieval_key``) and the bench's scorer
(``bench/rasa_eval.py``, ``full_intent``) all look up ``response_selector[<intent>]`` for the message's own intent.
The selectors run after the intent classifier, and the only later component that changes an intent, the
FallbackClassifier, changes it to ``nlu_fallback``, never to a retrieval intent; so a message that reaches the
fallback or another intent gets no selector entry it would have read, and every answer stays the same.

Training is Rasa's, unchanged (same class, same data, same seed: the same weights). config.yml::

    - name: nlu_components.response_selector.IntentGatedResponseSelector
      retrieval_intent: faq
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


def intent_of(message: Message) -> str | None:
    intent = message.get(INTENT) or {}
    return intent.get(INTENT_NAME_KEY) if isinstance(intent, dict) else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntentGatedResponseSelector(ResponseSelector):
    """A ResponseSelector with a ``retrieval_intent`` that selects only for messages of that intent (without one, for
    every message, as Rasa's does)."""

    def process(self, messages: list[Message]) -> list[Message]:
        if not self.retrieval_intent:
            return super().process(messages)
        mine = [message for message in messages if intent_of(message) == self.retrieval_intent]
        if mine:
            super().process(mine)
        return messages
