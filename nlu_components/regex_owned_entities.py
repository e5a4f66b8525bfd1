"""Keep exactly one extraction for the entity types that have a fixed format.

Why (rasa 3.6.21 source): ``RegexEntityExtractor.train`` keeps only the regexes and lookup tables whose name is an
entity *annotated in the training examples* (``use_only_entities=True``), and the statistical extractor
(``CRFEntityExtractor`` in config.yml, ``DIETClassifier`` in Rasa's default) learns every annotated entity type.  With
both in the pipeline, an order number is therefore extracted twice: once by the regex, once by the learned model,
sometimes with a different span.  This component, placed
after both extractors and before ``EntitySynonymMapper``, drops the statistical extractions of the types the regexes
and lookup tables own, so the regex result is the only one.  Other types (product, quantity, purchase_date)
are left to the learned extractor untouched.

config.yml::

    - name: nlu_components.regex_owned_entities.RegexOwnedEntityFilter
      entity_types: [order_number, email, serial_number, channel, country, condition, transit_problem]
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, EXTRACTOR
from rasa.shared.nlu.training_data.message import Message

REGEX_EXTRACTOR = "RegexEntityExtractor"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class RegexOwnedEntityFilter(GraphComponent):
    """Drops extractions of regex-owned entity types made by any extractor other than RegexEntityExtractor."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "entity_types": [
                "order_number",
                "email",
                "serial_number",
                "channel",
                "country",
                "condition",
                "transit_problem",
            ]
        }

    def __init__(self, config: dict[str, Any]) -> None:
        types = config.get("entity_types")
        if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
            raise ValueError(f"RegexOwnedEntityFilter: 'entity_types' must be a list of entity names, got {types!r}")
        self.entity_types = frozenset(types)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RegexOwnedEntityFilter:
        return cls({**cls.get_default_config(), **config})

    def keep(self, entity: dict[str, Any]) -> bool:
        return entity.get("entity") not in self.entity_types or entity.get(EXTRACTOR) == REGEX_EXTRACTOR

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES)
            if entities:
                message.set(ENTITIES, [e for e in entities if self.keep(e)], add_to_output=True)
        return messages
