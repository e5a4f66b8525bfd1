"""Reading the files the channels stored (``chat_channels/uploads.py`` writes them; this is the other side of that
contract, in the engine's environment): ``<UPLOAD_DIR>/<upload_id>.bin`` and its ``<upload_id>.json`` (the
conversation that sent it, type, size, SHA-256, channel, time).  An upload id is 32 lower-case hex characters; anything
else is refused before a path is built, so no id can name a file outside the directory."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path("var") / "uploads"
UPLOAD_ID_RE = re.compile(r"[0-9a-f]{32}")
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf")


@dataclass(frozen=True)
class UploadMeta:
    upload_id: str
    conversation_id: str
    content_type: str
    size: int
    sha256: str
    channel: str
    received_at: datetime


class UploadFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> UploadFiles:
        e = os.environ if environ is None else environ
        return cls(Path(e.get("UPLOAD_DIR", "").strip() or DEFAULT_DIR))

    def meta(self, upload_id: object) -> UploadMeta | None:
        """The upload's metadata, or None (not a valid id, no such upload, unreadable or malformed metadata)."""
        if not isinstance(upload_id, str) or not UPLOAD_ID_RE.fullmatch(upload_id):
            return None
        try:
            raw: Any = json.loads((self.directory / f"{upload_id}.json").read_text(encoding="utf-8"))
            meta = UploadMeta(
                upload_id=str(raw["upload_id"]),
                conversation_id=str(raw["conversation_id"]),
                content_type=str(raw["content_type"]),
                size=int(raw["size"]),
                sha256=str(raw["sha256"]),
                channel=str(raw["channel"])[:40],
                received_at=datetime.fromtimestamp(int(raw["received_at"]), timezone.utc),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if meta.upload_id != upload_id or meta.content_type not in CONTENT_TYPES or meta.size <= 0:
            return None
        return meta

    def path(self, upload_id: str) -> Path:
        if not UPLOAD_ID_RE.fullmatch(upload_id):
            raise ValueError("not an upload id")
        return self.directory / f"{upload_id}.bin"
