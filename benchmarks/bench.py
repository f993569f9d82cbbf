"""``make bench``: how fast, how big and how chatty sfn-trace is, against targets (issue 7).

0. **Targets**: four ratios, each measured side by side in one run (one warm-up each, then
   ``--runs`` rounds alternating the two sides, medians; see :class:`Ratio`):

   1. offline wall time of ``sfn-trace FILE --definition DEF --field poll_results_s3_key
      --format json`` against ``python -c "import json; json.load(open(FILE))"``: <= 2x;
   2. the peak RSS of the same two commands: <= 1.5x;
   3. live, end to end, ``sfn-trace ARN --field F --no-logs --format json --endpoint-url URL``
      (the definition fetched with DescribeStateMachineForExecution and replayed, the history
      paged 1,000 events at a time) against a bare boto3 paginator fetching the same history
      from the same loopback endpoint: <= 1.15x;
   4. ``sfn-trace --help`` and ``sfn-trace --version``, each a new process, against
      ``python -c "import typer"``: <= 1.5x.

   Rows 1-3 use the "14k shape" (:data:`SHAPE_EVENTS`): the generated history of
   :mod:`benchmarks.generate_history` at 14,008 events, a 913-item inline Map with ~4 KB
   payloads, 31 MB as a file, the field in most payloads; rows 1-2 read it from a file with its
   definition, row 3 serves the same history (same seed) through the paging proxy.
1. **Offline, large**: a generated 25,000-event history (the AWS maximum). Wall time (median
   of ``--runs``) and peak RSS of ``sfn-trace FILE --field F --format json`` against the floor
   measured in the same run, ``python -c 'import json,sys; json.load(open(sys.argv[1]))'
   FILE``. Targets: at most 2x the floor, under 250 MB. Startup: ``sfn-trace --help`` under
   0.5 s. Also, informational: a field that occurs in few payloads, and a file four times the
   AWS maximum under a 1 GiB address-space limit (refused or traced, never a crash).
2. **Live, paginated**: the 14k-shape history served through
   :class:`benchmarks.paging_proxy.PagingProxy` in front of the lab's moto server (the
   execution exists in moto; the proxy pages its history). sfn-trace end to end (with and
   without ``--no-logs``) against a bare boto3 paginator fetching the same events.
3. **Calls**: API calls per operation, counted at the proxy, for the seed incident
   (``fixtures.line_ingest`` SEED) and a 50-invocation Map. History calls must equal
   ceil(events / 1000); log calls the number of log groups x pages (one page each in moto).

Each child's peak RSS is its own (``getrusage`` in a small launcher process). Timed runs of
the sides of a comparison alternate, after one warm-up each. The tables go to stdout and,
unless ``--no-write``, to ``benchmarks/RESULTS.md``. When an offline target of the 25,000-event
history is missed, a cProfile of the in-process trace says where the time goes. ``--quick``
(3 runs, small histories, no oversized file, RESULTS.md left alone) smoke-tests all of it.
Only 127.0.0.1 is contacted, with dummy credentials set in the children's environment.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import generate_history as gh

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PY = sys.executable
FIELD = gh.FIELD

TIME_RATIO_TARGET = 2.0
PEAK_MB_TARGET = 250.0
STARTUP_TARGET_S = 0.5
LIVE_RATIO_TARGET = 1.15
PAGE_LATENCY = 0.15
"""Seconds each history page takes in the latency rows: what a GetExecutionHistory page of
1,000 events with execution data takes from AWS (100-300 ms), so that the work sfn-trace does
while the next page is on its way shows."""
OTHER_LATENCY = 0.04
"""Seconds every other call takes in the latency rows: a round trip to a faraway region."""
LATENCY_TARGETS = {"seed": 1.2, "shape": 0.65, "max": 0.6}
"""Rows 5a-5c: the whole trace (definition fetched, Lambda logs read) under latency, against
a bare forward paginator of the same history: the seed's shape (1 page, 4 Lambda functions in
4 log groups), the 14k shape (15 pages), and AWS's maximum (25,000 events, 25 pages)."""
RSS_RATIO_TARGET = 1.5
STARTUP_RATIO_TARGET = 1.5
OVERSIZE_LIMIT = 1 << 30  # RLIMIT_AS for the oversized file: a small container's memory
SHAPE_EVENTS = 14_008  # the "14k shape": 913 Map items, ~4 KB payloads, 31 MB as a file
MIN_RUNS = 5

# sfn-trace as a user runs it: the console script of this interpreter's environment (its
# shebang is this interpreter), or the module when the package is not installed as a script.
_SCRIPT = Path(PY).parent / "sfn-trace"
TRACE: tuple[str, ...] = (str(_SCRIPT),) if _SCRIPT.is_file() else (PY, "-m", "sfn_trace")
FLOOR = "import json,sys; json.load(open(sys.argv[1]))"
IMPORT_TYPER = "import typer"
PAGINATOR = """
import sys, boto3
client = boto3.client("stepfunctions", endpoint_url=sys.argv[2], region_name="us-west-2")
pages = client.get_paginator("get_execution_history").paginate(
    executionArn=sys.argv[1], PaginationConfig={"PageSize": 1000})
print(sum(len(page["events"]) for page in pages))
"""


# --- measuring one child ---------------------------------------------------------------


@dataclass
class Run:
    wall: float
    peak_mb: float
    returncode: int
    stdout: str
    stderr: str


