"""The rendering of the bot's messages per platform (chat_channels/render.py and render_meta.py, standard library
only): limits, splits, buttons, decisions. The stack-level tests show the same calls arriving at the platforms' stub."""

from __future__ import annotations

import pytest

from chat_channels import render, render_meta

DECISION = {
    "decision": {
        "topic": "return",
        "outcome": "approved",
        "reasons": ["RET-1"],
        "clauses": ["RET-1", "RET-6"],
        "case_id": "RET-000042",
        "policy_version": "2025.1",
        "missing": [],
        "next_steps": [],
    }
}
BUTTONS = [
    {"title": t, "payload": f"/p{i}"}
    for i, t in enumerate(
        [
            "Return an item",
            "Cancel an order",
            "Where is my refund?",
            "Warranty claim",
            "Lost or damaged parcel",
            "My AnkerCredits balance",
            "Talk to a person",
        ]
    )
]


# ---- text ----------------------------------------------------------------------------------------------------------


def test_split_text_keeps_short_texts_whole_and_cuts_long_ones_at_paragraphs_lines_words():
    assert render.split_text("  hello  ", 10) == ["hello"]
    assert render.split_text("", 10) == []
    text = "first paragraph.\n\nsecond one is here"
    assert render.split_text(text, 20) == ["first paragraph.", "second one is here"]
    assert render.split_text("aaaa bbbb cccc dddd", 10) == ["aaaa bbbb", "cccc dddd"]
    assert render.split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize("limit", [2000, 3000, 4096])
def test_split_text_never_exceeds_the_limit_and_loses_no_word(limit):
    words = [f"word{i}" for i in range(3000)]
    text = " ".join(words[:1000]) + "\n\n" + "\n".join(words[1000:2000]) + " " + " ".join(words[2000:])
    pieces = render.split_text(text, limit)
    assert len(pieces) > 1
    assert all(0 < len(p) <= limit for p in pieces)
    assert " ".join(pieces).split() == words


def test_telegram_counts_utf16_units():
    text = "\U0001f50c" * 3000  # an emoji outside the BMP: two UTF-16 units each
    pieces = render.split_text(text, 4096, render.utf16_units)
    assert [render.utf16_units(p) for p in pieces] == [4096, 1904]


def test_clip_shortens_labels_with_an_ellipsis():
    assert render.clip("Where is my refund?", 20) == "Where is my refund?"
    assert render.clip("My AnkerCredits balance", 20) == "My AnkerCredits bal\u2026"
    assert len(render.clip("x" * 50, 20)) == 20


def test_a_decision_becomes_one_line_with_the_case_number():
    assert render.decision_summary(DECISION) == "Case RET-000042: return approved (policy RET-1, RET-6)"
    preview = {"decision": {**DECISION["decision"], "case_id": None, "outcome": "needs_review"}}
    assert render.decision_summary(preview) == "Return: needs review (policy RET-1, RET-6)"
    assert render.decision_summary({"something": "else"}) is None
    assert render.decision_summary(None) is None


# ---- Telegram ------------------------------------------------------------------------------------------------------


def test_telegram_long_text_with_buttons_puts_the_keyboard_on_the_last_piece():
    text = ("para " * 700).strip() + "\n\n" + ("more " * 300).strip()
    calls = render.telegram(7, [{"text": text, "buttons": BUTTONS[:2]}, {"custom": DECISION}])
    assert [m for m, _ in calls] == ["sendMessage"] * 3
    assert [len(b["text"]) for _, b in calls[:2]] == [3499, 1499]
    assert "reply_markup" not in calls[0][1]
    assert calls[1][1]["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Return an item", "callback_data": "/p0"}],
            [{"text": "Cancel an order", "callback_data": "/p1"}],
        ]
    }
    assert calls[2][1] == {"chat_id": 7, "text": "Case RET-000042: return approved (policy RET-1, RET-6)"}


