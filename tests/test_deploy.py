"""The production start (deploy/serve): two workers behind HAProxy, driven at the protocol level as a
browser does (deploy/stclient.py), and the hosting recipe's files (Dockerfile, compose.yaml).

One server is started for the module (about 10–20 s): its datasets folder is a temporary one holding
two versions, the demo cohort (99 patients) and a subset of its first 50 patients, so that an
activation made by another process is visible in the patient count every page shows.
"""

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from deploy import serve
from deploy.stclient import Session, visit
from queries import importer
from ui.pages import ANALYSIS, DATA, REPORT

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
PORT = 8625  # the proxy; workers on 8626 and 8627
URL = f"http://127.0.0.1:{PORT}"
FULL, HALF = "a1a1a1a1a1a1", "b2b2b2b2b2b2"  # version ids (12 hex digits, as the importer names them)

if serve.haproxy_path() is None and os.environ.get("REQUIRE_PROXY"):
    raise RuntimeError("REQUIRE_PROXY is set but HAProxy is not installed (apt-get install haproxy)")
needs_haproxy = pytest.mark.skipif(
    serve.haproxy_path() is None, reason="HAProxy is not installed (apt-get install haproxy)"
)


def write_version(root: Path, version: str, patients: int | None) -> None:
    """A dataset version folder: the demo tables, or those of its first `patients` patients."""
    folder = root / "versions" / version
    folder.mkdir(parents=True)
    ids = pd.read_parquet(DEMO / "patients.parquet")["patient_id"].head(patients or 10**9)
    for table in DEMO.glob("*.parquet"):
        frame = pd.read_parquet(table)
        frame[frame["patient_id"].isin(ids)].to_parquet(folder / table.name, index=False)


def selected(run) -> str:
    """The page's 'n of N patients selected' line."""
    return next(t for t in run.texts if "patients selected" in t)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if serve.haproxy_path() is None:
        pytest.skip("HAProxy is not installed (apt-get install haproxy)")
    root = tmp_path_factory.mktemp("datasets")
    write_version(root, FULL, None)
    write_version(root, HALF, 50)
    importer.activate(root, FULL, "test")
    env = {k: v for k, v in os.environ.items() if k != "RCE_DATA"} | {"RCE_DATASETS": str(root)}
    log = root.parent / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(ROOT / "deploy" / "serve"), "--port", str(PORT), "--workers", "2"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        assert serve.wait_healthy(URL + "/_stcore/health", time.monotonic() + 150, process), (
            log.read_text()[-3000:])
        yield root
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


async def sessions_on_both_workers() -> dict[str, Session]:
    """Open sessions until each of the two workers holds one (the proxy's cookie names the worker)."""
    found: dict[str, Session] = {}
    opened = []
    for _ in range(8):
        session = Session(URL)
        await session.open("survival")
        opened.append(session)
        found.setdefault(session.cookie("rce_worker"), session)
        if len(found) == 2:
            break
    for session in opened:
        if session not in found.values():
            await session.close()
    return found


def test_health_answers_through_the_proxy_only_when_every_worker_is_ready(server):
    with urllib.request.urlopen(URL + "/_stcore/health", timeout=5) as response:
        body = response.read()

    assert response.status == 200 and body == b"ok"
    config = serve.haproxy_config("127.0.0.1", PORT, [PORT + 1, PORT + 2])
    assert "nbsrv(workers) lt 2" in config and "cookie rce_worker insert" in config


@needs_haproxy
def test_the_proxy_configuration_is_valid_haproxy(tmp_path):
    config = tmp_path / "haproxy.cfg"
    config.write_text(serve.haproxy_config("127.0.0.1", 8501, [8502, 8503]))

    checked = subprocess.run([serve.haproxy_path(), "-c", "-f", str(config)],
                             capture_output=True, text=True, check=False)

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_page_is_served_through_the_proxy(server):
    pages = ["" if i == 0 else s.url_path for i, s in enumerate(ANALYSIS)] + [REPORT.url_path,
                                                                                DATA.url_path]

    async def run_all():
        return [await visit(URL, page, timeout=90) for page in pages]

    runs = asyncio.run(run_all())

    for page, run in zip(pages, runs):
        assert run.ok, (page, run.exceptions, run.page_not_found)
        assert run.worker in ("w1", "w2")
    for run in runs[: len(ANALYSIS)]:
        assert run.charts >= 1 and "99 of 99 patients selected" in selected(run)


