"""Benchmark `bot.understanding.variants`: the cost of expanding the knowledge base's phrasings.

Not part of the test suite (tests/test_variants.py holds a generous budget for a huge input).
Run from the repository root:

    .venv/bin/python bench/variants.py                  # the knowledge base, 100,000 phrasings
    .venv/bin/python bench/variants.py --count 20000    # another number of synthetic phrasings

The variants are generated when the knowledge base loads, for every phrasing: 572 today, up
to 100,000 later, with 4 to 8 variants each. Three measures, in CPU time of this process:
- the knowledge base's phrasings, `per` 4 and 8: the first pass (word caches empty) and the
  mean of later passes;
- `count` synthetic phrasings (two knowledge-base phrasings joined, so every text and seed
  differs, as staff-written phrasings would), one pass;
- one phrasing of 1,000, 10,000 and 100,000 characters: the cost per character stays flat when
  the code is linear.

Figures on a 2-vCPU VM shared with other sessions (load average 4.9-5.0 from `uptime` while
measuring, so CPU time is inflated by contention), 2026-12-07:

    knowledge base, 572 phrasings  per=4  first pass  104 us/phrasing   26.2 us/variant
                                          later       100 us/phrasing   25.0 us/variant
                                   per=8  first pass  171 us/phrasing   21.4 us/variant
                                          later       160 us/phrasing   20.1 us/variant
    100,000 synthetic phrasings    per=4              100 us/phrasing   24.9 us/variant
                                   per=8              162 us/phrasing   20.3 us/variant
    one long phrasing (per=8)      1,000 chars        1.07 ms           1.07 us/char
                                   10,000 chars       9.0 ms            0.90 us/char
                                   100,000 chars      80 ms             0.80 us/char

About 40 us of a phrasing's cost is fixed (reading its words, its language, its abbreviations,
seeding the generator), so a smaller `per` costs more per variant.

So 100,000 phrasings with 8 variants each cost about 16 s of CPU at load (572 phrasings: 0.1 s):
at that size the caller should keep the expanded phrasings by the knowledge base's version
rather than expand them again on every reload.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bot.knowledge import load
from bot.understanding import variants as module
from bot.understanding.variants import variants

ROOT = Path(__file__).resolve().parent.parent


def _clear_caches() -> None:
    for cached in (module._telex, module._vni, module._fold_word):
        cached.cache_clear()


def _pass(phrasings: list[str], per: int) -> tuple[float, int]:
    """CPU seconds of one pass over `phrasings`, and the number of variants made."""
    start = time.process_time()
    made = sum(len(variants(p, per)) for p in phrasings)
    return time.process_time() - start, made


def _report(label: str, seconds: float, phrasings: int, made: int) -> None:
    print(
        f"{label:<42} {seconds / phrasings * 1e6:8.1f} us/phrasing "
        f"{seconds / max(made, 1) * 1e6:6.1f} us/variant  ({made / phrasings:.2f} variants each)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="synthetic phrasings")
    parser.add_argument("--passes", type=int, default=5, help="later passes over the base")
    args = parser.parse_args()

    kb, _ = load(ROOT / "knowledge")
    base = [p for topic in kb.topics.values() for p in topic.phrasings]
    for per in (4, 8):
        _clear_caches()
        seconds, made = _pass(base, per)
        _report(
            f"knowledge base, {len(base)} phrasings, per={per}, first", seconds, len(base), made
        )
        total, made = 0.0, 0
        for _ in range(args.passes):
            seconds, m = _pass(base, per)
            total, made = total + seconds, made + m
        _report(f"knowledge base, per={per}, later", total, len(base) * args.passes, made)

    synthetic = [
        f"{base[i % len(base)]} {base[(i * 7 + i // len(base)) % len(base)]}"
        for i in range(args.count)
    ]
    for per in (4, 8):
        _clear_caches()
        seconds, made = _pass(synthetic, per)
        _report(f"{len(synthetic):,} synthetic phrasings, per={per}", seconds, len(synthetic), made)

    unit = " ".join(base)
    for size in (1_000, 10_000, 100_000):
        text = (unit * (size // len(unit) + 1))[:size]
        _clear_caches()
        start = time.process_time()
        variants(text, 8)
        seconds = time.process_time() - start
        print(f"one phrasing of {size:>7,} characters: {seconds * 1e3:8.2f} ms", end="")
        print(f"  {seconds / size * 1e6:.2f} us/char")


if __name__ == "__main__":
    main()