# A small launcher runs each measured command, so that the child's peak RSS is its own: a
# child forked straight from this process (which holds generated histories, hundreds of MB)
# would report the parent's pages in its ru_maxrss, inherited at fork before exec.
_LAUNCHER = """
import json, resource, subprocess, sys, time
limit = int(sys.argv[2])
def cap():
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
start = time.perf_counter()
code = subprocess.run(sys.argv[3:], preexec_fn=cap if limit else None).returncode
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as out:
    json.dump({"wall": wall, "peak_kib": peak, "code": code}, out)
"""


def run(
    cmd: Sequence[str],
    env: dict[str, str] | None = None,
    *,
    address_limit: int | None = None,
    keep_stdout: bool = False,
) -> Run:
    """Run ``cmd`` through the launcher: wall time, its own peak RSS, exit code, output."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile(suffix=".json") as measured,
    ):
        launcher = [PY, "-c", _LAUNCHER, measured.name, str(address_limit or 0), *cmd]
        subprocess.run(
            launcher,
            stdout=out if keep_stdout else subprocess.DEVNULL,
            stderr=err,
            env=env,
            cwd=ROOT,
            check=False,
        )
        try:
            facts = json.loads(Path(measured.name).read_text() or "{}")
        except ValueError:
            facts = {}
        out.seek(0)
        err.seek(0)
        return Run(
            wall=float(facts.get("wall", math.nan)),
            peak_mb=float(facts.get("peak_kib", math.nan)) / 1024,  # KiB on Linux
            returncode=int(facts.get("code", -999)),
            stdout=out.read().decode("utf-8", "replace") if keep_stdout else "",
            stderr=err.read().decode("utf-8", "replace"),
        )


def alternate(commands: dict[str, Callable[[], Run]], runs: int) -> dict[str, list[Run]]:
    """One warm-up each, then ``runs`` rounds in turn, so drift hits every side alike."""
    for make in commands.values():
        make()
    results: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, make in commands.items():
            results[name].append(make())
    return results


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the caller's AWS settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


LAB_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-west-2",
    # No profile, credentials file or instance metadata of this machine can be read.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


# --- results ---------------------------------------------------------------------------


@dataclass
class Row:
    section: str
    measure: str
    value: str
    target: str = ""
    ok: bool | None = None
    """None: informational."""

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")


@dataclass
class Ratio:
    """One target: B (sfn-trace) against A (the baseline), medians of runs made alternately."""

    measure: str
    a: float
    """Median of the baseline's runs."""
    b: float
    """Median of sfn-trace's runs."""
    unit: str
    """``s`` or ``MB``."""
    target: float
    """B / A must be at most this."""
    a_cmd: str
    b_cmd: str
    runs: int

    @property
    def ratio(self) -> float:
        return self.b / self.a if self.a > 0 else math.inf

    @property
    def met(self) -> bool:
        return self.ratio <= self.target

    @property
    def verdict(self) -> str:
        return "met" if self.met else "missed"

    def cells(self) -> tuple[str, str, str, str, str, str]:
        digits = 3 if self.unit == "s" else 0
        return (
            self.measure,
            f"{self.a:.{digits}f} {self.unit}",
            f"{self.b:.{digits}f} {self.unit}",
            f"{self.ratio:.2f}x",
            f"<= {self.target:g}x",
            self.verdict,
        )


RATIO_HEADERS = ("measure", "A median (baseline)", "B median (sfn-trace)", "B / A", "target", "")


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profile: str = ""
    calls: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, *args: Any, **kwargs: Any) -> None:
        row = Row(*args, **kwargs)
        self.rows.append(row)
        mark = f"  [{row.verdict}]" if row.verdict else ""
        target = f"  (target {row.target})" if row.target else ""
        print(f"  {row.section}: {row.measure} = {row.value}{target}{mark}", flush=True)

    def compare(self, ratio: Ratio) -> None:
        self.ratios.append(ratio)
        self.ratios.sort(key=lambda r: r.measure)  # "1. ...", "2. ...", "3. ...", "4a. ..."
        measure, a, b, times, target, verdict = ratio.cells()
        print(f"  TARGET {measure}: A {a}, B {b}, {times} ({target}) {verdict}", flush=True)


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "sfn_trace"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "CPU": model,
        "nproc": str(os.cpu_count()),
        "memory": memory,
        "Python": f"{platform.python_version()} ({platform.python_implementation()}"
        + (", in a virtualenv)" if sys.prefix != sys.base_prefix else ")"),
        "OS": platform.platform(),
        "sfn-trace": f"{revision or '?'}"
        + (" + uncommitted changes in sfn_trace/" if dirty else ""),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load average at start (1, 5, 15 min)": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# --- shared by the offline and live measures ---------------------------------------------


def describe(generated: gh.Generated, path: Path | None = None) -> str:
    size = f", {path.stat().st_size / 1e6:.1f} MB" if path else ""
    return (
        f"{len(generated.events)} events, {generated.items} Map items x 15+ events, "
        f"{generated.retries} retries{size}"
    )


def attribution(generated: gh.Generated, result: Run, *, replayed: bool) -> list[str]:
    """What is wrong with ``result``'s ``sfn-trace/1`` report of ``generated`` (empty: it is
    attributed as built and, if ``replayed``, every visit was replayed as a match)."""
    try:
        document = json.loads(result.stdout)
    except ValueError:
        return [f"no JSON report (exit {result.returncode}): {result.stderr.strip()[:200]}"]
    problems = gh.check(generated, document)
    if replayed:
        visits = document.get("visits") or []
        outcomes = Counter(str(visit.get("replay")) for visit in visits)
        if outcomes.get("match", 0) != len(visits):
            problems.append(f"replay outcomes of the {len(visits)} visits: {dict(outcomes)}")
        if document.get("definition_drift"):
            problems.append(f"definition drift: {str(document['definition_drift'])[:120]}")
    return problems


