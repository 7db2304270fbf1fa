"""Benchmark the data layer at registry scale and write benchmarks/RESULTS.md.

    python benchmarks/run.py                      # N = 1,000, 10,000, 100,000; 5 runs each
    python benchmarks/run.py --sizes 1000 --repeats 3 --out /tmp/RESULTS.md --no-cold-start

For each N (a synthetic cohort from data/generate_demo.py, same per-patient distributions as the demo) it
measures, each in a fresh process so that peak memory is that of one N:
- opening the dataset; the summary (no filter and a filter change);
- for each page, the data-layer calls the page makes (recorded by running the page with AppTest on a small
  cohort, then replayed at N with a filter change): uncached (straight to DuckDB) and cached (Streamlit's
  st.cache_data, as the app serves a repeated view);
- the same summary by a straightforward pandas + lifelines + scipy implementation (tests/reference_summary.py)
  as the baseline, and the ratio;
- how much of each page's time is spent inside the statistics libraries' own calls (lifelines' fits and
  tests, statsmodels' models, scipy's tests): the part the data layer cannot make faster;
- peak memory (max RSS) of the process;
and once, the app's cold start on the demo dataset: from launching `streamlit run` to the first page rendered
in headless Chromium.
Figures are medians of the runs. No test asserts a time: this script measures, RESULTS.md records.
"""

import argparse
import contextlib
import datetime as dt
import functools
import importlib
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import ui  # noqa: F401  (as the app: numpy's threads set before numpy loads)

DATA = ROOT / "benchmarks" / "data"
PAGES = ["overview", "subtypes", "relapse_free_survival", "edss", "safety", "virtual_care"]
# A filter change a user makes: two subtypes, follow-up at least a year and a half, up to 12 doses.
CHANGED = {"subtypes": ("RRMS", "NMOSD"), "followup_min": 18.0, "doses_max": 12}
# summary parts added with the v2 endpoints, after issue 11 set the summary target
V2_PARTS = ("disability", "models")


# The statistics the pages ask the libraries for: (module, attribute). Time inside these calls is
# counted for the outermost call only (lifelines' logrank_test calls its multivariate test, for one);
# it includes the steps of a fit that analysis/ computes for the library (the Efron values, the
# negative binomial's log-likelihood), since the library's optimiser calls them.
LIBRARY_CALLS = (
    ("lifelines", "KaplanMeierFitter.fit"),
    ("lifelines", "CoxPHFitter.fit"),
    ("lifelines.statistics", "logrank_test"),
    ("lifelines.statistics", "multivariate_logrank_test"),
    ("lifelines.statistics", "proportional_hazard_test"),
    ("lifelines.utils", "median_survival_times"),
    ("statsmodels.discrete.discrete_model", "NegativeBinomial.fit"),
    ("statsmodels.genmod.generalized_linear_model", "GLM.fit"),
    ("analysis.table1", "anova_generic"),
    *(("scipy.stats", name) for name in
      ("ttest_1samp", "wilcoxon", "kruskal", "fisher_exact", "chi2_contingency")),
)


