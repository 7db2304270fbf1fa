"""Many people on one link: drive concurrent sessions against a running server, at the protocol level.

    deploy/serve --port 8501 &                                     # the production start
    python benchmarks/load.py --url http://127.0.0.1:8501          # every scenario, writes RESULTS.md
    python benchmarks/load.py --url … --scenario same --sessions 20 --out /tmp/RESULTS.md
    python benchmarks/load.py --cold-start --port 8639             # starts deploy/serve itself

Each session does what a browser tab does (deploy/stclient.py): load the page over HTTP (the proxy's
worker cookie), open the websocket `/_stcore/stream`, send a `rerun_script` with the URL's page and
query string, and read `ForwardMsg`s until `script_finished`. A session's time runs from its first
request to the end of its page's script run (the browser's own drawing is not included).

Scenarios:
- pages: one session, every analysis page: a first visit after a filter change (filters not seen by
  the server before) and a warm run (the same view again): the script's run time per page;
- same: N sessions open the same link at once (a meeting), filters not seen before;
- filters: N sessions at once, each with different filters, on the analysis pages in turn;
- cold (with --cold-start): start deploy/serve, and time the first page after it says healthy.
Results (p50, p95 by nearest rank, max, errors) go into benchmarks/RESULTS.md under their own
heading; the rest of that file (the data-layer benchmark) is left as it is.
"""

import argparse
import asyncio
import collections
import datetime as dt
import itertools
import math
import os
import platform
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.stclient import Session, visit
from ui.pages import ANALYSIS

# the default page is served at the root (its url_path is not a route)
PAGES = ["" if i == 0 else spec.url_path for i, spec in enumerate(ANALYSIS)]
START, END = "<!-- load.py: start -->", "<!-- load.py: end -->"
SUBTYPES = ("RRMS", "SPMS", "NMOSD")


def filter_links(n: int) -> list[str]:
    """n different filter selections as query strings: subsets of subtypes × sex."""
    subsets = [c for k in (1, 2, 3) for c in itertools.combinations(SUBTYPES, k)]
    links = []
    for sex, subset in itertools.product((None, "F", "M"), subsets):
        parts = [f"subtype={s}" for s in subset] + ([f"sex={sex}"] if sex else [])
        links.append("&".join(parts))
    return list(itertools.islice(itertools.cycle(links), n))


# Age ranges inside the demo's (18–67 years) that narrow it: each run of this script walks them from a
# random start, so that a "new" filter is one the server's caches have not seen.
AGE_RANGES = [(lo, hi) for lo in range(19, 41) for hi in range(45, 67)]
_age_ranges = itertools.islice(itertools.cycle(AGE_RANGES), random.randrange(len(AGE_RANGES)), None)


def fresh(query: str) -> str:
    """The query made new to the server's caches (an age range not used before), so that a filter
    change is real."""
    lo, hi = next(_age_ranges)
    return f"{query}&age={lo}&age={hi}".lstrip("&")


def nearest_rank(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def stats(runs: list) -> dict:
    """p50, p95, max of the successful sessions' seconds, and the errors."""
    times = [r.seconds for r in runs if not isinstance(r, BaseException) and r.ok]
    errors = [r for r in runs if isinstance(r, BaseException) or not r.ok]
    return {
        "n": len(runs),
        "p50": statistics.median(times) if times else math.nan,
        "p95": nearest_rank(times, 0.95) if times else math.nan,
        "max": max(times) if times else math.nan,
        "errors": len(errors),
        "error_examples": sorted({describe_error(e) for e in errors})[:3],
        "workers": collections.Counter(
            r.worker for r in runs if not isinstance(r, BaseException) and r.worker),
    }


def describe_error(e: object) -> str:
    if isinstance(e, BaseException):
        return f"{type(e).__name__}: {e}"[:160]
    if e.exceptions:
        return e.exceptions[0][:160]
    return "page not found" if e.page_not_found else "script did not finish"


async def concurrent(url: str, visits: list[tuple[str, str]], timeout: float) -> dict:
    """All visits at once; each a new session."""
    # one thread per session for the page loads (the default pool has only cores + 4)
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(len(visits) + 4))
    runs = await asyncio.gather(*(visit(url, page, query, timeout) for page, query in visits),
                                return_exceptions=True)
    return stats(runs)


async def per_page(url: str, timeout: float) -> list[dict]:
    """Script run times per page in one session: first visit after a filter change, then warm."""
    rows = []
    session = Session(url, timeout)
    await session.open()
    try:
        changed = ""
        await session.run("", changed)
        for page in PAGES:
            await session.run(page, changed)  # the page as the visitor had it, with earlier filters
            changed = fresh("subtype=RRMS&subtype=NMOSD")
            first = await session.run(page, changed)
            warm = [await session.run(page, changed) for _ in range(5)]
            rows.append({
                "page": page or ANALYSIS[0].url_path,
                "filter_change": first.seconds,
                "warm": statistics.median(w.seconds for w in warm),
                "ok": first.ok and all(w.ok for w in warm),
                "errors": [*first.exceptions, *(x for w in warm for x in w.exceptions)][:1],
            })
    finally:
        await session.close()
    return rows


