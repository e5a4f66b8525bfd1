"""Rasa's check of every action-server answer, with its JSON schema checked once instead of on every call.

Why (issue 14, item 1; rasa 3.6.21 source, jsonschema 3.2.0 as pinned): ``RemoteAction._validate_action_result``
calls ``jsonschema.validate(result, spec)``, and ``validate`` first checks ``spec`` itself against the JSON Schema
metaschema, on every call; then it validates the answer. For a usual answer (a few slot events and a response with
a decision payload) that took 3.2 ms, of which 2.1 ms went to checking the unchanging schema (measured 2026-12-03;
0.9 action-server calls per message in the bench's conversations; docs/bench.md, "Where a message's CPU goes").

``install()`` replaces that method with one that does what ``jsonschema.validate`` does (``validator_for(spec)``,
``check_schema(spec)``, ``best_match(iter_errors(result))``) with the validator built once per answer format, and
raises the same ``ValidationError`` with Rasa's message. Called when the server builds its tracker store
(``rasa_stores.tracker_store``, named in endpoints.yml), the one piece of our code every Rasa server constructs at
start; idempotent.
"""

from __future__ import annotations

from typing import Any

from jsonschema import validators  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_VALIDATORS: dict[Any, Any] = {}


def _validator(action: RemoteAction) -> Any:
    key = type(action).action_response_format_spec
    found = _VALIDATORS.get(key)
    if found is None:
        spec = action.action_response_format_spec()
        cls = validators.validator_for(spec)
        cls.check_schema(spec)
        found = _VALIDATORS[key] = cls(spec)
    return found


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the schema checked once (same result, same error)."""
    error = best_match(_validator(self).iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result