@contextlib.contextmanager
def library_clock():
    """Yields a list whose one number is the seconds spent inside LIBRARY_CALLS while the block
    runs; the libraries are as they were afterwards."""
    spent, depth, undo = [0.0], [0], []

    def timed(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            if depth[0]:
                return fn(*args, **kwargs)
            depth[0] += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start
                depth[0] -= 1
        return call

    try:
        for module, path in LIBRARY_CALLS:
            owner = importlib.import_module(module)
            *parents, name = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            own = name in vars(owner)  # a method may be inherited: then only the override is removed
            original = vars(owner)[name] if own else getattr(owner, name)
            setattr(owner, name, timed(getattr(owner, name)))
            undo.append((owner, name, original, own))
        yield spent
    finally:
        for owner, name, original, own in reversed(undo):
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def dataset_for(n: int) -> Path:
    """The synthetic cohort of n patients, generated once and kept under benchmarks/data/."""
    folder = DATA / f"n{n}"
    if not (folder / "patients.parquet").exists():
        subprocess.run([sys.executable, str(ROOT / "data" / "generate_demo.py"), "--patients", str(n),
                        "--out", str(folder)], check=True, capture_output=True)
    return folder


def record_page_calls() -> dict[str, list[tuple[str, dict, bool, float | None]]]:
    """The data-layer calls each page makes (every one goes through ui.data.call), recorded by running
    the page with AppTest under a filter on the 1,000-patient cohort, where the selection is larger
    than the charts' 300-patient samples, so that the pages take the paths they take at registry
    scale (boxes from statistics, not from every value): (kind, params, filtered, IgG threshold)."""
    from streamlit.testing.v1 import AppTest

    import ui.data
    from queries import DEFAULT_IGG_THRESHOLD

    calls: dict[str, list] = {}
    real_call = ui.data.call
    current: list = []

    # A call with the page's (filtered) selection is replayed with the changed filters; a call for the
    # whole cohort (slider bounds, "n of N", the published panel) is replayed unfiltered, as the app
    # makes it.
    def call(kind, filters=None, **params):
        threshold = filters.igg_threshold if filters else DEFAULT_IGG_THRESHOLD
        current.append((kind, params, bool(filters and filters.subtypes),
                        None if threshold == DEFAULT_IGG_THRESHOLD else threshold))
        return real_call(kind, filters, **params)

    ui.data.call = call
    before = os.environ.get("RCE_DATA")
    os.environ["RCE_DATA"] = str(dataset_for(1000))
    try:
        for page in PAGES:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            at.query_params["subtype"] = ["RRMS", "NMOSD"]
            at.run()
            current.clear()
            at.switch_page(f"app_pages/{page}.py").run()
            unique = []
            for c in current:
                if c not in unique:
                    unique.append(c)
            calls[page] = unique
    finally:
        ui.data.call = real_call
        if before is None:
            os.environ.pop("RCE_DATA", None)
        else:
            os.environ["RCE_DATA"] = before
    return calls


def measure(n: int, repeats: int, page_calls: dict) -> dict:
    """All figures for one N (run in its own process)."""
    import dataclasses

    import streamlit as st

    from analysis.summary import summary
    from queries import Dataset, Filters
    from ui.data import CALLS

    folder = dataset_for(n)
    rows = {f.stem: None for f in folder.glob("*.parquet")}
    result: dict = {"n": n}
    result["open_s"] = median_time(lambda: Dataset(folder).close(), repeats)
    # the engagement facts are built on the first query that reads them (virtual care), the lab
    # facts on the first lab query (safety)
    first_use: dict[str, list[float]] = {"first_use_s": [], "first_use_labs_s": []}
    for _ in range(repeats):
        for key, query, params in (("first_use_s", "engagement_totals", {}),
                                   ("first_use_labs_s", "lab_chart_rows",
                                    {"tests": ("IgG",), "low": (None,), "max_patients": 300})):
            fresh = Dataset(folder)
            start = time.perf_counter()
            fresh.run(query, Filters(), **params)
            first_use[key].append(time.perf_counter() - start)
            fresh.close()
    result |= {key: statistics.median(times) for key, times in first_use.items()}
    ds = Dataset(folder)
    for table in rows:
        rows[table] = int(ds.sql(f"select count(*) as n from {table}")["n"].iloc[0])
    result["rows"] = rows
    changed = Filters(**CHANGED)

    from analysis import models, stats

    def forget() -> None:  # the results Dataset.run keeps, and the Cox and Kaplan–Meier fits kept
        ds.forget()
        models.forget_fits()
        stats.forget_fits()

    def first(fn):  # every timed run starts without any kept result or fit
        return lambda: (forget(), fn())[1]

    result["summary_s"] = median_time(first(lambda: summary(ds, Filters())), repeats)
    result["summary_filtered_s"] = median_time(first(lambda: summary(ds, changed)), repeats)
    # where the summary's time goes: its cheap keys, then each costly part on its own (filter change)
    from analysis.summary import PARTS, base, part

    result["summary_parts_s"] = {
        "counts and intervals": median_time(first(lambda: base(ds, changed)), repeats)
    }
    for key in PARTS:
        result["summary_parts_s"][key] = median_time(first(lambda k=key: part(ds, changed, k)), repeats)

    # the keys issue 11's target was set for (before the v2 endpoints "disability" and "models")
    def v1(filters):
        return lambda: (base(ds, filters), *(part(ds, filters, k) for k in PARTS if k not in V2_PARTS))

    result["summary_v1_s"] = median_time(first(v1(Filters())), repeats)
    result["summary_v1_filtered_s"] = median_time(first(v1(changed)), repeats)

    @st.cache_data(show_spinner=False)
    def cached(kind: str, filters, params: tuple):
        return CALLS[kind](ds, filters, **dict(params))

    def call(kind: str, params: dict, f, cache: bool):
        if cache:
            return cached(kind, f, tuple(sorted(params.items())))
        return CALLS[kind](ds, f, **params)

    def filters_of(filtered: bool, threshold: float | None):
        f = changed if filtered else Filters()
        return dataclasses.replace(f, igg_threshold=threshold) if threshold is not None else f

    def at_this_n(kind: str, params: dict, filtered: bool, threshold: float | None) -> tuple:
        """A recorded call as the page makes it at this N: a patient's timeline is that of a
        patient the page lists here (the first with a CDW event), not the recorded cohort's id."""
        if "patient_id" in params:
            listed = sorted(CALLS["cdw_patients"](ds, filters_of(filtered, threshold))["patient_id"])
            params = params | {"patient_id": listed[0]} if listed else params
        return kind, params, filtered, threshold

    page_calls = {page: [at_this_n(*c) for c in calls] for page, calls in page_calls.items()}
    ds.forget()
    pages = {}
    for page, calls in page_calls.items():
        def cold(calls=calls):  # nothing cached: every call computed
            for kind, params, filtered, threshold in calls:
                call(kind, params, filters_of(filtered, threshold), cache=False)

        def filter_change(calls=calls):  # the app's case: whole-cohort results cached, new filters computed
            for kind, params, filtered, threshold in calls:
                call(kind, params, filters_of(filtered, threshold), cache=not filtered)

        def repeat(calls=calls):  # the same view again: everything from the cache
            for kind, params, filtered, threshold in calls:
                call(kind, params, filters_of(filtered, threshold), cache=True)

        repeat()  # warm the cache
        per_call = {}
        for kind, params, filtered, threshold in calls:
            if filtered:
                label = describe_call(kind, params, filtered, threshold)
                per_call[label] = median_time(
                    first(lambda k=kind, p=params, t=threshold: call(k, p, filters_of(True, t), cache=False)),
                    repeats,
                )
        in_libraries = []
        for _ in range(repeats):
            with library_clock() as spent:
                first(filter_change)()
            in_libraries.append(spent[0])
        pages[page] = {
            "calls": [describe_call(*c) for c in calls],
            "libraries_s": statistics.median(in_libraries),
            "cold_s": median_time(first(cold), repeats),
            "filter_change_s": median_time(first(filter_change), repeats),
            "cached_s": median_time(repeat, repeats),
            "slowest": max(per_call.items(), key=lambda kv: kv[1]) if per_call else None,
        }
    result["pages"] = pages
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def describe_call(kind: str, params: dict, filtered: bool, threshold: float | None) -> str:
    """A call as RESULTS.md names it: the query or function, its parameters, (all) when unfiltered."""
    name = params.get("name", kind) if kind == "run" else kind
    rest = {k: v for k, v in params.items() if not (kind == "run" and k == "name")}
    if threshold is not None:
        rest["igg_threshold"] = threshold
    return f"{name}{' ' + json.dumps(rest) if rest else ''}{'' if filtered else ' (all)'}"


def measure_baseline(n: int, repeats: int) -> dict:
    """The pandas + lifelines + scipy summary, and reading every table into pandas, in its own process
    (its memory is not the project's)."""
    import pandas as pd

    from tests.reference_summary import reference_summary

    folder = dataset_for(n)
    read = median_time(lambda: [pd.read_parquet(f) for f in folder.glob("*.parquet")], repeats)
    seconds = median_time(lambda: reference_summary(folder), repeats)
    return {"baseline_s": seconds, "baseline_open_s": read,
            "baseline_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def cold_start(repeats: int) -> float | None:
    """Seconds from launching the app to the first page rendered (Chromium), median of runs."""
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        return None
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        for i in range(repeats):
            port = 8790 + i
            start = time.perf_counter()
            server = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
                 f"--server.port={port}", "--browser.gatherUsageStats=false"],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            try:
                page = browser.new_page()
                for _ in range(200):
                    try:
                        page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
                        break
                    except Exception:  # noqa: BLE001 -- the server is not listening yet
                        time.sleep(0.05)
                page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=60_000)
                page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                                       timeout=60_000)
                times.append(time.perf_counter() - start)
                page.close()
            finally:
                server.terminate()
                server.wait(timeout=10)
    return statistics.median(times)


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    packages = ", ".join(f"{p} {version(p)}" for p in
                         ("duckdb", "pandas", "pyarrow", "lifelines", "scipy", "streamlit"))
    return (f"{os.cpu_count()} cores, {mem:.0f} GiB memory, {platform.machine()}, "
            f"Python {platform.python_version()}; {packages}")


