"""Uploaded files (issue 15, item 2; issue 16, item 5): a proof of purchase (WAR-9) or a photo of a defect (WAR-7).

What every channel does with a file a customer sends, the web chat's upload endpoint and the messaging apps alike:

1. **Bounded**: at most ``UPLOAD_MAX_BYTES`` (default 10 MiB); the web chat's endpoint refuses a larger declared
   ``Content-Length`` with 413 before reading the body, and stops reading a streamed body at the limit.
2. **Typed by its bytes**: JPEG, PNG, WebP, HEIC/HEIF or PDF, recognised by their magic bytes (``sniff``); the file's
   name and declared type are never trusted or stored.  Videos are not accepted (a clear reply says so; WAR-7's
   evidence is a photo, and a video can be mailed to support): their sizes would need a different storage tier.
3. **Stored outside the web root**: ``UPLOAD_DIR`` (default ``var/uploads``, created 0700), one file per upload named
   by a random id (``secrets.token_hex(16)``) with mode 0600, and beside it ``<id>.json``: the conversation that sent
   it, its type, size, SHA-256, channel and time.  Nothing in the chat page's directory, no URL serves it.
4. **Bound to the conversation**: the id goes into the conversation as ``/upload_file{"upload_id": "<id>"}``; the
   action server registers it through the service, which refuses an id whose ``<id>.json`` names another
   conversation (so an id seen or guessed by someone else is worth nothing), then links it to the case.

The ``<id>.json`` format is the contract with ``policy_engine/store/upload_files.py`` (the reader, in the other
virtual environment).  Production with several hosts: ``UPLOAD_DIR`` on a volume both the Rasa servers and the action
servers mount (docs/deploy.md).  Malware scanning is out of scope (README, "Security"): staff open the files with care.
Runs inside the Rasa server (.venv-rasa); imports nothing from the engine or the actions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path("var") / "uploads"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
UPLOAD_ID_RE = re.compile(r"[0-9a-f]{32}")

#: the bot's own replies about a file (no response of domain.yml applies: nothing was parsed)
TOO_LARGE = "That file is too large for me ({limit} MB at most). Could you send a smaller photo or a PDF?"
WRONG_TYPE = "I can only take a photo (JPEG, PNG, WebP, HEIC) or a PDF. Videos and other files can't be received here."
NOT_RECEIVED = "Sorry, I couldn't get that file. Could you send it again?"

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"}


def sniff(head: bytes) -> str | None:
    """The content type of a file from its first bytes (at least 16), or None when it is not one we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


@dataclass(frozen=True)
class StoredUpload:
    upload_id: str
    content_type: str
    size: int
    sha256: str


class UploadRefused(Exception):
    """A file that is not stored: ``status`` 413 (too large) or 415 (not a type we accept), and the reply."""

    def __init__(self, status: int, reply: str) -> None:
        super().__init__(reply)
        self.status = status
        self.reply = reply


class UploadStore:
    """Files in a directory outside the web root (``UPLOAD_DIR``)."""

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> UploadStore:
        e = os.environ if environ is None else environ
        directory = Path(e.get("UPLOAD_DIR", "").strip() or DEFAULT_DIR)
        max_bytes = int(e.get("UPLOAD_MAX_BYTES", "").strip() or DEFAULT_MAX_BYTES)
        if max_bytes <= 0:
            raise ValueError("UPLOAD_MAX_BYTES must be a positive number of bytes")
        return cls(directory, max_bytes)

    @property
    def limit_mb(self) -> str:
        return f"{self.max_bytes / (1024 * 1024):g}"

    def too_large(self) -> UploadRefused:
        return UploadRefused(413, TOO_LARGE.format(limit=self.limit_mb))

    def check(self, data: bytes) -> str:
        """The content type of ``data``, or ``UploadRefused``."""
        if len(data) > self.max_bytes:
            raise self.too_large()
        content_type = sniff(data[:32])
        if not data or content_type is None:
            raise UploadRefused(415, WRONG_TYPE)
        return content_type

    def save(self, conversation_id: str, data: bytes, *, channel: str) -> StoredUpload:
        """Store ``data`` for ``conversation_id`` (checked first); the file and its ``.json`` are written 0600, the
        ``.json`` last (a reader sees an upload only once both are complete)."""
        content_type = self.check(data)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        upload_id = secrets.token_hex(16)
        digest = hashlib.sha256(data).hexdigest()
        _write_new(self.directory / f"{upload_id}.bin", data)
        meta = {
            "upload_id": upload_id,
            "conversation_id": conversation_id,
            "content_type": content_type,
            "size": len(data),
            "sha256": digest,
            "channel": channel,
            "received_at": int(time.time()),
        }
        _write_new(self.directory / f"{upload_id}.json", json.dumps(meta).encode("utf-8"))
        return StoredUpload(upload_id, content_type, len(data), digest)


def _write_new(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def upload_message(upload_id: str) -> str:
    """The message that tells the assistant about a stored upload (intent ``upload_file``, entity ``upload_id``)."""
    return "/upload_file" + json.dumps({"upload_id": upload_id})


def describe(stored: StoredUpload) -> dict[str, Any]:
    """What the uploader is told: the id (for its ``/upload_file`` message), type and size; never a path."""
    return {"upload_id": stored.upload_id, "content_type": stored.content_type, "size": stored.size}
