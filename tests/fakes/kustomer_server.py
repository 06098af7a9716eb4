"""A local fake of Kustomer's REST search API, for the Kustomer client's tests and benchmark.

It serves ``POST /v1/customers/search`` on 127.0.0.1 (free port) the way the documented API
behaves, with only the standard library:

- JSON:API resource objects of three kinds -- ``message``, ``conversation``, ``customer`` --
  each with ``attributes.updatedAt`` (ISO-8601 UTC with milliseconds and a Z);
- a search body ``{"queryContext": kind, "and": [{"<kind>_updated_at": {"gte": iso}}],
  "sort": [{"<kind>_updated_at": "asc"}], "includeDeleted": true}``, strictly validated
  (anything else is a 400 with a JSON:API error body, so a client that drifts from the
  documented request fails loudly here rather than in production);
- results ordered by (updatedAt instant, id), paged by offset (``page`` / ``pageSize``, at most
  500 a page) with ``links.next`` to re-POST the same body to, and the 10,000-result window of
  a search (``page * pageSize`` beyond it is a 400);
- paging evaluated on the data as it is at each request: a record updated between two page
  requests moves to the end and shifts later offsets, so offset paging can skip a record.
  That is the real API's behaviour and the reason the client must guard against it;
- soft deletes (``attributes.deleted``; hidden unless ``includeDeleted``), redaction,
  Bearer-token auth (401 / 403), a fixed-window rate limit with ``x-ratelimit-*`` headers and
  429s, and injected faults (any status, or a 200 whose body is not JSON).

The benchmark pulls 100k messages through it, so a request must cost well under a millisecond
or two: each kind keeps its records in a dict and two lists of sort keys (all records, and
those not deleted) kept sorted with ``bisect``; changes are applied to the lists lazily, one by
one when there are few and by a full re-sort after a bulk load, and each record's JSON text is
cached until it changes. A page is then two bisections, a slice and a join.

Usage::

    with FakeKustomer(rate_limit=(60, 1.0)) as api:
        api.load_sample(10_000)
        client = KustomerClient(base_url=api.url, token="test-token")
"""

from __future__ import annotations

import collections
import contextlib
import copy
import gc
import json
import socket
import sys
import threading
import time
import zlib
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tests.fakes.local_server import serve_in_thread, stop_serving

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "KINDS",
    "MAX_PAGE_SIZE",
    "MAX_RESULTS",
    "SEARCH_PATH",
    "FakeData",
    "FakeKustomer",
    "RequestLog",
    "SearchRequest",
    "format_instant",
    "parse_instant",
    "sample_resources",
]

SEARCH_PATH = "/v1/customers/search"
KINDS = ("message", "conversation", "customer")
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
MAX_RESULTS = 10_000  # Kustomer's search result window
BODY_FIELDS = frozenset({"queryContext", "and", "sort", "includeDeleted", "timeZone"})
OPERATORS = frozenset({"gte", "gt", "lte", "lt"})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Instants are integer microseconds since the epoch, so comparisons are exact and a strict
# bound ("gt x") is just "gte x + 1". Records whose updatedAt cannot be read sort before all.
_MIN_INSTANT = -(2**63)

# Status -> JSON:API error title, for the error bodies the fake writes.
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

# A 200 answer cut off mid-record: what a proxy that drops the connection half-way looks like.
_MALFORMED_JSON = b'{"data":[{"type":"message","id":"msg_1","attributes":{"preview":"He'

# Deterministic customer names for the sample's derived customers (picked by a CRC of the id).
_FIRST_NAMES = ("Avery", "Jordan", "Maria", "Liam", "Sofia", "Noah", "Priya", "Kenji", "Amara")
_LAST_NAMES = ("Dubois", "Smith", "Garcia", "Okafor", "Tanaka", "Novak", "Silva", "Kowalski")
# Share of the sample's conversations, the most recently updated, left "open".
_OPEN_SHARE = 0.1
_ASSIGNEES = 7  # user_0..user_6 and team_0..team_6


# --------------------------------------------------------------------------- time


