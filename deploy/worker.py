"""One app process for deploy/serve: import what the pages use, then run `streamlit run app.py`.

Streamlit imports a page's libraries only when a visitor first runs it; a worker started by
deploy/serve imports them before it listens, so that no visitor waits for them (about 2–3 s on a
2-core machine). The modules are found by reading the import statements of the app's own code, so
that a page's new library is pre-imported without editing this file. The imported objects are then
frozen out of the garbage collector's passes (gc.freeze), and deploy/serve turns off Streamlit's full
collection after every script run (runner.postScriptGC), which held the interpreter lock for
70–270 ms after each page run and so stalled every other session of the process.

    python deploy/worker.py --server.port=8601 [other `streamlit run` options]
"""

import ast
import gc
import importlib
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("app.py", "app_pages", "ui", "analysis", "queries")


def imported_modules(root: Path = ROOT) -> list[str]:
    """Every module the app's code imports anywhere (functions included), in a stable order."""
    files = []
    for name in SOURCES:
        path = root / name
        files += sorted(path.glob("*.py")) if path.is_dir() else [path]
    modules: dict[str, None] = {}
    for file in files:
        try:
            tree = ast.parse(file.read_text(encoding="utf-8"))
        except (OSError, SyntaxError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update((alias.name, None) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules[node.module] = None
    return list(modules)


def preimport(root: Path = ROOT) -> tuple[int, list[str]]:
    """Import those modules now; returns how many imported and which could not be."""
    sys.path.insert(0, str(root))
    failed = []
    # st.cache_data decorators run before Streamlit's runtime exists and say so; the caches
    # themselves are made on first use, in the runtime's storage
    import streamlit.runtime.caching.cache_data_api  # noqa: F401  (its logger exists from here on)

    quiet = logging.getLogger("streamlit.runtime.caching.cache_data_api")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        for name in imported_modules(root):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001  (a page shows its own import error, not the start)
                failed.append(name)
    finally:
        quiet.setLevel(level)
    return len(sys.modules), failed


def instrument_runs(profile_folder: str | None, log_times: bool) -> None:
    """Diagnostics of script runs, off unless asked for:
    RCE_PROFILE=<folder> writes a cProfile of every run there; RCE_RUN_TIMES=1 prints each run's page,
    wall time and the script thread's own CPU time (which other processes' load does not inflate)."""
    import cProfile
    import itertools

    from streamlit.runtime.scriptrunner import script_runner

    counter = itertools.count()
    run_script = script_runner.ScriptRunner._run_script

    def instrumented(self, rerun_data, *args, **kwargs):
        profile = cProfile.Profile() if profile_folder else None
        wall, cpu = time.perf_counter(), time.thread_time()
        if profile:
            profile.enable()
        try:
            return run_script(self, rerun_data, *args, **kwargs)
        finally:
            if profile:
                profile.disable()
                profile.dump_stats(Path(profile_folder) / f"run-{os.getpid()}-{next(counter)}.prof")
            if log_times:
                print(f"run page={rerun_data.page_name or '-'} "
                      f"wall_ms={1000 * (time.perf_counter() - wall):.0f} "
                      f"cpu_ms={1000 * (time.thread_time() - cpu):.0f}", flush=True)

    if profile_folder:
        Path(profile_folder).mkdir(parents=True, exist_ok=True)
    script_runner.ScriptRunner._run_script = instrumented


def main() -> None:
    start = time.perf_counter()
    count, failed = preimport()
    # What is imported now lives as long as the process: keep it out of the garbage collector's
    # full passes, which otherwise walk these ~200,000 objects (tens of ms each time).
    gc.collect()
    gc.freeze()
    print(f"worker: {count} modules imported in {time.perf_counter() - start:.1f} s"
          + (f"; not importable: {', '.join(failed)}" if failed else ""), flush=True)
    if os.environ.get("RCE_PROFILE") or os.environ.get("RCE_RUN_TIMES"):
        instrument_runs(os.environ.get("RCE_PROFILE"), bool(os.environ.get("RCE_RUN_TIMES")))
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