def against_floor(
    path: Path, trace_cmd: Sequence[str], env: dict[str, str], runs: int
) -> tuple[list[Run], list[Run]]:
    """``json.load`` of ``path`` (the floor) and ``trace_cmd``, alternately: floor first."""
    results = alternate(
        {
            "floor": lambda: run([PY, "-c", FLOOR, str(path)], env),
            "sfn-trace": lambda: run(trace_cmd, env),
        },
        runs,
    )
    return results["floor"], results["sfn-trace"]


def expect_exit(report: Report, label: str, runs: Sequence[Run], code: int) -> None:
    codes = {r.returncode for r in runs}
    if codes != {code}:
        report.notes.append(
            f"{label}: exit codes {sorted(codes)} (expected {code}); "
            f"stderr: {runs[-1].stderr.strip()[:300]}"
        )


def shape_name(events: int) -> str:
    return "14k shape" if events == SHAPE_EVENTS else f"{events:,}-event shape"


def walls(runs: Sequence[Run]) -> float:
    return median([r.wall for r in runs])


def peaks(runs: Sequence[Run]) -> float:
    return median([r.peak_mb for r in runs])


# --- 0. targets 1, 2 and 4 -------------------------------------------------------------------


def shape_offline(report: Report, workdir: Path, runs: int, events: int) -> None:
    """Targets 1 and 2: the 14k shape, from a file with its definition, against json.load."""
    print(f"targets: generating the {shape_name(events)} ({events} events) ...", flush=True)
    generated = gh.generate(events)
    path = generated.write(workdir / "history-14k.json")
    definition = generated.write_definition(workdir / "history-14k.asl.json")
    report.add(
        "targets", "14k-shape history (rows 1-3; row 3 serves it live)", describe(generated, path)
    )
    env = clean_env()
    cmd = [*TRACE, str(path), "--definition", str(definition), "--field", FIELD]
    cmd += ["--format", "json"]
    problems = attribution(generated, run(cmd, env, keep_stdout=True), replayed=True)
    report.add(
        "targets",
        "offline: attributed as built, every visit replayed from the definition",
        "yes" if not problems else "; ".join(problems),
        "yes",
        not problems,
    )
    del generated  # this process's memory is not measured, but it is the machine's
    floor, trace = against_floor(path, cmd, env, runs)
    expect_exit(report, "offline 14k shape: sfn-trace", trace, 1)
    shown = f"`sfn-trace FILE --definition DEF --field {FIELD} --format json`"
    load = '`python -c "import json; json.load(open(FILE))"`'
    report.compare(
        Ratio(
            f"1. offline wall, {shape_name(events)}",
            walls(floor),
            walls(trace),
            "s",
            TIME_RATIO_TARGET,
            load,
            shown,
            runs,
        )
    )
    report.compare(
        Ratio(
            f"2. offline peak RSS, {shape_name(events)}",
            peaks(floor),
            peaks(trace),
            "MB",
            RSS_RATIO_TARGET,
            load,
            shown,
            runs,
        )
    )


def startup(report: Report, runs: int) -> None:
    """Target 4: ``sfn-trace --help`` and ``--version``, each a new process, against
    ``import typer``; and the older absolute target, ``--help`` under 0.5 s."""
    env = clean_env()
    results = alternate(
        {
            "typer": lambda: run([PY, "-c", IMPORT_TYPER], env),
            "help": lambda: run([*TRACE, "--help"], env),
            "version": lambda: run([*TRACE, "--version"], env),
            "python": lambda: run([PY, "-c", "pass"], env),
        },
        runs,
    )
    typer_s = walls(results["typer"])
    for option, key in (("--help", "4a"), ("--version", "4b")):
        expect_exit(report, f"sfn-trace {option}", results[option[2:]], 0)
        report.compare(
            Ratio(
                f"{key}. sfn-trace {option}, new process",
                typer_s,
                walls(results[option[2:]]),
                "s",
                STARTUP_RATIO_TARGET,
                f'`python -c "{IMPORT_TYPER}"`',
                f"`sfn-trace {option}`",
                runs,
            )
        )
    help_s = walls(results["help"])
    report.add(
        "startup",
        "sfn-trace --help median wall",
        f"{help_s:.2f} s (bare python: {walls(results['python']):.2f} s)",
        f"< {STARTUP_TARGET_S} s",
        help_s < STARTUP_TARGET_S,
    )


# --- 1. offline --------------------------------------------------------------------------


