"""A minimal Streamlit client at the protocol level, as a browser talks to the server.

A browser loads the page (which sets the proxy's worker cookie), opens a websocket to
`/_stcore/stream`, sends a `BackMsg.rerun_script` with the URL's page and query string, and receives
`ForwardMsg`s (the page's elements) until `script_finished`. Downloads made on request
(`st.download_button` with a callable) are a `backend_operation_request` answered with a `/media/...`
URL that the browser then fetches. `deploy/serve` uses this to warm each worker up before it says
healthy, `benchmarks/load.py` to drive concurrent sessions, and `tests/test_deploy.py` to check the
proxy's sticky sessions.
"""

import asyncio
import http.cookiejar
import time
import urllib.request
import uuid
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackendOperationRequest, BackMsg, DeferredFileRequestPayload
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from websockets.asyncio.client import connect

FINISHED = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")


@dataclass
class PageRun:
    """What one page run sent back: its elements' texts, charts, downloads, errors and timing."""

    page: str
    query: str
    seconds: float = 0.0
    finished: bool = False
    session_id: str = ""
    worker: str = ""
    texts: list[str] = field(default_factory=list)
    charts: int = 0
    downloads: dict[str, str] = field(default_factory=dict)  # label → deferred file id or URL
    exceptions: list[str] = field(default_factory=list)
    page_not_found: bool = False

    @property
    def ok(self) -> bool:
        """The script ran to its end, on the page asked for, without an exception."""
        return self.finished and not self.exceptions and not self.page_not_found

    def text(self) -> str:
        """Every text element of the page, one a line."""
        return "\n".join(self.texts)


class Session:
    """One browser tab: a cookie jar (the proxy's worker cookie) and, once opened, one websocket."""

    def __init__(self, base_url: str, timeout: float = 60) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.ws = None
        self.session_id = ""

    def get(self, path: str) -> tuple[int, bytes]:
        """An HTTP GET with the session's cookies (blocking)."""
        try:
            with self.opener.open(self.base_url + path, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def cookie(self, name: str) -> str:
        """The value of a cookie in the jar, '' when absent."""
        return next((c.value for c in self.jar if c.name == name), "")

    async def open(self, page: str = "", reconnect: bool = False) -> None:
        """Load the page over HTTP (as the browser does first), then open the websocket."""
        if not reconnect:
            await asyncio.to_thread(self.get, "/" + page)
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        # The subprotocol list carries the XSRF token and, on a reconnect, the session id.
        protocols = ["streamlit", self.cookie("_streamlit_xsrf") or "none"]
        if reconnect and self.session_id:
            protocols.append(self.session_id)
        self.ws = await connect(
            self.base_url.replace("http", "ws", 1) + "/_stcore/stream",
            subprotocols=protocols,
            additional_headers={"Cookie": cookies} if cookies else None,
            origin=self.base_url,
            max_size=None,
            open_timeout=self.timeout,
        )

    async def close(self) -> None:
        """Close the websocket (the server keeps the session for a reconnect)."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def run(self, page: str = "", query: str = "") -> PageRun:
        """Ask for one run of a page (its URL path, '' for the default) and read it to its end."""
        result = PageRun(page=page, query=query, worker=self.cookie("rce_worker"))
        start = time.perf_counter()
        state = ClientState(query_string=query, page_name=page, widget_states=WidgetStates())
        await self.ws.send(BackMsg(rerun_script=state).SerializeToString())
        async with asyncio.timeout(self.timeout):
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(await self.ws.recv())
                kind = msg.WhichOneof("type")
                if kind == "new_session":
                    self.session_id = result.session_id = msg.new_session.initialize.session_id
                elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    self._read_element(msg.delta.new_element, result)
                elif kind == "page_not_found":
                    result.page_not_found = True
                elif kind == "script_finished":
                    if msg.script_finished == FINISHED:
                        result.finished = True
                        break
                    if msg.script_finished != ForwardMsg.ScriptFinishedStatus.Value(
                        "FINISHED_EARLY_FOR_RERUN"
                    ):
                        break
        result.seconds = time.perf_counter() - start
        return result

    @staticmethod
    def _read_element(element, result: PageRun) -> None:
        kind = element.WhichOneof("type")
        if kind == "exception":
            result.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "plotly_chart":
            result.charts += 1
        elif kind == "download_button":
            button = element.download_button
            result.downloads[button.label] = button.deferred_file_id or button.url
        elif kind in ("markdown", "heading", "alert", "text"):
            result.texts.append(getattr(element, kind).body)

    async def file_url(self, run: PageRun, label: str) -> str:
        """Press a download button of the last run: the server makes the file; its /media path."""
        target = run.downloads[label]
        if target.startswith("/") or "://" in target:
            return _path(target)
        request_id = uuid.uuid4().hex
        request = BackendOperationRequest(
            request_id=request_id, session_id=self.session_id,
            deferred_file=DeferredFileRequestPayload(file_id=target),
        )
        await self.ws.send(BackMsg(backend_operation_request=request).SerializeToString())
        async with asyncio.timeout(self.timeout):
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(await self.ws.recv())
                response = msg.backend_operation_response
                if msg.WhichOneof("type") == "backend_operation_response" and (
                    response.request_id == request_id
                ):
                    if response.error_msg:
                        raise RuntimeError(f"download {label!r}: {response.error_msg}")
                    return _path(response.deferred_file.url)

    async def download(self, run: PageRun, label: str) -> tuple[int, bytes]:
        """Press a download button and fetch the file, as the browser does: (HTTP status, body)."""
        return await asyncio.to_thread(self.get, await self.file_url(run, label))


def _path(url: str) -> str:
    """The path of a URL the server gave (absolute or not), to fetch through this session's base."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1] if "://" in url else url


async def visit(base_url: str, page: str = "", query: str = "", timeout: float = 60) -> PageRun:
    """One new visitor opening a link: load, connect, run the page, close. Timed from the first request."""
    session = Session(base_url, timeout)
    start = time.perf_counter()
    try:
        await session.open(page)
        run = await session.run(page, query)
    finally:
        await session.close()
    run.seconds = time.perf_counter() - start
    return run
