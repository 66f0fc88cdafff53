"""The processing log, its hash chain and the sealer's queue, declared once for Piccolo
(migrations/processing_log/ creates them). All three are appended to by the hand-written
statements in ``okno.platform.processing_log.queries`` only; the database refuses UPDATE and
DELETE on the log and the chain."""

from __future__ import annotations

from piccolo.columns import UUID, Array, BigInt, BigSerial, Bytea, Text, Timestamptz
from piccolo.table import Table


class ProcessingLog(Table, tablename="processing_log"):
    id = BigSerial(primary_key=True)  # bigint taking processing_log_id_seq
    at = Timestamptz()
    actor_kind = Text()  # subject, staff, system
    actor_id = Text(null=True, default=None)
    subject_id = UUID(null=True, default=None)
    action = Text()  # 152-FZ Art. 3 p.3, okno.platform.processing_log.actions.Action
    categories = Array(Text())
    fields = Array(Text())
    purpose = Text(null=True, default=None)
    legal_basis = Text(null=True, default=None)
    request_id = BigInt(null=True, default=None)
    reason = Text(null=True, default=None)


class ProcessingLogChain(Table, tablename="processing_log_chain"):
    position = BigInt(primary_key=True)
    log_id = BigInt()
    prev_hash = Bytea()
    hash = Bytea()  # SHA-256 of prev_hash and the row's canonical form


class ProcessingLogUnsealed(Table, tablename="processing_log_unsealed"):
    """Rows committed but not yet chained: the sealer's queue."""

    log_id = BigInt(primary_key=True)