def test_telegram_maps_long_payloads_and_sends_images():
    long = '/inform{"order_line":"' + "9" * 80 + '"}'
    calls = render.telegram(
        7,
        [{"image": "https://example.com/a.png"}, {"buttons": [{"title": "A", "payload": long}]}],
        lambda p: "#short" if len(p) > 64 else p,
    )
    assert calls[0] == ("sendPhoto", {"chat_id": 7, "photo": "https://example.com/a.png"})
    assert calls[1][1]["text"] == render.CHOOSE
    assert calls[1][1]["reply_markup"]["inline_keyboard"] == [[{"text": "A", "callback_data": "#short"}]]


# ---- WhatsApp ------------------------------------------------------------------------------------------------------


def test_whatsapp_up_to_three_buttons_are_reply_buttons():
    calls = render_meta.whatsapp("15551234567", [{"text": "Is it faulty?", "buttons": BUTTONS[:3]}])
    assert calls == [
        (
            "messages",
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "15551234567",
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": "Is it faulty?"},
                    "action": {
                        "buttons": [
                            {"type": "reply", "reply": {"id": "/p0", "title": "Return an item"}},
                            {"type": "reply", "reply": {"id": "/p1", "title": "Cancel an order"}},
                            {"type": "reply", "reply": {"id": "/p2", "title": "Where is my refund?"}},
                        ]
                    },
                },
            },
        )
    ]


def test_whatsapp_more_than_three_buttons_become_a_list_with_full_titles_in_the_description():
    (call,) = render_meta.whatsapp("15551234567", [{"text": "Hi!", "buttons": BUTTONS}])
    interactive = call[1]["interactive"]
    assert interactive["type"] == "list"
    assert interactive["body"] == {"text": "Hi!"}
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [f"/p{i}" for i in range(7)]
    assert all(len(r["title"]) <= 24 for r in rows)
    assert rows[5] == {"id": "/p5", "title": "My AnkerCredits balance"}
    assert interactive["action"]["button"] == "Choose"


def test_whatsapp_long_text_before_buttons_keeps_the_body_under_1024():
    for words in (1000, 1100):  # 4999 characters: 4096 + the rest; 5499: 4096, then 1024 and the rest
        text = ("word " * words).strip()
        calls = render_meta.whatsapp("1", [{"text": text, "buttons": BUTTONS[:2]}])
        kinds = [b["type"] for _, b in calls]
        assert kinds == ["text"] * (len(calls) - 1) + ["interactive"] and len(calls) == (2 if words == 1000 else 3)
        assert all(len(b["text"]["body"]) <= 4096 for _, b in calls[:-1])
        assert len(calls[-1][1]["interactive"]["body"]["text"]) <= 1024
        rebuilt = " ".join([b["text"]["body"] for _, b in calls[:-1]] + [calls[-1][1]["interactive"]["body"]["text"]])
        assert rebuilt.split() == text.split()


def test_whatsapp_text_decision_and_image():
    calls = render_meta.whatsapp("1", [{"text": "Done!", "custom": DECISION}, {"image": "https://example.com/a.png"}])
    assert [b["type"] for _, b in calls] == ["text", "text", "image"]
    assert calls[1][1]["text"] == {
        "body": "Case RET-000042: return approved (policy RET-1, RET-6)",
        "preview_url": False,
    }
    assert calls[2][1]["image"] == {"link": "https://example.com/a.png"}


# ---- Messenger -----------------------------------------------------------------------------------------------------


def test_messenger_quick_replies_on_the_last_piece_of_2000():
    text = ("word " * 500).strip()  # 2499 characters
    calls = render_meta.messenger("psid-1", [{"text": text, "buttons": BUTTONS}])
    assert [m for m, _ in calls] == ["me/messages", "me/messages"]
    first, last = (b["message"] for _, b in calls)
    assert len(first["text"]) <= 2000 and "quick_replies" not in first
    assert [q["payload"] for q in last["quick_replies"]] == [f"/p{i}" for i in range(7)]
    assert all(len(q["title"]) <= 20 and q["content_type"] == "text" for q in last["quick_replies"])
    assert calls[0][1]["recipient"] == {"id": "psid-1"} and calls[0][1]["messaging_type"] == "RESPONSE"


