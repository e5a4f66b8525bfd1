"""A warranty claim for a product bought elsewhere, the whole way through the web chat's own channel (socket.io with
the server's session token) and its upload endpoint, against the trained model, the real action server and database
(issue 15, item 2): no order, so the button under the order-number question; where, which product, when, how much, the
serial (not found), the defect, troubleshooting; the receipt and a photo uploaded (another conversation's upload is
refused); the decision (WAR-9 proof valid, covered); yes; the email checked by the code mailed to it; the WAR-E case
with both files linked to it."""

from __future__ import annotations

import email
import email.policy
import json
import queue
import time
from datetime import date, timedelta
from pathlib import Path

import requests
import socketio

from tests.dialogue.dialogue_client import Customer, SupportDatabase, web_session_token
from tests.support.smtp import code_in

WAIT = 60.0
QUIET = 2.5
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 300
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x02" * 300
EMAIL = "kim.bestbuy@example.com"


class WebChat:
    """The chat page without a browser: a session token, the socket, the upload endpoint."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.token = web_session_token(settings.rasa_url)
        self.client = socketio.Client(reconnection=False)
        self.uttered: queue.Queue[dict] = queue.Queue()
        confirmed: queue.Queue[str] = queue.Queue()
        self.client.on("session_confirm", confirmed.put)
        self.client.on("bot_uttered", self.uttered.put)
        self.client.connect(settings.rasa_url, socketio_path="/socket.io", wait_timeout=30, auth={"token": self.token})
        self.client.emit("session_request", {"session_id": "whatever"})
        self.session_id = confirmed.get(timeout=WAIT)
        self.api = Customer.of(settings, sender=self.session_id)

    def says(self, text: str) -> list[dict]:
        self.client.emit("user_uttered", {"message": text})
        got = [self.uttered.get(timeout=WAIT)]
        while True:
            try:
                got.append(self.uttered.get(timeout=QUIET))
            except queue.Empty:
                return got

    def upload(self, data: bytes) -> str:
        answer = requests.post(
            f"{self.settings.rasa_url}/webhooks/socketio/upload",
            data=data,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/octet-stream"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()["upload_id"]

    def asked(self) -> str | None:
        return self.api.slots().get("requested_slot")

    def close(self) -> None:
        self.client.disconnect()


def latest_code(outbox: Path, address: str, after: float) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            if path.stat().st_mtime < after:
                break
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address:
                code = code_in(message)
                if code:
                    return code
        time.sleep(0.2)
    raise AssertionError(f"no code mailed to {address} in {outbox}")


def decisions(messages: list[dict]) -> list[dict]:
    return [
        m["custom"]["decision"] for m in messages if isinstance(m.get("custom"), dict) and "decision" in m["custom"]
    ]


def test_a_reseller_claim_with_an_uploaded_receipt_end_to_end(bot_stack):
    settings = bot_stack.settings
    chat, stranger = WebChat(settings), WebChat(settings)
    try:
        chat.says("my power bank stopped charging")
        assert chat.asked() == "order_number"
        chat.says("/bought_elsewhere")
        assert chat.asked() == "purchase_seller"
        chat.says("Best Buy")
        assert chat.asked() == "purchase_product"
        chat.says("Anker 737 Power Bank")
        assert chat.asked() == "purchase_day"
        chat.says((date.today() - timedelta(days=60)).strftime("%d %B %Y"))
        assert chat.asked() == "purchase_price"
        chat.says("$149.99")
        assert chat.asked() == "purchase_serial"
        chat.says("I can't find it, the label is worn off")
        assert chat.asked() == "purchase_defect"
        chat.says("it stopped charging my phone, the light blinks red")
        assert chat.asked() == "purchase_troubleshooting"
        chat.says("/affirm")
        assert chat.asked() == "purchase_receipt"

        # someone else's upload id is refused in this conversation, exactly like an unknown one
        theirs = stranger.upload(PNG)
        refused = chat.says("/upload_file" + json.dumps({"upload_id": theirs}))
        assert any("couldn't find that file" in (m.get("text") or "") for m in refused), refused
        assert chat.asked() == "purchase_receipt"

        receipt = chat.upload(PNG)
        got = chat.says("/upload_file" + json.dumps({"upload_id": receipt}))
        assert any("received your receipt" in (m.get("text") or "") for m in got), got
        assert chat.asked() == "purchase_photo"

        photo = chat.upload(JPEG)
        got = chat.says("/upload_file" + json.dumps({"upload_id": photo}))
        assert any("received your photo" in (m.get("text") or "") for m in got), got
        preview = decisions(got)
        assert len(preview) == 1 and preview[0]["outcome"] == "approved", got
        assert "WAR-9" in preview[0]["clauses"] and preview[0].get("case_id") is None
        assert chat.api.slots()["pending_confirmation"] == "purchase_warranty"

        chat.says("/affirm")
        assert chat.asked() == "claim_email"
        outbox = Path(settings.child_env()["MAIL_OUTBOX_DIR"])
        sent_after = time.time() - 1
        chat.says(EMAIL)
        assert chat.asked() == "claim_email_code"
        got = chat.says(latest_code(outbox, EMAIL, sent_after))
        opened = decisions(got)
        assert len(opened) == 1 and opened[0]["case_id"].startswith("WAR-E"), got
        case_id = opened[0]["case_id"]
        assert any(case_id in (m.get("text") or "") for m in got)
    finally:
        chat.close()
        stranger.close()

    db = SupportDatabase(settings.database_url)
    claims = db.rows(
        "SELECT case_id, email, seller, sku, conversation_id FROM purchase_claims WHERE case_id = ?", case_id
    )
    assert claims == [
        {"case_id": case_id, "email": EMAIL, "seller": "best_buy", "sku": "A1289", "conversation_id": chat.session_id}
    ]
    evidence = db.rows(
        "SELECT upload_id, kind, case_id FROM evidence WHERE conversation_id = ? ORDER BY id", chat.session_id
    )
    assert evidence == [
        {"upload_id": receipt, "kind": "receipt", "case_id": case_id},
        {"upload_id": photo, "kind": "defect", "case_id": case_id},
    ]
    assert db.rows("SELECT upload_id FROM evidence WHERE upload_id = ?", theirs) == []
