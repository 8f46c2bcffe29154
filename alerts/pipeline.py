"""The pipeline from stored items to tickets: ``process_new_items``.

Each batch of not-yet-classified items runs these stages in one transaction (so a ticket change and
its queued email commit together, the transactional outbox):

1. ``load_batch``      items with ``classified_at`` NULL, oldest first;
2. ``classify``        the classifier's predictions stored as ``Classification`` rows (its version);
3. ``match_rumours``   claim matching against the rumour registry: a match marks the item misleading;
4. ``assign_stories``  the store's near-duplicate story, else the open story of the same known
                       rumour, else the most similar open story (a shared name counts), else new;
5. ``refresh``         each touched story's running counts, category and representative title;
6. ``detect``          burst tests and severity per touched story (pure: ``alerts.detect``);
7. ``act``             open, update, raise or reopen the story's ticket (``alerts.tickets``) and queue
                       the email (``alerts.notify``); mark the items ``detected_at``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts import playbooks as playbook_mod
from alerts import tickets as tk
from alerts.bursts import Signal
from alerts.detect import Finding, StoryState, TopItem, detect
from alerts.features import cosine, names, vector
from alerts.rumours import RumourView, active_rumours, correction_steps, match_rumour
from alerts.severity import fmt
from alerts.stories import OpenStory, StoryItem, add_to_centroid, choose_story, outlet_of, summarise
from monitor.config import FeedsConfig
from monitor.models import Classification, Item, Source, Story, Ticket
from monitor.timeutil import format_local

MAX_STORY_NAMES = 40
log = logging.getLogger(__name__)


@dataclass
class PipelineSummary:
    batches: int = 0
    classified: int = 0
    relevant: int = 0
    rumour_matches: int = 0
    stories_created: int = 0
    opened: list[int] = field(default_factory=list)
    updated: int = 0
    raised: int = 0
    reopened: int = 0


@dataclass
class _Run:
    config: FeedsConfig
    classifier: object
    settings: object
    now: datetime
    rumours: list[RumourView]
    playbooks: dict
    sources: dict[int, tuple[str, float, bool]]  # id -> (outlet, reach, official)
    summary: PipelineSummary


def process_new_items(sessions: sessionmaker[Session], config: FeedsConfig, classifier, settings, *,
                      now: datetime, batch_size: int = 500) -> PipelineSummary:
    """Classify, cluster and detect for every stored item not yet classified (see the module docstring)."""
    summary = PipelineSummary()
    run: _Run | None = None
    while True:
        with sessions.begin() as session:
            items = load_batch(session, batch_size)
            if not items:
                break
            if run is None:
                run = _start(session, config, classifier, settings, now, summary)
            _batch(session, items, run)
        if len(items) < batch_size:
            break
    return summary


def _start(session, config, classifier, settings, now, summary) -> _Run:
    official_names = {s.name for s in config.sources if s.official}
    sources = {s.id: (outlet_of(s.name), s.reach_weight or 1.0, s.name in official_names or "official" in (s.tags or []))
               for s in session.scalars(select(Source))}
    books = playbook_mod.cached_playbooks(config.detection.playbooks_file)
    return _Run(config, classifier, settings, now, active_rumours(session), books, sources, summary)


def _batch(session: Session, items: list[Item], run: _Run) -> None:
    run.summary.batches += 1
    missing = {i.source_id for i in items} - set(run.sources)
    if missing:
        for s in session.scalars(select(Source).where(Source.id.in_(missing))):
            run.sources[s.id] = (outlet_of(s.name), s.reach_weight or 1.0, "official" in (s.tags or []))
    rows = classify(session, items, run)
    match_rumours(items, rows, run)
    touched = assign_stories(session, items, rows, run)
    states = refresh(session, touched, run)
    findings = detect(states, load_signals(session, run), run.now, run.config.detection)
    act(session, findings, run)
    for item in items:
        item.detected_at = run.now


def load_batch(session: Session, batch_size: int) -> list[Item]:
    return list(session.scalars(
        select(Item).where(Item.classified_at.is_(None)).order_by(Item.published_at, Item.id).limit(batch_size)
    ))


def classify(session: Session, items: list[Item], run: _Run) -> dict[int, Classification]:
    version = run.classifier.version
    ids = [i.id for i in items]
    session.execute(delete(Classification).where(Classification.item_id.in_(ids), Classification.model_version == version))
    records = [{"id": i.id, "title": i.title, "summary": i.summary, "text": i.body or ""} for i in items]
    rows = {}
    for item, p in zip(items, run.classifier.predict(records)):
        row = Classification(item_id=item.id, model_version=version, relevant=bool(p.relevant), relevance=float(p.relevance),
                             sentiment=p.sentiment, sentiment_scores=dict(p.sentiment_scores), misleading=bool(p.misleading),
                             misleading_score=float(p.misleading_score), category=p.category, reasons=list(p.reasons),
                             uncertainty=float(getattr(p, "uncertainty", 1.0)), created_at=run.now)
        session.add(row)
        rows[item.id] = row
        item.classified_at = run.now
    run.summary.classified += len(items)
    run.summary.relevant += sum(r.relevant for r in rows.values())
    return rows


def match_rumours(items: list[Item], rows: dict[int, Classification], run: _Run) -> None:
    if not run.rumours:
        return
    threshold = run.config.detection.rumour_similarity
    for item in items:
        row = rows[item.id]
        if not (row.relevant or item.passed_prefilter):
            continue
        match = match_rumour(f"{item.title}\n{item.summary}", run.rumours, threshold)
        if match is None:
            continue
        rumour = match.rumour
        row.rumour_id, row.rumour_similarity = rumour.id, match.similarity
        row.relevant, row.misleading = True, True
        row.misleading_score = max(row.misleading_score, match.similarity)
        row.category = rumour.category  # the agency's registry outranks the model's guess
        row.reasons = list(row.reasons) + [f"khớp tin đồn đã biết “{rumour.claim}” (độ tương đồng {fmt(match.similarity, 2)})"]
        run.summary.rumour_matches += 1
        log.info("rumour matched", extra={"item_id": item.id, "rumour": rumour.key, "similarity": match.similarity})


def assign_stories(session: Session, items: list[Item], rows: dict[int, Classification], run: _Run) -> set[int]:
    relevant = [i for i in items if rows[i.id].relevant]
    if not relevant:
        return set()
    detection = run.config.detection
    open_rows = {s.id: s for s in session.scalars(
        select(Story).where(Story.last_seen_at >= run.now - detection.story_window, Story.centroid.is_not(None)))}
    candidates = {s.id: OpenStory(s.id, s.centroid or {}, s.relevant_count or 1, s.last_seen_at, s.title,
                                  frozenset(s.names or ())) for s in open_rows.values()}
    by_rumour = _open_stories_by_rumour(session, list(open_rows))
    touched: set[int] = set()
    for item in relevant:
        text = f"{item.title}\n{item.summary}"
        vec, item_names = vector(text), names(text)
        rumour_id = rows[item.id].rumour_id
        story = session.get(Story, item.story_id) if item.story_id else None
        if story is None or not story.centroid:  # no story, or a fresh near-duplicate group from the store
            # Items repeating, reporting or denying one known rumour are one story.
            chosen_id = by_rumour.get(rumour_id) if rumour_id else None
            if chosen_id is None:
                chosen = choose_story(vec, list(candidates.values()), detection.story_similarity, text, item_names)
                chosen_id = chosen.id if chosen else None
            target = open_rows.get(chosen_id) if chosen_id else None
            if story is not None and target is not None and target.id != story.id:
                # The store grouped copies of an item that belongs to an existing story: move the group.
                session.execute(update(Item).where(Item.story_id == story.id).values(story_id=target.id))
            story = target or story
        if story is None:
            story = Story(title=item.title, first_seen_at=item.published_at, last_seen_at=item.published_at,
                          category=rows[item.id].category, item_count=0, centroid={})
            session.add(story)
            session.flush()
            open_rows[story.id] = story
            run.summary.stories_created += 1
        item.story_id = story.id
        story.centroid = add_to_centroid(story.centroid, story.relevant_count or 0, vec)
        story.names = sorted(set(story.names or ()) | item_names)[:MAX_STORY_NAMES]
        story.relevant_count = (story.relevant_count or 0) + 1
        story.last_seen_at = max(story.last_seen_at, item.published_at)
        candidates[story.id] = OpenStory(story.id, story.centroid, story.relevant_count, story.last_seen_at,
                                         story.title, frozenset(story.names))
        if rumour_id:
            by_rumour.setdefault(rumour_id, story.id)
        touched.add(story.id)
    session.flush()
    return touched


def _open_stories_by_rumour(session: Session, story_ids: list[int]) -> dict[int, int]:
    """Known rumour id → the earliest open story with an item that matched it."""
    if not story_ids:
        return {}
    pairs = session.execute(
        select(Classification.rumour_id, func.min(Item.story_id))
        .join(Item, Item.id == Classification.item_id)
        .where(Item.story_id.in_(story_ids), Classification.rumour_id.is_not(None))
        .group_by(Classification.rumour_id)).all()
    return {rumour_id: story_id for rumour_id, story_id in pairs}


def _story_rows(session: Session, story_ids: set[int], version: str):
    return session.execute(
        select(Item, Classification)
        .outerjoin(Classification, (Classification.item_id == Item.id) & (Classification.model_version == version))
        .where(Item.story_id.in_(story_ids))
    ).all()


def refresh(session: Session, touched: set[int], run: _Run) -> list[StoryState]:
    """Recompute the touched stories' counts and return what detection needs of each."""
    if not touched:
        return []
    grouped: dict[int, list] = defaultdict(list)
    for item, cls in _story_rows(session, touched, run.classifier.version):
        grouped[item.story_id].append((item, cls))
    rumours = {r.id: r for r in run.rumours}
    states = []
    for story_id in sorted(touched):
        story = session.get(Story, story_id)
        pairs = grouped.get(story_id, [])
        story_items = [_story_item(item, cls, run) for item, cls in pairs]
        s = summarise(story_items, story.centroid)
        for key in ("title", "first_seen_at", "last_seen_at", "item_count", "outlet_count", "relevant_count",
                    "negative_count", "misleading_count", "weighted_reach", "keyphrases"):
            setattr(story, key, getattr(s, key))
        story.category = s.category
        matched = [(cls.rumour_similarity or 0, cls.rumour_id) for _i, cls in pairs if cls is not None and cls.rumour_id in rumours]
        rumour = rumours[max(matched)[1]] if matched else None
        signals = sorted(((item, cls) for item, cls in pairs if cls is not None and cls.relevant
                          and (cls.sentiment == "negative" or cls.misleading)),
                         key=lambda p: (p[1].misleading, p[1].relevance, p[0].published_at), reverse=True)
        top = tuple(TopItem(item.title, run.sources.get(item.source_id, ("?",))[0], tuple(cls.reasons or ()))
                    for item, cls in signals[:3])
        states.append(StoryState(
            story_id=story.id, title=story.title, category=story.category or "other_bhxh",
            relevant_count=story.relevant_count, negative_count=story.negative_count,
            weighted_reach=story.weighted_reach, official=any(run.sources.get(i.source_id, ("", 1, False))[2] for i, _c in pairs),
            rumour=(rumour.claim, rumour.fact, max(matched)[0]) if rumour else None,
            rumour_id=rumour.id if rumour else None, top_items=top,
            new_signal=any(item.detected_at is None for item, _cls in signals),
        ))
    return states


