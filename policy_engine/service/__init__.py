"""Floor 2, the use cases: ``SupportService`` reads facts through the store, asks the core, writes cases and audit rows.

One module per topic (returns, cancellation, refunds, warranty, transit, credits, identity, staff operations); the
facade ``SupportService`` is what the action server and the command line call.
"""
from ..core.errors import InvalidRequest, NotVerified
from .support import STAFF_CONVERSATION, SupportService, decide_topic, utc_now

__all__ = ["InvalidRequest", "NotVerified", "STAFF_CONVERSATION", "SupportService", "decide_topic", "utc_now"]