def test_messenger_at_most_13_quick_replies():
    many = [{"title": f"Option {i}", "payload": f"/o{i}"} for i in range(20)]
    (call,) = render_meta.messenger("p", [{"text": "Pick", "buttons": many}])
    assert len(call[1]["message"]["quick_replies"]) == 13


# ---- Slack ---------------------------------------------------------------------------------------------------------


def test_slack_pieces_of_3000_with_the_buttons_under_the_last():
    text = ("word " * 700).strip()  # 3499 characters
    calls = render.slack("D024BE91L", [{"text": text, "buttons": BUTTONS[:2]}, {"custom": DECISION}])
    assert [m for m, _ in calls] == ["chat.postMessage"] * 3
    first, second, third = (b for _, b in calls)
    assert [b["type"] for b in first["blocks"]] == ["section"] and len(first["text"]) <= 3000
    assert [b["type"] for b in second["blocks"]] == ["section", "actions"]
    assert second["blocks"][1]["elements"][1] == {
        "type": "button",
        "action_id": "choice-1",
        "value": "/p1",
        "text": {"type": "plain_text", "text": "Cancel an order", "emoji": True},
    }
    assert (first["text"] + " " + second["text"]).split() == text.split()
    assert third["text"] == "Case RET-000042: return approved (policy RET-1, RET-6)"
    assert all(b["channel"] == "D024BE91L" for _, b in calls)


def test_slack_more_than_25_buttons_take_two_action_blocks():
    many = [{"title": f"Option {i}", "payload": f"/o{i}"} for i in range(30)]
    (call,) = render.slack("D1", [{"text": "Pick", "buttons": many}])
    assert [len(b["elements"]) for b in call[1]["blocks"] if b["type"] == "actions"] == [25, 5]
    ids = [e["action_id"] for b in call[1]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(set(ids)) == 30


# ---- Twilio (WhatsApp) ---------------------------------------------------------------------------------------------


def test_twilio_numbers_the_buttons_across_the_turn_and_cuts_at_1600():
    bodies = render.twilio(
        "whatsapp:+15551234567",
        "whatsapp:+14155238886",
        [
            {"text": "Which item?", "buttons": BUTTONS[:2]},
            {"text": "Or else", "buttons": BUTTONS[2:3]},
            {"custom": DECISION},
            {"text": ("word " * 400).strip()},
        ],
    )
    assert bodies[0] == {
        "From": "whatsapp:+14155238886",
        "To": "whatsapp:+15551234567",
        "Body": "Which item?\n\n1. Return an item\n2. Cancel an order\nReply with a number.",
    }
    assert bodies[1]["Body"] == "Or else\n\n3. Where is my refund?\nReply with a number."
    assert bodies[2]["Body"] == "Case RET-000042: return approved (policy RET-1, RET-6)"
    assert [len(b["Body"]) <= 1600 for b in bodies[3:]] == [True, True]
    assert len(bodies) == 5


def test_whatsapp_a_user_known_only_by_a_bsuid_is_addressed_with_recipient():
    # https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/ ("recipient"
    # takes a BSUID or parent BSUID; "to" a phone number)
    for bsuid in ("US.13491208655302741918", "US.ENT.11815799212886844830"):
        (call,) = render_meta.whatsapp(bsuid, [{"text": "Hi!"}])
        assert call[1]["recipient"] == bsuid and "to" not in call[1]
    (call,) = render_meta.whatsapp("15551234567", [{"text": "Hi!"}])
    assert call[1]["to"] == "15551234567" and "recipient" not in call[1]
