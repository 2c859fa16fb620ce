"""Benchmark what a turn does with hostile text: every pattern and loop run on a citizen's words.

Not part of the test suite (tests/test_hostile_text.py holds the budgets). Run from the
repository root:

    .venv/bin/python bench/hostile_text.py                 # 16,000 and 100,000 characters
    .venv/bin/python bench/hostile_text.py --sizes 1000    # other sizes
    .venv/bin/python bench/hostile_text.py --limit 20      # stop a case after 20 s of CPU

Each case is one function of the message path fed one adversarial input (no spaces, repeated
punctuation, "a." runs, digit runs, "@" and "." for the link pattern, repeated key terms). The
figure is this process's CPU time per call (other jobs on a shared machine do not count), the
mean of as many calls as fill 0.3 s, with the token caches emptied before each; ">LIMIT" when a
profiling timer stopped it (the regex engine checks signals while it backtracks, so a pattern
stops too).

Figures: ms of CPU per call, on a 2-vCPU VM shared with other engineers' jobs (load average
from `uptime` 2.5-4.7 while measuring). "Before" is the code as of d105723, before the fixes of
issue "Proof under hostile input and faults"; ">60 s" cases were stopped at 60 s. 16,000 to
100,000 characters is 6.25 times the text: linear code takes ~6x, quadratic code ~40x.

    case                  input                     16k before  100k before  16k after  100k after
    text.raw_tokens       letters                        1,070       43,925        1.9        13.8
    text.raw_tokens       "a." runs                      2,323       >60 s         3.3        22.2
    text.raw_tokens       "@." runs                        0.0          0.0        0.3         1.8
    text.token_shapes     "ư" runs                       2,798       >60 s         5.2        23.5
    text.detect_lang      letters                        1,200       45,555        2.5        12.2
    cases.find_code       letters                          937       41,496        4.0        25.9
    cases.find_code       "a1-" runs                       885       51,340        3.4        19.3
    cases.find_code       digits                         1,356       41,114        2.8        16.5
    cases.find_digits     spaced digits                    2.8         23.3        2.8        18.8
    cases.wants_notice    letters                          931       42,787        2.4        15.4
    facets.detect_facets  "bao nhieu" x N                  7.2         62.0        9.3        52.1
    Speller.correct       a long word                      4.0         23.4        5.6        25.3
    Matcher.normalise     a long word                    3,377       >60 s        12.6        82.4
    Matcher.match         a long word                    3,093       >60 s         9.8        67.1
    Matcher.match         "a." runs                      3,451       >60 s        49.3       262.0
    Matcher.match         "do i need" x N                  188        6,895       33.9       244.0
    Matcher.match         "xin thoi quoc tich" x N         384       20,859      147.3     1,047.0
    Dialog.handle         letters                        5,346       >60 s         0.7         0.9
    Dialog.handle         a long word                    4,901       >60 s         1.6         1.3
    Dialog.handle         "do i need" x N                  191        7,443        2.0         1.7
    Dialog.handle         "xin thoi quoc tich" x N         444       19,516        4.4         6.7
    Dialog.handle         digits                    ValueError   ValueError        1.1         0.9

The link pattern made every text function quadratic (text.raw_tokens and all that call it); the
matcher added its own cut of a long word in two and scans of repeated phrases; a turn
(Dialog.handle) now reads `bot.dialog.READ_CHARS` characters, so its cost no longer grows with
the message. Before, a number past 4,300 digits made int() raise in the dialog.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from bot import text
from bot.bundle import Bundle
from bot.cases.lookup import find_code, find_digits, wants_notice
from bot.models import EventKind, Incoming, Platform
from bot.text import detect_lang, raw_tokens, token_shapes, tokens
from bot.understanding.facets import detect_facets

ROOT = Path(__file__).resolve().parent.parent
MEASURE_SECONDS = 0.3


class _Stopped(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    input_name: str
    run: Callable[[str], object]
    build: Callable[[int], str]


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


LETTERS = _repeat("a")
LONG_WORD = _repeat("dangky")  # no doubled letter, so it is not collapsed to one letter
A_DOT = _repeat("a.")
SHAPED = _repeat("ư")
CODE_LIKE = _repeat("a1-")
DIGITS = _repeat("1")
SPACED_DIGITS = _repeat("1 ")
AT_DOT = _repeat("@.")
NEED = _repeat("do i need ")
STRADDLED = _repeat("xin thoi quoc tich ")
FACETS = _repeat("bao nhieu ")


def cases(bundle: Bundle) -> list[Case]:
    matcher, dialog = bundle.matcher, bundle.dialog

    def turn(message: str) -> object:
        msg = Incoming(Platform.WEBCHAT, "bench", "m", EventKind.TEXT, message)
        return dialog.handle(None, msg, 0)

    return [
        Case("text.raw_tokens", "letters", raw_tokens, LETTERS),
        Case("text.raw_tokens", '"a." runs', raw_tokens, A_DOT),
        Case("text.raw_tokens", '"@." runs', raw_tokens, AT_DOT),
        Case("text.token_shapes", '"ư" runs', token_shapes, SHAPED),
        Case("text.detect_lang", "letters", detect_lang, LETTERS),
        Case("cases.find_code", "letters", find_code, LETTERS),
        Case("cases.find_code", '"a1-" runs', find_code, CODE_LIKE),
        Case("cases.find_code", "digits", find_code, DIGITS),
        Case("cases.find_digits", "spaced digits", find_digits, SPACED_DIGITS),
        Case("cases.wants_notice", "letters", wants_notice, LETTERS),
        Case("facets.detect_facets", '"bao nhieu" x N', lambda t: detect_facets(tokens(t)), FACETS),
        Case("Speller.correct", "a long word", matcher.speller.correct, LONG_WORD),
        Case("Matcher.normalise", "a long word", matcher.normalise, LONG_WORD),
        Case("Matcher.match", "a long word", matcher.match, LONG_WORD),
        Case("Matcher.match", '"a." runs', matcher.match, A_DOT),
        Case("Matcher.match", '"do i need" x N', matcher.match, NEED),
        Case("Matcher.match", '"xin thoi quoc tich" x N', matcher.match, STRADDLED),
        Case("Dialog.handle", "letters", turn, LETTERS),
        Case("Dialog.handle", "a long word", turn, LONG_WORD),
        Case("Dialog.handle", '"do i need" x N', turn, NEED),
        Case("Dialog.handle", '"xin thoi quoc tich" x N', turn, STRADDLED),
        Case("Dialog.handle", "digits", turn, DIGITS),
    ]


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


def _cold(bundle: Bundle) -> None:
    """Forget every cached token: an attacker sends a new word each time."""
    text._normal_token.cache_clear()
    text._word_shapes.cache_clear()
    bundle.matcher.speller._near.clear()


def measure(bundle: Bundle, case: Case, size: int, limit: int) -> str:
    """This process's CPU time per call (other jobs on the machine do not count): the mean of
    as many calls as fill MEASURE_SECONDS, the CPU clock of a VM may tick only every 4 ms."""
    message = case.build(size)
    spent, calls = 0.0, 0
    signal.signal(signal.SIGPROF, _stop)
    while spent < MEASURE_SECONDS and calls < 1000:
        _cold(bundle)
        signal.setitimer(signal.ITIMER_PROF, limit)
        start = time.process_time()
        try:
            case.run(message)
        except _Stopped:
            return f">{limit} s"
        except Exception as exc:
            return type(exc).__name__
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        spent += time.process_time() - start
        calls += 1
    return f"{spent / calls * 1000:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16_000, 100_000])
    parser.add_argument("--limit", type=int, default=60, help="seconds before a case is stopped")
    parser.add_argument("--only", default="", help="run the cases whose name contains this")
    args = parser.parse_args()
    sys.set_int_max_str_digits(4300)  # the interpreter's default, whatever the environment says
    bundle = Bundle.load(ROOT / "knowledge")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; sizes {args.sizes}")
    header = "".join(f"{size:>14,}" for size in args.sizes)
    print(f"{'case':<24}{'input':<26}{header}  (ms)")
    for case in cases(bundle):
        if args.only not in case.name:
            continue
        row = "".join(f"{measure(bundle, case, size, args.limit):>14}" for size in args.sizes)
        print(f"{case.name:<24}{case.input_name:<26}{row}", flush=True)


if __name__ == "__main__":
    main()
