"""The evidence customers upload (WAR-7, WAR-9): an upload the channel stored becomes this conversation's receipt or
defect evidence, and the files of a case for staff."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core.errors import InvalidRequest
from ..store.db import unit_of_work
from ..store.evidence_models import EvidenceRow
from ..store.identity import check_conversation_id
from ..store.upload_files import UploadFiles
from .base import ServiceBase

logger = logging.getLogger(__name__)

#: a proof of purchase (WAR-9), a photo of the defect (WAR-7), a file sent while another question was asked (held)
EVIDENCE_KINDS = ("receipt", "defect", "file")


@dataclass(frozen=True)
class Evidence:
    upload_id: str
    kind: str
    content_type: str
    size: int
    sha256: str
    channel: str
    received_at: datetime
    case_id: str | None
    path: Path | None = None  # staff only (evidence_for_case)


def evidence_of(row: EvidenceRow, path: Path | None = None) -> Evidence:
    return Evidence(
        row.upload_id,
        row.kind,
        row.content_type,
        row.size_bytes,
        row.sha256,
        row.channel,
        row.received_at,
        row.case_id,
        path,
    )


class EvidenceUseCases(ServiceBase):
    _upload_files: UploadFiles | None = None

    @property
    def upload_files(self) -> UploadFiles:
        """Where the channels store uploads (``UPLOAD_DIR``, default var/uploads), unless set."""
        if self._upload_files is None:
            self._upload_files = UploadFiles.from_env()
        return self._upload_files

    @upload_files.setter
    def upload_files(self, files: UploadFiles) -> None:
        self._upload_files = files

    def register_upload(self, conversation_id: str, upload_id: str, kind: str) -> Evidence:
        """Record the channel's upload as this conversation's ``kind`` evidence.  ``InvalidRequest("no such
        upload")`` for an unknown id and for an id stored by another conversation alike."""
        conversation_id = check_conversation_id(conversation_id)
        if kind not in EVIDENCE_KINDS:
            raise InvalidRequest(f"kind must be one of {EVIDENCE_KINDS}, got {kind!r}")
        meta = self.upload_files.meta(upload_id)
        if meta is None or not hmac.compare_digest(meta.conversation_id.encode(), conversation_id.encode()):
            raise InvalidRequest("no such upload")
        with unit_of_work(self._sessions, write=True) as uow:
            session = uow.session
            existing = session.scalars(select(EvidenceRow).where(EvidenceRow.upload_id == meta.upload_id)).first()
            if existing is not None:
                return evidence_of(existing)
            row = EvidenceRow(
                upload_id=meta.upload_id,
                conversation_id=conversation_id,
                kind=kind,
                content_type=meta.content_type,
                size_bytes=meta.size,
                sha256=meta.sha256,
                channel=meta.channel,
                received_at=meta.received_at,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # a concurrent registration of the same upload won
                session.rollback()
                won = session.scalars(select(EvidenceRow).where(EvidenceRow.upload_id == meta.upload_id)).one()
                return evidence_of(won)
            evidence = evidence_of(row)
            uow.commit()
            return evidence

    def conversation_evidence(self, conversation_id: str) -> tuple[Evidence, ...]:
        conversation_id = check_conversation_id(conversation_id)
        with unit_of_work(self._sessions) as uow:
            rows = uow.session.scalars(
                select(EvidenceRow).where(EvidenceRow.conversation_id == conversation_id).order_by(EvidenceRow.id)
            )
            return tuple(evidence_of(r) for r in rows)

    def evidence_for_case(self, case_id: str) -> tuple[Evidence, ...]:
        """Staff only (the command line, the agent inbox): a case's files with their paths in the upload directory."""
        if not isinstance(case_id, str) or len(case_id) > 16:
            raise InvalidRequest("not a case id")
        with unit_of_work(self._sessions) as uow:
            rows = uow.session.scalars(
                select(EvidenceRow).where(EvidenceRow.case_id == case_id.strip().upper()).order_by(EvidenceRow.id)
            )
            return tuple(evidence_of(r, self.upload_files.path(r.upload_id)) for r in rows)
