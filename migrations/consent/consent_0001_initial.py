from okno.platform.database import sql_migration

ID = "2026-11-22T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Consent: purposes, versioned documents (published = immutable), append-only events"

SQL = """
CREATE TABLE purpose (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9_.-]{0,39}$'),
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('processing', 'advertising', 'dissemination')),
    legal_basis text NOT NULL,
    fields text[] NOT NULL DEFAULT '{}',
    channel text CHECK (channel IN ('chat', 'email', 'sms')),
    retention_days integer NOT NULL CHECK (retention_days BETWEEN 1 AND 36500),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE consent_document (
    id serial PRIMARY KEY,
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,60}$'),
    kind text NOT NULL CHECK (kind IN ('policy', 'processing', 'advertising', 'dissemination')),
    title text NOT NULL,
    purpose_code text REFERENCES purpose (code),
    CHECK ((kind = 'policy') = (purpose_code IS NULL))
);

CREATE TABLE consent_document_version (
    document_id integer NOT NULL REFERENCES consent_document (id),
    version integer NOT NULL CHECK (version >= 1),
    operator_name text NOT NULL,
    operator_address text NOT NULL,
    purpose_text text NOT NULL,
    pd_list text NOT NULL,
    actions_text text NOT NULL,
    processor text NOT NULL DEFAULT '',
    term_text text NOT NULL,
    withdrawal_text text NOT NULL,
    body text NOT NULL DEFAULT '',
    rendered text,
    sha256 text,
    published_at timestamptz,
    published_by bigint REFERENCES staff_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, version),
    CHECK ((published_at IS NULL) = (sha256 IS NULL))
);

CREATE FUNCTION consent_version_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'a published consent document version cannot be changed'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER consent_version_immutable
    BEFORE UPDATE OR DELETE ON consent_document_version
    FOR EACH ROW EXECUTE FUNCTION consent_version_immutable();

CREATE TABLE consent_event (
    id bigserial PRIMARY KEY,
    subject_id uuid NOT NULL REFERENCES subject (id),
    document_id integer NOT NULL,
    version integer NOT NULL,
    document_sha256 text NOT NULL,
    purpose_code text NOT NULL REFERENCES purpose (code),
    kind text NOT NULL CHECK (kind IN ('given', 'withdrawn')),
    given_id bigint REFERENCES consent_event (id),
    channel text NOT NULL CHECK (channel IN ('chat', 'widget', 'prechat_form', 'portal',
    'operator')),
    control text NOT NULL,
    ip inet,
    user_agent text,
    details jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (document_id, version) REFERENCES consent_document_version (document_id, version),
    CHECK ((kind = 'withdrawn') = (given_id IS NOT NULL))
);
CREATE UNIQUE INDEX consent_withdrawn_once ON consent_event (given_id) WHERE kind = 'withdrawn';
CREATE INDEX consent_event_subject ON consent_event (subject_id, purpose_code);
CREATE INDEX consent_event_at ON consent_event (at);

-- Events are proof: never changed or removed, except that destruction may erase the PD they
-- carry (IP address, user agent) while the event itself stays.
CREATE FUNCTION consent_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.ip IS NULL AND NEW.user_agent IS NULL
       AND (NEW.id, NEW.subject_id, NEW.document_id, NEW.version, NEW.document_sha256,
            NEW.purpose_code, NEW.kind, NEW.given_id, NEW.channel, NEW.control, NEW.at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.subject_id, OLD.document_id, OLD.version, OLD.document_sha256,
            OLD.purpose_code, OLD.kind, OLD.given_id, OLD.channel, OLD.control, OLD.at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'consent events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER consent_event_append_only
    BEFORE UPDATE OR DELETE ON consent_event
    FOR EACH ROW EXECUTE FUNCTION consent_event_append_only();
CREATE TRIGGER consent_event_no_truncate
    BEFORE TRUNCATE ON consent_event
    FOR EACH STATEMENT EXECUTE FUNCTION processing_log_refuse_change();

ALTER TABLE message ADD COLUMN form jsonb;
ALTER TABLE message ADD COLUMN links jsonb NOT NULL DEFAULT '[]';

INSERT INTO purpose (code, name, kind, legal_basis, fields, channel, retention_days) VALUES
    ('support', 'Ответы на обращения клиентов в чате', 'processing', '152-fz:6.1.1',
     '{name,phone,email,city,order_number}', NULL, 1095),
    ('advertising-chat', 'Рекламные и информационные сообщения в чате', 'advertising',
     '38-fz:18.1', '{}', 'chat', 1095),
    ('advertising-email', 'Рекламные и информационные письма на электронную почту',
     'advertising', '38-fz:18.1', '{email,name}', 'email', 1095),
    ('reviews', 'Публикация отзывов с именем автора', 'dissemination', '152-fz:10.1',
     '{name}', NULL, 1095);

INSERT INTO consent_document (slug, kind, title, purpose_code) VALUES
    ('policy', 'policy', 'Политика обработки персональных данных', NULL),
    ('processing-support', 'processing', 'Согласие на обработку персональных данных', 'support'),
    ('advertising-chat', 'advertising', 'Согласие на получение рекламы в чате', 'advertising-chat'),
    ('advertising-email', 'advertising', 'Согласие на получение рекламы по электронной почте',
     'advertising-email'),
    ('dissemination-reviews', 'dissemination',
     'Согласие на распространение персональных данных в отзывах', 'reviews');
"""


async def forwards() -> object:
    return sql_migration(ID, "consent", DESCRIPTION, SQL)
