"""The production start: W app processes behind HAProxy with sticky sessions (run as `deploy/serve`).

    deploy/serve --port 8501 [--workers W] [--host 127.0.0.1]

- W Streamlit processes (default: RCE_WORKERS, else one per core) on 127.0.0.1:port+1 … port+W;
  each imports the pages' libraries before it listens (deploy/worker.py).
- Each worker is warmed up: one protocol-level session per worker opens every analysis page once, so
  the first visitors find the scripts compiled and the whole-cohort results cached.
- Then HAProxy listens on host:port. A visitor's first request gets a cookie naming a worker; the
  websocket, downloads (`/media/...`), uploads and reconnects carry it and reach the same worker.
  `/_stcore/health` answers 200 only while every worker is up (503 otherwise).
- A worker that exits is started again; SIGTERM or Ctrl-C stops the proxy and every worker.
All workers share one cookie secret (STREAMLIT_SERVER_COOKIE_SECRET, random per start when unset), so
a session moved to another worker after a restart keeps a valid XSRF cookie.
"""

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.stclient import visit

COOKIE = "rce_worker"


def worker_command(port: int) -> list[str]:
    """The command that starts one app process on 127.0.0.1:port."""
    return [
        sys.executable, str(ROOT / "deploy" / "worker.py"),
        "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
        "--server.fileWatcherType=none", "--browser.gatherUsageStats=false",
        # a full garbage collection after every run holds the interpreter lock for 70-270 ms and
        # stalls every other session of the process; Python's own generational collection remains
        "--runner.postScriptGC=false",
    ]


