"""Stories: grouping relevant items about one thing, and a story's running counts.

An item joins a story in one of two ways: the store already put it with its near-duplicates
(syndicated or lightly rewritten copies, ``monitor.store``), or its text vector
(``alerts.features.vector``) has cosine similarity of at least ``detection.story_similarity`` with
the centroid of a story seen within ``detection.story_window``. Otherwise it starts a new story.
Choosing (``choose_story``) and counting (``summarise``) are pure; ``StoryIndex`` holds the open
stories for one pipeline batch.

Outlets: feeds named "Outlet - Section" (e.g. "VnExpress - Kinh Doanh") count as one outlet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from alerts.features import containment, cosine, merge, vector

def outlet_of(source_name: str) -> str:
    return source_name.split(" - ")[0].strip() or source_name


@dataclass
class OpenStory:
    id: int | None
    centroid: dict[str, float]
    size: int
    last_seen_at: datetime
    title: str = ""
    names: frozenset[str] = frozenset()


# A news digest ("Điểm tin 6h: A | B | C") quotes a story's headline among others: its vector is far
# from the story's, but the headline's terms are all in it.
HEADLINE_CONTAINED = 0.85
# Items about the same kind of event share most of their vocabulary whoever it concerns (two
# employers' debts read alike: cosine up to 0.6), while outlets paraphrasing one event can fall to
# 0.2. A shared distinctive name (``alerts.features.names``) is what tells them apart.
NAME_BONUS = 0.3


def choose_story(vec: dict[str, float], stories: list[OpenStory], threshold: float, text: str = "",
                 names: frozenset[str] | set[str] = frozenset()) -> OpenStory | None:
    """The most similar open story at or above ``threshold`` (cosine of vectors, plus
    ``NAME_BONUS`` when the item names the same company, person or place), else one whose
    headline ``text`` quotes almost entirely (``HEADLINE_CONTAINED``), if any."""
    best, best_score = None, threshold
    for story in stories:
        score = cosine(vec, story.centroid) + (NAME_BONUS if names and names & story.names else 0.0)
        if score >= best_score:
            best, best_score = story, score
    if best is None and text:
        quoted = [(containment(s.title, text), s.id or 0, s) for s in stories if s.title]
        quoted = [q for q in quoted if q[0] >= HEADLINE_CONTAINED]
        if quoted:
            best = max(quoted, key=lambda q: (q[0], q[1]))[2]
    return best


@dataclass(frozen=True)
class StoryItem:
    """One item of a story with what counting needs."""

    item_id: int
    title: str
    text: str
    outlet: str
    reach: float
    published_at: datetime
    relevant: bool
    negative: bool
    misleading: bool
    category: str
    rumour_id: int | None = None


@dataclass
class StorySummary:
    title: str
    category: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    item_count: int
    outlet_count: int
    relevant_count: int
    negative_count: int
    misleading_count: int
    weighted_reach: float
    keyphrases: list[str] = field(default_factory=list)


def summarise(items: list[StoryItem], centroid: dict[str, float] | None) -> StorySummary:
    """Running counts, the dominant category, and a representative title (the relevant item closest
    to the centroid; ties to the earliest). Weighted reach sums each outlet's weight once."""
    relevant = [i for i in items if i.relevant] or items
    signals = [i for i in relevant if i.negative or i.misleading]
    pool = [i.category for i in relevant if i.rumour_id] or [
        i.category for i in (signals or relevant) if i.category != "not_relevant"]
    category = Counter(pool).most_common(1)[0][0] if pool else None
    reach_by_outlet: dict[str, float] = {}
    for i in relevant:
        reach_by_outlet[i.outlet] = max(reach_by_outlet.get(i.outlet, 0.0), i.reach)
    ordered = sorted(relevant, key=lambda i: (i.published_at, i.item_id))
    if centroid:
        title = max(ordered, key=lambda i: cosine(vector(i.text), centroid)).title
    else:
        title = ordered[0].title
    top = sorted(centroid.items(), key=lambda kv: kv[1], reverse=True) if centroid else []
    return StorySummary(
        title=title, category=category,
        first_seen_at=min(i.published_at for i in items), last_seen_at=max(i.published_at for i in items),
        item_count=len(items), outlet_count=len({i.outlet for i in items}),
        relevant_count=sum(i.relevant for i in items), negative_count=sum(i.relevant and i.negative for i in items),
        misleading_count=sum(i.relevant and i.misleading for i in items),
        weighted_reach=round(sum(reach_by_outlet.values()), 3),
        keyphrases=[t.replace("_", " ") for t, _w in top if "_" in t][:8],
    )


def add_to_centroid(centroid: dict[str, float] | None, size: int, vec: dict[str, float]) -> dict[str, float]:
    return merge(centroid or {}, vec, max(size, 0) if centroid else 0)
