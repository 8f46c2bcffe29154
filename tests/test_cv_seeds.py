"""The multi-seed cross-validation summary: one row per fold seed, wired to the report's headline,
the same in parallel as in one process."""

from __future__ import annotations

import json
import statistics

import pytest

from classifiers import cv_seeds
from classifiers.corpus import load_seed
from classifiers.train import TrainConfig, cross_validate

FAST = TrainConfig(folds=3, calibration_folds=2, dense=False)


@pytest.fixture(scope="module")
def seed_only(tmp_path_factory):
    return str(tmp_path_factory.mktemp("no-corpus"))  # an empty corpus folder: the seed set alone


@pytest.fixture(scope="module")
def result(seed_only):
    return cv_seeds.run([1, 2], FAST, jobs=1, corpus=[seed_only])


def test_each_seed_row_is_that_seeds_report(result):
    report, thresholds = cross_validate(load_seed(), TrainConfig(folds=3, calibration_folds=2, dense=False,
                                                                 seed=2))
    row = next(r for r in result["seeds"] if r["seed"] == 2)
    assert row["negative_f1"] == round(report["headline"]["accented"]["negative_f1"], 4)
    assert row["negative_f1_stripped"] == round(report["headline"]["stripped"]["negative_f1"], 4)
    assert row["relevance_f1"] == round(report["headline"]["accented"]["relevance_f1"], 4)
    assert row["thresholds"] == thresholds


def test_summary_is_mean_min_and_max_over_seeds(result):
    assert [r["seed"] for r in result["seeds"]] == [1, 2]
    for column, stats in result["summary"].items():
        values = [r[column] for r in result["seeds"]]
        assert stats == {"mean": round(statistics.fmean(values), 4), "min": min(values), "max": max(values)}
    assert result["seeds"][0] != result["seeds"][1]  # another seed, other folds


def test_parallel_run_gives_the_same_figures(result, seed_only):
    assert cv_seeds.run([1, 2], FAST, jobs=2, corpus=[seed_only]) == result


def test_command_prints_the_table_and_writes_json(seed_only, tmp_path, capsys):
    out = tmp_path / "cv.json"
    cv_seeds.main(["--seeds", "3", "4", "--folds", "3", "--corpus", seed_only, "--no-dense", "--json", str(out)])
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written == cv_seeds.run([3, 4], TrainConfig(folds=3, dense=False), corpus=[seed_only])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["seed", "negative_f1"]
    assert [line.split()[0] for line in lines[1:]] == ["3", "4", "mean", "min", "max"]
    assert float(lines[3].split()[1]) == pytest.approx(written["summary"]["negative_f1"]["mean"], abs=5e-4)


def test_learning_curve_drops_whole_corpus_stories_and_keeps_seed_examples(monkeypatch):
    import classifiers.train as train_module
    from dataclasses import replace as with_fields
    from classifiers.grouping import story_groups

    seeds = load_seed()
    # Half of the seed set stands in for labelled corpus items (evaluated, subsampled); the rest
    # stays seed examples (train only, always kept).
    examples = [with_fields(e, origin="corpus.jsonl") if i % 2 else e for i, e in enumerate(seeds)]
    group_of = dict(zip((e.id for e in examples), story_groups(examples)))
    seen: list[list] = []
    real_fit = train_module.fit_models

    def recording_fit(train_examples, groups, config):
        seen.append(list(train_examples))
        return real_fit(train_examples, groups, config)

    monkeypatch.setattr(train_module, "fit_models", recording_fit)
    config = TrainConfig(folds=3, calibration_folds=2, dense=False, seed=5)
    full_report, _ = cross_validate(examples, config)
    full = seen[:]
    seen.clear()
    half_report, _ = cross_validate(examples, config, real_fraction=0.5)
    assert half_report["evaluated"] == full_report["evaluated"]  # scored on the same items
    assert len(seen) == len(full) == 3
    for all_rows, half_rows in zip(full, seen):
        assert {e.id for e in half_rows} < {e.id for e in all_rows}
        assert [e for e in all_rows if e.origin.startswith("seed:")] == \
            [e for e in half_rows if e.origin.startswith("seed:")]
        real_all = [e for e in all_rows if not e.origin.startswith("seed:")]
        real_half = [e for e in half_rows if not e.origin.startswith("seed:")]
        assert 0.3 < len(real_half) / len(real_all) < 0.7
        kept_groups = {group_of[e.id] for e in real_half}
        assert all(e in real_half for e in real_all if group_of[e.id] in kept_groups)  # whole stories
    assert half_report["headline"] != full_report["headline"]


def test_learning_curve_fraction_is_checked(seed_only):
    with pytest.raises(ValueError, match="real_fraction"):
        cross_validate(load_seed(), FAST, real_fraction=0.0)
    with pytest.raises(SystemExit):
        cv_seeds.main(["--seeds", "1", "--corpus", seed_only, "--no-dense", "--real-fraction", "1.5"])
