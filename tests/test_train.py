"""Training: deterministic for a fixed seed, works from the repository's seed set alone, learns from
officers' reviews (latest review wins), saves a loadable artifact and records a ModelRun."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from classifiers import artifact
from classifiers.corpus import EVAL_CUTOFF, load_corpus, load_seed
from classifiers.model import Classifier, load_classifier
from classifiers.reviews import review_examples
from classifiers.train import TrainConfig, retrain, train_payload
from monitor.errors import InputError
from monitor.models import Item, ModelRun, Review, Source
from monitor.settings import Settings

SMALL = TrainConfig(folds=3, calibration_folds=2)
PROBE = [{"id": i, "title": t} for i, t in enumerate([
    "Công ty nợ BHXH, công nhân không chốt được sổ", "Giá vàng tăng mạnh",
    "canh bao gia danh can bo bhxh goi dien lua dao", "Lương hưu tăng từ tháng 7"])]


@pytest.fixture(scope="module")
def seed_payload():
    return train_payload(load_seed(), SMALL, today="2026.01.01")


def test_training_is_deterministic_for_a_fixed_seed(seed_payload):
    again = train_payload(load_seed(), SMALL, today="2026.01.01")
    assert again["version"] == seed_payload["version"]
    assert again["thresholds"] == seed_payload["thresholds"]
    a, b = Classifier(seed_payload), Classifier(again)
    _, pa = a.probabilities([p["title"] for p in PROBE])
    _, pb = b.probabilities([p["title"] for p in PROBE])
    np.testing.assert_array_equal(pa.relevance, pb.relevance)
    np.testing.assert_array_equal(pa.sentiment, pb.sentiment)


def test_another_seed_changes_the_folds(seed_payload):
    other = train_payload(load_seed(), TrainConfig(folds=3, calibration_folds=2, seed=99), today="2026.01.01")
    assert other["version"] != seed_payload["version"]


def test_seed_set_alone_trains_a_usable_model(seed_payload, tmp_path):
    path = artifact.save(seed_payload, tmp_path / "m.skops")
    clf = load_classifier(path)
    debt, gold, scam, pension = clf.predict(PROBE)
    assert debt.relevant and not gold.relevant
    assert seed_payload["report"]["headline"]["accented"]["relevance_f1"] > 0.5


def test_tampered_artifact_is_refused(tmp_path):
    import skops.io as sio

    path = tmp_path / "evil.skops"
    sio.dump({"format": artifact.FORMAT, "x": datetime(2020, 1, 1)}, path)
    with pytest.raises(InputError, match="not trusted"):
        artifact.load(path)


def test_evaluation_period_is_never_trained_on(tmp_path):
    rows = [{"id": "old", "title": "Bảo hiểm xã hội chi trả", "relevant": True, "sentiment": "neutral",
             "category": "benefit_info", "published": "2026-01-31T10:00:00+07:00"},
            {"id": "new", "title": "Bảo hiểm xã hội chi trả", "relevant": True, "sentiment": "neutral",
             "category": "benefit_info", "published": EVAL_CUTOFF + "T00:00:00+07:00"}]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert [e.id for e in load_corpus([path])] == ["old"]


def test_bad_corpus_line_names_file_line_and_field(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"id": 1, "title": "x", "relevant": "yes"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"c\.jsonl, line 1: field 'relevant'"):
        load_corpus([path])


def _item(session, n: int, title: str) -> Item:
    source = session.query(Source).first() or Source(name="s", kind="rss", url="http://x")
    item = Item(source=source, guid=f"g{n}", title=title, summary="", published_at=datetime.now(timezone.utc),
                content_hash=f"h{n}")
    session.add(item)
    session.flush()
    return item


def test_latest_review_wins(sessions):
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with sessions() as session, session.begin():
        item = _item(session, 1, "Mũ bảo hiểm giá rẻ")
        session.add_all([
            Review(item_id=item.id, reviewer="a", at=t0, before={"relevant": False},
                   after={"relevant": True, "sentiment": "negative", "misleading": False, "category": "other_bhxh"}),
            Review(item_id=item.id, reviewer="b", at=t0 + timedelta(hours=1),
                   before={"relevant": True, "sentiment": "negative", "category": "other_bhxh"},
                   after={"relevant": False}),
        ])
    with sessions() as session:
        examples = review_examples(session)
    assert [(e.id, e.relevant, e.sentiment, e.category) for e in examples] == [
        (f"review:{item.id}", False, "neutral", "not_relevant")]


def test_retrain_saves_artifact_marks_reviews_and_records_run(sessions, tmp_path):
    with sessions() as session, session.begin():
        item = _item(session, 2, "Doanh nghiệp chây ì nợ đóng bảo hiểm cho nhân viên")
        session.add(Review(item_id=item.id, reviewer="a", before={"relevant": False},
                           after={"relevant": True, "sentiment": "negative", "misleading": False,
                                  "category": "contribution_debt_evasion"}))
    settings = Settings(data_dir=tmp_path)
    stages = []
    run = retrain(sessions, settings, corpus_paths=[], config=SMALL,
                  progress=lambda stage, done, total: stages.append(stage))
    assert run.reviews_used == 1 and run.examples == len(load_seed()) + 1
    assert "cross-validation" in stages and "final model" in stages
    assert load_classifier(run.artifact_path).version == run.version
    with sessions() as session:
        assert session.query(Review).one().trained_in == run.version
        assert session.query(ModelRun).one().report["headline"]["accented"]


def test_negative_is_gated_by_relevance_and_thresholds_come_from_held_out_predictions(seed_payload):
    from classifiers.model import Probabilities, decide

    assert {"relevance", "negative", "negative_joint", "misleading"} <= set(seed_payload["thresholds"])
    probs = Probabilities(np.array([0.9, 0.5]), np.array([[0.6, 0.3, 0.1], [0.6, 0.3, 0.1]]),
                          np.array([0.1, 0.1]), np.array([[1.0], [1.0]]), ["other_bhxh"])
    gated = {"relevance": 0.3, "negative": 0.5, "negative_joint": 0.4, "misleading": 0.5}
    assert decide(probs, 0, gated).sentiment == "negative"  # 0.9 x 0.6 = 0.54
    assert decide(probs, 1, gated).sentiment == "neutral"  # 0.5 x 0.6 = 0.30: relevant, not negative
    old = {k: v for k, v in gated.items() if k != "negative_joint"}  # artifacts without the key
    assert decide(probs, 1, old).sentiment == "negative"
