"""Several responses told as one message (issue 15, item 7: at most three messages for a decision turn).

A decision has one response per reason (``utter_<topic>_<code>``) and one per next step (``utter_next_step_<code>``);
sent one by one, an approved return arrived as eight bubbles.  ``utter_parts`` sends them as one message instead:
each part's wording still comes from ``domain.yml`` by name, filled with its own template values the way Rasa fills a
response (``{name}`` from the values, then the slots), and the parts are joined by a line break.

The message still names its responses: ``response`` is the first part (Rasa records it as ``utter_action``) and
``utter_parts`` lists every part, in order, so tests, logs and the clause index can tell which were said.

A part whose text cannot be filled (a placeholder without a value, a response missing from the domain) is never
shown half-filled: the parts are then sent one by one, as Rasa would send them, and a warning names the response.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

logger = logging.getLogger(__name__)

#: Rasa's own placeholder syntax (``rasa.shared.utils.io`` / ``interpolator``): ``{name}``, no newline or brace inside
PLACEHOLDER = re.compile(r"\{([^\n{}]+?)\}")
#: between two parts of one message: a line break.  Not a blank line: Rasa's output channels (REST, socket.io) send
#: each paragraph of a text ("\n\n") as a message of its own; the web page shows the break (web/static/page.css)
SEPARATOR = "\n"

Part = tuple[str, Mapping[str, str]]


def fill(template: str, values: Mapping[str, Any]) -> str | None:
    """``template`` with every ``{name}`` replaced from ``values``; ``None`` if any placeholder has no value."""
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            missing.append(match.group(1))
            return match.group(0)
        return str(value)

    text = PLACEHOLDER.sub(replace, template)
    return None if missing else text


def render(domain: Mapping[str, Any], name: str, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """One response (its only variation) filled: ``{"text": ..., "buttons": [...]}``, or ``None`` if it can't be."""
    variations = (domain.get("responses") or {}).get(name) or []
    if len(variations) != 1:  # absent, or several to choose from at random: leave the choice to Rasa
        return None
    variation = variations[0]
    text = fill(variation.get("text") or "", values)
    if text is None:
        return None
    buttons = []
    for button in variation.get("buttons") or []:
        title, payload = fill(str(button.get("title", "")), values), fill(str(button.get("payload", "")), values)
        if title is None or payload is None:
            return None
        buttons.append({"title": title, "payload": payload})
    return {"text": text, "buttons": buttons}


def utter_parts(
    dispatcher: CollectingDispatcher,
    domain: Mapping[str, Any],
    parts: Sequence[Part],
    slots: Mapping[str, Any] | None = None,
    json_message: dict[str, Any] | None = None,
) -> None:
    """Tell ``parts`` (response name, its template values) as one message; one part is sent as it always was."""
    if not parts:
        return
    extra = {"json_message": json_message} if json_message is not None else {}
    if len(parts) == 1:
        name, values = parts[0]
        dispatcher.utter_message(response=name, **extra, **values)
        return
    slot_values = {k: v for k, v in (slots or {}).items() if v is not None}
    rendered = [render(domain, name, {**slot_values, **values}) for name, values in parts]
    failed = [name for (name, _), message in zip(parts, rendered, strict=True) if message is None]
    if failed:
        logger.warning("responses %s could not be filled here; sent one by one", failed)
        for index, (name, values) in enumerate(parts):
            dispatcher.utter_message(response=name, **(extra if index == 0 else {}), **values)
        return
    first_name, first_values = parts[0]
    dispatcher.utter_message(
        response=first_name,
        text=SEPARATOR.join(m["text"] for m in rendered if m and m["text"]),
        # Rasa adds the first part's own buttons when it renders ``response``: only the others' go along
        buttons=[b for m in rendered[1:] if m for b in m["buttons"]],
        utter_parts=[name for name, _ in parts],
        **extra,
        **first_values,
    )


#: keys of a dispatched message that are not template values (rasa_sdk's ``CollectingDispatcher.utter_message``)
MESSAGE_KEYS = frozenset(
    {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment", "utter_parts"}
)


def prepend_part(
    dispatcher: CollectingDispatcher, domain: Mapping[str, Any], part: Part, slots: Mapping[str, Any] | None = None
) -> None:
    """``part`` told first, inside the first message already dispatched (one bubble, not one more); where either
    cannot be filled here, ``part`` goes before it as a message of its own."""
    name, values = part
    slot_values = {k: v for k, v in (slots or {}).items() if v is not None}
    first = dispatcher.messages[0]
    own = {k: v for k, v in first.items() if k not in MESSAGE_KEYS and v is not None}
    filled = render(domain, name, {**slot_values, **values})
    original = render(domain, str(first.get("response") or ""), {**slot_values, **own})
    if filled is None or filled["buttons"] or original is None:
        alone = CollectingDispatcher()
        alone.utter_message(response=name, **values)
        dispatcher.messages.insert(0, alone.messages[0])
        return
    # Rasa renders ``response`` (now ``name``) and adds that response's buttons: the first part's own go along
    first["buttons"] = [*original["buttons"], *(first.get("buttons") or [])]
    first["text"] = SEPARATOR.join(t for t in (filled["text"], first.get("text") or original["text"]) if t)
    first["utter_parts"] = [name, *(first.get("utter_parts") or [first.get("response")])]
    first["response"] = first["template"] = name
    first.update(values)
