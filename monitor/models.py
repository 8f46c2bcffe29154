"""ORM models: the one schema every stage reads and writes.

Data flow, table by table: ``sources`` (feeds and their health) → ``fetch_attempts`` → ``items`` →
``classifications`` → ``stories`` → ``tickets`` / ``ticket_events`` → ``outbox`` (email to send).
Officers add ``reviews`` (label corrections) and edit ``rumours`` (known false claims); ``users`` log in.

All timestamps are timezone-aware and stored in UTC (``UTCDateTime``); convert to
Asia/Ho_Chi_Minh only when showing them (``monitor.timeutil``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC.

    SQLite has no time zones: it hands back naive values. This type rejects naive input (a naive
    time is a bug: whose clock was it?) and always returns aware UTC values on both backends.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"models: naive datetime {value!r}; pass an aware datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Source(Base):
    """A feed listed in feeds.yaml, plus its fetch health (what `feeds status` shows)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # rss | google_news | youtube | bridge | file
    url: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    poll_interval_s: Mapped[int] = mapped_column(Integer, default=900)
    reach_weight: Mapped[float] = mapped_column(Float, default=1.0)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    # Conditional GET validators (RFC 9110 §13.1), kept even on 304 (RFC 9111 §4.3.4).
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # Health record.
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_check_at: Mapped[datetime | None]
    last_new_item_at: Mapped[datetime | None]
    # Typical gap between new items, seconds (EWMA); used to flag sources gone silent.
    mean_item_gap_s: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[Item]] = relationship(back_populates="source")


