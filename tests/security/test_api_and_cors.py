"""Findings 1 and 2: Rasa's HTTP API was open to anyone, and its CORS answered any origin.

Replayed: reading another customer's tracker, executing ``action_cancel_order`` in their conversation, deleting or
replacing the model, training, and rewriting the tracker's events; a preflight from a foreign origin. Each must be
refused without the API token, change nothing, and leave the bot answering.
"""

from __future__ import annotations

import pytest
import requests

from tests.dialogue.dialogue_client import verify

EVIL_ORIGIN = "http://evil.example"


def rasa(settings, path: str) -> str:
    return f"{settings.rasa_url}{path}"


def test_the_tracker_of_another_customer_cannot_be_read(settings, customer):
    customer.says("how many AnkerCredits do I have?")
    verify(customer, "AK1000008", "liam.rewards@example.com")
    url = rasa(settings, f"/conversations/{customer.sender}/tracker")
    for params in ({}, {"token": "wrong"}, {"token": ""}):
        response = requests.get(url, params=params, timeout=30)
        assert response.status_code == 401, (params, response.status_code)
        assert "liam" not in response.text and "AK1000008" not in response.text
    assert requests.get(url, params={"token": settings.secrets["RASA_API_TOKEN"]}, timeout=30).status_code == 200


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/conversations/{sender}/execute", {"name": "action_cancel_order"}),
        ("POST", "/conversations/{sender}/trigger_intent", {"name": "affirm"}),
        ("PUT", "/conversations/{sender}/tracker/events", []),
        ("POST", "/conversations/{sender}/tracker/events", {"event": "slot", "name": "verified", "value": True}),
        ("DELETE", "/model", None),
        ("PUT", "/model", {"model_file": "/tmp/nothing.tar.gz"}),
        ("POST", "/model/train", {}),
        ("POST", "/model/parse", {"text": "hi"}),
    ],
)
def test_api_calls_without_the_token_are_refused_and_change_nothing(settings, customer, method, path, body):
    customer.says("I want to cancel my order")
    before = customer.tracker()["events"]
    response = requests.request(method, rasa(settings, path.format(sender=customer.sender)), json=body, timeout=30)
    assert response.status_code == 401
    assert customer.tracker()["events"] == before, "nothing was written into the conversation"
    assert customer.says("hi").texts, "the bot still answers (the model is still loaded)"


def test_cors_answers_only_the_chat_pages_origin(settings):
    url = rasa(settings, "/conversations/someone/tracker")
    preflight = {"Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "content-type"}
    evil = requests.options(url, headers={"Origin": EVIL_ORIGIN, **preflight}, timeout=30)
    assert evil.headers.get("Access-Control-Allow-Origin") in (None, "")
    assert "*" not in evil.headers.get("Access-Control-Allow-Origin", "")
    page = requests.options(url, headers={"Origin": settings.web_origin, **preflight}, timeout=30)
    assert page.headers.get("Access-Control-Allow-Origin") == settings.web_origin


def test_the_session_endpoint_refuses_foreign_origins(settings):
    url = rasa(settings, "/webhooks/socketio/session")
    assert requests.post(url, headers={"Origin": EVIL_ORIGIN}, timeout=30).status_code == 403
    issued = requests.post(url, headers={"Origin": settings.web_origin}, timeout=30)
    assert issued.status_code == 200 and issued.json()["token"]