def offline(report: Report, workdir: Path, runs: int, events: int, oversize: bool) -> bool:
    print(f"offline: generating a {events}-event history ...", flush=True)
    generated = gh.generate(events)
    path = generated.write(workdir / "history-25k.json")
    problems = gh.validate(generated, with_definition=False)
    report.add("offline", "generated history", describe(generated, path))
    report.add(
        "offline",
        "attributed as built (no anomaly, 1 visit per entry, first_null/lost_at right)",
        "yes" if not problems else "; ".join(problems),
        "yes",
        not problems,
    )
    del generated  # hundreds of MB this process does not need while it measures

    env = clean_env()
    trace_cmd = [*TRACE, str(path), "--field", FIELD, "--format", "json"]
    floor, trace = against_floor(path, trace_cmd, env, runs)
    expect_exit(report, "offline: sfn-trace (1 is a finding)", trace, 1)
    floor_s, trace_s = walls(floor), walls(trace)
    floor_mb, trace_mb = max(r.peak_mb for r in floor), max(r.peak_mb for r in trace)
    ratio = trace_s / floor_s
    report.add("offline", "floor json.load: median wall", f"{floor_s:.2f} s")
    report.add("offline", "floor json.load: peak RSS", f"{floor_mb:.0f} MB")
    report.add("offline", "sfn-trace --format json: median wall", f"{trace_s:.2f} s")
    report.add("offline", "time ratio sfn-trace / floor", f"{ratio:.2f}x", "<= 2x", ratio <= 2.0)
    report.add(
        "offline",
        "sfn-trace peak RSS",
        f"{trace_mb:.0f} MB ({trace_mb / floor_mb:.2f}x floor)",
        f"< {PEAK_MB_TARGET:.0f} MB",
        trace_mb < PEAK_MB_TARGET,
    )

    try:
        split = phases(path, FIELD)
        report.add(
            "offline",
            "in process: read JSON / events_from_api / analyze / render JSON (best of 3)",
            " / ".join(f"{seconds:.2f} s" for seconds in split.values()),
        )
    except Exception as error:  # the package's internals move; the row is informational
        report.notes.append(f"offline: phase timing unavailable ({error!r})")

    rare = "merged_s3_key"  # only in FinalMerge's documents
    rare_runs = [
        run([*TRACE, str(path), "--field", rare, "--format", "json"], env)
        for _ in range(max(3, runs // 2))
    ]
    rare_s = walls(rare_runs)
    report.add(
        "offline",
        f"field in few payloads ({rare}): median wall, peak",
        f"{rare_s:.2f} s ({rare_s / floor_s:.2f}x floor), "
        f"{max(r.peak_mb for r in rare_runs):.0f} MB",
    )

    if oversize:
        oversized(report, workdir, env)

    missed = ratio > TIME_RATIO_TARGET or trace_mb >= PEAK_MB_TARGET
    if missed:
        print("offline: a target was missed; profiling time and memory ...", flush=True)
        report.profile = profile(path) + "\n\n" + memory_profile(path)
    return missed


def oversized(report: Report, workdir: Path, env: dict[str, str]) -> None:
    events = 4 * gh.AWS_MAX_EVENTS
    print(f"offline: generating a {events}-event history (4x the AWS maximum) ...", flush=True)
    big = gh.generate(events, payload_bytes=2048)
    path = big.write(workdir / "history-100k.json")
    size_mb = path.stat().st_size / 1e6
    del big
    result = run(
        [*TRACE, str(path), "--field", FIELD, "--format", "json"],
        env,
        address_limit=OVERSIZE_LIMIT,
    )
    first = first_line(result.stderr)
    crashed = result.returncode < 0 or any(
        sign in result.stderr for sign in ("Traceback", "MemoryError", "internal error")
    )
    handled = result.returncode in (0, 1, 2, 4) and not crashed
    if not handled:
        report.notes.append(
            f"oversized file: {first} -- sfn-trace neither refuses a history above the "
            f"{gh.AWS_MAX_EVENTS:,}-event quota nor says clearly that it ran out of memory"
        )
    report.add(
        "offline",
        f"file 4x the AWS maximum ({events} events, {size_mb:.0f} MB) under a "
        f"{OVERSIZE_LIMIT >> 30} GiB address-space limit",
        f"exit {result.returncode} in {result.wall:.1f} s, peak {result.peak_mb:.0f} MB; "
        f"stderr: {first[:160]}",
        "traced or refused with a clear message, no crash",
        handled,
    )
    path.unlink()


def phases(path: Path, field: str, repeat: int = 3) -> dict[str, float]:
    """Seconds of each pipeline phase, in process (best of ``repeat``)."""
    from sfn_trace.model.events import events_from_api
    from sfn_trace.model.execution import ExecutionData, infer_info
    from sfn_trace.report import Command, TraceFormat, render
    from sfn_trace.sources.files import read_json
    from sfn_trace.trace import analyze

    best: dict[str, float] = {}
    for _ in range(repeat):
        clock = time.perf_counter()
        document = read_json(path)
        took = {"read": time.perf_counter() - clock}
        clock = time.perf_counter()
        events = events_from_api(document["events"])
        took["events"] = time.perf_counter() - clock
        clock = time.perf_counter()
        result = analyze(ExecutionData(info=infer_info(events), events=events), field)
        took["analyze"] = time.perf_counter() - clock
        clock = time.perf_counter()
        render(Command.TRACE, TraceFormat.JSON, result)
        took["render"] = time.perf_counter() - clock
        del document, events, result
        best = {k: min(v, best.get(k, v)) for k, v in took.items()}
    return best


def first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "(nothing on stderr)")


def profile(path: Path) -> str:
    """Where the in-process trace of ``path`` spends its time (cProfile), as text."""
    from sfn_trace import api
    from sfn_trace.report import Command, TraceFormat, render

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    result = api.trace_file(path, FIELD)
    render(Command.TRACE, TraceFormat.JSON, result)
    profiler.disable()
    elapsed = time.perf_counter() - start
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(r"sfn_trace|json", 22)
    text.write("\n--- by own time ---\n")
    stats.sort_stats("tottime").print_stats(14)
    lines = [line.replace(str(ROOT) + "/", "") for line in text.getvalue().splitlines()]
    lines = [line for line in lines if line.strip()]
    return f"in-process trace + JSON render under cProfile: {elapsed:.2f} s\n" + "\n".join(
        line.replace(str(Path(json.__file__).parent.parent) + "/", "") for line in lines
    )


def memory_profile(path: Path) -> str:
    """What the in-process trace holds at its peak (tracemalloc), by allocation site."""
    import gc
    import tracemalloc

    from sfn_trace import api
    from sfn_trace.report import Command, TraceFormat, render

    gc.collect()
    tracemalloc.start(8)
    baseline = tracemalloc.get_traced_memory()[0]
    result = api.trace_file(path, FIELD)
    after_trace = tracemalloc.take_snapshot()
    traced_after_trace = tracemalloc.get_traced_memory()[0] - baseline
    text = render(Command.TRACE, TraceFormat.JSON, result)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result, text
    lines = [
        f"tracemalloc (Python allocations only): peak {(peak - baseline) / 2**20:.0f} MiB; "
        f"held after analyze() {traced_after_trace / 2**20:.0f} MiB, after rendering "
        f"{(current - baseline) / 2**20:.0f} MiB (file {path.stat().st_size / 2**20:.0f} MiB).",
        "Still alive after analyze(), by the innermost sfn_trace line that allocated it:",
    ]
    by_site: dict[str, list[int]] = {}
    for stat in after_trace.statistics("traceback"):
        frame = next(
            (f for f in reversed(stat.traceback) if "/sfn_trace/" in f.filename),
            stat.traceback[-1],
        )
        where = f"{frame.filename.replace(str(ROOT) + '/', '')}:{frame.lineno}"
        site = by_site.setdefault(where, [0, 0])
        site[0] += stat.size
        site[1] += stat.count
    for where, (size, count) in sorted(by_site.items(), key=lambda kv: -kv[1][0])[:10]:
        code = _source_line(where)
        lines.append(f"  {size / 2**20:7.1f} MiB {count:>9} blocks  {where}  {code}")
    return "\n".join(lines)


def _source_line(where: str) -> str:
    path, _, number = where.rpartition(":")
    try:
        return (ROOT / path).read_text().splitlines()[int(number) - 1].strip()[:60]
    except (OSError, ValueError, IndexError):
        return ""


# --- 2 and 3. live -----------------------------------------------------------------------


def live(report: Report, runs: int, events: int) -> None:
    """Target 3 and the live rows: the 14k shape (the offline rows' history, same seed) paged
    by the proxy; then the API-call counts."""
    from benchmarks.paging_proxy import HISTORY, MAX_PAGE, PagingProxy
    from fixtures.lab import Lab

    with Lab() as lab, PagingProxy(lab.endpoint_url) as proxy:
        generated = gh.generate(events)
        arn = deploy_generated(lab, generated)
        proxy.serve_history(arn, generated.events)
        env = clean_env(**LAB_ENV)
        base = [*TRACE, arn, "--field", FIELD, "--format", "json"]
        base += ["--endpoint-url", proxy.endpoint_url]
        paginate = [PY, "-c", PAGINATOR, arn, proxy.endpoint_url]

        proxy.reset_counts()
        first = run(base, env, keep_stdout=True)
        calls = dict(proxy.ok)
        problems = attribution(generated, first, replayed=True)
        report.add(
            "live",
            f"generated history served by the proxy: {describe(generated)}",
            "attributed as built, every visit replayed" if not problems else "; ".join(problems),
            "attributed as built, every visit replayed",
            not problems,
        )
        expected = math.ceil(len(generated.events) / MAX_PAGE)
        history_calls = calls.get(HISTORY, 0)
        report.add(
            "calls",
            f"live {len(generated.events)}-event history: GetExecutionHistory calls "
            "(read from both ends: at most one page each past where they meet)",
            str(history_calls),
            f"{expected}..{expected + 2}",
            expected <= history_calls <= expected + 2,
        )
        definitions = calls.get("states:DescribeStateMachineForExecution", 0)
        report.add(
            "calls",
            f"live {len(generated.events)}-event history: DescribeStateMachineForExecution calls",
            str(definitions),
            "= 1",
            definitions == 1,
        )
        report.calls[f"live {len(generated.events)}-event generated history"] = calls

        results = alternate(
            {
                "paginator": lambda: run(paginate, env, keep_stdout=True),
                "sfn-trace --no-logs": lambda: run([*base, "--no-logs"], env),
                "sfn-trace": lambda: run(base, env),
            },
            runs,
        )
        counted = {r.stdout.strip() for r in results["paginator"]}
        if counted != {str(len(generated.events))}:
            report.notes.append(f"live: the paginator counted {counted} events")
        expect_exit(report, "live: sfn-trace --no-logs", results["sfn-trace --no-logs"], 1)
        bare = walls(results["paginator"])
        full = walls(results["sfn-trace"])
        nologs = walls(results["sfn-trace --no-logs"])
        report.compare(
            Ratio(
                f"3. live end to end, --no-logs, {shape_name(events)}",
                bare,
                nologs,
                "s",
                LIVE_RATIO_TARGET,
                f"boto3 paginator, GetExecutionHistory maxResults {MAX_PAGE}, same endpoint",
                f"`sfn-trace ARN --field {FIELD} --no-logs --format json "
                "--endpoint-url http://127.0.0.1:PORT`",
                runs,
            )
        )
        report.add("live", "bare boto3 paginator: median wall", f"{bare:.2f} s")
        report.add("live", "sfn-trace end to end (Lambda logs read): median wall", f"{full:.2f} s")
        report.add(
            "live",
            "time ratio sfn-trace (Lambda logs read) / paginator",
            f"{full / bare:.2f}x",
            f"<= {LIVE_RATIO_TARGET}x",
            full / bare <= LIVE_RATIO_TARGET,
        )
        report.add(
            "live",
            "peak RSS: paginator / sfn-trace --no-logs / sfn-trace",
            " / ".join(
                f"{peaks(results[name]):.0f} MB"
                for name in ("paginator", "sfn-trace --no-logs", "sfn-trace")
            ),
        )
        latency(report, proxy, runs, expected, paginate, [*base, "--no-logs"], env)
        call_counts(report, lab, proxy, env)
        big = gh.AWS_MAX_EVENTS if events >= SHAPE_EVENTS else 2 * events  # --quick: small
        latency_targets(report, lab, proxy, runs, env, arn, len(generated.events), big)


def latency(
    report: Report,
    proxy: Any,
    runs: int,
    pages: int,
    paginate: list[str],
    trace: list[str],
    env: dict[str, str],
) -> None:
    """Informational: row 3 again with every history page answered after
    :data:`PAGE_LATENCY`, as AWS answers. sfn-trace converts each page (and parses its
    payloads) while the next is on its way, so under latency the ratio falls."""
    proxy.history_latency = PAGE_LATENCY
    try:
        results = alternate(
            {
                "paginator": lambda: run(paginate, env, keep_stdout=True),
                "sfn-trace --no-logs": lambda: run(trace, env),
            },
            runs,
        )
    finally:
        proxy.history_latency = 0.0
    bare = walls(results["paginator"])
    traced = walls(results["sfn-trace --no-logs"])
    report.add(
        "live",
        f"with {PAGE_LATENCY * 1000:.0f} ms a history page ({pages} pages): --no-logs / "
        "paginator, median wall",
        f"{traced:.2f} s / {bare:.2f} s = {traced / bare:.2f}x",
    )


def latency_targets(
    report: Report,
    lab: Any,
    proxy: Any,
    runs: int,
    env: dict[str, str],
    shape_arn: str,
    shape_events: int,
    big_events: int,
) -> None:
    """Rows 5a-5c: with every history page answered after :data:`PAGE_LATENCY` (either
    direction) and every other call after :data:`OTHER_LATENCY`, the whole trace as a user
    runs it (definition fetched, Lambda logs read) against a bare forward boto3 paginator of
    the same history, alternating A and B."""
    from benchmarks.paging_proxy import MAX_PAGE
    from fixtures.line_ingest import scenarios

    seed = scenarios.run(lab, scenarios.SEED, execution_name="")  # a name of its own
    big = gh.generate(big_events, seed=11)
    big_arn = deploy_generated(lab, big)
    proxy.serve_history(big_arn, big.events)
    cases = [
        ("5a", "seed-shaped execution (1 page, 4 Lambda functions in 4 log groups)", seed, "seed"),
        (
            "5b",
            f"{shape_events:,}-event history ({math.ceil(shape_events / MAX_PAGE)} pages)",
            shape_arn,
            "shape",
        ),
        (
            "5c",
            f"{len(big.events):,}-event history ({math.ceil(len(big.events) / MAX_PAGE)} pages)",
            big_arn,
            "max",
        ),
    ]
    proxy.history_latency, proxy.other_latency = PAGE_LATENCY, OTHER_LATENCY
    try:
        for number, label, arn, target in cases:
            trace = [*TRACE, arn, "--field", FIELD, "--format", "json"]
            trace += ["--endpoint-url", proxy.endpoint_url]
            paginate = [PY, "-c", PAGINATOR, arn, proxy.endpoint_url]
            results = alternate(
                {
                    "paginator": lambda paginate=paginate: run(paginate, env, keep_stdout=True),
                    "sfn-trace": lambda trace=trace: run(trace, env),
                },
                runs,
            )
            report.compare(
                Ratio(
                    f"{number}. {label}, whole trace with definition and logs, "
                    f"{PAGE_LATENCY * 1000:.0f} ms a page, {OTHER_LATENCY * 1000:.0f} ms a call",
                    walls(results["paginator"]),
                    walls(results["sfn-trace"]),
                    "s",
                    LATENCY_TARGETS[target],
                    f"boto3 paginator, forward, GetExecutionHistory maxResults {MAX_PAGE}",
                    f"`sfn-trace ARN --field {FIELD} --format json --endpoint-url ...`",
                    runs,
                )
            )
    finally:
        proxy.history_latency = proxy.other_latency = 0.0


def deploy_generated(lab: Any, generated: gh.Generated) -> str:
    """Run ``generated``'s workflow for real in moto, under its execution name and with its
    input but no items (a second), and return the execution ARN.

    moto then answers DescribeExecution and DescribeStateMachineForExecution (the very
    definition the history was generated from) and the Lambda functions and log groups
    exist, while the proxy serves the generated history for that ARN.
    """
    key = generated.execution_input()["poll_results_s3_key"]
    handlers = {
        "prepare": lambda event, ctx: {"chunks": [], "total_chunks": 0, "poll_results_s3_key": key},
        "process": lambda event, ctx: event,
        "merge": lambda event, ctx: {
            "merged_s3_key": "merged/none",
            "chunks_merged": 0,
            "lines_merged": 0,
            "poll_results_s3_key": key,
        },
    }
    for role, handler in handlers.items():
        lab.deploy_function(gh.FUNCTIONS[role], handler)
    machine_arn = lab.deploy_state_machine(gh.STATE_MACHINE, generated.definition)
    try:  # idempotent: one lab may be asked twice for the same execution
        return str(lab.describe(generated.execution_arn)["executionArn"])
    except lab.sfn.exceptions.ExecutionDoesNotExist:
        pass
    arn = lab.run(machine_arn, generated.execution_name, generated.execution_input())
    if arn != generated.execution_arn:
        raise RuntimeError(f"moto named the execution {arn}, not {generated.execution_arn}")
    return str(arn)


def call_counts(report: Report, lab: Any, proxy: Any, env: dict[str, str]) -> None:
    from benchmarks.paging_proxy import HISTORY
    from fixtures.line_ingest import scenarios

    cases: list[tuple[str, Callable[[], str]]] = [
        ("seed incident (line_ingest SEED)", lambda: scenarios.run(lab, scenarios.SEED)),
        ("50-invocation Map", lambda: fifty_invocation_map(lab)),
    ]
    for label, start in cases:
        before = len(lab.invocations)
        arn = start()
        invocations = lab.invocations[before:]
        groups = {i.log_group for i in invocations}
        events = len(lab.history(arn))
        proxy.reset_counts()
        result = run(
            [
                *TRACE,
                arn,
                "--field",
                FIELD,
                "--format",
                "json",
                "--endpoint-url",
                proxy.endpoint_url,
            ],
            {**env, "AWS_ENDPOINT_URL": proxy.endpoint_url},
        )
        calls = dict(proxy.ok)
        report.calls[f"{label}: {events} events, {len(invocations)} Lambda invocations"] = calls
        history = calls.get(HISTORY, 0)
        report.add(
            "calls",
            f"{label}: GetExecutionHistory calls ({events} events)",
            str(history),
            f"= {math.ceil(events / 1000)}",
            history == math.ceil(events / 1000),
        )
        logs = calls.get("logs:FilterLogEvents", 0)
        # A finished execution's groups are read while its history is on its way, one for
        # each function its definition names (one page each): a named function that did not
        # run costs one call.
        named = max(len(groups), _named_functions(lab, arn))
        report.add(
            "calls",
            f"{label}: FilterLogEvents calls ({len(groups)} log groups invoked, {named} named "
            "by the definition, 1 page each)",
            str(logs),
            f"{len(groups)}..{named}",
            len(groups) <= logs <= named,
        )
        other = {k: v for k, v in calls.items() if k not in (HISTORY, "logs:FilterLogEvents")}
        report.add(
            "calls",
            f"{label}: other calls",
            ", ".join(f"{k} {v}" for k, v in sorted(other.items()))
            + f" (exit {result.returncode})",
        )


def _named_functions(lab: Any, arn: str) -> int:
    """How many Lambda functions the execution's definition names with a constant."""
    from sfn_trace.model.definition import Definition
    from sfn_trace.trace.invocations import definition_functions

    text = lab.sfn.describe_state_machine_for_execution(executionArn=arn)["definition"]
    return len(definition_functions(Definition.from_text(text)))


def fifty_invocation_map(lab: Any) -> str:
    name = "bench-map-50"

    def handler(event: Any, ctx: Any) -> Any:
        ctx.log(f"item {event['item']}")
        return {**event, "done": True}

    function_arn = lab.deploy_function(name, handler)
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {
                    "item.$": "$$.Map.Item.Value",
                    "poll_results_s3_key.$": "$.poll_results_s3_key",
                },
                "MaxConcurrency": 10,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Work",
                    "States": {
                        "Work": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::lambda:invoke",
                            "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                            "ResultSelector": {"r.$": "$.Payload"},
                            "End": True,
                        }
                    },
                },
                "ResultPath": "$.results",
                "End": True,
            }
        },
    }
    machine = lab.deploy_state_machine(name, definition)
    document = {"poll_results_s3_key": "poll_results/x.json", "items": list(range(50))}
    return str(lab.run(machine, None, document, timeout=120))


