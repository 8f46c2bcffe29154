"""Sentiment-trend chart for digests and reports: matplotlib (Agg backend), PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"negative": "#c0392b", "neutral": "#95a5a6", "positive": "#27ae60"}
NAMES = {"negative": "Tiêu cực", "neutral": "Trung lập", "positive": "Tích cực"}


def sentiment_chart(labels: list[str], series: dict[str, list[int]], title: str) -> bytes:
    """Stacked bars of relevant items per period by sentiment; ``series`` maps sentiment → counts."""
    fig, ax = plt.subplots(figsize=(6.0, 3.4), dpi=110)
    try:
        bottom = [0] * len(labels)
        for sentiment in ("negative", "neutral", "positive"):
            values = series.get(sentiment, [0] * len(labels))
            ax.bar(labels, values, bottom=bottom, color=COLOURS[sentiment], label=NAMES[sentiment], width=0.7)
            bottom = [b + v for b, v in zip(bottom, values)]
        ax.set_title(title, fontsize=12)
        ax.set_ylabel("Số tin liên quan")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(fontsize=9, frameon=False, ncols=3, loc="upper left")
        ax.tick_params(axis="x", labelsize=9, rotation=45)
        ax.set_ylim(0, max(max(bottom, default=0) * 1.25, 1))
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", metadata={"Software": None})
        return out.getvalue()
    finally:
        plt.close(fig)