def parse_instant(value: Any, zone: tzinfo = UTC) -> int | None:
    """``value`` (ISO-8601 date or date-time) as microseconds since the epoch, or ``None``.

    A value without an offset (a bare date, or a date-time without Z) is read in ``zone``.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return (moment - _EPOCH) // _MICROSECOND


def format_instant(milliseconds: int) -> str:
    """Milliseconds since the epoch as Kustomer writes them: ``2025-12-21T18:00:57.000Z``."""
    moment = _EPOCH + timedelta(milliseconds=milliseconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _updated_instant(resource: dict[str, Any]) -> int:
    """The sort instant of a record: its updatedAt, or the minimum when unreadable."""
    attributes = resource.get("attributes")
    if not isinstance(attributes, dict):
        return _MIN_INSTANT
    instant = parse_instant(attributes.get("updatedAt"))
    return _MIN_INSTANT if instant is None else instant


# --------------------------------------------------------------------------- records


@dataclass
class SearchRequest:
    """An authorised search request, as passed to an ``on_request`` callback.

    ``number`` counts authorised search requests from 1 (restarted by ``reset_log``). The
    callback runs before rate limiting, fault injection and validation, so ``kind``, ``page``
    and ``page_size`` are ``None`` when the request does not carry a readable value.
    """

    number: int
    kind: str | None
    page: int | None
    page_size: int | None


@dataclass
class RequestLog:
    """One request the fake received.

    ``number`` is its position among all requests received (from 1, restarted by
    ``reset_log``); ``search_number`` the ``SearchRequest.number`` it was given, or ``None``
    when it was not an authorised search. ``time`` is ``time.monotonic()`` at arrival.
    """

    number: int
    kind: str | None
    page: int | None
    page_size: int | None
    status: int
    time: float
    path: str = ""
    search_number: int | None = None


@dataclass(frozen=True)
class FakeData:
    """What a sample put into the fake: records by kind, and lines that were not records."""

    messages: int
    conversations: int
    customers: int
    skipped_lines: int


class SearchError(Exception):
    """A request answered with an error status and a JSON:API error body."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class _Entry:
    """A stored record: the resource, its sort key, whether it is deleted, its cached JSON."""

    resource: dict[str, Any]
    key: tuple[int, str]
    deleted: bool
    text: str | None = None  # JSON of ``resource``; reset whenever the resource changes


def _entry(resource: dict[str, Any]) -> _Entry:
    attributes = resource.get("attributes")
    deleted = isinstance(attributes, dict) and attributes.get("deleted") is True
    return _Entry(resource, (_updated_instant(resource), resource["id"]), deleted)


