"""Purposes, consent documents with their versions, and consent events, declared once for
Piccolo (migrations/consent/ creates them; consent_0002 adds the view ``consent_in_force``,
which is read through ``okno.platform.consent.queries``)."""

from __future__ import annotations

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigInt,
    BigSerial,
    Integer,
    Serial,
    Text,
    Timestamptz,
)
from piccolo.table import Table

from okno.platform.database import DatabaseNow


class Purpose(Table, tablename="purpose"):
    code = Text(primary_key=True)
    name = Text()
    kind = Text()  # processing, advertising, dissemination
    legal_basis = Text()
    fields = Array(Text(), default=list)  # the PD fields the purpose allows
    channel = Text(null=True, default=None)  # chat, email, sms: where advertising goes
    retention_days = Integer()
    created_at = Timestamptz(default=DatabaseNow())


class ConsentDocument(Table, tablename="consent_document"):
    id = Serial(primary_key=True)
    slug = Text()
    kind = Text()  # policy, processing, advertising, dissemination
    title = Text()
    purpose_code = Text(null=True, default=None)  # NULL for the policy only


class ConsentDocumentVersion(Table, tablename="consent_document_version"):
    # The real key is (document_id, version); Piccolo has no composite keys, so document_id
    # stands in for the builder (every query here names both columns). A published version is
    # immutable: a trigger refuses UPDATE and DELETE.
    document_id = Integer(primary_key=True)
    version = Integer()
    operator_name = Text()
    operator_address = Text()
    purpose_text = Text()
    pd_list = Text()
    actions_text = Text()
    processor = Text(default="")
    term_text = Text()
    withdrawal_text = Text()
    body = Text(default="")
    rendered = Text(null=True, default=None)
    sha256 = Text(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    published_by = BigInt(null=True, default=None)
    created_at = Timestamptz(default=DatabaseNow())


class ConsentEvent(Table, tablename="consent_event"):
    """Append-only proof: ``given``, or ``withdrawn`` pointing at the ``given_id`` it ends."""

    id = BigSerial(primary_key=True)
    subject_id = UUID()
    document_id = Integer()
    version = Integer()
    document_sha256 = Text()
    purpose_code = Text()
    kind = Text()  # given, withdrawn
    given_id = BigInt(null=True, default=None)
    channel = Text()
    control = Text()
    # inet in the schema; Piccolo has no inet column, so Text stands in (written as a string).
    ip = Text(null=True, default=None)
    user_agent = Text(null=True, default=None)
    details = JSONB(default="{}")
    at = Timestamptz(default=DatabaseNow())