RUN_LINE = re.compile(r"^run page=(\S+) wall_ms=(\d+) cpu_ms=(\d+)", re.MULTILINE)


def server_runs(server: dict | None) -> list[tuple[str, int, int]]:
    """The (page, wall ms, script CPU ms) of the runs the server logged since the last call
    (deploy/serve started by this script with RCE_RUN_TIMES=1); [] for a server started elsewhere."""
    if not server:
        return []
    time.sleep(0.5)  # a run's line is written just after its page was sent
    text = server["log"].read_text(errors="replace")
    new, server["offset"] = text[server["offset"]:], len(text)
    return [(page, int(wall), int(cpu)) for page, wall, cpu in RUN_LINE.findall(new)]


def server_cpu(server: dict | None) -> float:
    """CPU seconds used so far by deploy/serve's processes (workers, proxy), from /proc; 0 when this
    script did not start the server."""
    if not server:
        return 0.0
    root, ticks, total = server["process"].pid, os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == root or stat.parent.name == str(root):  # ppid, or serve itself
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def client_cpu() -> float:
    """CPU seconds this load generator used so far (it shares the machine with the server)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_summary(runs: list[tuple[str, int, int]], workers: int) -> dict:
    """Script CPU of a scenario's runs: median per run, and the total spread over the workers."""
    cpu = [c for _, _, c in runs]
    return {"runs": len(cpu), "median_ms": statistics.median(cpu) if cpu else math.nan,
            "per_worker_s": sum(cpu) / 1000 / workers}


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(args: argparse.Namespace, results: dict) -> str:
    """The RESULTS.md section."""
    workers = args.workers or len(os.sched_getaffinity(0))
    load = results.get("load_average", (math.nan,) * 3)
    lines = [
        START,
        "## Many sessions at once (benchmarks/load.py)",
        "",
        (f"Produced by `python benchmarks/load.py {' '.join(args.argv)}` on "
         f"{dt.date.today().isoformat()} against `{args.url}`"
         f"{' (started with deploy/serve)' if args.cold_start else ''}. Machine: "
         f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; load "
         f"average {load[0]:.1f} when it started (other work on the machine slows every figure). "
         "Each session loads the page, opens the websocket and runs one page as a browser does; its "
         "time runs from the first request to the end of the script run (the browser's drawing not "
         "included). p95 by nearest rank. *Script CPU* is the CPU time of the script's own thread "
         "in the server (RCE_RUN_TIMES), which other processes' load does not inflate."),
        "",
    ]
    if "pages" in results:
        lines += [
            ("Script run time per page, one session (budget: warm ≤ 150 ms, first visit after a "
             "filter change ≤ 300 ms):"),
            "",
            "| page | first visit after a filter change | warm (median of 5) | script CPU: first, warm | |",
            "|---|---|---|---|---|",
        ]
        for row in results["pages"]:
            ok = row["ok"] and row["warm"] <= 0.150 and row["filter_change"] <= 0.300
            note = verdict(ok) if row["ok"] else f"error: {row['errors'][:1]}"
            cpu = (f"{row['cpu_filter_change']} ms, {row['cpu_warm']:.0f} ms"
                   if "cpu_warm" in row else "n/a")
            lines.append(f"| {row['page']} | {1000 * row['filter_change']:.0f} ms | "
                         f"{1000 * row['warm']:.0f} ms | {cpu} | {note} |")
        waiting = [row["page"] for row in results["pages"]
                   if row["ok"] and "cpu_warm" in row
                   and (row["warm"] > 0.150 or row["filter_change"] > 0.300)
                   and row["cpu_warm"] <= 150 and row["cpu_filter_change"] <= 300]
        if waiting:
            lines += ["", (f"Missed on wall time but within budget on script CPU: {', '.join(waiting)} "
                           "— those runs were waiting, for a core (other work on the machine) or for "
                           "DuckDB's own threads, not computing.")]
        lines.append("")
    targets = {"same": 2.0, "filters": 4.0}
    titles = {"same": "the same link (a meeting), filters not cached yet",
              "filters": "different filters each, pages in turn"}
    rows = [k for k in ("same", "filters") if k in results]
    if rows:
        lines += [("| sessions at once | n | p50 | p95 | max | errors | sessions per worker "
                  "| script CPU: median run, total per worker | target | |"),
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for key in rows:
            r = results[key]
            ok = r["p95"] <= targets[key] and r["errors"] == 0
            spread = ", ".join(f"{w}: {n}" for w, n in sorted(r["workers"].items())) or "n/a"
            c = r.get("cpu") or {}
            cpu = (f"{c['median_ms']:.0f} ms, {c['per_worker_s']:.2f} s" if c.get("runs")
                   else "n/a")
            lines.append(
                f"| {titles[key]} | {r['n']} | {r['p50']:.2f} s | {r['p95']:.2f} s | "
                f"{r['max']:.2f} s | {r['errors']} | {spread} | {cpu} | "
                f"p95 ≤ {targets[key]:.0f} s, 0 errors | {verdict(ok)} |"
            )
            for example in r["error_examples"]:
                lines.append(f"| error: {example} | | | | | | | | | |")
        lines.append("")
        for key in rows:
            c = results[key].get("cpu") or {}
            if c.get("server_s"):
                lines.append(
                    f"- {titles[key]}: in {c['wall_s']:.1f} s of wall time the server's processes "
                    f"used {c['server_s']:.1f} s of CPU (of which the script threads "
                    f"{c['per_worker_s'] * workers:.1f} s), this load generator "
                    f"{c['client_s']:.1f} s, on {os.cpu_count()} cores.")
        lines.append("")
    if "cold" in results:
        c = results["cold"]
        lines += [
            (f"Cold start: `deploy/serve` healthy after {c['healthy']:.1f} s (workers started, "
             "libraries imported, every analysis page run once per worker); then a new visitor's "
             f"first page in {c['first_page']:.2f} s (target ≤ 3 s after healthy: "
             f"{verdict(c['ok'] and c['first_page'] <= 3)})."),
            "",
        ]
    if args.note:
        lines += [args.note, ""]
    lines.append(END)
    return "\n".join(lines)


def write(path: Path, section: str) -> None:
    """Replace this script's section of RESULTS.md (or append it), leaving the rest as it is."""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else (
        text.rstrip("\n") + "\n\n" + section
    )
    path.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8501", help="a running server")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--scenario", choices=["pages", "same", "filters", "all"], default="all")
    parser.add_argument("--page", default="survival", help="the page of the 'same link' scenario")
    parser.add_argument("--cold-start", action="store_true",
                        help="start deploy/serve on --port first (and stop it at the end)")
    parser.add_argument("--port", type=int, default=8639)
    parser.add_argument("--workers", type=int, default=None, help="deploy/serve --workers")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per session at most")
    parser.add_argument("--note", default="", help="a line to add under the tables")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    args.argv = sys.argv[1:]
    if not 1 <= args.sessions <= 100:
        parser.error("--sessions: 1 to 100")

    results: dict = {"load_average": os.getloadavg()}
    server = None
    if args.cold_start:
        args.url = f"http://127.0.0.1:{args.port}"
        server = _start_kept(args)
        results["cold"] = server["cold"]
    workers = args.workers or len(os.sched_getaffinity(0))
    try:
        server_runs(server)
        if args.scenario in ("pages", "all"):
            results["pages"] = asyncio.run(per_page(args.url, args.timeout))
            runs = server_runs(server)
            if len(runs) == 1 + 7 * len(PAGES):  # the opening run, then 7 per page in order
                for i, row in enumerate(results["pages"]):
                    group = runs[2 + 7 * i: 8 + 7 * i]
                    row["cpu_filter_change"] = group[0][2]
                    row["cpu_warm"] = statistics.median(c for _, _, c in group[1:])
        scenarios = {
            "same": lambda: [(args.page, link)] * args.sessions,
            "filters": lambda: [(PAGES[i % len(PAGES)], fresh(q))
                                for i, q in enumerate(filter_links(args.sessions))],
        }
        link = fresh("subtype=RRMS&subtype=SPMS&followup=18&followup=36")
        for key, visits in scenarios.items():
            if args.scenario not in (key, "all"):
                continue
            before = server_cpu(server), client_cpu(), time.perf_counter()
            results[key] = asyncio.run(concurrent(args.url, visits(), args.timeout))
            results[key]["cpu"] = cpu_summary(server_runs(server), workers) | {
                "server_s": server_cpu(server) - before[0],
                "client_s": client_cpu() - before[1],
                "wall_s": time.perf_counter() - before[2],
            }
    finally:
        if server:
            os.killpg(server["process"].pid, signal.SIGTERM)
            server["process"].wait(timeout=30)
            shutil.rmtree(server["log"].parent, ignore_errors=True)
    section = report(args, results)
    write(args.out, section)
    print(section)


def _start_kept(args: argparse.Namespace) -> dict:
    """Start deploy/serve, measure the cold start, and keep it running for the scenarios."""
    command = [str(ROOT / "deploy" / "serve"), "--port", str(args.port)]
    if args.workers:
        command += ["--workers", str(args.workers)]
    log = Path(tempfile.mkdtemp(prefix="rce-load-")) / "serve.log"
    start = time.perf_counter()
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True, env=os.environ | {"RCE_RUN_TIMES": "1"})
    try:
        while True:
            if process.poll() is not None or time.perf_counter() - start > 300:
                raise RuntimeError("deploy/serve did not become healthy")
            try:
                with urllib.request.urlopen(args.url + "/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        healthy = time.perf_counter() - start
        first = asyncio.run(visit(args.url, PAGES[0], "", args.timeout))
    except BaseException:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        raise
    return {"process": process, "log": log, "offset": 0,
            "cold": {"healthy": healthy, "first_page": first.seconds, "ok": first.ok}}


if __name__ == "__main__":
    main()
