"""The bot's messages for Meta's two platforms (issue 16): WhatsApp Business Cloud API and Messenger, with the shared
helpers and the table of limits of ``render.py``. Standard library only: unit-tested without Rasa."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .render import CHOOSE, Call, buttons_of, clip, payload_of, split_text, texts_of

WHATSAPP_TEXT = 4096
WHATSAPP_INTERACTIVE_BODY = 1024
WHATSAPP_BUTTON_TITLE = 20
WHATSAPP_MAX_BUTTONS = 3
WHATSAPP_LIST_ROWS = 10
WHATSAPP_ROW_TITLE = 24
WHATSAPP_ROW_DESCRIPTION = 72
WHATSAPP_ID = 256
MESSENGER_TEXT = 2000
MESSENGER_QUICK_REPLIES = 13
MESSENGER_QUICK_REPLY_TITLE = 20
MESSENGER_PAYLOAD = 1000


# ---- WhatsApp Business Cloud API -----------------------------------------------------------------------------------

#: a business-scoped user id (BSUID): a country code, a dot, ``ENT.`` for a parent BSUID, up to 128 letters and digits
#: (https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/)
BSUID_RE = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")


def whatsapp(to: str, messages: Iterable[dict[str, Any]]) -> list[Call]:
    """Cloud API ``POST /<phone number id>/messages`` bodies: text, image, interactive ``button`` or ``list``;
    addressed by ``to`` (a phone number) or, for a user known only by a business-scoped user id, ``recipient``."""
    field = "recipient" if BSUID_RE.fullmatch(to) else "to"

    def _whatsapp(to: str, kind: str, content: dict[str, Any]) -> Call:
        return (
            "messages",
            {"messaging_product": "whatsapp", "recipient_type": "individual", field: to, "type": kind, kind: content},
        )

    calls: list[Call] = []
    for message in messages:
        if message.get("image"):
            calls.append(_whatsapp(to, "image", {"link": str(message["image"])}))
        buttons = [b for b in buttons_of(message) if not b.get("url")]
        texts = texts_of(message) or ([CHOOSE] if buttons else [])
        pieces = [piece for text in texts for piece in split_text(text, WHATSAPP_TEXT)]
        body = None
        if buttons:
            last = split_text(pieces.pop(), WHATSAPP_INTERACTIVE_BODY)
            pieces.extend(last[:-1])
            body = last[-1]
        for piece in pieces:
            calls.append(_whatsapp(to, "text", {"body": piece, "preview_url": False}))
        if body is None:
            continue
        if len(buttons) <= WHATSAPP_MAX_BUTTONS:
            calls.append(
                _whatsapp(
                    to,
                    "interactive",
                    {
                        "type": "button",
                        "body": {"text": body},
                        "action": {
                            "buttons": [
                                {
                                    "type": "reply",
                                    "reply": {
                                        "id": payload_of(b)[:WHATSAPP_ID],
                                        "title": clip(b.get("title") or payload_of(b), WHATSAPP_BUTTON_TITLE),
                                    },
                                }
                                for b in buttons
                            ]
                        },
                    },
                )
            )
            continue
        for start in range(0, len(buttons), WHATSAPP_LIST_ROWS):  # a list holds ten rows; more: another list
            rows = []
            for b in buttons[start : start + WHATSAPP_LIST_ROWS]:
                title = str(b.get("title") or payload_of(b))
                row = {"id": payload_of(b)[:WHATSAPP_ID], "title": clip(title, WHATSAPP_ROW_TITLE)}
                if row["title"] != " ".join(title.split()):
                    row["description"] = clip(title, WHATSAPP_ROW_DESCRIPTION)
                rows.append(row)
            calls.append(
                _whatsapp(
                    to,
                    "interactive",
                    {
                        "type": "list",
                        "body": {"text": body if start == 0 else CHOOSE},
                        "action": {"button": "Choose", "sections": [{"title": "Options", "rows": rows}]},
                    },
                )
            )
    return calls


# ---- Messenger -----------------------------------------------------------------------------------------------------


def _messenger(psid: str, message: dict[str, Any]) -> Call:
    return ("me/messages", {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message})


def messenger(psid: str, messages: Iterable[dict[str, Any]]) -> list[Call]:
    """Send API ``POST /me/messages`` bodies: text (quick replies on the last piece), image attachments."""
    calls: list[Call] = []
    for message in messages:
        if message.get("image"):
            calls.append(_messenger(psid, {"attachment": {"type": "image", "payload": {"url": str(message["image"])}}}))
        buttons = [b for b in buttons_of(message) if not b.get("url")][:MESSENGER_QUICK_REPLIES]
        texts = texts_of(message) or ([CHOOSE] if buttons else [])
        pieces = [piece for text in texts for piece in split_text(text, MESSENGER_TEXT)]
        for index, piece in enumerate(pieces):
            body: dict[str, Any] = {"text": piece}
            if buttons and index == len(pieces) - 1:
                body["quick_replies"] = [
                    {
                        "content_type": "text",
                        "title": clip(b.get("title") or payload_of(b), MESSENGER_QUICK_REPLY_TITLE),
                        "payload": payload_of(b)[:MESSENGER_PAYLOAD],
                    }
                    for b in buttons
                ]
            calls.append(_messenger(psid, body))
    return calls