# --- output --------------------------------------------------------------------------------


def table(rows: Sequence[Row]) -> str:
    headers = ("section", "measure", "value", "target", "")
    cells = [(r.section, r.measure, r.value, r.target, r.verdict) for r in rows]
    return _text_table(headers, cells)


def ratio_table(ratios: Sequence[Ratio]) -> str:
    return _text_table(RATIO_HEADERS, [r.cells() for r in ratios])


def _text_table(headers: Sequence[str], cells: Sequence[Sequence[str]]) -> str:
    widths = [min(70, max(len(h), *(len(c[i]) for c in cells))) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for cell in cells:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)))
    return "\n".join(lines)


def markdown(report: Report, info: dict[str, str], runs: int, command: str) -> str:
    out = [
        "# sfn-trace benchmark results",
        "",
        f"Written by `{command.strip()}` (`make bench`); medians of {runs} runs "
        "after one warm-up, the sides of each comparison alternating. Every run is a new "
        "process, sfn_trace byte-compiled first as an installed package is. Peak memory is the "
        "child's own maximum RSS (`getrusage(RUSAGE_CHILDREN)` in a small launcher). "
        "Absolute times move with the machine's load (see the load averages); the ratios "
        "compare runs made side by side. What the misses come from, and what would fix them: "
        "[README.md](README.md#findings).",
        "",
        "## Machine",
        "",
        *(f"- {key}: {value}" for key, value in info.items()),
        "",
    ]
    if report.ratios:
        out += [
            "## Targets",
            "",
            "B is sfn-trace, A the baseline it is compared with: medians of the same run, "
            "the commands of a comparison alternating (rows 1-2: A B A B ...; row 3: the "
            "paginator, sfn-trace --no-logs and sfn-trace reading the Lambda logs in turn; "
            "row 4: import typer, --help, --version and a bare interpreter in turn).",
            "",
            "| " + " | ".join(RATIO_HEADERS) + " |",
            "| --- | ---: | ---: | ---: | --- | --- |",
            *("| " + " | ".join(r.cells()) + " |" for r in report.ratios),
            "",
            "Commands (FILE, DEF: the 14k-shape history and its definition, written by "
            "`benchmarks.generate_history`; PORT: the paging proxy on 127.0.0.1):",
            "",
            *(f"- {r.measure}: A {r.a_cmd}; B {r.b_cmd}" for r in report.ratios),
            "",
        ]
    out += [
        "## All measures",
        "",
        "| section | measure | value | target | |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {r.section} | {r.measure} | {r.value} | {r.target} | {r.verdict} |".replace(
                "\n", " "
            )
            for r in report.rows
        ),
        "",
    ]
    if report.calls:
        out += ["## API calls per operation (counted at the proxy, answered 2xx)", ""]
        for label, calls in report.calls.items():
            listed = ", ".join(f"`{k}` {v}" for k, v in sorted(calls.items()))
            out.append(f"- {label}: {listed}")
        out.append("")
    if report.notes:
        out += ["## Notes", "", *(f"- {note}" for note in report.notes), ""]
    if report.profile:
        out += [
            "## Where the offline time goes (cProfile)",
            "",
            "```",
            report.profile,
            "```",
            "",
        ]
    return "\n".join(out)