def test_a_download_works_on_every_worker_and_only_there(server):
    async def check():
        sessions = await sessions_on_both_workers()
        assert set(sessions) == {"w1", "w2"}
        results = {}
        # different filters, so that the two files differ (a media file's id is its content's hash)
        for (worker, session), subtype in zip(sorted(sessions.items()), ("RRMS", "SPMS")):
            run = await session.run("survival", f"subtype={subtype}")
            status, body = await session.download(run, "Download CSV")
            results[worker] = (status, body, run)
        # the file lives in the memory of the worker that made it: another worker does not have it
        run = results["w1"][2]
        other = sessions["w2"]
        url = await sessions["w1"].file_url(run, "Download CSV")
        status_elsewhere, _ = await asyncio.to_thread(other.get, url)
        for session in sessions.values():
            await session.close()
        return results, status_elsewhere

    results, status_elsewhere = asyncio.run(check())

    for worker, (status, body, _) in results.items():
        assert status == 200, worker
        lines = body.decode().splitlines()  # the page's last table behind a chart, as CSV
        assert len(lines) > 1 and "," in lines[0] and not lines[0].lstrip().startswith("<"), body[:80]
    assert status_elsewhere == 404


def test_a_reconnect_keeps_the_page_and_its_filters(server):
    query = "subtype=RRMS&subtype=NMOSD&sex=F"

    async def check():
        session = Session(URL)
        await session.open("edss")
        before = await session.run("edss", query)
        await session.close()
        # the browser reconnects with the same cookie (same worker) and its session id
        await session.open("edss", reconnect=True)
        again = await session.run("edss", query)
        await session.close()
        # a reconnect that lands on another worker (say, after a restart) rebuilds it from the URL
        elsewhere = await visit(URL, "edss", query)
        return before, again, elsewhere

    before, again, elsewhere = asyncio.run(check())

    assert before.ok and again.ok and elsewhere.ok
    assert again.session_id == before.session_id
    assert selected(again) == selected(before) == selected(elsewhere)
    # the expected count straight from the demo's patients table (no other filter is narrowed)
    patients = pd.read_parquet(DEMO / "patients.parquet")
    n = int((patients["subtype"].isin(["RRMS", "NMOSD"]) & (patients["sex"] == "F")).sum())
    line = selected(before).replace("\\", "")  # the line escapes Markdown
    assert f"{n} of {len(patients)} patients selected" in line
    assert "subtypes: RRMS, NMOSD" in line and "sex: F" in line


def test_an_activation_by_another_process_is_shown_by_every_worker(server):
    async def counts():
        sessions = await sessions_on_both_workers()
        lines = {w: selected(await s.run("survival")) for w, s in sessions.items()}
        for session in sessions.values():
            await session.close()
        return lines

    before = asyncio.run(counts())
    importer.activate(server, HALF, "another process")
    deadline = time.monotonic() + 10
    while True:
        after = asyncio.run(counts())
        if all("50 of 50 patients selected" in line for line in after.values()):
            break
        assert time.monotonic() < deadline, after
        time.sleep(0.5)
    importer.activate(server, FULL, "test")

    assert set(before) == set(after) == {"w1", "w2"}
    assert all("99 of 99 patients selected" in line for line in before.values())


def test_a_worker_that_dies_is_started_again_and_serves_again(server):
    def worker_pid() -> int | None:
        return next((int(pid.name) for pid in Path("/proc").glob("[0-9]*")
                     if f"--server.port={PORT + 1}".encode() in _cmdline(pid)), None)

    killed = worker_pid()
    os.kill(killed, signal.SIGKILL)
    # the proxy's checks (every 2 s) take it out, answer 503 for health meanwhile, and put the new
    # process back once it answers; a quick restart may come back before a check sees it missing
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker_pid() in (None, killed):
        time.sleep(0.2)
    healthy = serve.wait_healthy(f"http://127.0.0.1:{PORT + 1}/_stcore/health", deadline)
    back = serve.wait_healthy(URL + "/_stcore/health", deadline)

    async def on_restarted_worker():
        sessions = await sessions_on_both_workers()
        run = await sessions["w1"].run("survival")
        for session in sessions.values():
            await session.close()
        return run

    assert worker_pid() not in (None, killed) and healthy and back
    assert asyncio.run(on_restarted_worker()).ok


