"""Evaluation figures for the cross-validated report: per output precision, recall, F1, macro-F1 and
confusion matrix, as plain dicts (stored in ModelRun.report) and as text (printed by ``train``)."""

from __future__ import annotations

from typing import Any, Sequence

from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from classifiers.corpus import CATEGORIES, SENTIMENTS


def output_metrics(truth: Sequence[Any], predicted: Sequence[Any], labels: Sequence[Any]) -> dict[str, Any]:
    p, r, f, support = precision_recall_fscore_support(
        truth, predicted, labels=list(labels), zero_division=0
    )
    present = [i for i, s in enumerate(support) if s > 0]
    return {
        "labels": [str(x) for x in labels],
        "precision": [round(float(x), 4) for x in p],
        "recall": [round(float(x), 4) for x in r],
        "f1": [round(float(x), 4) for x in f],
        "support": [int(x) for x in support],
        "macro_f1": round(float(sum(f[i] for i in present) / max(len(present), 1)), 4),
        "confusion": confusion_matrix(truth, predicted, labels=list(labels)).tolist(),
    }


def report_block(truth: dict[str, list], predicted: dict[str, list]) -> dict[str, Any]:
    """Metrics for the four outputs; ``truth``/``predicted`` map output name → labels per item."""
    return {
        "relevance": output_metrics(truth["relevant"], predicted["relevant"], [True, False]),
        "sentiment": output_metrics(truth["sentiment"], predicted["sentiment"], SENTIMENTS),
        "misleading": output_metrics(truth["misleading"], predicted["misleading"], [True, False]),
        "category": output_metrics(truth["category"], predicted["category"], CATEGORIES),
    }


def headline(block: dict[str, Any]) -> dict[str, float]:
    """The figures the acceptance floors are about."""
    rel, sent, mis = block["relevance"], block["sentiment"], block["misleading"]
    return {
        "relevance_f1": rel["f1"][0], "relevance_precision": rel["precision"][0],
        "relevance_recall": rel["recall"][0], "negative_f1": sent["f1"][0],
        "sentiment_macro_f1": sent["macro_f1"], "misleading_precision": mis["precision"][0],
        "misleading_recall": mis["recall"][0], "misleading_f1": mis["f1"][0],
        "category_macro_f1": block["category"]["macro_f1"],
    }


def format_output(name: str, m: dict[str, Any]) -> str:
    width = max(len(x) for x in m["labels"]) + 2
    lines = [f"  {name}: macro-F1 {m['macro_f1']:.3f}",
             f"    {'label'.ljust(width)} precision recall    F1  support"]
    for i, label in enumerate(m["labels"]):
        lines.append(f"    {label.ljust(width)} {m['precision'][i]:9.3f} {m['recall'][i]:6.3f} "
                     f"{m['f1'][i]:5.3f} {m['support'][i]:8d}")
    lines.append("    confusion (rows: truth, columns: predicted, same order):")
    lines.extend("      " + " ".join(f"{v:5d}" for v in row) for row in m["confusion"])
    return "\n".join(lines)


def format_report(report: dict[str, Any]) -> str:
    out = [f"Cross-validated report: {report['folds']} folds grouped by story, "
           f"{report['evaluated']} labelled corpus items evaluated"]
    for variant in ("accented", "stripped"):
        out.append(f"\n== {variant} validation text ==")
        for name, m in report[variant].items():
            out.append(format_output(name, m))
    for origin, m in report.get("relevance_by_file", {}).items():
        out.append(f"  relevance on {origin}: precision {m['precision'][0]:.3f} recall {m['recall'][0]:.3f} "
                   f"F1 {m['f1'][0]:.3f} (confusion {m['confusion']})")
    out.append("\nHeadline (accented → stripped):")
    for key, value in report["headline"]["accented"].items():
        out.append(f"  {key:22s} {value:.3f} → {report['headline']['stripped'][key]:.3f}")
    out.append("Thresholds: " + ", ".join(f"{k} {v:.2f}" for k, v in report["thresholds"].items()))
    return "\n".join(out)
