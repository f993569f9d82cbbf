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
- **6d** :data:`ACCOUNTS_EXECUTIONS` executions split evenly between two accounts, each
  account a fleet server process of its own with its own buckets (400, refilled at
  :data:`ACCOUNT_RATE` a second), reached through its own profile
  (``--account-profile ACCOUNT=PROFILE``; each profile's ``endpoint_url`` is its account's
  server): one process must saturate both buckets at once, against the floor N·P ÷ (2 ×
  refill): <= 1.1x;
- throttling errors surfaced to the user (rows or stderr lines that name throttling) in all
  of them: 0.

``rows`` (``python -m benchmarks.bench --fleet-rows 6d``) runs only some of them: 6a and 6b
share the 10,000-execution run (6b also needs the 100-execution one).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks import fleet_server as fs
from benchmarks.bench import LAB_ENV, PY, ROOT, TRACE, Ratio, Report, Run, clean_env, run

EXECUTIONS = 10_000
SMALL = 100
QUARTER_EXECUTIONS = 1_500
FULL_BURST, FULL_RATE = 400.0, 100.0
WALL_TARGET = 1.1
RSS_TARGET = 1.2
ROWS = ("6a", "6b", "6c", "6d")
ACCOUNTS = ("111111111111", "222222222222")
"""The two accounts of row 6d, each a fleet server of its own."""
ACCOUNTS_EXECUTIONS = 5_000
"""Row 6d's executions, half in each account (8,334 history pages)."""
ACCOUNT_RATE = 50.0
"""Row 6d's refill, each account: 2.5x AWS's 20 a second, so that the row takes under a
minute and a half; the two accounts together make the 100 pages a second rows 6a and 6c
were measured at, so the row measures the split between two accounts, not a heavier load
on the machine."""
EXAMPLE_KEYS = (
    ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"),
)
"""AWS's documented example keys: one pair for each account's profile."""


@contextmanager
def server(executions: int, burst: float, rate: float, account: str = fs.ACCOUNT) -> Iterator[str]:
    """A fleet server process (of ``account``); yields its endpoint URL."""
    command = [PY, "-m", "benchmarks.fleet_server", "--executions", str(executions)]
    command += ["--burst", f"{burst:g}", "--rate", f"{rate:g}", "--account", account]
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