@dataclass
class _Table:
    """The records of one kind, indexed by id and by (updatedAt instant, id).

    ``all_keys`` and ``live_keys`` (not deleted) are sorted lists of keys, so a filtered page
    is two bisections and a slice. Changes are not applied to them at once: ``stale`` maps
    each changed id to the (key, deleted) it had when the lists were last brought up to date
    (``None`` for a new id), and ``refresh`` applies them before the next read -- one by one
    when few changed (an update between pages), by sorting again after a bulk load (where
    100k insertions into a sorted list would move gigabytes).
    """

    records: dict[str, _Entry] = field(default_factory=dict)
    all_keys: list[tuple[int, str]] = field(default_factory=list)
    live_keys: list[tuple[int, str]] = field(default_factory=list)
    stale: dict[str, tuple[tuple[int, str], bool] | None] = field(default_factory=dict)

    def store(self, entry: _Entry) -> None:
        """Add or replace the record with ``entry``'s id."""
        record_id = entry.key[1]
        if record_id not in self.stale:
            old = self.records.get(record_id)
            self.stale[record_id] = None if old is None else (old.key, old.deleted)
        self.records[record_id] = entry

    def refresh(self) -> None:
        """Bring the sorted key lists up to date with the records."""
        if not self.stale:
            return
        if len(self.stale) > max(64, len(self.all_keys) // 32):
            entries = self.records.values()
            self.all_keys = sorted(entry.key for entry in entries)
            self.live_keys = sorted(entry.key for entry in entries if not entry.deleted)
        else:
            for record_id, before in self.stale.items():
                if before is not None:
                    key, deleted = before
                    _remove(self.all_keys, key)
                    if not deleted:
                        _remove(self.live_keys, key)
                entry = self.records[record_id]
                insort(self.all_keys, entry.key)
                if not entry.deleted:
                    insort(self.live_keys, entry.key)
        self.stale.clear()


def _remove(keys: list[tuple[int, str]], key: tuple[int, str]) -> None:
    """Remove ``key`` from the sorted list ``keys`` (it is there: keys are unique by id)."""
    del keys[bisect_left(keys, key)]


# --------------------------------------------------------------------------- server


class FakeKustomer:
    """Threaded HTTP server on 127.0.0.1 (free port) answering Kustomer's search endpoint.

    Use as a context manager (or ``start()`` / ``stop()``); ``url`` is valid while it runs.
    All data access goes through one re-entrant lock, so records may be changed from the
    test's thread, from an ``on_request`` callback (which runs under that lock) or between
    the requests of a client running in another thread.
    """

    def __init__(
        self,
        token: str = "test-token",
        forbidden_tokens: Iterable[str] = ("forbidden-token",),
        rate_limit: tuple[int, float] | None = None,
        max_results: int = MAX_RESULTS,
    ):
        if rate_limit is not None and (rate_limit[0] < 1 or rate_limit[1] <= 0):
            raise ValueError(f"rate_limit must be (requests >= 1, seconds > 0), not {rate_limit}")
        self.token = token
        self.forbidden_tokens = frozenset(forbidden_tokens)
        self.rate_limit = rate_limit
        self.max_results = max_results
        self._lock = threading.RLock()
        self._tables = {kind: _Table() for kind in KINDS}
        # Latest updatedAt instant ever stored (any kind): bumps go past it, so a changed
        # record always sorts after everything a client has read so far.
        self._latest = _MIN_INSTANT
        self._faults: collections.deque[tuple[int, dict[str, str], bytes | None]] = (
            collections.deque()
        )
        self._callback: Callable[[SearchRequest], None] | None = None
        self._window_start: float | None = None
        self._window_count = 0
        self._searches = 0
        self.requests: list[RequestLog] = []
        self.served_records: collections.Counter[str] = collections.Counter()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> FakeKustomer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. ``http://127.0.0.1:54321``."""
        if self._server is None:
            raise RuntimeError("FakeKustomer is not running; use start() or a with block")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        if self._server is not None:
            return
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = serve_in_thread(server, "fake-kustomer")

    def stop(self) -> None:
        """Stop serving, close open connections and release the port."""
        if self._server is None:
            return
        self._server.shutdown()  # stop accepting first: a pooled client may not reconnect
        # shutdown() only stops accepting: a kept-alive connection's thread would go on
        # answering a pooled client, so a test that stops the fake to simulate an outage
        # would see none. Closing the sockets ends those threads too.
        with self._server.connections_lock:
            connections = list(self._server.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        stop_serving(self._server, self._thread)
        self._server = None
        self._thread = None

    # -- data ---------------------------------------------------------------------------

    def put(self, resource: dict[str, Any]) -> None:
        """Store (or replace, by type and id) a copy of ``resource``, updatedAt as given.

        A record whose ``attributes.updatedAt`` is missing or unreadable is kept and sorts
        first, so malformed records can be served. The type must be one of ``KINDS`` and the
        id a string (the API always has one), or ``ValueError`` is raised.
        """
        self._put(copy.deepcopy(resource))

    def _put(self, resource: dict[str, Any]) -> None:
        """``put`` without the defensive copy (for resources nobody else holds)."""
        if not isinstance(resource, dict):
            raise ValueError(f"a resource is a JSON object, not {type(resource).__name__}")
        kind = resource.get("type")
        if kind not in self._tables:
            raise ValueError(f"resource type must be one of {KINDS}, not {kind!r}")
        if not isinstance(resource.get("id"), str):
            raise ValueError(f"resource id must be a string, not {resource.get('id')!r}")
        entry = _entry(resource)
        with self._lock:
            self._tables[kind].store(entry)
            self._latest = max(self._latest, entry.key[0])

    def update(self, kind: str, record_id: str, /, **attributes: Any) -> dict[str, Any]:
        """Merge ``attributes`` into a record and bump its updatedAt; returns the new record.

        ``kind`` and ``record_id`` are positional-only, so any attribute name can be merged.
        Raises ``KeyError`` for an unknown kind or id.
        """
        with self._lock:
            return self._change(kind, record_id, lambda attrs, _: attrs.update(attributes))

    def delete(self, kind: str, record_id: str) -> dict[str, Any]:
        """Soft-delete a record as Kustomer does: ``deleted``, ``deletedAt``, bumped updatedAt.

        Searches return it only with ``"includeDeleted": true``.
        """

        def mark(attrs: dict[str, Any], now: str) -> None:
            attrs["deleted"] = True
            attrs["deletedAt"] = now

        with self._lock:
            return self._change(kind, record_id, mark)

    def redact(self, message_id: str) -> dict[str, Any]:
        """Redact a message: ``redacted``, empty preview and body (where present), no subject."""

        def scrub(attrs: dict[str, Any], _: str) -> None:
            attrs["redacted"] = True
            for name in ("preview", "body"):
                if name in attrs:
                    attrs[name] = ""
            meta = attrs.get("meta")
            if isinstance(meta, dict):
                meta.pop("subject", None)

        with self._lock:
            return self._change("message", message_id, scrub)

    def _change(
        self, kind: str, record_id: str, edit: Callable[[dict[str, Any], str], None]
    ) -> dict[str, Any]:
        """Apply ``edit(attributes, new_updated_at)`` to a stored record and re-index it.

        The caller holds the lock. Raises ``KeyError`` for an unknown kind or id.
        """
        table = self._tables[kind]
        old = table.records[record_id]
        resource = copy.deepcopy(old.resource)
        if not isinstance(resource.get("attributes"), dict):
            resource["attributes"] = {}
        now = self._next_updated_at()
        edit(resource["attributes"], now)
        resource["attributes"]["updatedAt"] = now
        entry = _entry(resource)
        table.store(entry)
        self._latest = max(self._latest, entry.key[0])
        return copy.deepcopy(resource)

    def _next_updated_at(self) -> str:
        """A new updatedAt: now, or 1 ms past the latest stored, whichever is later."""
        now_ms = time.time_ns() // 1_000_000
        latest_ms = self._latest // 1000  # floor: + 1 ms is strictly past any sub-ms instant
        return format_instant(max(now_ms, latest_ms + 1))

    def records(self, kind: str) -> list[dict[str, Any]]:
        """Copies of the current records of ``kind`` (deleted ones too), by (updatedAt, id)."""
        with self._lock:
            table = self._tables[kind]
            table.refresh()
            return [copy.deepcopy(table.records[key[1]].resource) for key in table.all_keys]

    def get(self, kind: str, record_id: str) -> dict[str, Any] | None:
        """A copy of one record, or ``None``."""
        with self._lock:
            entry = self._tables[kind].records.get(record_id)
            return None if entry is None else copy.deepcopy(entry.resource)

    def load_sample(self, messages: int, seed: int = 7, days: int = 90) -> FakeData:
        """Put the sample generator's messages, and conversations and customers derived from
        them (see :func:`sample_resources`); returns the counts."""
        # Loading creates millions of small objects that all live on; the cyclic collector
        # would walk the whole growing heap again and again for nothing (half the time of a
        # 100k load), so it is paused for the load and restored as it was.
        collecting = gc.isenabled()
        gc.disable()
        try:
            resources, counts = sample_resources(messages, seed=seed, days=days)
            with self._lock:
                for resource in resources:
                    self._put(resource)
        finally:
            if collecting:
                gc.enable()
        return counts

    # -- faults, hooks, log -------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        count: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> None:
        """Answer the next ``count`` authorised, not rate-limited search requests with ``status``.

        The body is a JSON:API error unless ``body`` is given; ``headers`` are added (and win
        over the rate-limit headers). These requests count against the rate limit.
        """
        with self._lock:
            for _ in range(count):
                self._faults.append((status, dict(headers or {}), body))

    def fail_with_malformed_json_next(self, count: int = 1) -> None:
        """Answer the next ``count`` searches with a 200 whose body is cut-off JSON."""
        self.fail_next(200, count, {"Content-Type": "application/json"}, _MALFORMED_JSON)

    def on_request(self, callback: Callable[[SearchRequest], None] | None) -> None:
        """Call ``callback(SearchRequest)`` for every authorised search (``None`` clears it).

        It runs under the server's lock before the request is rate limited, failed or
        answered, so it may change records (``update``, ``delete``...) "between pages".
        """
        with self._lock:
            self._callback = callback

    def reset_log(self) -> None:
        """Forget the request log and served counts, and restart request numbering."""
        with self._lock:
            self.requests.clear()
            self.served_records.clear()
            self._searches = 0

    # -- request handling ---------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one HTTP request: returns ``(status, headers, body)`` and logs it."""
        arrived = time.monotonic()
        split = urlsplit(target)
        query = parse_qs(split.query)
        with self._lock:
            log = RequestLog(
                number=len(self.requests) + 1,
                kind=None,
                page=None,
                page_size=None,
                status=0,
                time=arrived,
                path=target,
            )
            self.requests.append(log)
            extra: dict[str, str] = {}
            try:
                if method != "POST" or split.path != SEARCH_PATH:
                    raise SearchError(404, f"No route for {method} {split.path}")
                self._authorise(headers.get("Authorization"))
                status, extra, payload = self._search(query, body, log)
            except SearchError as error:
                status, payload = error.status, _error_body(error.status, error.detail)
            log.status = status
        return status, extra, payload

    def _authorise(self, header: str | None) -> None:
        """401 without the expected Bearer token, 403 for a forbidden one."""
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise SearchError(401, "Missing or malformed Authorization: Bearer <token> header")
        if token in self.forbidden_tokens:
            raise SearchError(403, "This API key is not allowed to search")
        if token != self.token:
            raise SearchError(401, "Invalid API key")

    def _search(
        self, query: dict[str, list[str]], body: bytes, log: RequestLog
    ) -> tuple[int, dict[str, str], bytes]:
        """An authorised search: hook, rate limit, injected fault, then the page itself."""
        self._searches += 1
        log.search_number = self._searches
        params = _parse_json(body)
        kind = params.get("queryContext") if isinstance(params, dict) else None
        log.kind = kind if isinstance(kind, str) else None
        log.page = _int_or_none(query, "page", 1)
        log.page_size = _int_or_none(query, "pageSize", DEFAULT_PAGE_SIZE)
        if self._callback is not None:
            try:
                self._callback(SearchRequest(self._searches, log.kind, log.page, log.page_size))
            except Exception as error:  # a test's own bug: show it, do not drop the connection
                raise SearchError(500, f"on_request callback failed: {error!r}") from error
        limited, headers = self._count_against_limit()
        if limited:
            return 429, headers, _error_body(429, "API rate limit exceeded")
        if self._faults:
            status, fault_headers, fault_body = self._faults.popleft()
            headers.update(fault_headers)
            if fault_body is None:
                fault_body = _error_body(status, f"Injected {status} response")
            return status, headers, fault_body
        try:
            payload = self._page(query, params)
        except SearchError as error:
            return error.status, headers, _error_body(error.status, error.detail)
        return 200, headers, payload

    def _count_against_limit(self) -> tuple[bool, dict[str, str]]:
        """Count a request in the fixed window; returns (over the limit, rate-limit headers).

        The first counted request opens a window of ``rate_limit[1]`` seconds in which at most
        ``rate_limit[0]`` requests are answered; a 429 neither opens nor extends a window.
        """
        if self.rate_limit is None:
            return False, {}
        allowed, window = self.rate_limit
        now = time.monotonic()
        if self._window_start is None or now >= self._window_start + window:
            self._window_start, self._window_count = now, 0
        limited = self._window_count >= allowed
        if not limited:
            self._window_count += 1
        headers = {
            "x-ratelimit-limit": str(allowed),
            "x-ratelimit-remaining": str(max(0, allowed - self._window_count)),
            "x-ratelimit-reset": f"{max(0.0, self._window_start + window - now):.3f}",
        }
        return limited, headers

    def _page(self, query: dict[str, list[str]], params: Any) -> bytes:
        """Validate the search and build the JSON of the requested page."""
        page = _positive_int(query, "page", 1)
        page_size = _positive_int(query, "pageSize", DEFAULT_PAGE_SIZE)
        if page_size > MAX_PAGE_SIZE:
            raise SearchError(400, f"pageSize must be at most {MAX_PAGE_SIZE}, not {page_size}")
        kind, low, high, include_deleted = _parse_search(params)
        if page * page_size > self.max_results:
            raise SearchError(
                400,
                f"The search result window is limited to {self.max_results} results "
                f"(page {page} x pageSize {page_size} = {page * page_size}); narrow the "
                f"filter, e.g. by {kind}_updated_at, to reach later results",
            )
        table = self._tables[kind]
        table.refresh()
        keys = table.all_keys if include_deleted else table.live_keys
        # Instants are integers, so (instant,) sorts before every key at that instant.
        start = 0 if low is None else bisect_left(keys, (low,))
        end = len(keys) if high is None else bisect_left(keys, (high + 1,))
        end = max(start, end)
        offset = start + (page - 1) * page_size
        chosen = keys[offset : min(offset + page_size, end)]
        texts = []
        for key in chosen:
            entry = table.records[key[1]]
            if entry.text is None:
                entry.text = json.dumps(entry.resource, ensure_ascii=False, separators=(",", ":"))
            texts.append(entry.text)
        self.served_records[kind] += len(chosen)
        more = offset + len(chosen) < end
        links = {
            "self": _page_link(page, page_size),
            "next": _page_link(page + 1, page_size) if more else None,
        }
        meta = {"page": page, "pageSize": page_size}
        return (
            f'{{"data":[{",".join(texts)}],"links":{json.dumps(links)},"meta":{json.dumps(meta)}}}'
        ).encode()


# --------------------------------------------------------------------------- requests


def _parse_json(body: bytes | str) -> Any:
    """The JSON value of ``body``, or ``None`` when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        return None


def _int_or_none(query: dict[str, list[str]], name: str, default: int) -> int | None:
    """A query parameter as an int for the log and the hook (``None`` if unreadable)."""
    try:
        return _positive_int(query, name, default)
    except SearchError:
        return None


def _positive_int(query: dict[str, list[str]], name: str, default: int) -> int:
    """A positive integer query parameter, ``default`` when absent; otherwise a 400."""
    values = query.get(name)
    if not values:
        return default
    try:
        value = int(values[0])
    except ValueError:
        raise SearchError(400, f"{name} must be a positive integer, not {values[0]!r}") from None
    if value < 1:
        raise SearchError(400, f"{name} must be a positive integer, not {value}")
    return value


def _parse_search(params: Any) -> tuple[str, int | None, int | None, bool]:
    """Validate a search body; returns (kind, lowest instant, highest instant, includeDeleted).

    The bounds are inclusive microseconds (``gt x`` is ``x + 1``); ``None`` means unbounded.
    """
    if not isinstance(params, dict):
        raise SearchError(400, "The request body must be a JSON object")
    unknown = sorted(set(params) - BODY_FIELDS)
    if unknown:
        raise SearchError(400, f"Unknown search field(s) {unknown}; allowed: {sorted(BODY_FIELDS)}")
    kind = params.get("queryContext")
    if kind not in KINDS:
        raise SearchError(400, f"queryContext must be one of {list(KINDS)}, not {kind!r}")
    include_deleted = params.get("includeDeleted", False)
    if not isinstance(include_deleted, bool):
        raise SearchError(400, f"includeDeleted must be a boolean, not {include_deleted!r}")
    zone = _zone(params.get("timeZone", "UTC"))
    field_name = f"{kind}_updated_at"
    _check_sort(params.get("sort"), field_name)
    low: int | None = None
    high: int | None = None
    conditions = params.get("and", [])
    if not isinstance(conditions, list):
        raise SearchError(400, '"and" must be a list of conditions')
    for condition in conditions:
        if not isinstance(condition, dict) or len(condition) != 1:
            raise SearchError(400, f"A condition is an object with one attribute: {condition!r}")
        ((attribute, operators),) = condition.items()
        if attribute != field_name:
            raise SearchError(
                400, f"Unknown filter attribute {attribute!r} for {kind}; use {field_name}"
            )
        if not isinstance(operators, dict) or not operators:
            raise SearchError(400, f"{attribute} needs an operator object, not {operators!r}")
        for operator, value in operators.items():
            if operator not in OPERATORS:
                raise SearchError(
                    400, f"Unknown operator {operator!r}; allowed: {sorted(OPERATORS)}"
                )
            instant = parse_instant(value, zone)
            if instant is None:
                raise SearchError(400, f"{attribute}.{operator}: not a date or instant: {value!r}")
            if operator in ("gte", "gt"):
                bound = instant if operator == "gte" else instant + 1
                low = bound if low is None else max(low, bound)
            else:
                bound = instant if operator == "lte" else instant - 1
                high = bound if high is None else min(high, bound)
    return kind, low, high, include_deleted


def _check_sort(sort: Any, field_name: str) -> None:
    """Only ascending updatedAt may be asked for (it is the only order served)."""
    if sort is None:
        return
    if not isinstance(sort, list):
        raise SearchError(400, f'"sort" must be a list like [{{"{field_name}": "asc"}}]')
    for item in sort:
        if item != {field_name: "asc"}:
            raise SearchError(400, f"Unsupported sort {item!r}; only {{{field_name!r}: 'asc'}}")


def _zone(name: Any) -> tzinfo:
    """The time zone in which dates and offset-less instants of the filter are read."""
    if name in ("UTC", "Etc/UTC"):  # no tz database needed for the common case
        return UTC
    if not isinstance(name, str):
        raise SearchError(400, f"timeZone must be an IANA zone name, not {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SearchError(400, f"Unknown timeZone {name!r}") from None


def _page_link(page: int, page_size: int) -> str:
    return f"{SEARCH_PATH}?page={page}&pageSize={page_size}"


def _error_body(status: int, detail: str) -> bytes:
    """A JSON:API error document."""
    error = {"status": str(status), "title": _TITLES.get(status, "Error"), "detail": detail}
    return json.dumps({"errors": [error]}).encode()


class _Server(ThreadingHTTPServer):
    """The HTTP server of one :class:`FakeKustomer`, which knows its open connections."""

    daemon_threads = True
    fake: FakeKustomer

    def __init__(self, *args: Any, **kwargs: Any):
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up (or ``stop()`` closing its socket) is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Reads each request whole and hands it to the owning :class:`FakeKustomer`."""

    server: _Server

    protocol_version = "HTTP/1.1"  # keep-alive: the client's connection pool reuses sockets
    # Headers and body go out in separate writes; with Nagle's algorithm on, the client's
    # delayed ACK would add about 40 ms to every request and make the fake the bottleneck.
    disable_nagle_algorithm = True

    def _answer(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            # Where this request ends is unknown, so the connection cannot be reused.
            self.close_connection = True
            length = 0
        # Read the body even when the answer is an error, or the next request on this
        # kept-alive connection would start in the middle of it.
        body = self.rfile.read(length) if length > 0 else b""
        fake = self.server.fake
        try:
            status, headers, payload = fake.handle(self.command, self.path, self.headers, body)
        except Exception as error:
            # A bug in the fake: answer it, so the client's test fails with the cause rather
            # than with a dropped connection and a traceback on stderr.
            status, headers = 500, {}
            payload = _error_body(500, f"FakeKustomer failed: {error!r}")
        self.send_response(status)
        headers = {"Content-Type": "application/json; charset=utf-8", **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815 - fixed names

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        """Stay quiet: the test output is not the place for an access log."""


# --------------------------------------------------------------------------- sample


def sample_resources(
    messages: int, seed: int = 7, days: int = 90
) -> tuple[list[dict[str, Any]], FakeData]:
    """The sample generator's messages plus conversations and customers derived from them.

    Lines of ``iter_sample_lines(messages, seed=seed, days=days)`` that are not a JSON object
    with a string id and type "message" cannot be API records: they are skipped and counted.
    Every other line is a message record, kept as is (a later line with the same id -- the
    generator's re-sent edits -- replaces the earlier one, as ``put`` would). Conversations
    and customers are derived from the messages that look valid: both relationships present
    and a readable createdAt and updatedAt (see :func:`_derive`).

    Returns the resources in the order to put them (messages, conversations, customers) and
    the counts of distinct records of each kind.
    """
    # Imported here so that importing the fake does not import the product's package.
    from orchestration.sample.generator import iter_sample_lines

    by_id: dict[str, dict[str, Any]] = {}
    skipped = 0
    for line in iter_sample_lines(messages, seed=seed, days=days):
        record = _parse_json(line)
        if (
            not isinstance(record, dict)
            or not isinstance(record.get("id"), str)
            or record.get("type") != "message"
        ):
            skipped += 1
            continue
        by_id[record["id"]] = record
    conversations, customers = _derive(by_id.values())
    counts = FakeData(len(by_id), len(conversations), len(customers), skipped)
    return [*by_id.values(), *conversations, *customers], counts


def _relation_id(record: dict[str, Any], name: str) -> str | None:
    """``relationships.<name>.data.id`` when it is a string."""
    relationships = record.get("relationships")
    data = relationships.get(name) if isinstance(relationships, dict) else None
    data = data.get("data") if isinstance(data, dict) else None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _derive(messages: Iterable[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """Conversation and customer resources consistent with ``messages``.

    Only messages that look valid count: both relationships present, readable createdAt and
    updatedAt. A conversation takes its name (the e-mail subject), channel, customer and
    createdAt from its first message (earliest createdAt, then id) and its updatedAt from its
    latest; the newest tenth of conversations is "open", the rest "done". A customer spans
    its own messages. Assignees and customer names are picked by a CRC of the id, so they
    are the same from run to run.
    """
    # conversation id -> its messages as (createdAt instant, id, updatedAt instant, record)
    threads: dict[str, list[tuple[int, str, int, dict[str, Any]]]] = {}
    # customer id -> [(createdAt instant, text) of the first, (updatedAt instant, text) of
    # the latest of their messages]
    spans: dict[str, list[tuple[int, str]]] = {}
    for record in messages:
        attributes = record.get("attributes")
        conversation_id = _relation_id(record, "conversation")
        customer_id = _relation_id(record, "customer")
        if not isinstance(attributes, dict) or conversation_id is None or customer_id is None:
            continue
        created = parse_instant(attributes.get("createdAt"))
        updated = parse_instant(attributes.get("updatedAt"))
        if created is None or updated is None:
            continue
        threads.setdefault(conversation_id, []).append((created, record["id"], updated, record))
        first = (created, attributes["createdAt"])
        latest = (updated, attributes["updatedAt"])
        span = spans.get(customer_id)
        if span is None:
            spans[customer_id] = [first, latest]
        else:
            span[0], span[1] = min(span[0], first), max(span[1], latest)

    conversations = [_conversation(cid, thread) for cid, thread in threads.items()]
    newest = sorted(
        conversations,
        key=lambda c: (parse_instant(c["attributes"]["updatedAt"]), c["id"]),
        reverse=True,
    )
    for conversation in newest[: int(len(newest) * _OPEN_SHARE)]:
        conversation["attributes"]["status"] = "open"
    customers = [
        _customer(customer_id, created, updated)
        for customer_id, ((_, created), (_, updated)) in spans.items()
    ]
    return conversations, customers


def _conversation(
    conversation_id: str, thread: list[tuple[int, str, int, dict[str, Any]]]
) -> dict[str, Any]:
    """The conversation of ``thread``: (createdAt instant, id, updatedAt instant, record)."""
    thread.sort(key=lambda item: item[:2])
    first = thread[0][3]
    attributes = first["attributes"]
    latest = max(thread, key=lambda item: item[2])
    updated = latest[3]["attributes"]["updatedAt"]
    meta = attributes.get("meta")
    subject = meta.get("subject") if isinstance(meta, dict) else None
    k = zlib.crc32(conversation_id.encode()) % _ASSIGNEES
    return {
        "type": "conversation",
        "id": conversation_id,
        "attributes": {
            "name": subject or f"Conversation {conversation_id}",
            "status": "done",
            "channels": [attributes.get("channel")],
            "messageCount": len(thread),
            "createdAt": attributes["createdAt"],
            "updatedAt": updated,
        },
        "relationships": {
            "customer": {"data": {"type": "customer", "id": _relation_id(first, "customer")}},
            "assignedUsers": {"data": [{"type": "user", "id": f"user_{k}"}]},
            "assignedTeams": {"data": [{"type": "team", "id": f"team_{k}"}]},
        },
    }


def _customer(customer_id: str, created: str, updated: str) -> dict[str, Any]:
    """A customer with a made-up name that is always the same for its id."""
    crc = zlib.crc32(customer_id.encode())
    name = f"{_FIRST_NAMES[crc % len(_FIRST_NAMES)]} {_LAST_NAMES[(crc >> 8) % len(_LAST_NAMES)]}"
    return {
        "type": "customer",
        "id": customer_id,
        "attributes": {
            "name": name,
            "displayName": name,
            "locale": "en_US",
            "createdAt": created,
            "updatedAt": updated,
        },
    }
