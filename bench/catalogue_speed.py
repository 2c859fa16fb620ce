"""The catalogue's knowledge base: load, fit and answer times (issue 10). Not part of the suite.

    .venv/bin/python bench/catalogue_speed.py

Prints, on one pinned core: the knowledge base load (parse and validate), the matcher built
with a fresh fit, the same built from the model cache, and the per-message latency (p50, p99,
max) over every line of the evaluation sets, warm, three passes: as wall time, and as the CPU
time of the thread, which other processes sharing the core inflate far less (on this 2-core
machine shared with other work, the wall time's p99 doubles at a load average of 5).
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
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(3):
        for q in questions:
            t, c = time.perf_counter(), time.thread_time()
            matcher.match(q)
            cpu.append((time.thread_time() - c) * 1000)
            times.append((time.perf_counter() - t) * 1000)
    for label, values in (("match", times), ("match, CPU", cpu)):
        values.sort()
        p99 = values[int(len(values) * 0.99)]
        print(
            f"{label}: {len(questions)} messages x 3, p50 {statistics.median(values):.2f} ms,"
            f" p99 {p99:.2f} ms, max {values[-1]:.2f} ms"
        )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
