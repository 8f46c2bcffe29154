"""Test helpers for email: a real SMTP server on loopback (aiosmtpd) that records what arrives, and
builders for Vietnamese test rows (sources, items, classifications, stories, tickets)."""

from __future__ import annotations

import email
import itertools
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller
from sqlalchemy import select

from monitor.models import Classification, Item, Source, Story, Ticket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=default_policy)


@dataclass
class SmtpSink:
    """Records every message; ``on_message`` (optional) runs inside the server on each arrival."""

    received: list[Received] = field(default_factory=list)
    on_message: object = None
    arrived: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.arrived.set()
        if self.on_message:
            self.on_message(self.received[-1])
        return "250 Message accepted for delivery"


class SmtpServer:
    """``with SmtpServer(port) as server:`` runs aiosmtpd on 127.0.0.1:port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.sink = SmtpSink()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.sink.received


_SEQ = itertools.count(1)


def add_source(session, name: str) -> Source:
    """The source called ``name`` (created on first use)."""
    source = session.scalars(select(Source).where(Source.name == name)).first()
    if source is None:
        source = Source(name=name, kind="rss", url=f"https://nguon-{next(_SEQ)}.example.vn/rss")
        session.add(source)
    return source


def add_item(session, source: Source, title: str, published_at: datetime, *, story: Story | None = None,
             sentiment: str = "negative", misleading: bool = False, relevant: bool = True,
             category: str = "payment_delay", url: str | None = None, summary: str = "",
             reasons: list | None = None) -> Item:
    n = next(_SEQ)
    item = Item(source=source, guid=f"g{n}", url=url or f"https://bao.example.vn/tin-{n}",
                canonical_url=url or f"https://bao.example.vn/tin-{n}", title=title, summary=summary,
                published_at=published_at, content_hash=f"h{n}", story=story, passed_prefilter=True)
    item.classifications.append(Classification(
        model_version="test-1", relevant=relevant, relevance=0.9 if relevant else 0.1, sentiment=sentiment,
        misleading=misleading, misleading_score=0.8 if misleading else 0.1, category=category,
        reasons=reasons if reasons is not None else ["chậm chi trả lương hưu"], created_at=published_at,
    ))
    session.add(item)
    return item


def add_story(session, title: str, at: datetime, category: str = "payment_delay") -> Story:
    story = Story(title=title, category=category, first_seen_at=at, last_seen_at=at)
    session.add(story)
    return story


def add_ticket(session, story: Story | None, title: str, at: datetime, *, severity: int = 3,
               category: str = "payment_delay", state: str = "new", key: str | None = None) -> Ticket:
    ticket = Ticket(group_key=key or f"story:{title}", story=story, severity=severity, category=category,
                    title=title, reason="3 tin tiêu cực từ 2 nguồn trong 6 giờ", state=state,
                    steps=[{"stage": "prevent", "text": "Xác minh thông tin với phòng chế độ", "done": False},
                           {"stage": "handle", "text": "Đăng thông cáo báo chí", "done": False}],
                    opened_at=at, deadline_at=at + timedelta(hours=4), updated_at=at)
    session.add(ticket)
    return ticket
