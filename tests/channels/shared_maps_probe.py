"""Run by tests/channels/test_channels_shared_maps.py with .venv-rasa's Python (the channels import Rasa): two channel
instances, as two Rasa processes behind a load balancer would have, built from the environment (every channel on, the
APIs at the test's stub, ``RATE_LIMIT_STORAGE`` as the test sets it).  The first sends buttons (through the stub);
the second receives the press and resolves it.  Prints one JSON object: what the second instance read.

Telegram: a payload over 64 bytes travels as a ``#<key>`` in ``callback_data``; Twilio: the numbered menu ("2")."""

from __future__ import annotations

import asyncio
import json
import sys

from chat_channels.messaging import Inbound
from chat_channels.telegram import TelegramInput
from chat_channels.twilio_whatsapp import TwilioWhatsAppInput

LONG = '/inform{"defect_cause":"quality","note":"' + "a long payload beyond Telegram's 64 bytes " * 2 + '"}'


async def telegram(chat_id: int) -> str | None:
    shown, pressed = TelegramInput.from_credentials(None), TelegramInput.from_credentials(None)
    assert isinstance(shown, TelegramInput) and isinstance(pressed, TelegramInput)
    where = Inbound(f"tg-{chat_id}", f"telegram:{chat_id}", chat_id)
    await shown.deliver(where, [{"text": "Pick one", "buttons": [{"title": "Quality", "payload": LONG}]}])
    key = TelegramInput._callback_data(LONG)
    update = {
        "update_id": chat_id,
        "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
            "message": {"message_id": 1, "date": 1441645532, "chat": {"id": chat_id, "type": "private"}},
            "chat_instance": "-1234",
            "data": key,
        },
    }
    [(_, inbound)] = pressed.parse(update)
    await pressed.resolve(inbound)
    return inbound.text


async def twilio(digits: str) -> str | None:
    shown, pressed = TwilioWhatsAppInput.from_credentials(None), TwilioWhatsAppInput.from_credentials(None)
    assert isinstance(shown, TwilioWhatsAppInput) and isinstance(pressed, TwilioWhatsAppInput)
    conversation = f"wa-probe-{digits}"
    where = Inbound(conversation, f"whatsapp:{digits}", f"whatsapp:+{digits}")
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    await shown.deliver(where, [{"text": "Shall I open it?", "buttons": buttons}])
    inbound = Inbound(conversation, f"whatsapp:{digits}", f"whatsapp:+{digits}", text="2", extra={"typed": True})
    await pressed.resolve(inbound)
    return inbound.text


async def main() -> None:
    chat_id, digits = int(sys.argv[1]), sys.argv[2]
    print(json.dumps({"telegram": await telegram(chat_id), "twilio": await twilio(digits), "long": LONG}))


if __name__ == "__main__":
    asyncio.run(main())
