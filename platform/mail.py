"""Outgoing mail: through the SMTP server in the settings, or into the outbox folder.

With ``OKNO_SMTP_HOST`` unset, each message is written to ``<data_dir>/outbox/<id>.eml`` and
recorded in ``mail_outbox`` with the subject it concerns, so destruction can remove it. The
outbox holds personal data (the address, the letter): treat the folder like the database.

``deliver`` raises ``MailError`` (with a reason in Russian that names no address) when the mail
server refuses or cannot be reached; nothing else is caught, so a wrong call fails loudly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import smtplib
import ssl
import uuid
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

from okno.platform.selfservice.tables import MailOutbox
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


@contextlib.contextmanager
def _smtp(settings: Settings) -> Iterator[smtplib.SMTP]:
    """A connection to OKNO_SMTP_HOST, secured and signed in as the settings say."""
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
        yield client


def _smtp_send(message: EmailMessage, settings: Settings) -> None:
    with _smtp(settings) as client:
        client.send_message(message)


def connection_problem(settings: Settings) -> str | None:
    """Why okno cannot reach and sign in to its mail server, or None (``okno check``)."""
    try:
        with _smtp(settings) as client:
            client.noop()
    except (smtplib.SMTPException, OSError) as error:
        return _reason(error)
    return None


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
    # In the caller's transaction when there is one (a mailing's delivery), else on its own.
    await MailOutbox.insert(MailOutbox(id=mail_id, subject_id=subject_id, path=str(path))).run()
    return mail_id


class MailError(Exception):
    """The letter did not go; the message says why, in Russian, without the address."""


def _reason(error: smtplib.SMTPException | OSError) -> str:
    # Only the class and the reply code: the server's text may repeat the address.
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({reply[0] for reply in error.recipients.values()})
        return f"почтовый сервер отклонил адрес получателя (код {', '.join(map(str, codes))})"
    if isinstance(error, smtplib.SMTPSenderRefused):
        return f"почтовый сервер отклонил адрес отправителя (код {code})"
    if isinstance(error, smtplib.SMTPDataError):
        return f"почтовый сервер отклонил письмо (код {code})"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return "почтовый сервер не принял логин и пароль (OKNO_SMTP_USER, OKNO_SMTP_PASSWORD)"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return "почтовый сервер не поддерживает нужную команду (проверьте OKNO_SMTP_TLS)"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"почтовый сервер ответил ошибкой (код {code})"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "почтовый сервер разорвал соединение"
    if isinstance(error, smtplib.SMTPException):
        return "ошибка обмена с почтовым сервером"
    if isinstance(error, ssl.SSLError):
        return "не удалось установить защищённое соединение с почтовым сервером"
    if isinstance(error, TimeoutError):
        return "почтовый сервер не ответил вовремя"
    if isinstance(error, ConnectionRefusedError):
        return "почтовый сервер недоступен: соединение отклонено"
    return "почтовый сервер недоступен"


async def deliver(message: EmailMessage, subject_id: uuid.UUID | None = None) -> str:
    """Deliver ``message``; returns ``"smtp"`` or the outbox id, or raises ``MailError``."""
    settings = get_settings()
    if not settings.smtp_host:
        return await _to_outbox(message, subject_id)
    try:
        await asyncio.to_thread(_smtp_send, message, settings)
    except (smtplib.SMTPException, OSError) as error:
        raise MailError(_reason(error)) from error
    return "smtp"


async def send(message: EmailMessage, subject_id: uuid.UUID | None = None) -> str:
    """``deliver``, for letters nobody waits for: a refusal is logged (never the address) and
    the result is ``"failed"``."""
    try:
        return await deliver(message, subject_id)
    except MailError as error:
        logger.error("mail delivery failed: %s", error)
        return "failed"


_pending: set[asyncio.Task[str]] = set()


def send_later(message: EmailMessage, subject_id: uuid.UUID | None = None) -> None:
    """Deliver in the background, so the answer to the request does not wait for the mail."""
    task = asyncio.get_running_loop().create_task(send(message, subject_id))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