def check(result: Run, executions: int, label: str, report: Report, *, accounts: int = 1) -> None:
    """Every execution judged as the fleet was built (``accounts`` fleets of
    ``executions // accounts`` each)."""
    lines = result.stdout.splitlines()
    tally = json.loads(lines[-1]) if lines else {}
    expected_lost = accounts * sum(fs.loses(i) for i in range(executions // accounts))
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


def two_accounts(report: Report, executions: int) -> Run:
    """Row 6d: ``executions`` split between two accounts, each its own server and profile."""
    each = executions // 2
    with ExitStack() as stack:
        urls = [
            stack.enter_context(server(each, FULL_BURST, ACCOUNT_RATE, account))
            for account in ACCOUNTS
        ]
        config = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "config"
        config.write_text(
            "".join(
                f"[profile account-{n}]\naws_access_key_id = {key}\n"
                f"aws_secret_access_key = {secret}\nendpoint_url = {url}\n\n"
                for n, (url, (key, secret)) in enumerate(zip(urls, EXAMPLE_KEYS, strict=True))
            )
        )
        arns = [fs.state_machine_arn(account) for account in ACCOUNTS]
        command = [*TRACE, "scan", *arns, "--field", fs.FIELD, "--region", fs.REGION]
        command += ["--limit", str(each), "--format", "jsonl", "--rate", f"{ACCOUNT_RATE:g}"]
        for n, account in enumerate(ACCOUNTS):
            command += ["--account-profile", f"{account}=account-{n}"]
        env = clean_env(
            AWS_CONFIG_FILE=str(config),
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
        )
        result = run(command, env, keep_stdout=True)
        served = [stats(url) for url in urls]
    check(result, 2 * each, f"{2 * each:,} executions in two accounts", report, accounts=2)
    pages = [s["answered"].get("GetExecutionHistory", 0) for s in served]
    throttled = [s["throttled"].get("GetExecutionHistory", 0) for s in served]
    keys = [s["access_keys"] for s in served]
    floor = sum(pages) / (2 * ACCOUNT_RATE)
    report.compare(
        Ratio(
            f"6d. scan of {executions:,} executions across two accounts (each its own "
            f"bucket {FULL_BURST:g}, refill {ACCOUNT_RATE:g}/s, and profile), wall vs the "
            "floor N·P ÷ (2 × refill)",
            floor,
            result.wall,
            "s",
            WALL_TARGET,
            f"N·P ÷ (2 × refill) = {sum(pages)} ÷ (2 × {ACCOUNT_RATE:g}/s)",
            "`sfn-trace scan ARN_A ARN_B --field F --limit N/2 --format jsonl --rate "
            f"{ACCOUNT_RATE:g} --account-profile A=PA --account-profile B=PB`",
            1,
        )
    )
    burst_floor = (sum(pages) - 2 * FULL_BURST) / (2 * ACCOUNT_RATE)
    report.add(
        "fleet",
        "6d: each account's pages, rate reached, throttles absorbed, signing keys",
        "; ".join(
            f"account {account}: {p} pages, {p / result.wall:.1f}/s against "
            f"{ACCOUNT_RATE:g}/s, {t} throttled calls retried, calls signed by {sorted(k)}"
            for account, p, t, k in zip(ACCOUNTS, pages, throttled, keys, strict=True)
        )
        + f"; floor with the bursts spent first {burst_floor:.1f} s; peak "
        f"{result.peak_mb:.0f} MB",
    )
    return result


def fleet(
    report: Report,
    executions: int = EXECUTIONS,
    quarter: int = QUARTER_EXECUTIONS,
    accounts: int = ACCOUNTS_EXECUTIONS,
    rows: Collection[str] = ROWS,
) -> None:
    unknown = set(rows) - set(ROWS)
    if unknown:
        raise ValueError(f"unknown fleet rows {sorted(unknown)}: {', '.join(ROWS)}")
    print(f"fleet: rows {', '.join(r for r in ROWS if r in rows)} ...", flush=True)
    runs: list[Run] = []
    if {"6a", "6b"} & set(rows):
        runs += full(report, executions, rows)
    if "6c" in rows:
        runs.append(quarter_bucket(report, quarter))
    if "6d" in rows:
        runs.append(two_accounts(report, accounts))
    errors = sum(surfaced(r) for r in runs)
    report.add("fleet", "throttling errors surfaced to the user", str(errors), "= 0", errors == 0)


def full(report: Report, executions: int, rows: Collection[str]) -> list[Run]:
    """Rows 6a and 6b: ``executions`` behind the full bucket (and 100, for 6b's RSS)."""
    command = (
        f"`sfn-trace scan ARN --field {fs.FIELD} --limit N --format jsonl --rate {FULL_RATE:g}`"
    )
    runs: list[Run] = []
    if "6b" in rows:
        with server(SMALL, FULL_BURST, FULL_RATE) as url:
            small, _ = scan(url, SMALL, FULL_RATE)
        check(small, SMALL, f"{SMALL} executions", report)
        runs.append(small)
    with server(executions, FULL_BURST, FULL_RATE) as url:
        big, big_served = scan(url, executions, FULL_RATE)
    check(big, executions, f"{executions:,} executions", report)
    runs.append(big)
    if "6a" in rows:
        floor_ratio(
            report,
            f"6a. scan of {executions:,} executions, wall vs the quota floor (bucket "
            f"{FULL_BURST:g}, refill {FULL_RATE:g}/s)",
            big,
            big_served,
            FULL_RATE,
            command,
        )
    if "6b" in rows:
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
    return runs


def quarter_bucket(report: Report, quarter: int) -> Run:
    """Row 6c: ``quarter`` executions behind a quarter of the bucket, sfn-trace told the
    full rate."""
    quarter_burst, quarter_rate = FULL_BURST / 4, FULL_RATE / 4
    command = (
        f"`sfn-trace scan ARN --field {fs.FIELD} --limit N --format jsonl --rate {FULL_RATE:g}`"
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
    return small_bucket


if __name__ == "__main__":
    # python -m benchmarks.fleet_bench [EXECUTIONS [QUARTER [ACCOUNTS]]]
    sizes = [int(a) for a in sys.argv[1:4]]
    big, quarter, accounts = (
        sizes + [EXECUTIONS, QUARTER_EXECUTIONS, ACCOUNTS_EXECUTIONS][len(sizes) :]
    )
    fleet(Report(), big, quarter, accounts)
