"""WAR-7's evidence in a web-store warranty claim, the whole way through the web chat's channel and its upload endpoint
(the paperclip's requests), against the trained model, the real action server and database (issue 16, items 1-2).

A photo sent while the bot asks for the order number is held (acknowledged, the question asked again, once); the
claim goes on; where WAR-7 asks for the photo of the defect it is sent and received; the decision; yes; the ``WAR-``
case with both files linked to it, listed for staff by ``python -m policy_engine evidence``."""

from __future__ import annotations

import json
import subprocess

from botstack.paths import ROOT
from tests.dialogue.dialogue_client import SupportDatabase
from tests.dialogue.test_dialogue_purchase_claim import JPEG, PNG, WebChat, decisions

ANSWERS = {
    "email": "ava.solix@example.com",
    "order_line": "1",
    "serial_number": "I can't find it, the label is gone",
    "defect": "it stopped charging, the screen stays black",
    "defect_cause": '/inform{"defect_cause":"quality"}',
    "troubleshooting_done": "/affirm",
    "country_now": "United States",
    "shipped_internationally": "/deny",
}


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text") or "" for m in messages]


def test_a_warranty_claim_keeps_an_early_photo_and_takes_the_defect_photo_WAR_7(bot_stack):
    settings = bot_stack.settings
    chat = WebChat(settings)
    try:
        chat.says("my power station stopped charging")
        assert chat.asked() == "order_number"

        early = chat.upload(PNG)  # sent with the paperclip before anything was asked for
        got = texts(chat.says("/upload_file" + json.dumps({"upload_id": early})))
        assert any("kept your file" in t for t in got), got
        assert sum("order number" in t.lower() for t in got) == 1, f"the question once more: {got}"
        assert chat.asked() == "order_number"

        chat.says("AK1000010")
        photo = None
        for _ in range(12):
            asked = chat.asked()
            if asked is None:
                break
            if asked == "evidence_provided":
                photo = chat.upload(JPEG)
                got = chat.says("/upload_file" + json.dumps({"upload_id": photo}))
                assert any("received your photo" in t for t in texts(got)), got
                continue
            assert asked in ANSWERS, f"unexpected question {asked}"
            got = chat.says(ANSWERS[asked])
        assert photo is not None, "WAR-7: the bot asked for the photo of the defect"
        preview = decisions(got)
        assert preview and preview[-1]["topic"] == "warranty" and preview[-1].get("case_id") is None, got
        assert chat.api.slots()["pending_confirmation"] == "warranty", got

        opened = decisions(chat.says("/affirm"))
        assert opened and opened[0]["case_id"].startswith("WAR-"), opened
        case_id = opened[0]["case_id"]
    finally:
        chat.close()

    evidence = SupportDatabase(settings.database_url).rows(
        "SELECT upload_id, kind, case_id FROM evidence WHERE conversation_id = ? ORDER BY id", chat.session_id
    )
    assert evidence == [
        {"upload_id": early, "kind": "file", "case_id": case_id},
        {"upload_id": photo, "kind": "defect", "case_id": case_id},
    ]
    staff = subprocess.run(
        [str(ROOT / ".venv-engine" / "bin" / "python"), "-m", "policy_engine", "evidence", "--case", case_id],
        cwd=ROOT,
        env=settings.child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert staff.returncode == 0, staff.stderr
    listed = json.loads(staff.stdout)
    assert [(f["upload_id"], f["kind"]) for f in listed["files"]] == [(early, "file"), (photo, "defect")]
    assert all(f["path"] and f["content_type"] in ("image/png", "image/jpeg") for f in listed["files"])