def _story_item(item: Item, cls: Classification | None, run: _Run) -> StoryItem:
    outlet, reach, _official = run.sources.get(item.source_id, ("?", 1.0, False))
    return StoryItem(item.id, item.title, f"{item.title}\n{item.summary}", outlet, reach, item.published_at,
                     bool(cls and cls.relevant), bool(cls and cls.sentiment == "negative"), bool(cls and cls.misleading),
                     cls.category if cls else "not_relevant", cls.rumour_id if cls else None)


def load_signals(session: Session, run: _Run) -> list[Signal]:
    """Relevant negative or misleading items published within the baseline period."""
    query = (
        select(Item.id, Item.published_at, Item.source_id, Item.story_id, Classification.category, Classification.misleading)
        .join(Classification, Classification.item_id == Item.id)
        .where(Classification.model_version == run.classifier.version, Classification.relevant.is_(True),
               or_(Classification.sentiment == "negative", Classification.misleading.is_(True)),
               Item.published_at > run.now - run.config.detection.baseline, Item.published_at <= run.now)
    )
    signals = []
    for item_id, at, source_id, story_id, category, misleading in session.execute(query):
        outlet, reach, _official = run.sources.get(source_id, ("?", 1.0, False))
        signals.append(Signal(item_id, at, outlet, category, story_id, bool(misleading), reach))
    return signals