def haproxy_config(host: str, port: int, worker_ports: list[int]) -> str:
    """HAProxy configuration: cookie-sticky balancing over the workers, websockets, health gate."""
    servers = "\n".join(
        f"    server w{i} 127.0.0.1:{p} check inter 2s fall 2 rise 1 cookie w{i}"
        for i, p in enumerate(worker_ports, 1)
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 120s
    # a websocket (the whole browser session) may stay open for hours
    timeout tunnel 12h
    timeout client-fin 10s
    timeout http-request 15s

frontend app
    bind {host}:{port}
    # healthy only when every worker is up (their own /_stcore/health, checked every 2 s)
    http-request return status 503 content-type text/plain string "starting" if {{ path /_stcore/health }} {{ nbsrv(workers) lt {len(worker_ports)} }}
    default_backend workers

backend workers
    # new visitors go to the workers in turn (a first request is short, so counting open connections
    # would send a burst of them to one worker); the cookie keeps each visitor on its worker
    balance roundrobin
    cookie {COOKIE} insert indirect nocache httponly attr SameSite=Lax
    option httpchk GET /_stcore/health
    option redispatch
{servers}
"""


def haproxy_path() -> str | None:
    """The haproxy binary (often in /usr/sbin, which a user's PATH may lack), or None."""
    found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    return found if os.access(found, os.X_OK) else None


def wait_healthy(url: str, deadline: float, process: subprocess.Popen | None = None) -> bool:
    """Poll url until it answers 200, the deadline passes or the process exits."""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def warm_up_pages() -> list[str]:
    """The URL paths of the analysis pages, which a warm-up visits (not the report, not data)."""
    from ui.pages import ANALYSIS

    # the default page is served at the root; its url_path is not a route of its own
    return ["" if i == 0 else spec.url_path for i, spec in enumerate(ANALYSIS)]


def warm_up(port: int, pages: list[str]) -> None:
    """One session on the worker itself opens each page once (compiles, fills the caches)."""

    async def run() -> None:
        for page in pages:
            try:
                await visit(f"http://127.0.0.1:{port}", page, timeout=120)
            except Exception as exc:  # noqa: BLE001  (a failing page fails for visitors too: log it)
                print(f"serve: warm-up of {page} on port {port} failed: {exc!r}", flush=True)

    asyncio.run(run())


class Supervisor:
    """Starts, watches and stops the workers and the proxy."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.ports = [args.port + i for i in range(1, args.workers + 1)]
        self.workers: dict[int, subprocess.Popen] = {}
        self.proxy: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.env = dict(os.environ)
        self.env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", secrets.token_hex(32))
        self.tmp: Path | None = None  # the proxy's configuration, made at start
        self.pages = warm_up_pages()

    def log(self, text: str) -> None:
        print(f"serve: {text}", flush=True)

    def start_worker(self, port: int) -> subprocess.Popen:
        # the workers' logs go where this script's go (the terminal, `docker logs`, the journal)
        process = subprocess.Popen(worker_command(port), cwd=ROOT, env=self.env,
                                   start_new_session=True)
        self.workers[port] = process
        return process

    def start(self) -> bool:
        if not haproxy_path():
            self.log("HAProxy is not installed (Debian/Ubuntu: apt-get install haproxy)")
            return False
        started = time.monotonic()
        for port in self.ports:
            self.start_worker(port)
        deadline = time.monotonic() + self.args.start_timeout
        for port in self.ports:
            if not wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", deadline, self.workers[port]):
                self.log(f"worker on port {port} did not start (its log is above)")
                return False
        self.log(f"{len(self.ports)} workers listening after {time.monotonic() - started:.1f} s")
        if not self.args.no_warm_up:
            threads = [threading.Thread(target=warm_up, args=(p, self.pages), daemon=True) for p in self.ports]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self.log(f"workers warmed up after {time.monotonic() - started:.1f} s")
        self.tmp = Path(tempfile.mkdtemp(prefix="rce-serve-"))
        config = self.tmp / "haproxy.cfg"
        config.write_text(haproxy_config(self.args.host, self.args.port, self.ports))
        self.proxy = subprocess.Popen([haproxy_path(), "-f", str(config), "-db"],
                                      start_new_session=True)
        url = f"http://{self.args.host}:{self.args.port}/_stcore/health"
        if not wait_healthy(url, time.monotonic() + 30, self.proxy):
            self.log("the proxy did not start")
            return False
        self.log(f"ready on http://{self.args.host}:{self.args.port} "
                 f"({len(self.ports)} workers, {time.monotonic() - started:.1f} s)")
        return True

    def watch(self) -> None:
        """Restart a worker that exited (and warm it up); stop when the proxy exits."""
        while not self.stopping.wait(1):
            if self.proxy is not None and self.proxy.poll() is not None:
                self.log(f"the proxy exited ({self.proxy.returncode})")
                return
            for port, process in list(self.workers.items()):
                if process.poll() is not None and not self.stopping.is_set():
                    self.log(f"worker on port {port} exited ({process.returncode}); starting it again")
                    process = self.start_worker(port)
                    if wait_healthy(f"http://127.0.0.1:{port}/_stcore/health",
                                    time.monotonic() + self.args.start_timeout, process):
                        warm_up(port, self.pages)

    def stop(self) -> None:
        self.stopping.set()
        children = [p for p in (self.proxy, *self.workers.values()) if p is not None]
        for process in children:
            if process.poll() is None:
                process.terminate()
        for process in children:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="deploy/serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="where the proxy listens")
    parser.add_argument("--workers", type=int,
                        default=int(os.environ.get("RCE_WORKERS") or len(os.sched_getaffinity(0))),
                        help="app processes (default: RCE_WORKERS, else one per core)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the proxy's address (0.0.0.0 inside a container)")
    parser.add_argument("--start-timeout", type=float, default=120, help="seconds a worker may take")
    parser.add_argument("--no-warm-up", action="store_true", help="skip the warm-up visits")
    parser.add_argument("--print-config", action="store_true", help="print the proxy config and exit")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    supervisor = Supervisor(args)
    if args.print_config:
        print(haproxy_config(args.host, args.port, supervisor.ports))
        return 0

    def on_signal(signum: int, _frame: object) -> None:
        # leave whatever the main thread waits for (start-up, warm-up, watching); `finally` stops all,
        # undisturbed by a second signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        supervisor.stopping.set()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if supervisor.start():
            supervisor.watch()
        return 1
    finally:
        supervisor.stop()
        supervisor.log("stopped")


if __name__ == "__main__":
    sys.exit(main())
