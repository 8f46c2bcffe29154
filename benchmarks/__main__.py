"""``python -m benchmarks [NAME ...] [-- ARGS]``: run the named benchmarks (default: all) and write
their figures to benchmarks/output/results.json."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(HERE)]) if m.name.startswith("bench_"))


def main() -> int:
    args = sys.argv[1:]
    extra: list[str] = []
    if "--" in args:
        extra = args[args.index("--") + 1:]
        args = args[: args.index("--")]
    names = args or available()
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"benchmarks: unknown {', '.join(unknown)}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    results = {}
    for name in names:
        print(f"== {name}")
        started = time.perf_counter()
        module = importlib.import_module(f"benchmarks.bench_{name}")
        results[name] = module.main(extra)
        print(f"== {name} done in {time.perf_counter() - started:.1f}s\n")
    out = HERE / "output"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(f"benchmarks: figures written to {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