TARGETS = {  # issue 11, at 100,000 patients
    "page": 0.100,  # every page's data after a filter change, seconds
    "summary": 0.300,  # the summary in-process, seconds
    "open": 0.600,  # opening the dataset, seconds
    "memory": 500,  # peak memory, MiB
    "cached": 0.020,  # a cached view's data, seconds
}
# Where the time and memory go for the targets still missed, and what would close each gap: from
# DuckDB's profiler (enable_profiling = 'json') and cProfile at N = 100,000 with the filter change
# above, on 2026-11-26 (2 cores shared with other work). Rewrite it when a profile changes.
PROFILE_NOTES = """### Where the time goes, and what would close the gaps (profiled at N = 100,000)

Profiles with DuckDB's own profiler and cProfile, filter change as above (28,733 patients selected);
per-call figures are medians on the same machine, so read them as shares of the page, not to the
millisecond.

How the data layer gets there: per-patient facts are built once (at open: patients with every
per-patient count, EDSS and relapse values; on first use: lab values and their per-patient totals,
CD19 samples, engagement, adverse events, MRI scans, the swimmer's events, and each patient's
confirmed disability worsening under both definitions), keyed by integers (a per-patient
`sample_rank`, the charts' fixed sample order, and `pid`), with enum columns for the lab test, unit and
subtype, in a compressed in-memory database; a filter change selects rows of them. Every page's header
reads only the selection's counts (`summary_counts`); the other summary keys are computed when a page
reads one. Statistics are fitted on counted rows where that gives the same fit (Kaplan–Meier and
log-rank with lifelines' weights; the CDW summary and curves fit the same counted rows once), and
the steps that took the time inside the libraries are computed over all rows at once and tested equal
to the libraries' own, bit for bit or to 1e-9 (lifelines' Schoenfeld residuals and Efron Newton step,
statsmodels' negative-binomial log-likelihood, score and Hessian, Clopper–Pearson as scipy's beta
quantiles, Table 1's ANOVA from group summaries with statsmodels); the optimisers' paths are the
libraries' own, so every figure is unchanged (the page, reference and paper tests).

- **Every page's data ≤ 100 ms.** A DuckDB query over the selection costs 6–15 ms: 2–4 ms
  planning, about 3 ms reading the selection, the rest its operators and the hand-over to pandas.
  - *overview, subtypes, safety, virtual care* (met, 50–80 ms): the selection's counts (≈ 12 ms),
    Table 1 (≈ 32 ms), the swimmer (≈ 20 ms), the lab charts (≈ 22 ms: the totals, the sample and
    the low values from one row per patient and test, then only the drawn patients' values), the
    B-cell quartiles (≈ 14 ms), the engagement queries (≈ 10–33 ms).
  - *relapse_free_survival* (≈ 185–200 ms, missed): ≈ 110–120 ms of it is inside lifelines and
    statsmodels (the column above: measured by timing the libraries' own calls during the page's
    filter change). The adjusted models ≈ 110–125 ms — statsmodels' negative binomial ≈ 65–70 (its
    default BFGS path, 39 points of 28,733 rows at ≈ 1 ms each ≈ 38, the Poisson start fit it makes
    first ≈ 13, the results ≈ 9), lifelines' Cox fit ≈ 29 (Newton steps 15, its data preparation
    7), the model rows ≈ 10; relapse-free survival ≈ 35 (three lifelines Kaplan–Meier fits ≈ 6.5 ms
    each and a log-rank test ≈ 12 ms, nearly all pandas work inside lifelines, whatever the rows);
    the PH check ≈ 11; the counts, the summary's cheap keys and the other queries ≈ 45.
    **The target cannot be met with the libraries the contract and the house rules name**: the
    library calls alone exceed 100 ms. Measured alternatives: the negative binomial by Newton's
    method (statsmodels' `method="newton"` with the score and Hessian as matrix products, 6 steps
    to the exact maximum that R's `MASS::glm.nb` reports) takes ≈ 34 ms instead of ≈ 70, which still
    leaves ≈ 75–85 ms in the libraries while the page's queries and the rest take ≈ 75; and it
    moves the shown rate ratios by up to 8e-5 and p-values by up to 2e-4 (relative; 9e-5
    absolute) on the tests' random cohorts (seeds 1–39, three selections each), because BFGS stops
    at a gradient of 1e-5 per patient — kept as is, so that every figure stays unchanged. What would close it: the
    adjusted models on a page of their own or behind a button (issue 12 put them on this page), or
    Kaplan–Meier and log-rank written without lifelines (the house rules name lifelines).
  - *edss* (≈ 155–170 ms, missed): ≈ 50–60 ms inside lifelines and scipy — confirmed disability
    worsening's six Kaplan–Meier fits ≈ 5.5 ms each and two log-rank tests ≈ 12 ms each, the change
    tests (scipy's t-test and Wilcoxon) —, ≈ 100 ms in about a dozen queries over the selection (the
    counts, the summary's cheap keys for NEDA-3, the change per patient and its sample, the
    trajectory sample, visit means, the CDW rows, both CDW curves' rows, the CDW patients, a
    patient's timeline), each ≥ 5 ms (2–4 ms planning and ≈ 3 ms reading the selection). To meet
    the target the queries would have to fit in ≈ 40 ms: the selection materialised once per filter
    change and shared by the page's queries (≈ 3 ms each), the trajectory sample with the visit
    means and the CDW patients with the counted rows (≈ 3–4 ms each), NEDA-3 without the other
    cheap keys (≈ 8 ms) — about 50 ms together, which would still leave the page at ≈ 105–115 ms.
- **Peak memory ≤ 500 MiB.** Importing the libraries (pandas, pyarrow, scipy, statsmodels,
  lifelines, streamlit, duckdb) is ≈ 245 MiB before any data. DuckDB's `memory_limit` is 128 MB
  (`queries/dataset.py`; at 256 MB building the facts peaked ≈ 105 MiB higher: a build that needs
  more spills to the temporary folder).
- **The whole summary with the v2 endpoints ≤ 0.3 s** (the issue's target predates them): the keys
  the target was set for meet it; with `disability` and `models` it is ≈ 0.25–0.27 s on a filter change and
  ≈ 0.6 s for the whole cohort (the models on 100,000 patients).
- **Threads**: the app runs numpy's OpenBLAS with one thread (`ui/__init__.py`): with two, the model
  fits used both cores for about a tenth less wall time, and at a meeting the other sessions wait."""
