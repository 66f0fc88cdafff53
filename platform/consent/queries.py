"""The consent package's hand-written SQL, each statement named for what it does.

"Consent in force" has one definition, the view ``consent_in_force`` (migrations/consent/
consent_0002_in_force.py): a ``given`` event of ``consent_event`` that no ``withdrawn`` event
names. Statements here read it instead of repeating the rule. They run on a connection the
caller already holds (a chat message's transaction, a page's read), which the query builder
cannot be handed; joins across tables are written out because the Table classes declare plain
id columns, not foreign keys.
"""

# The subject's consent in force for a purpose (the newest, if a bug ever left two).
IN_FORCE = (
    "SELECT id, document_id, version, document_sha256, at FROM consent_in_force"
    " WHERE subject_id = $1 AND purpose_code = $2 ORDER BY id DESC LIMIT 1"
)

# One consent of the subject, if it is still in force: what its withdrawal event copies.
IN_FORCE_BY_ID = (
    "SELECT document_id, version, document_sha256, purpose_code FROM consent_in_force"
    " WHERE id = $1 AND subject_id = $2"
)

# How many consents are in force per purpose (the consent console's overview).
IN_FORCE_COUNTS = "SELECT purpose_code, count(*) FROM consent_in_force GROUP BY purpose_code"

# The fields a purpose allows (collection refuses any other); on the caller's connection, as
# the chat's send asks it inside its transaction.
PURPOSE_FIELDS = "SELECT fields FROM purpose WHERE code = $1"

# Published versions of consent_document_version with their document, newest version first;
# each filter applies when its parameter is not NULL: slug, version, purpose, and a LIMIT.
PUBLISHED = """
SELECT d.id AS document_id, d.slug, d.kind, d.title, d.purpose_code, v.version, v.operator_name,
       v.operator_address, v.purpose_text, v.pd_list, v.actions_text, v.processor, v.term_text,
       v.withdrawal_text, v.body, v.rendered, v.sha256, v.published_at
FROM consent_document d JOIN consent_document_version v ON v.document_id = d.id
WHERE v.published_at IS NOT NULL
  AND ($1::text IS NULL OR d.slug = $1)
  AND ($2::integer IS NULL OR v.version = $2)
  AND ($3::text IS NULL OR d.purpose_code = $3)
ORDER BY v.version DESC, d.id
LIMIT $4
"""

# Consent events of one subject (or all, $1 NULL) in a period, with the document's slug and
# the proof (IP address as text), oldest first: the staff export of consent proof.
PROOF_EVENTS = (
    "SELECT e.id, e.subject_id, e.kind, e.at, e.purpose_code, d.slug, e.version,"
    " e.document_sha256, e.channel, e.control, host(e.ip) AS ip, e.user_agent,"
    " e.given_id"
    " FROM consent_event e JOIN consent_document d ON d.id = e.document_id"
    " WHERE ($1::uuid IS NULL OR e.subject_id = $1) AND e.at >= $2 AND e.at < $3"
    " ORDER BY e.id"
)

# One consent event of the subject for its receipt: document, purpose, and when (if ever) a
# withdrawal event named it.
RECEIPT = (
    "SELECT e.id, e.kind, e.at, e.channel, e.control, e.document_sha256, e.version,"
    " d.slug, d.title, p.name AS purpose, p.fields, p.legal_basis, p.retention_days,"
    " (SELECT at FROM consent_event w WHERE w.given_id = e.id) AS withdrawn_at"
    " FROM consent_event e JOIN consent_document d ON d.id = e.document_id"
    " JOIN purpose p ON p.code = e.purpose_code WHERE e.id = $1 AND e.subject_id = $2"
)

# ---------------------------------------------------------------- the chat's tables

# The bot's message a client answers with a field: its form and the conversation's subject.
FIELD_REQUEST = (
    "SELECT m.form, c.subject_id FROM message m"
    " JOIN conversation c ON c.id = m.conversation_id"
    " WHERE m.conversation_id = $1 AND m.seq = $2 AND m.author_kind = 'bot'"
    " AND m.deleted_at IS NULL"
)

# The bot's consent offers in this conversation still waiting for an answer whose «give»
# button matches $2 (a LIKE pattern over the button id, consent:give:<slug>:<version>); an
# answered offer keeps only its chosen button (chat.service.retire_buttons).
OPEN_OFFERS = (
    "SELECT seq FROM message WHERE conversation_id = $1 AND author_kind = 'bot'"
    " AND deleted_at IS NULL AND EXISTS (SELECT 1 FROM jsonb_array_elements(buttons) b"
    " WHERE b->>'id' LIKE $2 AND NOT b ? 'chosen') ORDER BY seq"
)

# ---------------------------------------------------------------- the subject's profile

# Write one field into the profile under its purpose and consent, replacing an earlier value.
SAVE_FIELD = (
    "INSERT INTO subject_field"
    " (subject_id, field, value, source, purpose, consent_id, retain_until)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (subject_id, field) DO UPDATE SET value = $3, source = $4, purpose = $5,"
    " consent_id = $6, retain_until = $7, updated_at = now()"
)

# The consent eraser (consent/erasure.py). Hand-written: it runs on the connection of
# destruction's transaction, and counts what it changed in the same statement (a CTE).

# Consent events stay as proof; their IP address and user agent go (the trigger allows it).
CONSENT_PROOF_ERASE = (
    "WITH changed AS (UPDATE consent_event SET ip = NULL, user_agent = NULL"
    " WHERE subject_id = $1 AND (ip IS NOT NULL OR user_agent IS NOT NULL) RETURNING 1)"
    " SELECT count(*) FROM changed"
)
