"""The web chat's upload endpoint (issue 15, item 2) attacked as anyone on the internet could: no session, a forged
or another site's request, a file too large (refused before its body is read), a file whose name lies about its type,
names that try to leave the upload directory, a flood; and an upload id used from another conversation.  Against the
private stack of ``secure_stack`` (Rasa as ``make run`` starts it)."""

from __future__ import annotations

import json
import os
import socket
import stat
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tests.dialogue.dialogue_client import new_address

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(200)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj <<>> endobj\n" * 10


def web_session_token(rasa_url: str) -> str:
    """A session token as the chat page gets one, from an address of its own (new sessions are rate-limited per
    address: the other security tests must still get theirs)."""
    answer = requests.post(
        f"{rasa_url}/webhooks/socketio/session", headers={"X-Forwarded-For": new_address()}, timeout=30
    )
    answer.raise_for_status()
    return answer.json()["token"]


def upload_url(settings) -> str:
    return f"{settings.rasa_url}/webhooks/socketio/upload"


def upload_dir(settings) -> Path:
    return Path(settings.child_env()["UPLOAD_DIR"])


def post(settings, data: bytes, token: str | None = None, address: str | None = None, **headers):
    headers = {"Content-Type": "application/octet-stream", **headers}
    headers["X-Forwarded-For"] = address or new_address()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(upload_url(settings), data=data, headers=headers, timeout=30)


def files_in(settings) -> set[str]:
    directory = upload_dir(settings)
    return {p.name for p in directory.iterdir()} if directory.is_dir() else set()


def test_an_upload_is_stored_outside_the_web_root_for_the_tokens_conversation(settings):
    token = web_session_token(settings.rasa_url)
    answer = post(settings, PNG, token)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert set(body) == {"upload_id", "content_type", "size"} and body["content_type"] == "image/png"
    assert answer.headers.get("Cache-Control") == "no-store"
    directory = upload_dir(settings)
    stored = directory / f"{body['upload_id']}.bin"
    meta = json.loads((directory / f"{body['upload_id']}.json").read_text())
    assert stored.read_bytes() == PNG and meta["size"] == len(PNG)
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory).st_mode) & 0o077 == 0
    assert "web" not in directory.resolve().parts  # not under the chat page's directory
    # the token's conversation, whatever else the client says
    from chat_channels.session import SessionTokens

    assert meta["conversation_id"] == SessionTokens(settings.secrets["CHAT_SESSION_SECRET"]).session_id(token)
    # nothing serves it back
    for path in (f"/webhooks/socketio/upload/{body['upload_id']}", f"/uploads/{body['upload_id']}.bin"):
        assert requests.get(settings.rasa_url + path, timeout=10).status_code in (404, 405)
    assert requests.get(f"{settings.web_url}uploads/{body['upload_id']}.bin", timeout=10).status_code == 404


def test_no_session_or_a_forged_one_gets_401_and_nothing_is_stored(settings):
    before = files_in(settings)
    assert post(settings, PNG).status_code == 401
    assert post(settings, PNG, "not.a.token").status_code == 401
    forged = web_session_token(settings.rasa_url)[:-4] + "AAAA"
    assert post(settings, PNG, forged).status_code == 401
    assert post(settings, PNG, Authorization="Basic Zm9vOmJhcg==").status_code == 401
    assert files_in(settings) == before


def test_another_sites_page_is_refused(settings):
    token = web_session_token(settings.rasa_url)
    answer = post(settings, PNG, token, Origin="https://evil.example")
    assert answer.status_code == 403
    preflight = requests.options(
        upload_url(settings),
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=10,
    )
    assert preflight.headers.get("Access-Control-Allow-Origin") in (None, "")


def test_a_file_too_large_is_refused_before_its_body_is_read(settings):
    """413 on the declared length: the server answers while the client has sent only the headers."""
    token = web_session_token(settings.rasa_url)
    limit = int(settings.child_env().get("UPLOAD_MAX_BYTES") or 10 * 1024 * 1024)
    url = urlsplit(settings.rasa_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(
            (
                f"POST /webhooks/socketio/upload HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Authorization: Bearer {token}\r\nX-Forwarded-For: {new_address()}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {limit * 50}\r\n\r\n"
            ).encode()
            + PNG
        )
        started = time.monotonic()
        head = conn.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 413"), head[:200]
    assert time.monotonic() - started < 5


def test_a_streamed_body_past_the_limit_is_cut_off(settings):
    """A chunked body (no Content-Length) is refused with 411; a lying Content-Length is stopped at the limit."""
    token = web_session_token(settings.rasa_url)

    def chunks():
        yield PNG
        yield b"\x00" * 1024

    answer = requests.post(
        upload_url(settings),
        data=chunks(),
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": new_address()},
        timeout=30,
    )
    assert answer.status_code == 411


def test_the_type_is_the_bytes_not_the_name(settings):
    token = web_session_token(settings.rasa_url)
    address = new_address()
    html = b"<html><script>alert(1)</script></html>"
    refused = post(
        settings, html, token, address, **{"Content-Type": "image/png", "Content-Disposition": 'filename="r.png"'}
    )
    assert refused.status_code == 415
    exe = post(settings, b"MZ\x90\x00" + b"\x00" * 100, token, address)
    assert exe.status_code == 415
    video = post(settings, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100, token, address)
    assert video.status_code == 415  # videos are not accepted (README, "Security")
    pdf = post(settings, PDF, token, address, **{"Content-Type": "text/plain"})
    assert pdf.status_code == 201 and pdf.json()["content_type"] == "application/pdf"
    assert post(settings, b"", token, address).status_code == 415


def test_path_traversal_names_are_harmless(settings):
    token = web_session_token(settings.rasa_url)
    before = files_in(settings)
    answer = post(
        settings,
        PNG,
        token,
        **{"Content-Disposition": 'attachment; filename="../../../web/static/evil.png"', "X-Filename": "../../x"},
    )
    assert answer.status_code == 201
    upload_id = answer.json()["upload_id"]
    assert files_in(settings) - before == {f"{upload_id}.bin", f"{upload_id}.json"}
    root = Path(__file__).resolve().parents[2]
    assert not (root / "web" / "static" / "evil.png").exists()
    traversal = requests.post(
        f"{upload_url(settings)}/../../../etc/passwd",
        data=PNG,
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": new_address()},
        timeout=10,
    )
    assert traversal.status_code in (404, 405)


def test_uploads_are_rate_limited_per_conversation(settings):
    token = web_session_token(settings.rasa_url)
    statuses = [post(settings, PNG, token).status_code for _ in range(11)]  # fresh address each time
    assert statuses[:10] == [201] * 10 and statuses[10] == 429, statuses
