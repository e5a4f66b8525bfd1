"""Files a customer sends (issue 16): WAR-7's photo of a defect in a warranty claim, and a file that arrives while the
bot is asking something else.

An upload arrives as ``/upload_file{"upload_id": "..."}`` (the chat page after its upload, a messaging channel after
it downloaded the file); ``service.register_upload`` accepts only an upload of this conversation.

* Asked for it (the warranty form's ``evidence_provided``, the reseller claim's receipt and photo): the form's own
  validation registers it as ``defect`` / ``receipt`` evidence.
* Anything else (the order number was asked, another form is open, no form at all): ``hold_upload`` registers it as
  a ``file`` held for the conversation (linked to the next case the conversation opens, ``service/base.py``), says
  so (``utter_upload_kept``), and the open form asks its question again, once.  Nothing is lost.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from policy_engine.core.errors import InvalidRequest

from .replies import BackendUnavailable, call_service
from .service import get_service

UPLOAD_INTENT = "upload_file"


def sent_upload(tracker: Tracker) -> str | None:
    """The upload id of the latest message, when it is an upload (else None)."""
    message = tracker.latest_message or {}
    if (message.get("intent") or {}).get("name") != UPLOAD_INTENT:
        return None
    found = next((e.get("value") for e in message.get("entities") or [] if e.get("entity") == "upload_id"), None)
    return str(found or "")


def register(dispatcher: CollectingDispatcher, tracker: Tracker, upload_id: str, kind: str) -> bool:
    """Record the upload as this conversation's ``kind`` evidence; False after telling the customer why not."""
    try:
        result = call_service(dispatcher, _register, tracker.sender_id, upload_id, kind)
    except BackendUnavailable:
        return False
    if isinstance(result, InvalidRequest):  # an unknown id, or another conversation's: the same answer
        dispatcher.utter_message(response="utter_upload_not_found")
        return False
    return True


def _register(conversation_id: str, upload_id: str, kind: str) -> Any:
    try:
        return get_service().register_upload(conversation_id, upload_id, kind)
    except InvalidRequest as refused:  # not a backend failure: passed through call_service untouched
        return refused


def hold_upload(
    dispatcher: CollectingDispatcher, tracker: Tracker, takes_uploads: tuple[str, ...] = ()
) -> list[dict[str, Any]] | None:
    """In a form's validation: a file sent while the form asks for something else (not one of ``takes_uploads``) is
    held and the question asked again (the requested slot set to None counts as validated, so the form does not
    reject and asks it once more).  None when the message is not such a file."""
    upload_id = sent_upload(tracker)
    requested = tracker.get_slot(REQUESTED_SLOT)
    if upload_id is None or not requested or requested in takes_uploads:
        return None
    if any(slot in takes_uploads for slot in tracker.slots_to_validate()):
        return None  # the file answers one of the form's own upload questions
    keep(dispatcher, tracker, upload_id)
    return [SlotSet(requested, None), SlotSet(REQUESTED_SLOT, requested)]


def keep(dispatcher: CollectingDispatcher, tracker: Tracker, upload_id: str) -> None:
    if register(dispatcher, tracker, upload_id, "file"):
        dispatcher.utter_message(response="utter_upload_kept")


class HoldsUploads:
    """For a ``FormValidationAction`` without ``SupportFormValidation``'s run: the same holding of files."""

    takes_uploads: tuple[str, ...] = ()

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Any:
        held = hold_upload(dispatcher, tracker, self.takes_uploads)
        if held is not None:
            return held
        return await super().run(dispatcher, tracker, domain)  # type: ignore[misc]


class ActionKeepUpload(Action):
    """A file sent outside any form: held for the conversation, the customer told so."""

    def name(self) -> str:
        return "action_keep_upload"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        upload_id = sent_upload(tracker)
        if upload_id is not None:
            keep(dispatcher, tracker, upload_id)
        return []
