"""The catalogue's knowledge base: load, fit and answer times (issue 10). Not part of the suite.

    .venv/bin/python bench/catalogue_speed.py

Prints, on one pinned core: the knowledge base load (parse and validate), the matcher built
with a fresh fit, the same built from the model cache, and the per-message latency (p50, p99,
max) over every line of the evaluation sets, warm, three passes.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import load  # noqa: E402
from bot.model_cache import ModelCache  # noqa: E402
from bot.understanding.matcher import Matcher  # noqa: E402

SETS = sorted((ROOT / "tests" / "data").glob("eval*.jsonl"))


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(f"python {sys.version.split()[0]}, one core, load average {os.getloadavg()[0]:.2f}")
    t = time.perf_counter()
    kb, _ = load(ROOT / "knowledge")
    print(
        f"load: {time.perf_counter() - t:.2f} s, {len(kb.topics)} topics,"
        f" {sum(len(x.phrasings) for x in kb.topics.values())} phrasings"
    )
    with tempfile.TemporaryDirectory() as folder:
        cache = ModelCache(Path(folder))
        t = time.perf_counter()
        matcher = Matcher(kb, models=cache)
        print(f"matcher, fitted: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        matcher = Matcher(kb, models=cache)
        print(f"matcher, from the cache: {time.perf_counter() - t:.2f} s")
    questions = [json.loads(line)["q"] for f in SETS for line in f.read_text().splitlines() if line]
    for q in questions:
        matcher.match(q)
    times = []
    for _ in range(3):
        for q in questions:
            t = time.perf_counter()
            matcher.match(q)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p99 = times[int(len(times) * 0.99)]
    print(
        f"match: {len(questions)} messages x 3, p50 {statistics.median(times):.2f} ms,"
        f" p99 {p99:.2f} ms, max {times[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
