"""The rule language's hot path: one compiled price rule evaluated 100,000 times with Decimal inputs.

    .venv/bin/python bench/rules.py                      # 100,000 evaluations, median of 5 runs
    .venv/bin/python bench/rules.py --evaluations 10000 --runs 2   # a quick run

No database: the rule is a price formula of six operations over four number variables,

    round_money(max(total * (1 - discount), 0) + shipping - rebate * quantity)

compiled once with ``core.compile_rule`` (kind ``bench.price``), then, each the median of ``--runs``
runs after one warm-up run:

- *rule*: ``rule.evaluate(values)`` ``--evaluations`` times, the values cycling through 1,000
  seeded random sets of ``Decimal`` inputs (as a module hands them over: Decimals, one an int);
- *floor*: the same arithmetic written in Python over the same ``Decimal`` values, in the same
  decimal context (34 digits, ROUND_HALF_UP to cents): what the rule cannot beat;
- *explain*: ``rule.explain(values)`` 1,000 times (the trace a price waterfall shows), per call;
- *compile*: the rule compiled anew (the cache cleared) 200 times, per compile; and a cached
  ``compile_rule`` call, per call.

Every rule result is checked against the floor's (a mismatch fails the run). The ratio is rule ÷
floor; wall and CPU seconds are both kept (the CPU time of this process wavers less when the machine
is shared). Results: a printed table and ``bench/results/rules-<UTC time>.json`` (git-ignored).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import RuleKind, RuleVariable, compile_rule  # noqa: E402
from core.rules import engine  # noqa: E402
from core.rules.language import DECIMAL_CONTEXT  # noqa: E402

TEXT = "round_money(max(total * (1 - discount), 0) + shipping - rebate * quantity)"
KIND = RuleKind("bench.price", "Price", tuple(RuleVariable(name, "number") for name in
                                              ("total", "discount", "shipping", "rebate", "quantity")),
                result="number")
CENT = Decimal("0.01")


def floor(v: dict) -> Decimal:
    """The rule's arithmetic in plain Python over Decimal."""
    return (max(v["total"] * (1 - v["discount"]), 0) + v["shipping"] - v["rebate"] * v["quantity"]).quantize(
        CENT, rounding=ROUND_HALF_UP)


def inputs(count: int, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    return [{"total": Decimal(rng.randrange(1, 10_000_000)) / 100, "discount": Decimal(rng.randrange(0, 40)) / 100,
             "shipping": Decimal(rng.choice(["0", "4.90", "9.90", "19.00"])),
             "rebate": Decimal(rng.randrange(0, 500)) / 100, "quantity": rng.randrange(1, 50)} for _ in range(count)]


def timed(function, values: list[dict], count: int) -> tuple[float, float, list]:
    """Wall and CPU seconds of ``count`` calls (CPU time wavers less on a shared machine)."""
    results = []
    append = results.append
    cycle = len(values)
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        append(function(values[i % cycle]))
    return time.perf_counter() - started, time.process_time() - cpu, results


def run_once(rule, values: list[dict], evaluations: int) -> dict:
    rule_seconds, rule_cpu, rule_results = timed(rule.evaluate, values, evaluations)

    def python(v):
        with localcontext(DECIMAL_CONTEXT):
            return floor(v)

    floor_seconds, floor_cpu, floor_results = timed(python, values, evaluations)
    if rule_results != floor_results:
        bad = next(i for i, (a, b) in enumerate(zip(rule_results, floor_results)) if a != b)
        raise SystemExit(f"mismatch at {bad}: rule {rule_results[bad]} != floor {floor_results[bad]}")
    explain_seconds, _, _ = timed(rule.explain, values, 1000)
    started = time.perf_counter()
    for _ in range(200):
        engine._cache.clear()
        compile_rule(KIND, TEXT)
    compile_seconds = (time.perf_counter() - started) / 200
    started = time.perf_counter()
    for _ in range(10_000):
        compile_rule(KIND, TEXT)
    cached_seconds = (time.perf_counter() - started) / 10_000
    return {"rule_s": rule_seconds, "floor_s": floor_seconds, "rule_cpu_s": rule_cpu, "floor_cpu_s": floor_cpu,
            "explain_us": explain_seconds / 1000 * 1e6,
            "compile_us": compile_seconds * 1e6, "cached_compile_us": cached_seconds * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--evaluations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rule = compile_rule(KIND, TEXT)
    values = inputs(1000)
    run_once(rule, values, min(args.evaluations, 10_000))  # warm-up
    runs = [run_once(rule, values, args.evaluations) for _ in range(args.runs)]
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    ratio = median["rule_s"] / median["floor_s"]
    per_evaluation = median["rule_s"] / args.evaluations * 1e6
    print(f"rule: {TEXT}")
    print(f"{args.evaluations:,} evaluations, median of {args.runs} runs "
          f"(spread {min(r['rule_s'] for r in runs):.3f}–{max(r['rule_s'] for r in runs):.3f} s)")
    print(f"  rule   {median['rule_s']:8.3f} s   {per_evaluation:6.2f} µs per evaluation")
    print(f"  floor  {median['floor_s']:8.3f} s   {median['floor_s'] / args.evaluations * 1e6:6.2f} µs "
          f"per evaluation (the same arithmetic in Python, Decimal)")
    print(f"  ratio  {ratio:8.1f} ×   (CPU time: rule {median['rule_cpu_s']:.3f} s, floor "
          f"{median['floor_cpu_s']:.3f} s, ratio {median['rule_cpu_s'] / median['floor_cpu_s']:.1f} ×)")
    print(f"  explain {median['explain_us']:7.1f} µs per call; compile {median['compile_us']:7.1f} µs, "
          f"cached compile_rule {median['cached_compile_us']:5.2f} µs")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    (results / f"rules-{stamp}.json").write_text(json.dumps({
        "text": TEXT, "evaluations": args.evaluations, "runs": runs, "median": median, "ratio": ratio,
        "per_evaluation_us": per_evaluation, "python": platform.python_version(),
        "load": os.getloadavg()}, indent=2))


if __name__ == "__main__":
    main()