def _cmdline(pid: Path) -> bytes:
    try:
        return (pid / "cmdline").read_bytes()
    except OSError:
        return b""


@needs_haproxy
def test_sigterm_stops_the_proxy_and_every_worker(tmp_path):
    process = subprocess.Popen([str(ROOT / "deploy" / "serve"), "--port", "8628", "--workers", "1",
                                "--no-warm-up"], start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    try:
        assert serve.wait_healthy("http://127.0.0.1:8628/_stcore/health", time.monotonic() + 90,
                                  process)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)

    assert code == 0
    for port in (8628, 8629):
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)


# The hosting recipe cannot run here (no container daemon): its files are parsed and checked.

def parse_yaml(text: str) -> dict:
    """The block-style YAML subset compose.yaml is written in: mappings, '- ' lists, JSON-style flow
    lists, scalars. Enough to read the recipe without a YAML library."""
    lines = [(len(line) - len(line.lstrip(" ")), line.strip()) for line in text.splitlines()
             if line.strip() and not line.strip().startswith("#")]

    def scalar(value: str) -> object:
        value = value.split(" #")[0].strip()
        if value.startswith("["):
            return json.loads(value)
        return value.strip('"').strip("'")

    def block(i: int, indent: int) -> tuple[object, int]:
        if lines[i][1].startswith("- "):
            items = []
            while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
                items.append(scalar(lines[i][1][2:]))
                i += 1
            return items, i
        mapping = {}
        while i < len(lines) and lines[i][0] == indent:
            key, _, rest = lines[i][1].partition(":")
            i += 1
            if rest.strip() in ("", "|", ">"):
                if i < len(lines) and lines[i][0] > indent:
                    mapping[key], i = block(i, lines[i][0])
                else:
                    mapping[key] = None
            else:
                mapping[key] = scalar(rest)
        return mapping, i

    return block(0, 0)[0]


def dockerfile_instructions() -> dict[str, list[str]]:
    text = (ROOT / "deploy" / "Dockerfile").read_text().replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.setdefault(word.upper(), []).append(rest.strip())
    return found


def test_the_container_runs_the_same_command_as_deploy_serve():
    docker = dockerfile_instructions()

    (cmd,) = docker["CMD"]
    command = json.loads(cmd)
    assert command[0] == "deploy/serve"
    args = serve.parse_args(command[1:])
    assert args.host == "0.0.0.0" and args.port == 8501
    assert (ROOT / command[0]).stat().st_mode & 0o111  # executable


def test_the_image_is_pinned_runs_as_a_user_checks_health_and_keeps_data_in_volumes():
    docker = dockerfile_instructions()

    base = docker["FROM"][0]
    assert re.search(r":\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?$", base), base
    assert docker["USER"] and docker["USER"][-1] not in ("root", "0")
    assert any("/_stcore/health" in h for h in docker["HEALTHCHECK"])
    volumes = " ".join(docker["VOLUME"])
    assert "/app/datasets" in volumes and "/app/data" in volumes
    assert any("haproxy" in r for r in docker["RUN"])
    assert any("requirements.txt" in r for r in docker["RUN"])


def test_compose_puts_an_https_proxy_in_front_and_mounts_secrets_read_only():
    compose = parse_yaml((ROOT / "deploy" / "compose.yaml").read_text())
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()

    app, proxy = compose["services"]["app"], compose["services"]["proxy"]
    assert "command" not in app  # the image's own command: deploy/serve
    assert app["build"]["dockerfile"] == "deploy/Dockerfile"
    assert any(v.endswith(":/app/.streamlit/secrets.toml:ro") for v in app["volumes"])
    assert any(v.endswith(":/app/datasets") for v in app["volumes"])
    assert "443:443" in " ".join(proxy["ports"]) and "ports" not in app
    assert "reverse_proxy app:8501" in caddyfile
    assert "healthcheck" in app or "HEALTHCHECK" in dockerfile_instructions()
    assert shlex.split(compose["services"]["proxy"]["image"])[0].startswith("caddy:2")


@pytest.mark.skipif(shutil.which("caddy") is None, reason="caddy is not installed")
def test_the_caddyfile_is_valid():
    checked = subprocess.run(
        ["caddy", "validate", "--config", str(ROOT / "deploy" / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True, text=True, check=False,
        env=os.environ | {"RCE_HOSTNAME": "cohort.example.org"},
    )

    assert checked.returncode == 0, checked.stderr[-500:]
