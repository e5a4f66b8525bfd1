"""Issue 12, finding 5 (and the action server's part of 11): only Rasa may call the action server.

The real server (``python -m actions.server``) on a free loopback port, on its own demo database: without the shared
token (header ``X-Action-Token``) every route but ``GET /health`` is refused with 401 and nothing runs; the body is
bounded (413 before parsing) and malformed calls get a 400 with a JSON error, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zlib

import pytest

from tests.security.action_server_support import (
    OLIVIA,
    ROOT,
    ActionServer,
    Conversation,
    action_call,
    copy_database,
    faq_call,
    prepare_database,
    row_counts,
)

LIMIT = 4 * 1024 * 1024  # actions/server.py DEFAULT_MAX_BODY


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    return prepare_database(tmp_path_factory.mktemp("action-server-template"))


@pytest.fixture(scope="module")
def server(template_db, tmp_path_factory):
    directory = tmp_path_factory.mktemp("action-server")
    server = ActionServer(copy_database(template_db, directory), directory).start()
    yield server
    server.stop()


# ---------------------------------------------------------------------------------------------------- start-up


@pytest.mark.parametrize("token", [None, "", "x" * 31])
def test_refuses_to_start_without_a_long_enough_token(tmp_path, token):
    env = {k: v for k, v in __import__("os").environ.items() if k != "ACTION_SERVER_TOKEN"}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/none.db", SANIC_HOST="127.0.0.1")
    if token is not None:
        env["ACTION_SERVER_TOKEN"] = token
    result = subprocess.run(
        [sys.executable, "-m", "actions.server", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "ACTION_SERVER_TOKEN" in result.stderr and "32" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "none.db").exists()  # refused before anything touched the database


def test_importing_the_module_does_no_io(tmp_path):
    code = "import actions.server, actions; print('ok')"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/never.db", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "never.db").exists()


# ---------------------------------------------------------------------------------------------------- the token


def test_health_needs_no_token_and_discloses_nothing(server):
    reply = server.get("/health", token=None)
    assert reply.status == 200 and reply.json == {"status": "ok"}


def test_a_call_without_the_token_is_refused_and_nothing_runs(server):
    customer = Conversation(server).pending_cancellation(OLIVIA)  # verified, waiting for "yes"
    before = row_counts(server.db)
    stranger = Conversation(server)
    for sent in (
        None,
        "wrong",
        "x" * 43,
        server.token[:-1],
        server.token + "x",
        f"Bearer {server.token}",
        server.token.upper(),
    ):
        for call in (
            customer.call("action_cancel_order"),
            stranger.call("validate_cancel_form", dict(OLIVIA), active_loop="cancel_form"),
            stranger.call("validate_cancel_form", {**OLIVIA, "email": "guess@example.com"}, active_loop="cancel_form"),
            faq_call(),
        ):
            reply = server.webhook(call, token=sent)
            assert reply.status == 401, reply.body
            assert reply.json == {"error": "unauthorized"}
        assert server.get("/actions", token=sent).status == 401
    assert row_counts(server.db) == before  # no case, no verification attempt, no audit row
    assert (
        server.request(
            "POST",
            "/webhook?token=" + server.token,
            json.dumps(customer.call("action_cancel_order")).encode(),
            token=None,
        ).status
        == 401
    )  # only the header counts
    assert row_counts(server.db) == before

    reply = customer.run("action_cancel_order")  # the same call from Rasa, with the token: the case
    assert reply.status == 200 and reply.responses == ["utter_case_opened"]
    assert row_counts(server.db)["cancellations"] == before["cancellations"] + 1


def test_a_valid_call_works(server):
    reply = server.webhook(faq_call())
    assert reply.status == 200
    assert reply.responses == ["utter_faq/return_window"]
    assert server.get("/actions").status == 200


# ---------------------------------------------------------------------------------------------------- bodies


def test_a_body_over_the_limit_is_refused_before_parsing(server):
    before = row_counts(server.db)
    reply = server.announce_body(LIMIT + 1)  # answered from the head alone: the body is never received
    assert reply.status == 413 and reply.json == {"error": "request body too large"}
    reply = server.announce_body(100 * 1024 * 1024)
    assert reply.status == 413
    # a deflate body that inflates past the limit (Rasa's COMPRESS_ACTION_SERVER_REQUEST) is refused too
    bomb = zlib.compress(b" " * (LIMIT * 4))
    reply = server.request("POST", "/webhook", bomb, headers={"Content-Encoding": "deflate"})
    assert reply.status == 413
    assert row_counts(server.db) == before
    assert server.get("/health").status == 200


def test_a_long_conversation_fits_the_limit(server):
    """Rasa sends every event since the session started plus the domain: 300 turns of realistic size (a user
    message with its full parse data, the bot's messages with decision payloads, actions and slots) stay well below
    the limit."""
    ranking = [{"name": f"intent_{i}", "confidence": 0.01} for i in range(10)]
    selector_ranking = [
        {"intent_response_key": f"faq/key_{i}", "confidence": 0.01, "id": -1234567890123456789} for i in range(10)
    ]
    turn = [
        {
            "event": "user",
            "text": "x" * 300,
            "timestamp": 1.0,
            "input_channel": "rest",
            "message_id": "a" * 32,
            "metadata": {"client": "c" * 64},
            "parse_data": {
                "intent": {"name": "inform", "confidence": 0.9},
                "intent_ranking": ranking,
                "text": "x" * 300,
                "entities": [
                    {
                        "entity": "order_number",
                        "value": "AK1000001",
                        "start": 0,
                        "end": 9,
                        "extractor": "RegexEntityExtractor",
                        "processors": [],
                    }
                ],
                "response_selector": {
                    k: {
                        "response": {
                            "responses": [{"text": "y" * 300}],
                            "confidence": 0.5,
                            "intent_response_key": f"{k}/key",
                            "utter_action": "u",
                        },
                        "ranking": selector_ranking,
                    }
                    for k in ("all_retrieval_intents", "faq", "credits_faq")
                },
            },
        },
        {"event": "user_featurization", "timestamp": 1.0, "use_text_for_featurization": False},
        *[
            {
                "event": "action",
                "name": "validate_return_form",
                "timestamp": 1.0,
                "policy": "RulePolicy",
                "confidence": 1.0,
                "action_text": None,
                "hide_rule_turn": False,
            }
            for _ in range(3)
        ],
        *[{"event": "slot", "name": f"slot_{i}", "value": "v" * 20, "timestamp": 1.0} for i in range(5)],
        *[
            {
                "event": "bot",
                "text": "z" * 400,
                "timestamp": 1.0,
                "metadata": {"utter_action": "utter_x"},
                "data": {
                    "custom": {
                        "decision": {
                            "topic": "return",
                            "reasons": ["r"] * 5,
                            "clauses": ["RET-1"] * 5,
                            "values": {"v": "w" * 200},
                        }
                    }
                },
            }
            for _ in range(2)
        ],
    ]
    call = faq_call()
    call["tracker"]["events"] = turn * 300 + call["tracker"]["events"]
    size = len(json.dumps(call).encode())
    assert size < LIMIT * 0.75, size
    reply = server.webhook(call)
    assert reply.status == 200 and reply.responses == ["utter_faq/return_window"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[1, 2]",
        b"42",
        b'"text"',
        b"null",
        b"{bad json",
        b"\xff\xfe",
        b"{}",
        b'{"next_action": "action_answer_faq"}',
        b'{"next_action": "action_answer_faq", "tracker": []}',
        b'{"next_action": "action_answer_faq", "tracker": {}}',
        b'{"next_action": 5, "tracker": {"sender_id": "a"}}',
        b'{"next_action": "action_answer_faq", "tracker": {"sender_id": "a"}, "domain": [1]}',
    ],
)
def test_malformed_calls_get_400_json_without_a_traceback(server, body):
    reply = server.request("POST", "/webhook", body)
    assert reply.status == 400, reply.body
    assert reply.headers["content-type"].startswith("application/json")
    error = reply.json["error"]
    assert isinstance(error, str) and "Traceback" not in error and "File " not in error
    assert set(reply.json) == {"error"}  # nothing of the request echoed


def test_an_unknown_action_and_a_broken_tracker_leak_nothing(server):
    reply = server.webhook(action_call("action_does_not_exist", "a", {}))
    assert reply.status == 404 and "Traceback" not in reply.body.decode()
    call = action_call("validate_cancel_form", "a", {}, new_slots=dict(OLIVIA), active_loop="cancel_form")
    call["tracker"]["slots"] = ["not", "a", "mapping"]
    reply = server.webhook(call)
    assert reply.status in (400, 500)
    assert set(reply.json) == {"error"} and "Traceback" not in reply.body.decode()
    assert server.get("/health").status == 200
