"""Floor 2, the use cases: ``SupportService`` reads facts through the store, asks the core, writes cases and audit rows.

One module per topic (``identity``, ``orders``, ``claims``, ``staff``) over the plumbing of ``base``; the facade
``SupportService`` (``support``) is what the action server and the command line call.
"""

from ..core.errors import InvalidRequest, NotVerified
from ..core.topics import decide_topic
from ..store.identity import Verification
from .base import utc_now
from .identity import LineOverview, OrderOverview
from .staff import STAFF_CONVERSATION
from .support import SupportService

__all__ = [
    "InvalidRequest",
    "LineOverview",
    "NotVerified",
    "OrderOverview",
    "STAFF_CONVERSATION",
    "SupportService",
    "Verification",
    "decide_topic",
    "utc_now",
]
