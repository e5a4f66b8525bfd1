"""``forget --email X`` for warranty claims of purchases elsewhere (issue 15, item 2), called by ``forget.py``:

* the conversations that asked for a code to X (``email_verifications``) or opened a claim under X
  (``purchase_claims``) join the conversations to forget (their Rasa events are deleted with the others);
* the code requests of those conversations or to X are deleted;
* the claims are kept (business records) and anonymised: the email becomes ``forgotten-claim-<id>@invalid``, the
  defect text and the serial number are erased, the conversation id anonymised, the stored decision scrubbed;
* the uploaded files of those conversations (receipts and photos: personal data) are deleted, rows and files; the
  files only after the database committed (``delete_upload_files``), so a failed run deletes nothing.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, or_, select
from sqlalchemy.orm import Session

from .evidence_models import EmailVerificationRow, EvidenceRow, PurchaseClaimRow
from .upload_files import UploadFiles


def _count(session: Session, statement: Any) -> int:
    return cast("CursorResult[Any]", session.execute(statement)).rowcount or 0


def purchase_conversations(session: Session, email: str) -> set[str]:
    found = set(
        session.scalars(select(EmailVerificationRow.conversation_id).where(EmailVerificationRow.email == email))
    )
    found |= set(
        session.scalars(select(PurchaseClaimRow.conversation_id).where(func.lower(PurchaseClaimRow.email) == email))
    )
    return found


def erase_purchase_rows(
    session: Session, email: str, conversations: set[str], *, anonymise: Any, scrub: Any, erased: str
) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """(deleted counts, anonymised counts, upload ids whose files to delete after the commit)."""
    chunks = [sorted(conversations)[i : i + 500] for i in range(0, len(conversations), 500)]
    codes = [EmailVerificationRow.email == email] + [EmailVerificationRow.conversation_id.in_(c) for c in chunks]
    deleted_codes = _count(session, delete(EmailVerificationRow).where(or_(*codes)))

    claims = [func.lower(PurchaseClaimRow.email) == email] + [PurchaseClaimRow.conversation_id.in_(c) for c in chunks]
    count = 0
    for claim in session.scalars(select(PurchaseClaimRow).where(or_(*claims))):
        claim.email = f"forgotten-claim-{claim.id}@invalid"
        claim.defect = erased
        claim.serial_number = None
        claim.conversation_id = anonymise(claim.conversation_id)
        claim.decision = scrub(claim.decision, email)
        count += 1

    uploads: list[str] = []
    deleted_evidence = 0
    for chunk in chunks:
        uploads += list(session.scalars(select(EvidenceRow.upload_id).where(EvidenceRow.conversation_id.in_(chunk))))
        deleted_evidence += _count(session, delete(EvidenceRow).where(EvidenceRow.conversation_id.in_(chunk)))
    return (
        {"email_verifications": deleted_codes, "evidence": deleted_evidence},
        {"purchase_claims": count},
        uploads,
    )


def delete_upload_files(upload_ids: list[str], files: UploadFiles | None = None) -> int:
    """Delete the uploads' files and metadata (``UPLOAD_DIR``); the number of uploads whose file was there."""
    files = files or UploadFiles.from_env()
    removed = 0
    for upload_id in upload_ids:
        try:
            path = files.path(upload_id)
        except ValueError:
            continue
        if path.exists():
            removed += 1
        path.unlink(missing_ok=True)
        path.with_suffix(".json").unlink(missing_ok=True)
    return removed
