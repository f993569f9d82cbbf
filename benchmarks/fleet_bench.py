"""The fleet rows of ``make bench`` (issue 23): ``sfn-trace scan`` at the account's quota.

Each run starts a fresh :mod:`benchmarks.fleet_server` process on loopback (its own bucket,
full) and runs ``sfn-trace scan ... --format jsonl`` against it through the launcher of
:mod:`benchmarks.bench` (wall time, the child's own peak RSS):

- **6a** 10,000 executions behind a bucket of 400 refilled at :data:`FULL_RATE` a second
  (AWS documents 400 and 20: the faster refill keeps the row under three minutes, and
  ``--rate`` tells sfn-trace the account was granted it), against the quota floor N·P ÷
  refill, where N·P is the history pages the server answered: <= 1.1x;
- **6b** the peak RSS of that run against a run of 100 executions: <= 1.2x;
- **6c** :data:`QUARTER_EXECUTIONS` executions behind a quarter of that bucket (100, refilled
  at a quarter of the rate), as if another client spent the rest, sfn-trace still told the
  full rate: it must learn the smaller one from the throttling, against the floor this
  bucket sets: <= 1.1x;
- throttling errors surfaced to the user (rows or stderr lines that name throttling) in all
  of them: 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from benchmarks import fleet_server as fs
from benchmarks.bench import LAB_ENV, PY, ROOT, TRACE, Ratio, Report, Run, clean_env, run

EXECUTIONS = 10_000
SMALL = 100
QUARTER_EXECUTIONS = 1_500
FULL_BURST, FULL_RATE = 400.0, 100.0
WALL_TARGET = 1.1
RSS_TARGET = 1.2


@contextmanager
def server(executions: int, burst: float, rate: float) -> Iterator[str]:
    """A fleet server process; yields its endpoint URL."""
    command = [PY, "-m", "benchmarks.fleet_server", "--executions", str(executions)]
    command += ["--burst", f"{burst:g}", "--rate", f"{rate:g}"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=clean_env()
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the fleet server did not start: {line!r}")
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(10)


def stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/stats", timeout=10) as answer:  # loopback only
        result: dict[str, Any] = json.load(answer)
        return result


def scan(url: str, executions: int, rate: float) -> tuple[Run, dict[str, Any]]:
    command = [*TRACE, "scan", fs.STATE_MACHINE_ARN, "--field", fs.FIELD]
    command += ["--endpoint-url", url, "--region", fs.REGION, "--limit", str(executions)]
    command += ["--format", "jsonl", "--rate", f"{rate:g}"]
    result = run(command, clean_env(**LAB_ENV), keep_stdout=True)
    return result, stats(url)


def surfaced(result: Run) -> int:
    """Rows and stderr lines that tell the user of throttling."""
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    bad = [r for r in rows if "throttl" in str(r.get("error") or "").lower()]
    return len(bad) + sum("throttl" in line.lower() for line in result.stderr.splitlines())


def check(result: Run, executions: int, label: str, report: Report) -> None:
    lines = result.stdout.splitlines()
    tally = json.loads(lines[-1]) if lines else {}
    expected_lost = sum(fs.loses(i) for i in range(executions))
    ok = (
        result.returncode == 1
        and tally.get("executions") == executions
        and tally.get("lost_the_field") == expected_lost
        and tally.get("unreadable") == 0
        and len(lines) == executions + 1
    )
    value = (
        f"exit {result.returncode}, {len(lines) - 1} execution lines, tally: "
        f"{tally.get('executions')} executions, {tally.get('lost_the_field')} lost "
        f"(expected {expected_lost}), {tally.get('unreadable')} unreadable"
    )
    if result.stderr.strip():
        value += f"; stderr: {result.stderr.strip()[:200]}"
    report.add("fleet", f"{label}: every execution judged as built", value, "all", ok)


def floor_ratio(
    report: Report, measure: str, result: Run, served: dict[str, Any], rate: float, cmd: str
) -> float:
    pages = served["answered"].get("GetExecutionHistory", 0)
    floor = pages / rate
    report.compare(
        Ratio(
            measure,
            floor,
            result.wall,
            "s",
            WALL_TARGET,
            f"N·P ÷ refill = {pages} ÷ {rate:g}/s",
            cmd,
            1,
        )
    )
    throttled = served["throttled"].get("GetExecutionHistory", 0)
    report.add(
        "fleet",
        f"{measure}: pages, throttles absorbed, rate reached",
        f"{pages} pages in {result.wall:.1f} s = {pages / result.wall:.1f}/s against a refill "
        f"of {rate:g}/s (floor {floor:.1f} s); {throttled} throttled calls retried; peak "
        f"{result.peak_mb:.0f} MB",
    )
    return floor


def fleet(report: Report, executions: int = EXECUTIONS, quarter: int = QUARTER_EXECUTIONS) -> None:
    print(f"fleet: {SMALL} executions, then {executions:,}, then a quarter bucket ...", flush=True)
    quarter_burst, quarter_rate = FULL_BURST / 4, FULL_RATE / 4
    with server(SMALL, FULL_BURST, FULL_RATE) as url:
        small, _ = scan(url, SMALL, FULL_RATE)
    check(small, SMALL, f"{SMALL} executions", report)
    with server(executions, FULL_BURST, FULL_RATE) as url:
        big, big_served = scan(url, executions, FULL_RATE)
    check(big, executions, f"{executions:,} executions", report)
    command = (
        f"`sfn-trace scan ARN --field {fs.FIELD} --limit N --format jsonl --rate {FULL_RATE:g}`"
    )
    floor_ratio(
        report,
        f"6a. scan of {executions:,} executions, wall vs the quota floor (bucket "
        f"{FULL_BURST:g}, refill {FULL_RATE:g}/s)",
        big,
        big_served,
        FULL_RATE,
        command,
    )
    report.compare(
        Ratio(
            f"6b. scan peak RSS, {executions:,} vs {SMALL} executions",
            small.peak_mb,
            big.peak_mb,
            "MB",
            RSS_TARGET,
            f"the same scan of {SMALL} executions",
            command,
            1,
        )
    )
    with server(quarter, quarter_burst, quarter_rate) as url:
        small_bucket, small_served = scan(url, quarter, FULL_RATE)
    check(small_bucket, quarter, f"{quarter:,} executions, quarter bucket", report)
    floor_ratio(
        report,
        f"6c. scan of {quarter:,} executions, a quarter bucket ({quarter_burst:g}, refill "
        f"{quarter_rate:g}/s; sfn-trace told {FULL_RATE:g}/s), wall vs its floor",
        small_bucket,
        small_served,
        quarter_rate,
        command,
    )
    errors = sum(surfaced(r) for r in (small, big, small_bucket))
    report.add("fleet", "throttling errors surfaced to the user", str(errors), "= 0", errors == 0)


if __name__ == "__main__":
    bench_report = Report()
    fleet(bench_report, *(int(a) for a in sys.argv[1:3]))
