"""Finding 12: personal data in logs and files.

Replayed: a customer types an email, an order number and a serial number, a malformed ``/intent{...}`` message
(Rasa's "Failed to parse arguments" warning logged the raw text), and verifies. No log line of any server holds them;
the databases, the generated secrets and the logs are readable by their owner only.
"""

from __future__ import annotations

import stat
from pathlib import Path

from chat_channels.privacy import mask
from tests.dialogue.dialogue_client import verify

ROOT = Path(__file__).resolve().parents[2]

SECRET_WORDS = (
    "emma.twenty",
    "AK1000003",
    "secret.person@example.org",
    "AK7654321",
    "QWERTY1234567890",
    "kept private",
)


def test_nothing_personal_reaches_the_logs(secure_stack, customer):
    customer.says('/request_return{"email": "secret.person@example.org AK7654321 kept private')
    customer.says("my serial is QWERTY1234567890 and it is kept private")
    customer.says("I want to return my order")
    verify(customer, "AK1000003", "emma.twenty@example.com")
    logs = {
        path.name: path.read_text(encoding="utf-8", errors="replace") for path in secure_stack.log_dir.glob("*.log")
    }
    assert {"rasa.log", "actions.log"} <= set(logs), sorted(logs)
    assert "Failed to parse arguments" in logs["rasa.log"], "the warning that used to carry the text still comes"
    for name, text in logs.items():
        for word in SECRET_WORDS:
            assert word.lower() not in text.lower(), f"{word!r} in {name}"
    for secret in secure_stack.settings.secrets.values():
        assert all(secret not in text for text in logs.values()), "no secret in a log"


def test_files_are_private_to_their_owner(secure_stack, customer):
    customer.says("hi")
    settings = secure_stack.settings
    paths = [Path(url[len("sqlite:///") :]) for url in (settings.database_url, settings.tracker_store_url)]
    paths += [settings.var_dir / "secrets.env", *secure_stack.log_dir.glob("*.log")]
    for path in paths:
        assert path.exists(), path
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.name} is {oct(mode)}"


def test_the_mask_hides_each_kind_of_personal_data():
    line = (
        'Failed to parse arguments in line \'/inform{"email": "jane@x.org\'. Continuing without {"email": '
        '"jane@x.org. order ak 1234567 serial ABCD1234EFGH5678 Bearer abc.def token=xyz '
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl " + "k" * 43
    )
    masked = mask(line)
    for leaked in ("jane", "1234567", "ABCD1234EFGH5678", "abc.def", "xyz", "eyJ", "k" * 43):
        assert leaked not in masked, (leaked, masked)
    assert mask("conversation 5ae24960a8bafb9340c68c64b28cabd5") == "conversation 5ae24960a8bafb9340c68c64b28cabd5"