class FetchAttempt(Base):
    """One poll of one source: what happened, for the health page and debugging."""

    __tablename__ = "fetch_attempts"
    __table_args__ = (Index("ix_fetch_attempts_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(20))  # ok | not_modified | error
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    bytes_read: Mapped[int | None] = mapped_column(Integer)
    entries_found: Mapped[int] = mapped_column(Integer, default=0)
    items_new: Mapped[int] = mapped_column(Integer, default=0)
    items_duplicate: Mapped[int] = mapped_column(Integer, default=0)


class Item(Base):
    """One collected entry. Exact duplicates are stored once: a GUID is unique per source and a
    canonical URL is unique overall. Near duplicates are separate rows linked by ``story_id``."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("source_id", "guid", name="uq_items_source_guid"),
        UniqueConstraint("canonical_url", name="uq_items_canonical_url"),
        Index("ix_items_published_at", "published_at"),
        Index("ix_items_story_id", "story_id"),
        Index("ix_items_content_hash", "content_hash"),
        # The pipeline asks for items not yet classified on every run.
        Index("ix_items_classified_at", "classified_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="RESTRICT"))
    guid: Mapped[str] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime]
    # True when the feed gave no usable date and published_at is the fetch time.
    published_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Lower-cased, accent-folded title + summary + body for diacritics-insensitive search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    # MinHash signature (list of ints) of the normalised text, for near-duplicate linking.
    minhash: Mapped[list[Any] | None] = mapped_column(JSON)
    passed_prefilter: Mapped[bool] = mapped_column(Boolean, default=False)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    # The earlier item this one is a near-duplicate of (syndication, light rewrite), if any.
    near_duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="SET NULL")
    )
    # Processing marks: the pipeline picks up items whose stage is not yet done.
    classified_at: Mapped[datetime | None]
    detected_at: Mapped[datetime | None]

    source: Mapped[Source] = relationship(back_populates="items")
    story: Mapped[Story | None] = relationship(back_populates="items")
    classifications: Mapped[list[Classification]] = relationship(
        back_populates="item", cascade="all, delete-orphan"
    )


class Classification(Base):
    """What one model version said about one item (the `classify` contract, stored)."""

    __tablename__ = "classifications"
    __table_args__ = (
        UniqueConstraint("item_id", "model_version", name="uq_classifications_item_model"),
        Index("ix_classifications_relevant_category", "relevant", "category"),
        # Review queue order (monitor.web.review): most uncertain first.
        Index("ix_classifications_uncertainty", "uncertainty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    model_version: Mapped[str] = mapped_column(String(100))
    relevant: Mapped[bool] = mapped_column(Boolean)
    relevance: Mapped[float] = mapped_column(Float)
    sentiment: Mapped[str] = mapped_column(String(10))
    sentiment_scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    misleading: Mapped[bool] = mapped_column(Boolean)
    misleading_score: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(40))
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    # Known rumour this item matched (claim matching), if any.
    rumour_id: Mapped[int | None] = mapped_column(ForeignKey("rumours.id", ondelete="SET NULL"))
    rumour_similarity: Mapped[float | None] = mapped_column(Float)
    # How close the probabilities are to the decision thresholds (0 = on a threshold): review order.
    uncertainty: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship(back_populates="classifications")


class Story(Base):
    """A cluster of items about one thing, with running counts used by detection."""

    __tablename__ = "stories"
    __table_args__ = (Index("ix_stories_last_seen_at", "last_seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(40))
    keyphrases: Mapped[list[Any]] = mapped_column(default=list)
    # Distinctive proper names seen in its items (folded bigrams, ``alerts.features.names``).
    names: Mapped[list[Any]] = mapped_column(default=list)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    outlet_count: Mapped[int] = mapped_column(Integer, default=0)
    relevant_count: Mapped[int] = mapped_column(Integer, default=0)
    negative_count: Mapped[int] = mapped_column(Integer, default=0)
    misleading_count: Mapped[int] = mapped_column(Integer, default=0)
    weighted_reach: Mapped[float] = mapped_column(Float, default=0.0)
    # Sparse centroid of the story's text features ({term: weight}), for topical matching.
    centroid: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    items: Mapped[list[Item]] = relationship(back_populates="story")
    tickets: Mapped[list[Ticket]] = relationship(back_populates="story")


class Ticket(Base):
    """A crisis ticket: one per story (the group key), with a lifecycle and a deadline."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_state_severity", "state", "severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_key: Mapped[str] = mapped_column(String(200), unique=True)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))
    # A ticket opened when a closed story flared up again links to the earlier one.
    previous_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # new | acknowledged | responding | monitoring | closed
    state: Mapped[str] = mapped_column(String(20), default="new")
    severity: Mapped[int] = mapped_column(Integer)  # 1 (low) .. 4 (critical)
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")  # Vietnamese: why it opened
    rumour_id: Mapped[int | None] = mapped_column(ForeignKey("rumours.id", ondelete="SET NULL"))
    # Playbook checklist: [{"stage", "text", "done", "done_by", "done_at"}].
    steps: Mapped[list[Any]] = mapped_column(default=list)
    opened_at: Mapped[datetime]
    deadline_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_notified_at: Mapped[datetime | None]

    story: Mapped[Story | None] = relationship(back_populates="tickets")
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.at", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """Audit trail of a ticket: opened, items added, severity changes, state changes, notes."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_at", "ticket_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))  # a username, or "system"
    # opened | item_added | severity_changed | state_changed | escalated | reopened | note | step
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class Review(Base):
    """An officer's label correction (or confirmation) of one item; training reads these."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_item_at", "item_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    reviewer: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # Labels before (the model's) and after (the officer's): relevant, sentiment, misleading, category.
    before: Mapped[dict[str, Any]] = mapped_column(default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Model version that first trained on this review (None: not yet in a model).
    trained_in: Mapped[str | None] = mapped_column(String(100))


class Rumour(Base):
    """A known false claim about BHXH/BHYT and the official fact that answers it."""

    __tablename__ = "rumours"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    claim: Mapped[str] = mapped_column(Text)
    # Other phrasings of the same claim, matched too.
    variants: Mapped[list[Any]] = mapped_column(default=list)
    fact: Mapped[str] = mapped_column(Text)
    correction_url: Mapped[str | None] = mapped_column(Text)
    correction_date: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(40), default="misinformation")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100))


class Notification(Base):
    """Transactional outbox: an email recorded with the change that caused it, sent later.

    ``dedup_key`` makes enqueueing idempotent; ``message_id`` is fixed at enqueue time so a resend
    after a crash is recognisable as the same message.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(30))  # ticket_opened | severity_raised | escalated | reopened | digest | report
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    # Ticket changes folded into this mail, in order (``kind`` is the most important of them).
    changes: Mapped[list[Any]] = mapped_column(default=list)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # Inline images: [{"cid", "mime", "data_b64"}].
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Held back until then (rate limit per ticket; changes before it fold into this row).
    not_before: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    # Set just before SMTP DATA, cleared on any outcome: a row still carrying it after its lease
    # expired was interrupted mid-send, and its resend (same Message-ID) may be a duplicate.
    send_started_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class User(Base):
    """An officer who can log in to the web page."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20), default="reviewer")  # reviewer | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    """Who changed what through the web page or CLI (labels, tickets, rumours, users)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(100))  # e.g. "item:12", "ticket:3"
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ModelRun(Base):
    """A trained model version: when, from how many examples and reviews, and its report."""

    __tablename__ = "model_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(100), unique=True)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    examples: Mapped[int] = mapped_column(Integer, default=0)
    reviews_used: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    artifact_path: Mapped[str | None] = mapped_column(Text)