def act(session: Session, findings: list[Finding], run: _Run) -> None:
    """Apply ``alerts.tickets.decide_ticket`` to each finding and do what it says."""
    for finding in findings:
        ticket = session.scalars(select(Ticket).where(Ticket.story_id == finding.story_id)
                                 .order_by(Ticket.id.desc()).limit(1)).first()
        view = tk.TicketView(ticket.state, ticket.severity, ticket.closed_at) if ticket else None
        decision = tk.decide_ticket(view, finding.fired, finding.severity, run.now)
        new_ids = [i.id for i in session.scalars(select(Item).where(Item.story_id == finding.story_id,
                                                                    Item.detected_at.is_(None)))]
        if decision.action in ("open", "open_linked"):
            _open(session, finding, ticket if decision.action == "open_linked" else None, run)
        elif decision.action in ("update", "raise", "reopen"):
            _update(session, ticket, finding, decision, new_ids, run)


def _steps(finding: Finding, run: _Run) -> list[dict]:
    rumour = next((r for r in run.rumours if r.id == finding.rumour_id), None)
    extra = correction_steps(rumour) if rumour else None
    return playbook_mod.checklist(finding.category, run.playbooks, extra=extra)


RELATED_WITHIN = timedelta(days=30)


def _related_ticket(session: Session, finding: Finding, run: _Run) -> Ticket | None:
    """A ticket of the last 30 days whose story is about the same thing (a story that faded out of
    the story window and came back): the new ticket links to it."""
    story = session.get(Story, finding.story_id)
    if not story or not story.centroid:
        return None
    best, best_score = None, run.config.detection.story_similarity
    rows = session.execute(select(Ticket, Story.centroid).join(Story, Story.id == Ticket.story_id)
                           .where(Ticket.opened_at >= run.now - RELATED_WITHIN, Ticket.story_id != finding.story_id))
    for ticket, centroid in rows:
        score = cosine(story.centroid, centroid or {})
        if score >= best_score:
            best, best_score = ticket, score
    return best


