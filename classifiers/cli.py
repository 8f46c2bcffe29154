"""``bhxh-monitor classify`` (JSON Lines in → one prediction line per input line out) and
``bhxh-monitor train`` (corpus + seed + reviews → cross-validated report → versioned artifact).

``classify_lines`` is the function the live pipeline calls too: a malformed line yields
``{"line": N, "error": "..."}`` in its place and the rest is still classified.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

import click

from monitor.errors import InputError

BATCH = 1000
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_line(line: str, number: int) -> dict[str, Any]:
    """One input record, or ValueError naming the field that is wrong."""
    if not line.strip():
        raise ValueError(f"classify: line {number}: empty line")
    if _SURROGATE.search(line):
        raise ValueError(f"classify: line {number}: not valid UTF-8")
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"classify: line {number}: not JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise ValueError(f"classify: line {number}: not a JSON object")
    if record.get("id") is None or isinstance(record["id"], (dict, list)):
        raise ValueError(f"classify: line {number}: field 'id' is missing or not a string/number")
    if not isinstance(record.get("title"), str):
        raise ValueError(f"classify: line {number}: field 'title' is missing or not a string")
    for key in ("snippet", "summary", "text"):
        if record.get(key) is not None and not isinstance(record[key], str):
            raise ValueError(f"classify: line {number}: field '{key}' is not a string")
    return record


def classify_lines(lines: Iterable[str], classifier=None) -> Iterator[dict[str, Any]]:
    """One output dict per input line, in order (errors, blank lines included, in place of malformed
    lines, so output line N always answers input line N)."""
    if classifier is None:
        from classifiers.model import load_classifier

        classifier = load_classifier()
    batch: list[tuple[int, dict[str, Any] | str]] = []

    def flush() -> Iterator[dict[str, Any]]:
        good = [r for _, r in batch if isinstance(r, dict)]
        predictions = iter(classifier.predict(good))
        for number, r in batch:
            yield next(predictions).as_contract() if isinstance(r, dict) else {"line": number, "error": r}
        batch.clear()

    for number, line in enumerate(lines, 1):
        try:
            batch.append((number, parse_line(line, number)))
        except ValueError as exc:
            batch.append((number, str(exc)))
        if len(batch) >= BATCH:
            yield from flush()
    yield from flush()


@click.command("classify")
@click.option("--input", "input_path", default="-", metavar="FILE|-", help="JSON Lines input (default stdin).")
@click.option("--output", "output_path", default="-", metavar="FILE|-", help="JSON Lines output (default stdout).")
@click.option("--model", "model_path", default=None, metavar="FILE",
              help="Model artifact (default: BHXH_MODEL_PATH, newest trained, else the shipped one).")
def classify_command(input_path: str, output_path: str, model_path: str | None) -> None:
    """Classify JSON Lines items: relevance, sentiment, misleading, category, reasons."""
    from classifiers.model import load_classifier

    classifier = load_classifier(model_path)
    try:
        # Undecodable bytes become lone surrogates, reported per line by ``parse_line``.
        if input_path == "-" and hasattr(sys.stdin, "reconfigure"):
            sys.stdin.reconfigure(encoding="utf-8", errors="surrogateescape")
        src = sys.stdin if input_path == "-" else open(input_path, encoding="utf-8", errors="surrogateescape")
        dst = sys.stdout if output_path == "-" else open(output_path, "w", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"classify: cannot open {exc.filename}: {exc.strerror}") from exc
    errors = 0
    try:
        for result in classify_lines(src, classifier):
            errors += "error" in result
            dst.write(json.dumps(result, ensure_ascii=False) + "\n")
    finally:
        if src is not sys.stdin:
            src.close()
        if dst is not sys.stdout:
            dst.close()
        else:
            dst.flush()
    if errors:
        click.echo(f"classify: {errors} malformed line(s) reported in the output", err=True)
        sys.exit(1)


@click.command("train")
@click.option("--corpus", "corpus", multiple=True, type=click.Path(path_type=Path),
              help="Labelled JSON Lines file or folder (repeatable; default ../shared/corpus where present).")
@click.option("--database", "database", metavar="URL", default=None,
              help="Database whose officers' reviews are trained on (default: BHXH_DATABASE_URL).")
@click.option("--output", "output", type=click.Path(path_type=Path), default=None,
              help="Also copy the artifact here (e.g. classifiers/artifacts/model.skops to ship it).")
@click.option("--seed", "seed", type=int, default=13, show_default=True, help="Random seed.")
@click.option("--folds", "folds", type=int, default=5, show_default=True, help="Cross-validation folds.")
def train_command(corpus: tuple[Path, ...], database: str | None, output: Path | None, seed: int, folds: int) -> None:
    """Train the classifier, print the cross-validated report and write a versioned artifact."""
    from rich.progress import Progress

    from classifiers.metrics import format_report
    from classifiers.train import TrainConfig, retrain
    from monitor.cli_common import open_database

    ctx = open_database(database)
    try:
        with Progress(transient=True) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done)

            run = retrain(ctx.sessions, ctx.settings, corpus_paths=list(corpus) or None,
                          progress=progress, config=TrainConfig(seed=seed, folds=folds))
    finally:
        ctx.engine.dispose()
    click.echo(format_report(run.report))
    click.echo(f"\nmodel {run.version}: {run.examples} examples ({run.reviews_used} reviews) → {run.artifact_path}")
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run.artifact_path, output)
        click.echo(f"copied to {output}")
