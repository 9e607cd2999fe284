"""Benchmark orgscope on a generated repository, in one command.

    python bench/run.py [--files 5000] [--seed 1] [--scales 5000,20000] [--modes prose,plain] [--json FILE]

For each mode and scale it generates a tree (bench/generate.py; `prose`: most
ordinary modules name the org tables in their prose and identifiers, `plain`:
one in four mentions agents or calls in a docstring) into a temporary folder
and measures, each as a separate process and the best of --repeat runs:

  floor      the least work any checker must do (bench/floor.py)
  cold       `orgscope check --format json` with an empty cache folder
  warm       the same again, cache present and nothing changed
  pre-commit 10 DB-touching files edited, `orgscope check` on just those 10
  memory     peak memory of the cold run (orgscope and its workers together)
  semgrep    semgrep with bench/semgrep_rules.yaml, when semgrep is on PATH

and prints the figures, the ratios, the targets and the machine. Times are
wall-clock (time.perf_counter); CPU seconds (user + system of the process and
its workers) are printed beside them because they are steadier on a busy
machine. POSIX only (it reads /proc and uses os.wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402  (bench/ is not a package)

PRECOMMIT_FILES = 10
TARGETS = {  # figure -> (limit, what it means)
    "cold_over_floor": (1.5, "cold <= 1.5 x floor"),
    "warm_over_cold": (0.1, "warm <= 0.1 x cold"),
    "precommit_over_cold": (0.05, "pre-commit <= 0.05 x cold"),
    "peak_memory_mb": (400.0, "peak memory <= 400 MB"),
    "semgrep_over_cold": (10.0, "cold >= 10 x faster than semgrep"),
}


@dataclass
class Measure:
    """One timed process: the best (shortest) of its repetitions."""

    seconds: float
    cpu_seconds: float
    runs: list[float]
    exit_code: int
    peak_memory_mb: float | None = None  # summed PSS of the process tree, sampled
    max_rss_mb: float | None = None  # the largest single process (kernel accounting)


@dataclass
class ScaleResult:
    files: int
    seed: int
    repeat: int
    mode: str = "prose"
    tree_files: int = 0
    generate_seconds: float = 0.0
    floor: Measure | None = None
    floor_work: dict = field(default_factory=dict)
    cold: Measure | None = None
    warm: Measure | None = None
    precommit: Measure | None = None
    semgrep: Measure | None = None
    semgrep_note: str = ""
    findings: int = 0
    findings_by_code: dict = field(default_factory=dict)
    planted: int = 0
    planted_found: int = 0
    db_modules: int = 0  # modules the generator made reach the database
    ratios: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


# --- running and measuring one process ----------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        found = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(p) for p in handle.read().split())
        return found
    except (OSError, ValueError):
        return []


def _memory_kb(pid: int) -> int:
    """Proportional set size (shared pages split between the processes that
    share them, so forked workers are not counted twice), else RSS."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith(key):
                        return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return 0