def byte_compile() -> None:
    """Compile sfn_trace's modules to bytecode first, as an installed sfn-trace is (pip
    byte-compiles what it installs): a checkout installed in editable mode under
    ``PYTHONDONTWRITEBYTECODE`` would otherwise compile every module on every run, which
    no user pays and which ``import typer`` and ``json.load`` (already compiled) do not."""
    import compileall

    compileall.compile_dir(str(ROOT / "sfn_trace"), quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 3 runs, small histories, no oversized file; RESULTS.md is only "
        "written with --results",
    )
    parser.add_argument(
        "--runs", type=int, help=f"timed runs per measure (default and minimum {MIN_RUNS})"
    )
    parser.add_argument("--events", type=int, help="offline history (default 25,000)")
    parser.add_argument(
        "--shape-events", type=int, help=f"the 14k shape (default {SHAPE_EVENTS:,})"
    )
    parser.add_argument("--live-events", type=int, help="default: --shape-events")
    parser.add_argument("--skip-offline", action="store_true", help="skip the 25,000 events")
    parser.add_argument("--skip-targets", action="store_true", help="skip rows 1, 2 and 4")
    parser.add_argument("--skip-live", action="store_true", help="skip row 3 and the calls")
    parser.add_argument("--no-oversize", action="store_true", help="skip the 100k-event file")
    parser.add_argument("--skip-fleet", action="store_true", help="skip the scan rows (6a-6d)")
    parser.add_argument("--fleet-executions", type=int, help="row 6a (default 10,000)")
    parser.add_argument(
        "--fleet-rows",
        metavar="ROW[,ROW]",
        help="only these scan rows, of 6a, 6b, 6c, 6d (default: all); with --skip-targets "
        "--skip-offline --skip-live, only they run",
    )
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    parser.add_argument("--results", type=Path, help="write the results here instead")
    args = parser.parse_args(argv)
    quick = args.quick
    runs = args.runs or (3 if quick else MIN_RUNS)
    if runs < MIN_RUNS and not quick:
        parser.error(f"--runs: at least {MIN_RUNS} (or --quick)")
    events = args.events or (2_000 if quick else gh.AWS_MAX_EVENTS)
    shape = args.shape_events or (1_500 if quick else SHAPE_EVENTS)
    live_events = args.live_events or shape
    results = args.results or (None if quick or args.no_write else RESULTS)
    from benchmarks import fleet_bench

    fleet_rows = fleet_bench.ROWS
    if args.fleet_rows is not None:
        fleet_rows = tuple(row.strip().lower() for row in args.fleet_rows.split(",") if row.strip())
        unknown = sorted(set(fleet_rows) - set(fleet_bench.ROWS))
        if unknown or not fleet_rows:
            parser.error(f"--fleet-rows: one or more of {', '.join(fleet_bench.ROWS)}")

    byte_compile()
    info = machine()
    print("sfn-trace benchmark: " + "; ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    report = Report()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sfn-trace-bench-") as tmp:
        if not args.skip_targets:
            print("targets: startup ...", flush=True)
            startup(report, runs)
            shape_offline(report, Path(tmp), runs, shape)
        if not args.skip_offline:
            oversize = not (args.no_oversize or quick)
            offline(report, Path(tmp), runs, events, oversize)
    if not args.skip_live:
        print("live: starting the lab and the paging proxy ...", flush=True)
        live(report, runs, live_events)
    if not args.skip_fleet:
        fleet_bench.fleet(
            report,
            args.fleet_executions or (1_000 if quick else fleet_bench.EXECUTIONS),
            300 if quick else fleet_bench.QUARTER_EXECUTIONS,
            600 if quick else fleet_bench.ACCOUNTS_EXECUTIONS,
            rows=fleet_rows,
        )
    print()
    print(table(report.rows))
    if report.ratios:
        print("\nTargets (B = sfn-trace, A = baseline, medians of runs alternating A B A B ...):")
        print(ratio_table(report.ratios))
    for note in report.notes:
        print(f"note: {note}")
    if report.profile:
        print("\n" + report.profile)
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
    if results is not None:
        info["load average at end (1, 5, 15 min)"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        command = " ".join(["python -m benchmarks.bench", *(argv or sys.argv[1:])])
        results.write_text(markdown(report, info, runs, command), encoding="utf-8")
        shown = results.resolve()
        print(f"wrote {shown.relative_to(ROOT) if shown.is_relative_to(ROOT) else shown}")
    # A missed target is a result, not a failure of the benchmark itself.
    return 0


if __name__ == "__main__":
    sys.exit(main())
