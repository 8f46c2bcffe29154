"""Classification speed against word segmentation, on the same texts, each as a whole process.

(a) underthesea ``word_tokenize`` alone over every item's title and lead, in a fresh Python process;
(b) ``bhxh-monitor classify`` on the same items as JSON Lines, as a subprocess.
Reports (b)/(a) (floor: at most 1.3; the goal is well below 1) and items per second.

Texts are read at run time from ../shared/stream (real news, never copied into the repository) or,
where it is absent, generated. ``python -m benchmarks classify -- --items 5000``.

``--bhxh`` keeps only stream items that mention social insurance: the worst case for classification,
since relevant items written with diacritics are the ones the sentence-embedding models read
(``classifiers.embeddings``); a real stream has a few of them in a thousand.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STREAM = ROOT.parent / "shared" / "stream" / "news_2025-08_2026-01.jsonl.gz"
CLI = ROOT / ".venv" / "bin" / "bhxh-monitor"

SEGMENT = """
import json, sys
from underthesea import word_tokenize
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    word_tokenize(r["title"] + " . " + r.get("snippet", ""))
    n += 1
print(n)
"""


BHXH = re.compile(r"bảo hiểm xã hội|bảo hiểm y tế|bảo hiểm thất nghiệp|BHXH|BHYT|BHTN|lương hưu", re.I)


def _items(count: int, seed: int, bhxh: bool = False) -> list[dict]:
    if STREAM.is_file():
        out = []
        with gzip.open(STREAM, "rt", encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                if bhxh and not BHXH.search(f"{r['title']} {r.get('summary') or ''}"):
                    continue
                out.append({"id": r["id"], "title": r["title"], "snippet": r.get("summary") or ""})
                if len(out) >= count:
                    break
        return out
    rng = random.Random(seed)
    words = ("bảo hiểm xã hội lương hưu người lao động công ty nợ đóng chậm trả thẻ y tế giá vàng "
             "bóng đá thời tiết mưa lớn giao thông kinh tế tăng trưởng chứng khoán").split()
    return [{"id": i, "title": " ".join(rng.choices(words, k=14)), "snippet": " ".join(rng.choices(words, k=40))}
            for i in range(count)]


def _timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="bench_classify")
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bhxh", action="store_true", help="only items mentioning social insurance")
    args = parser.parse_args(argv or [])
    items = _items(args.items, args.seed, args.bhxh)
    chars = sum(len(i["title"]) + len(i["snippet"]) for i in items)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "items.jsonl"
        src.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
        segment = _timed([sys.executable, "-c", SEGMENT, str(src)])
        cli = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "monitor.cli"]
        classify = _timed(cli + ["classify", "--input", str(src), "--output", str(Path(tmp) / "out.jsonl")])
    figures = {
        "items": len(items), "chars": chars,
        "segment_s": round(segment, 2), "classify_s": round(classify, 2),
        "ratio_classify_to_segment": round(classify / segment, 3),
        "segment_items_per_s": round(len(items) / segment, 1),
        "classify_items_per_s": round(len(items) / classify, 1),
    }
    origin = "../shared/stream" if STREAM.is_file() else "generated"
    print(f"  {len(items)} items, {chars} characters ({origin}{', BHXH items only' if args.bhxh else ''})")
    print(f"  (a) word_tokenize alone: {segment:.2f} s, {figures['segment_items_per_s']} items/s")
    print(f"  (b) bhxh-monitor classify: {classify:.2f} s, {figures['classify_items_per_s']} items/s")
    print(f"  ratio (b)/(a): {figures['ratio_classify_to_segment']} (floor 1.3, goal well below 1)")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