LOAD_SECTION = re.compile(r"<!-- load\.py: start -->.*?<!-- load\.py: end -->", re.DOTALL)


def write(results: list[dict], start_s: float | None, out: Path, repeats: int) -> None:
    """RESULTS.md: the targets' verdicts at the largest N, then every N; benchmarks/load.py's own
    section of the file, when there is one, is kept as it is."""
    t = TARGETS
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `python benchmarks/run.py` on {dt.date.today().isoformat()}. Machine: {machine()}.",
        (f"Each figure is the median of {repeats} runs (the pandas baseline: of up to 3). Every N runs in its "
        "own process; peak memory is that process's maximum resident set size."),
        f"The filter change replayed for the pages: {json.dumps(CHANGED)}.",
        "",
        (f"Targets at 100,000 patients: every page's data after a filter change ≤ {t['page'] * 1000:.0f} ms; "
        f"summary in-process ≤ {t['summary']} s; opening the dataset ≤ {t['open']} s; peak memory ≤ "
        f"{t['memory']} MiB; a cached view ≤ {t['cached'] * 1000:.0f} ms."),
        "",
    ]
    if start_s is not None:
        lines += [(f"**Cold start** (launch `streamlit run` → overview rendered in Chromium, demo data): "
                  f"{start_s:.2f} s"), ""]
    largest = max(results, key=lambda r: r["n"])
    worst = max(largest["pages"].items(), key=lambda kv: kv[1]["filter_change_s"])
    worst_cached = max(largest["pages"].items(), key=lambda kv: kv[1]["cached_s"])

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines += [
        f"### Targets at N = {largest['n']:,}",
        "",
        "| target | project | pandas baseline | |",
        "|---|---|---|---|",
        (f"| every page's data after a filter change ≤ {t['page'] * 1000:.0f} ms | worst {worst[0]} "
        f"{worst[1]['filter_change_s'] * 1000:.0f} ms | – | {verdict(worst[1]['filter_change_s'] <= t['page'])} |"),
        (f"| summary in-process ≤ {t['summary']} s (the keys the issue set it for: counts, intervals, rfs, "
         f"edss_change) | {largest['summary_v1_filtered_s']:.2f} s (filter change), "
         f"{largest['summary_v1_s']:.2f} s (no filter) | {largest['baseline_s']:.2f} s | "
         f"{verdict(max(largest['summary_v1_s'], largest['summary_v1_filtered_s']) <= t['summary'])} |"),
        (f"| the whole summary, with the v2 endpoints ({', '.join(V2_PARTS)}) | "
         f"{largest['summary_filtered_s']:.2f} s (filter change), {largest['summary_s']:.2f} s (no filter) "
         f"| – | {verdict(max(largest['summary_s'], largest['summary_filtered_s']) <= t['summary'])} |"),
        (f"| opening the dataset ≤ {t['open']} s | {largest['open_s']:.2f} s (then "
         f"{largest['first_use_s']:.2f} s on the first virtual-care query, "
         f"{largest['first_use_labs_s']:.2f} s on the first lab query) | {largest['baseline_open_s']:.2f} s "
        f"(read every table) | {verdict(largest['open_s'] <= t['open'])} |"),
        (f"| peak memory ≤ {t['memory']} MiB | {largest['peak_rss_mib']:.0f} MiB | "
        f"{largest['baseline_rss_mib']:.0f} MiB | {verdict(largest['peak_rss_mib'] <= t['memory'])} |"),
        (f"| a cached view ≤ {t['cached'] * 1000:.0f} ms | worst {worst_cached[0]} "
        f"{worst_cached[1]['cached_s'] * 1000:.1f} ms | – | {verdict(worst_cached[1]['cached_s'] <= t['cached'])} |"),
        "",
        "Every page's data after a filter change:",
        "",
        "| page | filter change | of which inside lifelines, statsmodels, scipy | target | slowest call | |",
        "|---|---|---|---|---|---|",
    ]
    for page, p in largest["pages"].items():
        slowest = f"{p['slowest'][0]} {p['slowest'][1] * 1000:.0f} ms" if p["slowest"] else "–"
        lines.append(f"| {page} | {p['filter_change_s'] * 1000:.0f} ms | {p['libraries_s'] * 1000:.0f} ms | "
                     f"≤ {t['page'] * 1000:.0f} ms | {slowest} | {verdict(p['filter_change_s'] <= t['page'])} |")
    lines += ["", PROFILE_NOTES, ""]
    for r in results:
        rows = ", ".join(f"{name} {n:,}" for name, n in sorted(r["rows"].items()))
        lines += [
            f"## N = {r['n']:,} patients",
            "",
            f"Rows: {rows}.",
            "",
            "| measure | project | pandas baseline |",
            "|---|---|---|",
            (f"| open the dataset (views + per-patient facts) | {r['open_s'] * 1000:.0f} ms | "
            f"{r['baseline_open_s'] * 1000:.0f} ms (read every table) |"),
            (f"| first virtual-care query after opening (builds the engagement facts) | "
             f"{r['first_use_s'] * 1000:.0f} ms | |"),
            (f"| first lab query after opening (builds the lab and CD19 facts) | "
             f"{r['first_use_labs_s'] * 1000:.0f} ms | |"),
            f"| summary, no filter | {r['summary_s'] * 1000:.0f} ms | {r['baseline_s'] * 1000:.0f} ms |",
            f"| summary, filter change | {r['summary_filtered_s'] * 1000:.0f} ms | – |",
            (f"| summary without the v2 endpoints, no filter / filter change | "
             f"{r['summary_v1_s'] * 1000:.0f} ms / {r['summary_v1_filtered_s'] * 1000:.0f} ms | |"),
            f"| ratio project / baseline (summary) | {r['ratio']:.2f} | |",
            *(f"| summary part on the filter change: {k} | {v * 1000:.0f} ms | |"
              for k, v in r.get("summary_parts_s", {}).items()),
            f"| peak memory (max RSS) | {r['peak_rss_mib']:.0f} MiB | {r['baseline_rss_mib']:.0f} MiB |",
            "",
            ("Each page's data-layer calls (every `ui.data.call` the page makes), replayed: *cold* computes "
            "every call (nothing cached); *filter change* is the app's case, where the whole-cohort results "
            "((all): slider limits, N, the published panel) are already cached and the calls for the new "
            "filters are computed; *cached* is the same view again."),
            "",
            "| page | data-layer calls | cold | filter change | of which in the libraries | cached |",
            "|---|---|---|---|---|---|",
        ]
        for page, p in r["pages"].items():
            lines.append(f"| {page} | {', '.join(p['calls'])} | {p['cold_s'] * 1000:.0f} ms | "
                         f"{p['filter_change_s'] * 1000:.0f} ms | {p['libraries_s'] * 1000:.0f} ms | "
                         f"{p['cached_s'] * 1000:.1f} ms |")
        lines.append("")
    text = "\n".join(lines)
    kept = LOAD_SECTION.search(out.read_text()) if out.exists() else None
    if kept:
        text = text.rstrip("\n") + "\n\n" + kept.group(0)
    out.write_text(text.rstrip("\n") + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    parser.add_argument("--no-cold-start", action="store_true",
                        help="skip the app's cold start in Chromium (measured on the demo data)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one N, print JSON
    parser.add_argument("--calls", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeats, json.loads(args.calls))))
        return 0
    if args.baseline:
        print(json.dumps(measure_baseline(args.baseline, args.repeats)))
        return 0
    calls = record_page_calls()
    results = []
    for n in args.sizes:
        print(f"N = {n:,} …", file=sys.stderr)
        dataset_for(n)
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--repeats", str(args.repeats),
             "--calls", json.dumps(calls)],
            check=True, capture_output=True, text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        base = subprocess.run(
            [sys.executable, __file__, "--baseline", str(n), "--repeats", str(min(args.repeats, 3))],
            check=True, capture_output=True, text=True,
        )
        result |= json.loads(base.stdout.strip().splitlines()[-1])
        result["ratio"] = result["summary_s"] / result["baseline_s"]
        results.append(result)
    start_s = None if args.no_cold_start else cold_start(min(args.repeats, 3))
    write(results, start_s, args.out, args.repeats)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
