"""Email messages: stable Message-IDs at enqueue time, and the MIME form of an outbox row.

Structure: multipart/alternative (text/plain, then multipart/related: text/html + inline images
by Content-ID). The Date header comes from the row's ``created_at``, so a resend after a crash is
byte-for-byte the same message with the same Message-ID.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from monitor.models import Notification


def mail_domain(mail_from: str) -> str:
    address = parseaddr(mail_from)[1]
    return address.rsplit("@", 1)[-1] if "@" in address else "localhost"


def make_message_id(kind: str, mail_from: str) -> str:
    """``<bhxh.{kind}.{random}@{domain}>``: unique, fixed when the row is written (RFC 5322 §3.6.4)."""
    return f"<bhxh.{kind}.{secrets.token_hex(12)}@{mail_domain(mail_from)}>"


def envelope_sender(mail_from: str) -> str:
    return parseaddr(mail_from)[1] or mail_from


def build_message(row: Notification, mail_from: str) -> EmailMessage:
    """The email for an outbox row (no I/O)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = mail_from
    msg["To"] = ", ".join(row.recipients)
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id
    if row.ticket_id is not None:
        # Officers' mail clients thread every alert of one ticket together.
        thread = f"<bhxh.ticket-{row.ticket_id}@{mail_domain(mail_from)}>"
        msg["References"] = thread
        msg["In-Reply-To"] = thread
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    msg.set_content(row.body_text, subtype="plain", charset="utf-8")
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html", charset="utf-8")
        if row.attachments:
            html_part = msg.get_payload()[1]
            for image in row.attachments:
                maintype, _, subtype = image["mime"].partition("/")
                html_part.add_related(
                    base64.b64decode(image["data_b64"]), maintype=maintype, subtype=subtype,
                    cid=f"<{image['cid']}>", disposition="inline",
                    filename=image.get("filename") or f"{image['cid'].split('@')[0]}.{subtype}",
                )
    # Boundaries derived from the Message-ID, not random: every send of a row is the same bytes.
    seed = hashlib.sha256(row.message_id.encode()).hexdigest()[:24]
    for n, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_bhxh_{seed}_{n}")
    return msg


def inline_image(cid: str, png: bytes, filename: str = "") -> dict:
    """An ``attachments`` entry for a PNG shown in the HTML as ``<img src="cid:{cid}">``."""
    return {"cid": cid, "mime": "image/png", "data_b64": base64.b64encode(png).decode("ascii"),
            "filename": filename}