class _MemorySampler(threading.Thread):
    """Samples the memory of a process and all its descendants until stopped."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            pids, stack = [], [self.pid]
            while stack:
                pid = stack.pop()
                pids.append(pid)
                stack.extend(_children(pid))
            self.peak_kb = max(self.peak_kb, sum(_memory_kb(pid) for pid in pids))
            self.done.wait(self.interval)


def run_once(cmd: list[str], cwd: Path, output: Path, memory: bool = False) -> tuple[float, float, int, float | None,
                                                                                       float]:
    """(wall seconds, CPU seconds, exit code, peak MB or None, max RSS MB) of one run."""
    with open(output, "wb") as out, open(output.with_suffix(".stderr"), "wb") as err:
        started = time.perf_counter()
        # Its own process group, so that a stop also ends what it started
        # (semgrep runs semgrep-core, orgscope its workers).
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        sampler = _MemorySampler(proc.pid) if memory else None
        if sampler is not None:
            sampler.start()
        # wait4 rather than wait: its rusage covers the process and the
        # workers it reaped, which Popen.wait would throw away.
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # stopped: do not leave the measured processes running
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
            raise
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    peak = None
    if sampler is not None:
        sampler.done.set()
        sampler.join()
        peak = sampler.peak_kb / 1024
    return seconds, usage.ru_utime + usage.ru_stime, proc.returncode, peak, usage.ru_maxrss / 1024


def measure(cmd: list[str], cwd: Path, output: Path, repeat: int, before=None, memory: bool = False,
            ok_codes: tuple[int, ...] = (0, 1)) -> Measure:
    runs, cpu, peaks, rss = [], [], [], []
    code = 0
    for attempt in range(repeat):
        if before is not None:
            before(attempt)
        seconds, cpu_seconds, code, peak, max_rss = run_once(cmd, cwd, output, memory)
        if code not in ok_codes:
            stderr = output.with_suffix(".stderr").read_text(errors="replace").strip().splitlines()
            raise RuntimeError(f"{' '.join(cmd[:4])} ... exited with {code}: {stderr[-1] if stderr else ''}")
        runs.append(seconds)
        cpu.append(cpu_seconds)
        rss.append(max_rss)
        if peak is not None:
            peaks.append(peak)
    best = runs.index(min(runs))
    return Measure(seconds=runs[best], cpu_seconds=cpu[best], runs=[round(r, 3) for r in runs], exit_code=code,
                   peak_memory_mb=max(peaks) if peaks else None, max_rss_mb=max(rss))


# --- one scale ------------------------------------------------------------------------------


def _orgscope(*args: str) -> list[str]:
    return [sys.executable, "-m", "orgscope", "check", "--format", "json", *args]


def _db_files(tree: Path, count: int) -> list[str]:
    """`count` DB-touching modules spread over the tree (not models: a model
    change reaches every file, which is not the pre-commit case measured)."""
    repos = sorted(p.relative_to(tree).as_posix() for p in (tree / "app").rglob("*_repo_*.py"))
    step = max(1, len(repos) // count)
    return repos[::step][:count]


def _planted_found(findings: list[dict], manifest: dict) -> int:
    reported = {(f["path"], f["code"]) for f in findings}
    return sum(1 for v in manifest["violations"] if (v["path"], v["code"]) in reported)


def bench_scale(files: int, seed: int, repeat: int, work: Path, jobs: int | None, semgrep: str | None,
                log, mode: str = "prose") -> ScaleResult:
    result = ScaleResult(files=files, seed=seed, repeat=repeat, mode=mode)
    tree = work / f"tree-{mode}-{files}"
    if tree.exists():
        shutil.rmtree(tree)
    started = time.perf_counter()
    manifest = generate.generate(tree, files=files, seed=seed, prose=mode == "prose")
    result.generate_seconds = round(time.perf_counter() - started, 2)
    result.tree_files = manifest["python_files"] + manifest["migrations"] + manifest["query_files"]
    result.planted = len(manifest["violations"])
    result.db_modules = manifest["db_files"]
    label = f"{mode} {files}"
    log(f"[{label}] generated {result.tree_files} files in {result.generate_seconds} s")
    out = work / f"out-{mode}-{files}.json"
    # The cache lives beside the tree (not in the per-user folder), so that
    # a cold run really starts without one.
    cache = work / f"cache-{mode}-{files}"
    jobs_args = ("--jobs", str(jobs)) if jobs is not None else ()
    jobs_args += ("--cache-dir", str(cache))

    def no_cache(_attempt: int) -> None:
        shutil.rmtree(cache, ignore_errors=True)

    # The floor's reference check (which modules hold a candidate) is slow by
    # design and not part of the floor: made once, before the timed runs.
    subprocess.run([sys.executable, str(BENCH / "floor.py"), "--prepare", str(tree)], cwd=tree, check=False,
                   capture_output=True)
    steps = [
        ("floor", lambda: measure([sys.executable, str(BENCH / "floor.py"), str(tree)], tree, out, repeat)),
        ("cold", lambda: measure(_orgscope(*jobs_args), tree, out, repeat, before=no_cache, memory=True)),
        ("warm", lambda: measure(_orgscope(*jobs_args), tree, out, repeat)),
    ]
    for name, step in steps:
        try:
            setattr(result, name, step())
        except (RuntimeError, OSError) as exc:
            result.errors.append(f"{name}: {exc}")
            log(f"[{label}] {name} failed: {exc}")
            continue
        if name == "floor":
            try:
                result.floor_work = json.loads(out.read_text())
            except ValueError:
                pass
        if name == "cold":
            try:
                report = json.loads(out.read_text())
                result.findings = len(report["findings"])
                result.findings_by_code = report["summary"]["by_code"]
                result.planted_found = _planted_found(report["findings"], manifest)
            except (ValueError, KeyError):
                result.errors.append("cold: the JSON report could not be read")
        log(f"[{label}] {name}: {getattr(result, name).seconds:.2f} s")

    # Pre-commit: edit 10 DB-touching files (so their cache entries miss) and
    # check just those, the rest of the project's cache warm.
    edited = _db_files(tree, PRECOMMIT_FILES)
    originals = {rel: (tree / rel).read_bytes() for rel in edited}

    def edit(attempt: int) -> None:
        for rel, data in originals.items():
            (tree / rel).write_bytes(data + f"\n# edited before commit ({attempt})\n".encode())

    if result.warm is not None:
        try:
            result.precommit = measure(_orgscope(*jobs_args, *edited), tree, out, repeat, before=edit)
            log(f"[{label}] pre-commit ({len(edited)} files): {result.precommit.seconds:.2f} s")
        except (RuntimeError, OSError) as exc:
            result.errors.append(f"pre-commit: {exc}")
        finally:
            for rel, data in originals.items():
                (tree / rel).write_bytes(data)

    if semgrep is None:
        result.semgrep_note = "semgrep: not installed"
    else:
        cmd = [semgrep, "scan", "--config", str(BENCH / "semgrep_rules.yaml"), "--json", "--metrics=off",
               "--disable-version-check", "--no-git-ignore", "--quiet", "-j", str(jobs or os.cpu_count() or 1), "."]
        try:
            result.semgrep = measure(cmd, tree, out, repeat)
            log(f"[{label}] semgrep: {result.semgrep.seconds:.2f} s")
        except (RuntimeError, OSError) as exc:
            result.semgrep_note = f"semgrep: failed ({exc})"

    result.ratios = ratios(result)
    return result


def ratios(r: ScaleResult) -> dict:
    def ratio(a: Measure | None, b: Measure | None) -> float | None:
        return round(a.seconds / b.seconds, 3) if a and b and b.seconds > 0 else None

    return {
        "cold_over_floor": ratio(r.cold, r.floor),
        "warm_over_cold": ratio(r.warm, r.cold),
        "precommit_over_cold": ratio(r.precommit, r.cold),
        "semgrep_over_cold": ratio(r.semgrep, r.cold),
        "peak_memory_mb": round(r.cold.peak_memory_mb, 1) if r.cold and r.cold.peak_memory_mb else None,
    }


# --- report ---------------------------------------------------------------------------------


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "orgscope": _orgscope_version(),
        "commit": _commit(),
    }


def _orgscope_version() -> str | None:
    try:
        import orgscope

        return orgscope.__version__
    except ImportError:
        return None


def _commit() -> str | None:
    """The git commit of the checkout being measured, when there is one."""
    try:
        proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH, capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def _fmt(m: Measure | None) -> str:
    if m is None:
        return "-"
    return f"{m.seconds:8.2f} s  (cpu {m.cpu_seconds:7.2f} s)"


def render(results: list[ScaleResult], info: dict) -> str:
    lines = [f"machine: {info['cores']} cores, Python {info['python']} ({info['platform']}), "
             f"orgscope {info['orgscope']} ({info['commit'] or 'no git'}), "
             f"load average before {info['load_average']}"]
    for r in results:
        lines += ["", f"== {r.mode}: {r.files} Python files ({r.tree_files} files in all, {r.db_modules} reach the "
                      f"database), seed {r.seed}, best of {r.repeat} ==",
                  f"floor       {_fmt(r.floor)}   parsed {r.floor_work.get('python_parsed', '?')} candidate modules, "
                  f"{r.floor_work.get('sql_statements_parsed', '?')} SQL statements, "
                  f"{r.floor_work.get('sql_strings_parsed', '?')} SQL strings "
                  f"(libcst {r.floor_work.get('python_parse_seconds', '?')} s, "
                  f"sqlglot {r.floor_work.get('sql_parse_seconds', '?')} s)",
                  f"cold        {_fmt(r.cold)}",
                  f"warm        {_fmt(r.warm)}",
                  f"pre-commit  {_fmt(r.precommit)}   ({PRECOMMIT_FILES} edited files, the rest cached)",
                  f"memory      peak {r.ratios.get('peak_memory_mb') or '-'} MB (orgscope and its workers, PSS), "
                  f"largest process {r.cold.max_rss_mb:.0f} MB" if r.cold else "memory      -",
                  f"semgrep     {_fmt(r.semgrep)}" if r.semgrep else r.semgrep_note,
                  f"findings    {r.findings} {r.findings_by_code}; planted violations found "
                  f"{r.planted_found}/{r.planted}"]
        lines.append("ratios and targets:")
        for key, (limit, words) in TARGETS.items():
            value = r.ratios.get(key)
            if value is None:
                lines.append(f"  {key:<20} -        ({words})")
                continue
            ok = value >= limit if key == "semgrep_over_cold" else value <= limit
            lines.append(f"  {key:<20} {value:<8g} {'met' if ok else 'MISSED'}  ({words})")
        for error in r.errors:
            lines.append(f"  error: {error}")
    if len(results) > 1:
        lines += ["", "growth (seconds):",
                  f"  {'mode':>5} {'files':>7} {'floor':>9} {'cold':>9} {'warm':>9} {'pre-commit':>11} {'semgrep':>9}"]
        for r in results:
            cells = [f"{m.seconds:9.2f}" if m else f"{'-':>9}" for m in (r.floor, r.cold, r.warm)]
            pre = f"{r.precommit.seconds:11.2f}" if r.precommit else f"{'-':>11}"
            sem = f"{r.semgrep.seconds:9.2f}" if r.semgrep else f"{'-':>9}"
            lines.append(f"  {r.mode:>5} {r.files:>7} {' '.join(cells)} {pre} {sem}")
    return "\n".join(lines) + "\n"


def _scales(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("expected numbers separated by commas, e.g. 500,5000,20000") from None
    if not values or any(v < 20 for v in values):
        raise argparse.ArgumentTypeError("every scale must be at least 20 files")
    return values


def _modes(text: str) -> list[str]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    if not values or any(v not in ("prose", "plain") for v in values):
        raise argparse.ArgumentTypeError("expected prose, plain or prose,plain")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark orgscope on a generated repository.")
    parser.add_argument("--files", type=int, default=5000, help="Python files in the tree (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--scales", type=_scales, help="several tree sizes, e.g. 500,5000,20000 (overrides --files)")
    parser.add_argument("--repeat", type=int, help="runs per figure, best kept (default 3, 1 from 20,000 files)")
    parser.add_argument("--jobs", type=int, help="orgscope --jobs (default: orgscope's own, one per core)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON to FILE")
    parser.add_argument("--work", type=Path, help="generate here and keep the trees (default: a temporary folder)")
    parser.add_argument("--no-semgrep", action="store_true", help="do not run semgrep even when installed")
    parser.add_argument("--modes", type=_modes, default=["prose"],
                        help="trees to measure: prose (ordinary code names the org tables), plain, or both "
                             "(default prose)")
    args = parser.parse_args(argv)
    if args.files < 20:
        parser.error("--files must be at least 20")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")

    info = machine()
    semgrep = None if args.no_semgrep else shutil.which("semgrep")
    scales = args.scales or [args.files]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    results: list[ScaleResult] = []
    temporary = None
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        work = args.work
    else:
        temporary = tempfile.TemporaryDirectory(prefix="orgscope-bench-")
        work = Path(temporary.name)

    def record() -> None:
        # Written after every scale: a long run stopped part-way keeps what it measured.
        if args.json is not None:
            document = {"machine": info, "targets": {k: v[1] for k, v in TARGETS.items()},
                        "scales": [asdict(r) for r in results]}
            args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    # A polite stop (SIGTERM) ends the run like Ctrl-C: report what was measured.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        for mode in args.modes:
            for files in scales:
                repeat = args.repeat or (1 if files >= 20000 else 3)
                results.append(bench_scale(files, args.seed, repeat, work, args.jobs, semgrep, log, mode))
            log(render(results[-1:], info))
            record()
    except KeyboardInterrupt:
        log("stopped; reporting what was measured")
    finally:
        if temporary is not None:
            temporary.cleanup()

    print(render(results, info), end="")
    record()
    return 0 if results and not any(r.errors for r in results) else 1

if __name__ == "__main__":
    sys.exit(main())
