"""Outgoing mail: through the SMTP server in the settings, or into the outbox folder.

With ``OKNO_SMTP_HOST`` unset, each message is written to ``<data_dir>/outbox/<id>.eml`` and
recorded in ``mail_outbox`` with the subject it concerns, so destruction can remove it. The
outbox holds personal data (the address, the letter): treat the folder like the database.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import smtplib
import ssl
import uuid
from email import policy
from email.message import EmailMessage
from pathlib import Path

from okno.platform import database
from okno.platform.settings import Settings, get_settings

logger = logging.getLogger("okno.mail")


def outbox_folder(settings: Settings | None = None) -> Path:
    path = (settings or get_settings()).data_path / "outbox"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def compose(to: str, subject: str, body: str, settings: Settings | None = None) -> EmailMessage:
    settings = settings or get_settings()
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


def _smtp_send(message: EmailMessage, settings: Settings) -> None:
    assert settings.smtp_host is not None
    context = ssl.create_default_context()
    if settings.smtp_tls == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=20, context=context
        )
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20)
    with client:
        if settings.smtp_tls == "starttls":
            client.starttls(context=context)
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password or "")
        client.send_message(message)


async def _to_outbox(message: EmailMessage, subject_id: uuid.UUID | None) -> str:
    mail_id = secrets.token_urlsafe(16)
    path = outbox_folder() / f"{mail_id}.eml"
    # Readable as it is: UTF-8 headers and an 8-bit body, so an admin can open the file.
    readable = EmailMessage(policy=policy.SMTPUTF8)
    for header in ("From", "To", "Subject"):
        readable[header] = message[header]
    readable.set_content(message.get_content(), cte="8bit")
    data = readable.as_bytes()
    await asyncio.to_thread(path.write_bytes, data)
    async with database.transaction():
        await database.connection().execute(
            "INSERT INTO mail_outbox (id, subject_id, path) VALUES ($1, $2, $3)",
            mail_id,
            subject_id,
            str(path),
        )
    return mail_id


async def send(message: EmailMessage, subject_id: uuid.UUID | None = None) -> str:
    """Deliver ``message``; returns ``"smtp"`` or the outbox id. Errors are logged, not raised."""
    settings = get_settings()
    try:
        if settings.smtp_host:
            await asyncio.to_thread(_smtp_send, message, settings)
            return "smtp"
        return await _to_outbox(message, subject_id)
    except Exception as error:
        # The address is PD: say what failed, never to whom.
        logger.error("mail delivery failed: %s", type(error).__name__)
        return "failed"


_pending: set[asyncio.Task[str]] = set()


def send_later(message: EmailMessage, subject_id: uuid.UUID | None = None) -> None:
    """Deliver in the background, so the answer to the request does not wait for the mail."""
    task = asyncio.get_running_loop().create_task(send(message, subject_id))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
