from okno.platform.database import sql_migration

ID = "2026-11-22T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Rights requests of data subjects, on the legal clock, with every transition recorded"

SQL = """
CREATE TABLE rights_request (
    id bigserial PRIMARY KEY,
    subject_id uuid REFERENCES subject (id),
    kind text NOT NULL CHECK (kind IN ('access', 'correction', 'destruction', 'blocking',
        'unlawful_stop', 'unlawful_destruction', 'consent_withdrawn', 'purpose_achieved',
        'stop_processing', 'deferred_destruction')),
    status text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'identity_check',
        'review', 'approved', 'refused', 'executing', 'done')),
    channel text NOT NULL CHECK (channel IN ('portal', 'letter', 'chat', 'system')),
    purpose_code text REFERENCES purpose (code),
    consent_id bigint REFERENCES consent_event (id),
    details jsonb NOT NULL DEFAULT '{}',
    requester jsonb NOT NULL DEFAULT '{}',
    received_at timestamptz NOT NULL DEFAULT now(),
    due_at timestamptz NOT NULL,
    extended_at timestamptz,
    extension_reason text,
    decided_by bigint REFERENCES staff_user (id),
    decision_reason text,
    answer text,
    completed_at timestamptz,
    CHECK (status <> 'refused' OR decision_reason IS NOT NULL),
    CHECK ((extended_at IS NULL) = (extension_reason IS NULL))
);
CREATE INDEX rights_request_subject ON rights_request (subject_id, received_at DESC);
CREATE INDEX rights_request_open ON rights_request (due_at) WHERE status NOT IN ('refused', 'done');

CREATE TABLE rights_request_event (
    id bigserial PRIMARY KEY,
    request_id bigint NOT NULL REFERENCES rights_request (id),
    at timestamptz NOT NULL DEFAULT now(),
    actor_kind text NOT NULL CHECK (actor_kind IN ('subject', 'staff', 'system')),
    actor_id bigint REFERENCES staff_user (id),
    from_status text,
    to_status text NOT NULL,
    note text,
    notice_to_subject text
);
CREATE INDEX rights_request_event_request ON rights_request_event (request_id, id);
CREATE TRIGGER rights_request_event_append_only
    BEFORE UPDATE OR DELETE ON rights_request_event
    FOR EACH ROW EXECUTE FUNCTION processing_log_refuse_change();
"""


async def forwards() -> object:
    return sql_migration(ID, "rights", DESCRIPTION, SQL)
