"""The bot's messages as each messaging platform wants them (issue 16). Standard library only: unit-tested without Rasa.

A turn's messages arrive as Rasa's collected dicts (``text``, ``buttons``, ``image``, ``attachment``, ``custom``); each
function here (and in ``render_meta.py``, Meta's two APIs) returns the API calls that send them, in order, as
``(method, json body)``:

===============  ==============  =================================================================  ===============
platform         function        buttons                                                            text cut at
===============  ==============  =================================================================  ===============
Telegram         ``telegram``    inline keyboard, one button a row, on the last piece of the text   4096 (UTF-16)
WhatsApp Cloud   ``whatsapp``    1-3: reply buttons (title 20 chars); 4-10: a list (row title 24)   4096; 1024 body
Messenger        ``messenger``   quick replies (at most 13, title 20 chars) on the last piece       2000
Slack            ``slack``       an ``actions`` block of buttons (label 75 chars), last piece       3000 per block
Twilio WhatsApp  ``twilio``      a numbered list ("Reply with a number."), numbered over the turn   1600
===============  ==============  =================================================================  ===============

A ``{"decision": {...}}`` payload (``policy_engine.core.decision.Decision.widget_payload``) becomes one line,
``decision_summary``: "Case RET-000123: return approved (policy RET-1, RET-6)". Other custom payloads are not shown.
Texts are cut at a blank line, else a line break, else a space, else anywhere (``split_text``); button labels longer
than the platform allows are shortened with an ellipsis (``clip``); the payload a button sends back is never cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Call = tuple[str, dict[str, Any]]

#: what a customer is told when they send a photo, a document, a voice note or a video (upload storage: issue 15)
ATTACHMENTS_NOT_YET = (
    "Sorry, I can't receive photos or files on this channel yet. Please describe it in words (for a receipt, the "
    "order number is enough); if our team needs a photo, they will tell you how to send it."
)
CHOOSE = "Please choose:"

TELEGRAM_TEXT = 4096
SLACK_SECTION = 3000
TWILIO_BODY = 1600
REPLY_WITH_A_NUMBER = "Reply with a number."
SLACK_BUTTON_TEXT = 75
SLACK_BUTTON_VALUE = 2000
SLACK_BUTTONS_PER_BLOCK = 25


# ---- text ----------------------------------------------------------------------------------------------------------


def utf16_units(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """``text`` in pieces of at most ``limit`` (by ``measure``), cut at a blank line, else a line break, else a
    space (in the second half of the piece), else at the limit; no piece is empty, none starts or ends with space."""
    rest = (text or "").strip()
    pieces: list[str] = []
    while rest and measure(rest) > limit:
        fit = min(len(rest), limit)
        while fit > 1 and measure(rest[:fit]) > limit:
            fit -= 1
        cut = -1
        for separator in ("\n\n", "\n", " "):
            position = rest.rfind(separator, 0, fit + 1)
            if position >= max(1, fit // 2):
                cut = position
                break
        if cut <= 0:
            cut = fit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def clip(text: Any, limit: int) -> str:
    """A label: whitespace collapsed, at most ``limit`` characters, an ellipsis when cut."""
    label = " ".join(str(text or "").split())
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "\u2026"


def decision_summary(custom: Any) -> str | None:
    """``{"decision": {...}}`` as one short line with the case number; None for any other custom payload."""
    decision = custom.get("decision") if isinstance(custom, dict) else None
    if not isinstance(decision, dict):
        return None
    topic = str(decision.get("topic") or "request").replace("_", " ")
    outcome = str(decision.get("outcome") or "").replace("_", " ")
    clauses = [str(c) for c in decision.get("clauses") or [] if c]
    case_id = decision.get("case_id")
    line = (f"Case {case_id}: {topic} {outcome}" if case_id else f"{topic[:1].upper()}{topic[1:]}: {outcome}").strip()
    if clauses:
        line += f" (policy {', '.join(clauses)})"
    return line


def texts_of(message: dict[str, Any]) -> list[str]:
    """The texts one collected message shows: its text, an attachment's link, a decision's summary."""
    texts = [str(message["text"]).strip()] if str(message.get("text") or "").strip() else []
    if message.get("attachment"):
        texts.append(str(message["attachment"]))
    summary = decision_summary(message.get("custom"))
    if summary:
        texts.append(summary)
    return texts


def buttons_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    buttons = message.get("buttons") or message.get("quick_replies") or []
    return [b for b in buttons if isinstance(b, dict) and (b.get("payload") or b.get("title") or b.get("url"))]


def payload_of(button: dict[str, Any]) -> str:
    return str(button.get("payload") or button.get("title") or "")


# ---- Telegram ------------------------------------------------------------------------------------------------------


def telegram(
    chat_id: Any, messages: Iterable[dict[str, Any]], callback_data: Callable[[str], str] = lambda payload: payload
) -> list[Call]:
    """Bot API calls (``sendMessage``, ``sendPhoto``); ``callback_data`` maps a payload to at most 64 bytes."""
    calls: list[Call] = []
    for message in messages:
        if message.get("image"):
            calls.append(("sendPhoto", {"chat_id": chat_id, "photo": str(message["image"])}))
        buttons = buttons_of(message)
        texts = texts_of(message) or ([CHOOSE] if buttons else [])
        pieces = [piece for text in texts for piece in split_text(text, TELEGRAM_TEXT, utf16_units)]
        for index, piece in enumerate(pieces):
            body: dict[str, Any] = {"chat_id": chat_id, "text": piece}
            if buttons and index == len(pieces) - 1:
                rows = []
                for button in buttons:
                    title = str(button.get("title") or payload_of(button))
                    if button.get("url"):
                        rows.append([{"text": title, "url": str(button["url"])}])
                    else:
                        rows.append([{"text": title, "callback_data": callback_data(payload_of(button))}])
                body["reply_markup"] = {"inline_keyboard": rows}
            calls.append(("sendMessage", body))
    return calls


# ---- Slack ---------------------------------------------------------------------------------------------------------


def slack(channel: str, messages: Iterable[dict[str, Any]]) -> list[Call]:
    """Web API ``chat.postMessage`` bodies: one message per piece of text (a plain-text section block, the piece as
    the notification text), the buttons as ``actions`` blocks under the last one; images as image blocks."""
    calls: list[Call] = []
    for message in messages:
        if message.get("image"):
            calls.append(
                (
                    "chat.postMessage",
                    {
                        "channel": channel,
                        "text": "image",
                        "blocks": [{"type": "image", "image_url": str(message["image"]), "alt_text": "image"}],
                    },
                )
            )
        buttons = buttons_of(message)
        texts = texts_of(message) or ([CHOOSE] if buttons else [])
        pieces = [piece for text in texts for piece in split_text(text, SLACK_SECTION)]
        for index, piece in enumerate(pieces):
            blocks: list[dict[str, Any]] = [
                {"type": "section", "text": {"type": "plain_text", "text": piece, "emoji": True}}
            ]
            if buttons and index == len(pieces) - 1:
                for start in range(0, len(buttons), SLACK_BUTTONS_PER_BLOCK):
                    elements = []
                    for number, b in enumerate(buttons[start : start + SLACK_BUTTONS_PER_BLOCK], start):
                        element: dict[str, Any] = {
                            "type": "button",
                            "action_id": f"choice-{number}",
                            "text": {
                                "type": "plain_text",
                                "text": clip(b.get("title") or payload_of(b), SLACK_BUTTON_TEXT),
                                "emoji": True,
                            },
                        }
                        if b.get("url"):
                            element["url"] = str(b["url"])
                        else:
                            element["value"] = payload_of(b)[:SLACK_BUTTON_VALUE]
                        elements.append(element)
                    blocks.append({"type": "actions", "elements": elements})
            calls.append(("chat.postMessage", {"channel": channel, "text": piece, "blocks": blocks}))
    return calls


# ---- Twilio (WhatsApp) ---------------------------------------------------------------------------------------------


def twilio(to: str, sender: str, messages: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Messages API form bodies (``From``, ``To``, ``Body`` or ``MediaUrl``). Twilio's WhatsApp buttons need approved
    Content templates, so buttons become a numbered list, numbered across the turn (the channel reads a reply of
    that number as the button's payload)."""
    bodies: list[dict[str, str]] = []
    number = 0
    for message in messages:
        if message.get("image"):
            bodies.append({"From": sender, "To": to, "MediaUrl": str(message["image"])})
        buttons = [b for b in buttons_of(message) if not b.get("url")]
        texts = texts_of(message)
        links = [f"{b.get('title') or b['url']}: {b['url']}" for b in buttons_of(message) if b.get("url")]
        if buttons:
            lines = []
            for button in buttons:
                number += 1
                lines.append(f"{number}. {' '.join(str(button.get('title') or payload_of(button)).split())}")
            texts.append("\n".join(lines + [REPLY_WITH_A_NUMBER]))
        texts.extend(links)
        text = "\n\n".join(texts)
        for piece in split_text(text, TWILIO_BODY):
            bodies.append({"From": sender, "To": to, "Body": piece})
    return bodies
