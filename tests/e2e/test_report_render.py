"""The sentiment report rendered by headless Chromium: the charts draw, and the page makes no
network request.

The report is written from hand-made marts (``tests/unit/test_report_html.py``). Chromium
takes two screenshots of it: as it is, and with the chart images hidden by one extra CSS rule,
which keeps the layout. The rows where the two differ are the charts; each band of them must
hold a drawn chart (many non-white pixels, many colours) of its image's height.

Network: Chromium runs behind a proxy that is a socket of this test (so nothing could leave
the machine) and writes its net log. Chromium's own services (time, component updates,
account checks) still call out from the browser process whatever the flags; what the page
requests carries the page as its initiator in the net log, the browser's own requests carry
"not an origin". The report must cause no request at all. Two control pages prove the check:
an external image loads through the proxy without the report's Content-Security-Policy, and
is blocked with it.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pytest
from PIL import Image, ImageChops

from orchestration.reporting import write_report
from orchestration.reporting.html import CSP
from tests.e2e.browser import chromium, chromium_binary
from tests.unit.test_report_html import create_marts, images

REPORT_FLAGS = ("--hide-scrollbars", "--force-color-profile=srgb", "--virtual-time-budget=5000")
WIDTH, HEIGHT = 1280, 6000  # the whole report fits: no scrolling, one screenshot
HIDE_CHARTS = "figure.chart img { visibility: hidden; }"
BROWSER_OWN = "not an origin"  # the net log's initiator of the browser's own requests
EXTERNAL_IMAGE = "http://report-test.invalid/pixel.png"


class Proxy:
    """An HTTP proxy that answers every request with 502 and records its first line."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.server.settimeout(0.1)  # accept() wakes up to see the stop flag
        self.port = self.server.getsockname()[1]
        self.stopped = threading.Event()
        self.answers: list[threading.Thread] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            # One thread per connection: Chromium opens spare connections that send nothing.
            answer = threading.Thread(target=self._answer, args=(connection,), daemon=True)
            answer.start()
            self.answers.append(answer)

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(1)
            try:
                head = connection.recv(4096)
                connection.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                head = b""
            self.requests.append(head.split(b"\r\n", 1)[0].decode(errors="replace"))

    def __enter__(self) -> Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.server.close()
        for answer in self.answers:
            answer.join(timeout=2)


@dataclass
class Rendering:
    screenshot: Path
    page_requests: list[str]  # URLs the page asked for (net log)
    proxied: list[str]  # request lines the proxy received (the page's and the browser's)


def page_requests(netlog: Path) -> list[str]:
    """URLs of the network requests the page made: every URL request in the net log whose
    initiator is a document rather than the browser itself."""
    log = json.loads(netlog.read_text())
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    assert log["events"], f"{netlog} recorded no event"
    return [
        event["params"]["url"]
        for event in log["events"]
        if event["type"] == start_job
        and event.get("params", {}).get("initiator", BROWSER_OWN) != BROWSER_OWN
    ]


def render(binary: str, page: Path, name: str, timeout: float = 60) -> Rendering:
    tmp = page.parent
    screenshot, netlog = tmp / f"{name}.png", tmp / f"{name}.netlog.json"
    with Proxy() as proxy:
        _, stderr = chromium(
            binary,
            tmp / f"profile_{name}",
            *REPORT_FLAGS,
            f"--window-size={WIDTH},{HEIGHT}",
            f"--screenshot={screenshot}",
            f"--proxy-server=http://127.0.0.1:{proxy.port}",
            "--proxy-bypass-list=<-loopback>",
            f"--log-net-log={netlog}",
            page.as_uri(),
            timeout=timeout,
        )
    assert screenshot.exists(), f"chromium wrote no screenshot: {stderr[-2000:]}"
    return Rendering(screenshot, page_requests(netlog), list(proxy.requests))


def bands(rows: np.ndarray, max_gap: int = 40) -> list[tuple[int, int]]:
    """Runs of True rows (first, last), runs closer than ``max_gap`` rows joined."""
    found: list[list[int]] = []
    for y in np.flatnonzero(rows):
        if found and y - found[-1][1] <= max_gap:
            found[-1][1] = int(y)
        else:
            found.append([int(y), int(y)])
    return [(first, last) for first, last in found]


@pytest.fixture(scope="module")
def browser():
    return chromium_binary()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report_render")
    with duckdb.connect(str(tmp / "warehouse.duckdb")) as connection:
        create_marts(connection)
        written = write_report(connection, tmp / "report.html")
    return written


def test_the_report_renders_its_charts_without_any_network_request(browser, report):
    # SLOW (~5 s): two Chromium screenshots of a 6000 px page.
    full = render(browser, report.path, "report")
    assert full.page_requests == [], f"the report made network requests: {full.page_requests}"
    hidden_page = report.path.with_name("report_hidden_charts.html")
    hidden_page.write_text(report.html.replace("</style>", HIDE_CHARTS + "</style>", 1))
    hidden = render(browser, hidden_page, "hidden")
    assert hidden.page_requests == []

    shot = Image.open(full.screenshot).convert("RGB")
    blank = Image.open(hidden.screenshot).convert("RGB")
    assert shot.size == blank.size == (WIDTH, HEIGHT)
    # The page ends (the grey background below the footer) inside the screenshot.
    assert shot.getpixel((WIDTH // 2, HEIGHT - 5)) == (244, 245, 247), "the page is taller"
    changed = np.asarray(ImageChops.difference(shot, blank).convert("L")) > 8
    found = bands(changed.any(axis=1))
    heights = [image.height for image in images(report.html)]
    assert len(found) == len(heights) == 4, (
        f"chart bands {found} for {len(heights)} charts; see {full.screenshot}"
    )
    for (top, bottom), height in zip(found, heights, strict=True):
        columns = np.flatnonzero(changed[top : bottom + 1].any(axis=0))
        left, right = int(columns[0]), int(columns[-1])
        assert 0.9 * height <= bottom - top + 1 <= height, (top, bottom, height)
        assert right - left + 1 <= 1060 and right - left + 1 > 900, (left, right)
        region = shot.crop((left, top, right + 1, bottom + 1))
        colours = region.getcolors(maxcolors=1_000_000)
        non_white = sum(n for n, rgb in colours if rgb != (255, 255, 255))
        saturated = sum(n for n, (r, g, b) in colours if max(r, g, b) - min(r, g, b) > 60)
        area = region.width * region.height
        assert len(colours) > 100, f"chart at rows {top}-{bottom} has {len(colours)} colours"
        assert non_white > 0.04 * area, f"chart at rows {top}-{bottom} is almost blank"
        assert saturated > 0.005 * area, f"chart at rows {top}-{bottom} has no coloured marks"


def test_the_network_check_sees_what_a_page_requests_and_the_csp_blocks_it(browser, tmp_path):
    # SLOW (~3 s): two small pages. Without a policy the external image is requested (through
    # this test's proxy); under the report's policy it is not.
    body = f'<body><p>control</p><img src="{EXTERNAL_IMAGE}" alt=""></body>'
    open_page = tmp_path / "open.html"
    open_page.write_text(f"<!DOCTYPE html><html><head></head>{body}</html>")
    strict_page = tmp_path / "strict.html"
    strict_page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{CSP}"></head>{body}</html>'
    )
    opened = render(browser, open_page, "open")
    assert opened.page_requests == [EXTERNAL_IMAGE]
    assert f"GET {EXTERNAL_IMAGE} HTTP/1.1" in opened.proxied
    strict = render(browser, strict_page, "strict")
    assert strict.page_requests == []
    assert not [line for line in strict.proxied if "report-test.invalid" in line]
