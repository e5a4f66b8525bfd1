"""Facts a customer states while answering another question (issue 15, item 3): input parsing, not wording.

"I tried resetting it and a different cable" while asked for the serial number, "it's still sealed" while asked which
item: ``actions/base.py`` keeps them for the form's own slots that are still open.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

#: facts a customer states while answering another question (input parsing, not wording), kept for the form's own
#: slots that are still open (issue 15, item 3): "I tried resetting it and a different cable" while asked for the
#: serial number, "it's still sealed" while asked which item
SIDE_FACTS: dict[str, tuple[tuple[re.Pattern[str], Any], ...]] = {
    "troubleshooting_done": (
        (
            re.compile(
                r"\b(?:tried|trying|reset(?:ting)?|restart(?:ed|ing)?|reboot(?:ed|ing)?|swapp(?:ed|ing))\b"
                r"|\b(?:another|different|other|new)\s+(?:cable|charger|outlet|socket|port|plug|adapter|wall)\b",
                re.I,
            ),
            True,
        ),
    ),
    "item_condition": (
        (
            re.compile(r"\b(?:undamaged|not damaged|no damage|like new|perfect condition|good condition)\b", re.I),
            "undamaged",
        ),
        (re.compile(r"\b(?:unopened|still sealed|sealed|never opened|not (?:been )?opened)\b", re.I), "unopened"),
        (re.compile(r"\b(?:damaged|broken|cracked|dented|smashed)\b", re.I), "damaged"),
    ),
}


def side_facts(text: Any, wanted: Sequence[str]) -> dict[str, Any]:
    """The facts of ``SIDE_FACTS`` stated in ``text``, for the slots in ``wanted`` (the first match per slot)."""
    found: dict[str, Any] = {}
    for slot in wanted:
        for pattern, value in SIDE_FACTS.get(slot, ()):
            if isinstance(text, str) and pattern.search(text):
                found[slot] = value
                break
    return found
