"""A tiny Chrome DevTools protocol client for tests: headless Chromium on loopback only.

Starts ``/usr/bin/chromium`` with remote debugging on a free loopback port, attaches to its
page over a websocket, and records console messages, exceptions and network requests while
a page loads. No browser download, no network.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@dataclass
class PageRun:
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: bytes = b""
    evaluated: Any = None


class _Session:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        wanted = self.next_id
        self.ws.send(json.dumps({"id": wanted, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})  # type: ignore[no-any-return]
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        if any(e.get("method") == method for e in self.events):
            return
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv(timeout=deadline - time.monotonic()))
            self.events.append(message)
            if message.get("method") == method:
                return
        raise TimeoutError(method)


@contextmanager
def chromium() -> Iterator[str]:
    """Yield the DevTools HTTP endpoint of a fresh headless Chromium."""
    profile = tempfile.mkdtemp(prefix="offerctl-chromium-")
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=1280,1600",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        endpoint = None
        deadline = time.monotonic() + 30
        while endpoint is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                break
            found = re.search(r"DevTools listening on ws://(127\.0\.0\.1:\d+)/", line)
            if found:
                endpoint = found.group(1)
        if endpoint is None:
            raise RuntimeError("chromium did not start its DevTools endpoint")
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def load(url: str, expression: str | None = None, settle: float = 1.0) -> PageRun:
    """Open ``url`` in headless Chromium; return console errors, exceptions, every network
    request the page made, a full-page PNG screenshot and the value of ``expression``."""
    from websockets.sync.client import connect

    with chromium() as endpoint:
        with urllib.request.urlopen(f"http://{endpoint}/json/list", timeout=10) as response:
            pages = [t for t in json.load(response) if t.get("type") == "page"]
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=None) as ws:
            session = _Session(ws)
            for domain in ("Page", "Runtime", "Log", "Network"):
                session.call(f"{domain}.enable")
            session.call("Page.navigate", url=url)
            session.wait_for("Page.loadEventFired")
            time.sleep(settle)
            run = PageRun()
            if expression:
                result = session.call("Runtime.evaluate", expression=expression, returnByValue=True)
                run.evaluated = result.get("result", {}).get("value")
            shot = session.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            run.screenshot = base64.b64decode(shot["data"])
            for event in session.events:
                method, params = event.get("method"), event.get("params", {})
                if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                    run.console_errors.append(json.dumps(params.get("args")))
                elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                    run.console_errors.append(params["entry"].get("text", ""))
                elif method == "Runtime.exceptionThrown":
                    run.exceptions.append(json.dumps(params.get("exceptionDetails")))
                elif method == "Network.requestWillBeSent":
                    run.requests.append(params.get("request", {}).get("url", ""))
            return run