def _open(session: Session, finding: Finding, previous: Ticket | None, run: _Run) -> Ticket:
    count = len(session.scalars(select(Ticket.id).where(Ticket.story_id == finding.story_id)).all())
    previous = previous or _related_ticket(session, finding, run)
    ticket = Ticket(
        group_key=f"story:{finding.story_id}" + (f":{count + 1}" if count else ""),
        story_id=finding.story_id, previous_ticket_id=previous.id if previous else None, state="new",
        severity=finding.severity, category=finding.category, title=finding.title, reason=finding.reason,
        rumour_id=finding.rumour_id, steps=_steps(finding, run), opened_at=run.now,
        deadline_at=tk.deadline_for(finding.severity, run.config.detection.deadlines, run.now), updated_at=run.now,
    )
    if previous is not None:
        ticket.reason += f"\nLiên quan đến phiếu #{previous.id} “{previous.title}” ({format_local(previous.opened_at)})."
    session.add(ticket)
    session.flush()
    tk.record(session, ticket, "opened", actor=tk.SYSTEM, now=run.now, to_state="new", rule=finding.rule,
              numbers=finding.numbers, severity=finding.severity)
    tk.notify(session, ticket, "ticket_opened", config=run.config, settings=run.settings, now=run.now)
    run.summary.opened.append(ticket.id)
    log.info("ticket opened", extra={"ticket_id": ticket.id, "story_id": finding.story_id, "rule": finding.rule,
                                     "severity": finding.severity})
    return ticket


def _update(session: Session, ticket: Ticket, finding: Finding, decision: tk.Decision, new_ids: list[int], run: _Run) -> None:
    if new_ids:
        tk.record(session, ticket, "item_added", actor=tk.SYSTEM, now=run.now, item_ids=new_ids, count=len(new_ids))
        run.summary.updated += 1
    if finding.rumour_id and not ticket.rumour_id:
        ticket.rumour_id = finding.rumour_id
        rumour = next((r for r in run.rumours if r.id == finding.rumour_id), None)
        if rumour:
            extra = playbook_mod.checklist(None, {}, extra=correction_steps(rumour))
            ticket.steps = extra + list(ticket.steps or [])
    if decision.action == "reopen":
        ticket.severity = decision.severity
        tk.change_state(session, ticket, "new", actor=tk.SYSTEM, now=run.now, deadlines=run.config.detection.deadlines,
                        note=finding.reason or None)
        tk.notify(session, ticket, "reopened", config=run.config, settings=run.settings, now=run.now)
        run.summary.reopened += 1
    elif decision.action == "raise":
        before = ticket.severity
        ticket.severity = decision.severity
        if ticket.state == "new":
            ticket.deadline_at = min(ticket.deadline_at, tk.deadline_for(decision.severity, run.config.detection.deadlines, run.now))
        tk.record(session, ticket, "severity_changed", actor=tk.SYSTEM, now=run.now, before=before,
                  after=decision.severity, reason=finding.reason)
        tk.notify(session, ticket, "severity_raised", config=run.config, settings=run.settings, now=run.now)
        run.summary.raised += 1
