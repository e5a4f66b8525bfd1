"""Every error the core and the service raise on purpose, in one module (no SQLAlchemy, no Rasa).

* ``PolicyError``: the policy file is missing, unreadable or has a bad value (``policy.load_policy``).
* ``InvalidRequest``: request facts that cannot be decided; nothing is changed (every ``decide_*`` function, the
  service's input checks, the refund transitions in ``refunds.py``).
* ``NotVerified`` (RET-4): this conversation holds no unexpired verification grant for the order; nothing is disclosed.

The actions catch them by type (``actions/replies.py``), imported from here or from ``policy_engine.service``.
"""

from __future__ import annotations

__all__ = ["PolicyError", "InvalidRequest", "NotVerified"]


class PolicyError(ValueError):
    """The policy file is missing, unreadable or has a bad value; the message names the key."""


class InvalidRequest(ValueError):
    """Request facts that cannot be decided (bad line, quantity, naive time...). Nothing is changed."""


class NotVerified(Exception):
    """No unexpired verification grant of this conversation covers this order. Nothing is disclosed."""
