"""Web chat session credentials: the server picks the conversation id and signs it (issue 12, finding 3).

``POST /webhooks/socketio/session`` (``webchat.WebChatInput``) issues a JWT (HS256, PyJWT) whose ``sub`` is a fresh
random conversation id. The page passes it when it opens the socket (``?token=`` or socket.io's ``auth.token``); the
channel accepts the connection only with a valid, unexpired token and from then on uses the token's ``sub`` as the
conversation id, whatever session id the client sends. Knowing someone's conversation id is therefore worth
nothing: it cannot be joined, read or written without the signed token that carries it.

``CHAT_SESSION_SECRET`` (at least 32 characters) signs the tokens; ``CHAT_SESSION_HOURS`` (default 12) bounds them.
Rotating the secret ends every open web chat session (the page asks for a new one and starts a new conversation).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
AUDIENCE = "support-webchat"


@dataclass(frozen=True)
class SessionTokens:
    secret: str
    lifetime_seconds: int = 12 * 3600

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SessionTokens:
        secret = environ.get("CHAT_SESSION_SECRET", "").strip()
        if len(secret) < 32:
            raise ValueError("CHAT_SESSION_SECRET must be set to at least 32 characters (make run generates one)")
        hours = float(environ.get("CHAT_SESSION_HOURS", "").strip() or 12)
        return cls(secret, int(hours * 3600))

    def issue(self, now: float | None = None) -> dict[str, Any]:
        issued = int(time.time() if now is None else now)
        session_id = secrets.token_hex(16)
        claims = {"sub": session_id, "aud": AUDIENCE, "iat": issued, "exp": issued + self.lifetime_seconds}
        return {
            "token": jwt.encode(claims, self.secret, algorithm=ALGORITHM),
            "session_id": session_id,
            "expires_at": claims["exp"],
        }

    def session_id(self, token: Any) -> str | None:
        """The conversation id the token was issued for, or None (missing, forged, expired, malformed)."""
        if not isinstance(token, str) or not token or len(token) > 1024:
            return None
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["sub", "exp", "iat", "aud"]},
            )
        except jwt.PyJWTError:
            return None
        sub = claims.get("sub")
        return sub if isinstance(sub, str) and len(sub) == 32 else None
