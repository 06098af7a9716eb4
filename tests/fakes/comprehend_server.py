"""A local fake of the Amazon Comprehend sentiment API, spoken to by real boto3 clients.

moto cannot stand in for Comprehend here (it has no batch or targeted calls and answers a
fixed neutral score), so the suite runs this small HTTP server on 127.0.0.1 instead.

Protocol: botocore sends Comprehend requests as AWS JSON 1.1 -- ``POST /`` with
``X-Amz-Target: Comprehend_20171127.<Operation>`` and a JSON body (the SigV4 signature is
ignored). Errors are answered the way ``BaseJSONParser._do_error_parse`` reads them: an HTTP
status plus ``{"__type": <code>, "message": ...}`` and the ``x-amzn-ErrorType`` header.

Answers are derived from VADER, so they depend on the text and are deterministic. The fake
enforces the service limits (25 documents a batch, 5,000 UTF-8 bytes a document, non-empty
text, supported languages) and records every violation, and it can inject faults
(latency, throttling, server errors, per-document failures, a fatal auth error) according to
a :class:`FaultPlan`.

**Asynchronous jobs** (``StartSentimentDetectionJob``, ``DescribeSentimentDetectionJob``,
``StopSentimentDetectionJob``, ``ListSentimentDetectionJobs``) read their input from S3 (give
``s3_endpoint_url``: moto's server, see ``s3_server.py``), one document per line, and write
``<output S3Uri>/<account>-SENTIMENT-<job id>/output/output.tar.gz`` as the service does: one
JSON line per input line, ``{"File", "Line", "Sentiment", "SentimentScore"}`` or
``{"File", "Line", "ErrorCode", "ErrorMessage"}`` (a line over 5,000 bytes is
``DOCUMENT_SIZE_EXCEEDED``, invalid UTF-8 ``UNSUPPORTED_ENCODING``). A background thread does
each job's work at once, and Describe reports COMPLETED when it is done (after
``job_in_progress_polls`` more IN_PROGRESS answers). The plan can fail or stop jobs, inject
line errors, drop output lines, split the archive and write ``Line`` as a string. The fake
counts the jobs active at once (started, and not yet reported ended) and records a violation
past Comprehend's 10; it also times its own work (``job_scoring_seconds``: the scorer alone),
so a benchmark can tell it apart from the client's.

Usage::

    with FakeComprehend(FaultPlan(throttle_rate=0.2)) as fake:
        client = boto3.client("comprehend", endpoint_url=fake.endpoint_url, ...)
"""

from __future__ import annotations

import collections
import hashlib
import io
import json
import queue
import random
import re
import tarfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from tests.fakes.local_server import serve_in_thread, stop_serving

TARGET_PREFIX = "Comprehend_20171127"
MAX_BATCH_DOCUMENTS = 25
MAX_DOCUMENT_BYTES = 5000
SUPPORTED_LANGUAGES = frozenset(
    {"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"}
)
TARGETED_LANGUAGES = frozenset({"en"})
SINGLE_OPERATIONS = frozenset({"DetectSentiment", "DetectTargetedSentiment"})
BATCH_OPERATIONS = frozenset({"BatchDetectSentiment", "BatchDetectTargetedSentiment"})
TARGETED_OPERATIONS = frozenset({"DetectTargetedSentiment", "BatchDetectTargetedSentiment"})
JOB_OPERATIONS = frozenset(
    {
        "StartSentimentDetectionJob",
        "DescribeSentimentDetectionJob",
        "StopSentimentDetectionJob",
        "ListSentimentDetectionJobs",
    }
)
# Comprehend's limit on active jobs of one kind, and the fake's account id in ARNs and paths.
MAX_ACTIVE_JOBS = 10
ACCOUNT = "123456789012"
ACTIVE_STATUSES = frozenset({"SUBMITTED", "IN_PROGRESS", "STOP_REQUESTED"})
_ROLE_ARN = re.compile(r"arn:aws(-[^:]+)?:iam::[0-9]{12}:role/.+")
_S3_URI = re.compile(r"s3://[a-z0-9][.\-a-z0-9]{1,61}[a-z0-9](/.*)?")
# Line separators a one-document-per-line file must not hold inside a document.
_LINE_SEPARATORS = ("\r", "\u2028", "\u2029")

# HTTP status for error codes; anything not listed is a 400 client error.
ERROR_STATUS = {
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
    "TooManyRequestsException": 429,
}

# |compound| below this is NEUTRAL (VADER's own convention).
NEUTRAL_BAND = 0.05

# Lower-case nouns the entity finder always reports, with their mention type.
COMMERCE_NOUNS = {
    "order": "COMMERCIAL_ITEM",
    "refund": "COMMERCIAL_ITEM",
    "delivery": "COMMERCIAL_ITEM",
    "package": "COMMERCIAL_ITEM",
    "parcel": "COMMERCIAL_ITEM",
    "product": "COMMERCIAL_ITEM",
    "item": "COMMERCIAL_ITEM",
    "price": "ATTRIBUTE",
    "service": "OTHER",
    "app": "SOFTWARE",
    "website": "SOFTWARE",
    "account": "OTHER",
    "agent": "PERSON",
    "courier": "PERSON",
    "driver": "PERSON",
    "support": "ORGANIZATION",
}

_WORD = re.compile(r"[A-Za-z][A-Za-z'&-]*")
# A clause ends at . ! ? ; or just before the word "but": each mention takes the
# sentiment of its own clause, so "X was rude but Y was quick" scores X and Y apart.
_CLAUSE = re.compile(r"[^.!?;]+?(?=\s+but\s|[.!?;]|$)[.!?;]*", re.IGNORECASE)

_analyzer_lock = threading.Lock()
_analyzer: SentimentIntensityAnalyzer | None = None


@dataclass
class FaultPlan:
    """What the fake should do wrong, and how often. The default plan behaves perfectly."""

    latency_s: float = 0.0
    throttle_rate: float = 0.0
    server_error_rate: float = 0.0
    doc_fail_once_rate: float = 0.0
    always_fail_texts: set[str] = field(default_factory=set)
    fatal_error: str | None = None
    fatal_after_requests: int | None = None
    seed: int = 0
    # Asynchronous jobs, numbered from 0 in the order they were started under this plan.
    failed_jobs: dict[int, str] = field(default_factory=dict)  # number -> FAILED, this Message
    stopped_jobs: set[int] = field(default_factory=set)  # numbers that end STOPPED
    job_in_progress_polls: int = 0  # IN_PROGRESS answers after a job's work is done
    line_errors: dict[str, str] = field(default_factory=dict)  # a line's text -> its ErrorCode
    dropped_lines: set[str] = field(default_factory=set)  # lines left out of the output
    output_members: int = 1  # files the output archive holds (lines dealt out in turn)
    line_as_string: bool = False  # "Line": "3" instead of 3


@dataclass
class RequestRecord:
    """One request the fake received: arrival time (``time.monotonic()``) and outcome."""

    at: float
    operation: str
    documents: int
    language: str | None
    status: int
    # The documents as sent, so tests can check what left the warehouse (no personal data).
    texts: tuple = ()


@dataclass
class FakeJob:
    """One asynchronous job: what it was asked, what it read, and how it ends."""

    number: int
    job_id: str
    name: str | None
    language: str
    input_uri: str
    output_uri: str  # the archive's URI, as Describe reports it
    role_arn: str
    submitted: float  # epoch seconds
    polls_left: int
    status: str = "SUBMITTED"  # as last reported
    message: str | None = None
    ended: float | None = None
    stop_requested: bool = False
    outcome: tuple[str, str | None] | None = None  # (status, message) once the work is done
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    # The documents read, in order over the sorted input files (None: not valid UTF-8).
    texts: list[str | None] = field(default_factory=list, repr=False)
    files: list[str] = field(default_factory=list)

    def properties(self) -> dict[str, Any]:
        """``SentimentDetectionJobProperties`` as the service answers them."""
        answer: dict[str, Any] = {
            "JobId": self.job_id,
            "JobArn": f"arn:aws:comprehend:us-east-1:{ACCOUNT}:sentiment-detection-job/{self.job_id}",
            "JobStatus": self.status,
            "SubmitTime": self.submitted,
            "InputDataConfig": {"S3Uri": self.input_uri, "InputFormat": "ONE_DOC_PER_LINE"},
            "OutputDataConfig": {"S3Uri": self.output_uri},
            "LanguageCode": self.language,
            "DataAccessRoleArn": self.role_arn,
        }
        if self.name:
            answer["JobName"] = self.name
        if self.message:
            answer["Message"] = self.message
        if self.ended is not None:
            answer["EndTime"] = self.ended
        return answer


class ComprehendError(Exception):
    """An error answered as a whole-request failure (HTTP status + ``__type``)."""

    def __init__(self, code: str, message: str, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else ERROR_STATUS.get(code, 400)


# --------------------------------------------------------------------------- scoring


def _vader_scores(text: str) -> dict[str, float]:
    """VADER polarity scores for ``text`` (the analyzer is built once, lazily)."""
    global _analyzer
    with _analyzer_lock:
        if _analyzer is None:
            _analyzer = SentimentIntensityAnalyzer()
    return _analyzer.polarity_scores(text)


def sentiment_for(text: str) -> tuple[str, dict[str, float]]:
    """Map VADER onto Comprehend's ``(Sentiment, SentimentScore)`` deterministically.

    Raw weights: Positive = max(c, 0), Negative = max(-c, 0), Mixed = min(pos, neg) (VADER's
    proportions, so it grows only when both polarities are present), Neutral = 0.05 (plus
    Mixed inside the neutral band). Normalised to sum to 1; the label is the argmax, which
    makes |c| < 0.05 NEUTRAL and clearly positive/negative text POSITIVE/NEGATIVE.
    """
    vader = _vader_scores(text)
    compound = vader["compound"]
    mixed = min(vader["pos"], vader["neg"])
    neutral = NEUTRAL_BAND + (mixed if abs(compound) < NEUTRAL_BAND else 0.0)
    raw = {
        "Positive": max(0.0, compound),  # 0.0 first, so a zero compound never gives -0.0
        "Negative": max(0.0, -compound),
        "Mixed": mixed,
        "Neutral": neutral,
    }
    total = sum(raw.values())
    score = {name: value / total for name, value in raw.items()}
    label = max(score, key=score.__getitem__).upper()  # ties go to the first listed
    return label, score


def hashed_sentiment(text: str) -> tuple[str, dict[str, float]]:
    """A cheap deterministic stand-in for :func:`sentiment_for`, for benchmarks at a million
    lines (VADER would take minutes): four weights from the text's hash, normalised, the label
    their argmax. Different texts almost always get different scores, so a text mapped back
    to another's line shows."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    weights = [1 + int.from_bytes(digest[i : i + 2], "big") for i in range(0, 8, 2)]
    total = sum(weights)
    score = {
        name: weight / total
        for name, weight in zip(("Positive", "Negative", "Neutral", "Mixed"), weights, strict=True)
    }
    return max(score, key=score.__getitem__).upper(), score


def _clauses(text: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of ``text`` (see ``_CLAUSE``)."""
    spans = [m.span() for m in _CLAUSE.finditer(text) if m.group().strip()]
    return spans or [(0, len(text))]


def _clause_mentions(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """Entity mentions ``(begin, end, type)`` inside one clause of ``text``.

    A mention is a commerce noun (any case) or a run of capitalised words that does not
    start the clause (so sentence-initial words and "I" are not entities).
    """
    mentions: list[tuple[int, int, str]] = []
    words = list(_WORD.finditer(text, start, end))
    i = 0
    while i < len(words):
        word = words[i]
        noun_type = COMMERCE_NOUNS.get(word.group().lower())
        if noun_type:
            mentions.append((word.start(), word.end(), noun_type))
        elif i > 0 and word.group()[0].isupper() and word.group() != "I":
            j = i
            while j + 1 < len(words) and words[j + 1].group()[0].isupper():
                j += 1
            mentions.append((word.start(), words[j].end(), "ORGANIZATION"))
            i = j
        i += 1
    return mentions


def targeted_entities(text: str) -> list[dict[str, Any]]:
    """``Entities`` for DetectTargetedSentiment: mentions grouped by their lower-cased text."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for start, end in _clauses(text):
        label, score = sentiment_for(text[start:end])
        for begin, finish, kind in _clause_mentions(text, start, end):
            mention = {
                "Score": 0.99 if kind != "ORGANIZATION" else 0.9,
                "GroupScore": 1.0,
                "Text": text[begin:finish],
                "Type": kind,
                "BeginOffset": begin,
                "EndOffset": finish,
                "MentionSentiment": {"Sentiment": label, "SentimentScore": score},
            }
            groups.setdefault(text[begin:finish].lower(), []).append(mention)
    return [{"DescriptiveMentionIndex": [0], "Mentions": group} for group in groups.values()]


def _result_for(operation: str, text: str) -> dict[str, Any]:
    """The per-document result body for ``operation`` (without ``Index``)."""
    if operation in TARGETED_OPERATIONS:
        return {"Entities": targeted_entities(text)}
    label, score = sentiment_for(text)
    return {"Sentiment": label, "SentimentScore": score}


def _fraction_of(seed: int, text: str) -> float:
    """A stable pseudo-random number in [0, 1) for ``text`` (independent of thread timing)."""
    digest = hashlib.sha256(f"{seed}\0{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


# --------------------------------------------------------------------------- server


class FakeComprehend:
    """Threaded HTTP server on 127.0.0.1 (free port) answering Comprehend sentiment calls.

    Use as a context manager; ``endpoint_url`` is valid inside the ``with`` block. ``plan``
    may be replaced between runs: assigning a new plan reseeds the fault RNG, forgets which
    documents already failed once and restarts the ``fatal_after_requests`` count.
    """

    def __init__(
        self,
        plan: FaultPlan | None = None,
        s3_endpoint_url: str = "",
        scorer: Callable[[str], tuple[str, dict[str, float]]] = sentiment_for,
    ):
        self._lock = threading.Lock()
        self.requests: list[RequestRecord] = []
        self.billed: collections.Counter[str] = collections.Counter()
        # (operation, language, text): the same text in another language or call is another
        # billable document, so "billed twice" is counted on this key. Job lines count as
        # DetectSentiment, so a text billed in a batch and again in a job shows.
        self.billed_documents: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self.violations: list[str] = []
        # Asynchronous jobs: where their files are (settable until the first job starts),
        # how documents are scored, the jobs by id, and the fake's own time on them.
        self.s3_endpoint_url = s3_endpoint_url
        self.scorer = scorer
        self.jobs: dict[str, FakeJob] = {}
        self.max_active_jobs = 0
        self.job_scoring_seconds = 0.0
        self.job_work_seconds = 0.0
        self._tokens: dict[str, str] = {}
        self._work: queue.Queue[FakeJob | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._s3 = None
        self.plan = plan if plan is not None else FaultPlan()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.endpoint_url = ""

    # -- plan -----------------------------------------------------------------------

    @property
    def plan(self) -> FaultPlan:
        """The fault plan in force."""
        return self._plan

    @plan.setter
    def plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan
            self._rng = random.Random(plan.seed)
            self._failed_once: set[str] = set()
            self._answered = 0
            self._jobs_started = 0

    # -- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> FakeComprehend:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind a free port on 127.0.0.1 and serve in a daemon thread."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self.endpoint_url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = serve_in_thread(server, "fake-comprehend")
        self._worker = threading.Thread(target=self._work_jobs, name="fake-comprehend-jobs")
        self._worker.daemon = True
        self._worker.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is None:
            return
        stop_serving(self._server, self._thread)
        self._server = None
        self._thread = None
        self._work.put(None)
        if self._worker is not None:
            self._worker.join(timeout=30)
            self._worker = None

    # -- records ----------------------------------------------------------------------

    def max_requests_in_window(self, window_s: float = 1.0) -> int:
        """Most requests whose arrival times fall within any window of ``window_s`` seconds."""
        with self._lock:
            times = sorted(record.at for record in self.requests)
        return max_in_window(times, window_s)

    def reset_records(self) -> None:
        """Forget requests, billing and violations (the plan and its RNG are kept)."""
        with self._lock:
            self.requests.clear()
            self.billed.clear()
            self.billed_documents.clear()
            self.violations.clear()
            self._answered = 0
            self.max_active_jobs = 0
            self.job_scoring_seconds = 0.0
            self.job_work_seconds = 0.0

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)
            self._answered += 1

    def _violation(self, message: str) -> None:
        with self._lock:
            self.violations.append(message)

    # -- request handling -------------------------------------------------------------

    def handle(self, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """Answer one request: returns ``(status, json_body)`` and records it."""
        arrived = time.monotonic()
        operation = target.rpartition(".")[2] if target.startswith(TARGET_PREFIX + ".") else ""
        params = _parse_body(body)
        texts = _documents(operation, params)
        language = params.get("LanguageCode") if isinstance(params, dict) else None
        try:
            if self.plan.latency_s > 0:
                time.sleep(self.plan.latency_s)
            status, payload = 200, self._answer(operation, params, texts, language)
        except ComprehendError as error:
            status, payload = error.status, {"__type": error.code, "message": error.message}
        self._record(
            RequestRecord(
                at=arrived,
                operation=operation or target or "<none>",
                documents=len(texts),
                language=language if isinstance(language, str) else None,
                status=status,
                texts=tuple(t for t in texts if isinstance(t, str)),
            )
        )
        return status, payload

    def _answer(
        self, operation: str, params: Any, texts: list[Any], language: Any
    ) -> dict[str, Any]:
        """Run the checks in service order and build the success body (or raise)."""
        self._check_fatal()
        if operation in JOB_OPERATIONS:
            if not isinstance(params, dict):
                raise ComprehendError("SerializationException", "Request body is not a JSON object")
            self._inject_request_faults()
            return getattr(self, "_" + _snake(operation))(params)
        if operation not in SINGLE_OPERATIONS | BATCH_OPERATIONS:
            raise ComprehendError("InvalidRequestException", f"Unsupported operation {operation!r}")
        self._validate(operation, params, texts, language)
        self._inject_request_faults()
        if operation in BATCH_OPERATIONS:
            return self._batch(operation, texts, language)
        return self._single(operation, texts[0], language)

    def _check_fatal(self) -> None:
        plan = self.plan
        if plan.fatal_error is None:
            return
        with self._lock:
            due = plan.fatal_after_requests is None or self._answered >= plan.fatal_after_requests
        if due:
            raise ComprehendError(plan.fatal_error, f"Injected fatal error {plan.fatal_error}")

    def _validate(self, operation: str, params: Any, texts: list[Any], language: Any) -> None:
        """Request-level limits; also records (without failing) oversized batch documents."""
        if not isinstance(params, dict):
            raise ComprehendError("SerializationException", "Request body is not a JSON object")
        if not texts:
            self._violation(f"{operation}: empty or missing text")
            raise ComprehendError("InvalidRequestException", "Text must not be empty")
        if len(texts) > MAX_BATCH_DOCUMENTS:
            self._violation(f"{operation}: {len(texts)} documents > {MAX_BATCH_DOCUMENTS}")
            raise ComprehendError(
                "BatchSizeLimitExceededException",
                f"Batch size {len(texts)} exceeds the limit of {MAX_BATCH_DOCUMENTS}",
            )
        if any(not isinstance(text, str) or not text for text in texts):
            self._violation(f"{operation}: empty document")
            raise ComprehendError("InvalidRequestException", "Documents must be non-empty strings")
        self._validate_language(operation, language)
        for index, text in enumerate(texts):
            size = len(text.encode("utf-8"))
            if size > MAX_DOCUMENT_BYTES:
                self._violation(
                    f"{operation}: document {index} is {size} bytes > {MAX_DOCUMENT_BYTES}"
                )
                if operation in SINGLE_OPERATIONS:
                    raise ComprehendError(
                        "TextSizeLimitExceededException",
                        f"Input text size {size} exceeds the limit of {MAX_DOCUMENT_BYTES} bytes",
                    )

    def _validate_language(self, operation: str, language: Any) -> None:
        allowed = TARGETED_LANGUAGES if operation in TARGETED_OPERATIONS else SUPPORTED_LANGUAGES
        if language not in allowed:
            self._violation(f"{operation}: unsupported language {language!r}")
            raise ComprehendError(
                "UnsupportedLanguageException", f"Language {language!r} is not supported"
            )

    def _inject_request_faults(self) -> None:
        """Throttle or fail the whole request, drawing from the lock-guarded RNG."""
        plan = self.plan
        with self._lock:
            throttle_draw, error_draw = self._rng.random(), self._rng.random()
        if throttle_draw < plan.throttle_rate:
            raise ComprehendError("ThrottlingException", "Rate exceeded")
        if error_draw < plan.server_error_rate:
            raise ComprehendError("InternalServerException", "Injected internal error")

    def _document_fails(self, text: str) -> bool:
        """Whether ``text`` fails this time (always-fail list, or its one injected failure)."""
        plan = self.plan
        if text in plan.always_fail_texts:
            return True
        if _fraction_of(plan.seed, text) >= plan.doc_fail_once_rate:
            return False
        with self._lock:
            if text in self._failed_once:
                return False
            self._failed_once.add(text)
            return True

    def _bill(self, operation: str, language: str, text: str) -> None:
        with self._lock:
            self.billed[text] += 1
            self.billed_documents[(operation.removeprefix("Batch"), language, text)] += 1

    def _single(self, operation: str, text: str, language: str) -> dict[str, Any]:
        """DetectSentiment / DetectTargetedSentiment; a failing document answers 500."""
        if self._document_fails(text):
            raise ComprehendError("InternalServerException", "Injected document failure")
        self._bill(operation, language, text)
        return _result_for(operation, text)

    def _batch(self, operation: str, texts: list[str], language: str) -> dict[str, Any]:
        """BatchDetect*: per-document results, failures in ``ErrorList``."""
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index, text in enumerate(texts):
            if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
                errors.append(_item_error(index, "TEXT_SIZE_LIMIT_EXCEEDED", "Document too large"))
            elif self._document_fails(text):
                errors.append(_item_error(index, "INTERNAL_SERVER_ERROR", "Internal error"))
            else:
                self._bill(operation, language, text)
                results.append({"Index": index, **_result_for(operation, text)})
        return {"ResultList": results, "ErrorList": errors}

    # -- asynchronous jobs ------------------------------------------------------------

    def active_jobs(self) -> int:
        """Jobs started and not yet reported ended."""
        with self._lock:
            return sum(job.status in ACTIVE_STATUSES for job in self.jobs.values())

    def job_texts(self) -> list[str | None]:
        """Every document every job read, in the order the jobs started."""
        with self._lock:
            jobs = sorted(self.jobs.values(), key=lambda job: job.number)
        return [text for job in jobs for text in job.texts]

    def _require(self, params: dict, name: str, kind: type = str) -> Any:
        value = params.get(name)
        if not isinstance(value, kind) or not value:
            self._violation(f"StartSentimentDetectionJob: {name} missing or invalid")
            raise ComprehendError("ValidationException", f"{name} is required")
        return value

    def _start_sentiment_detection_job(self, params: dict) -> dict[str, Any]:
        """Validate strictly, queue the work, answer SUBMITTED (idempotent on the token)."""
        token = params.get("ClientRequestToken")
        with self._lock:
            if token in self._tokens:
                job = self.jobs[self._tokens[token]]
                return {
                    "JobId": job.job_id,
                    "JobArn": job.properties()["JobArn"],
                    "JobStatus": job.status,
                }
        source = self._require(params, "InputDataConfig", dict)
        target = self._require(params, "OutputDataConfig", dict)
        input_uri, output_uri = source.get("S3Uri"), target.get("S3Uri")
        role, language = params.get("DataAccessRoleArn"), params.get("LanguageCode")
        checks = [
            (_is_s3_uri(input_uri), f"InputDataConfig.S3Uri {input_uri!r}"),
            (
                source.get("InputFormat") == "ONE_DOC_PER_LINE",
                f"InputDataConfig.InputFormat {source.get('InputFormat')!r} (the fake reads "
                "ONE_DOC_PER_LINE only, and the service's default is ONE_DOC_PER_FILE)",
            ),
            (_is_s3_uri(output_uri), f"OutputDataConfig.S3Uri {output_uri!r}"),
            (
                isinstance(role, str) and _ROLE_ARN.fullmatch(role) is not None,
                f"DataAccessRoleArn {role!r}",
            ),
            (language in SUPPORTED_LANGUAGES, f"LanguageCode {language!r}"),
        ]
        problems = [problem for valid, problem in checks if not valid]
        if problems:
            self._violation("StartSentimentDetectionJob: invalid " + ", ".join(problems))
            raise ComprehendError("InvalidRequestException", "Invalid " + "; ".join(problems))
        if not self.s3_endpoint_url:
            raise ComprehendError("InternalServerException", "the fake was given no S3 endpoint")
        job_id = uuid.uuid4().hex
        folder = output_uri if output_uri.endswith("/") else output_uri + "/"
        with self._lock:
            active = 1 + sum(job.status in ACTIVE_STATUSES for job in self.jobs.values())
            if active > MAX_ACTIVE_JOBS:
                self.violations.append(
                    f"StartSentimentDetectionJob: {active} active jobs > {MAX_ACTIVE_JOBS}"
                )
                raise ComprehendError("TooManyRequestsException", "Concurrent job limit exceeded")
            job = FakeJob(
                number=self._jobs_started,
                job_id=job_id,
                name=params.get("JobName"),
                language=language,
                input_uri=input_uri,
                output_uri=f"{folder}{ACCOUNT}-SENTIMENT-{job_id}/output/output.tar.gz",
                role_arn=role,
                submitted=time.time(),
                polls_left=self.plan.job_in_progress_polls,
            )
            self._jobs_started += 1
            self.jobs[job_id] = job
            if token:
                self._tokens[token] = job_id
            self.max_active_jobs = max(self.max_active_jobs, active)
        self._work.put(job)
        return {"JobId": job_id, "JobArn": job.properties()["JobArn"], "JobStatus": job.status}

    def _job(self, params: dict) -> FakeJob:
        with self._lock:
            job = self.jobs.get(params.get("JobId"))  # type: ignore[arg-type]
        if job is None:
            raise ComprehendError("JobNotFoundException", f"Job {params.get('JobId')!r} not found")
        return job

    def _describe_sentiment_detection_job(self, params: dict) -> dict[str, Any]:
        """The job's properties; a poll moves it on (in progress until its work is done and
        the plan's extra polls are spent)."""
        job = self._job(params)
        with self._lock:
            if job.status in ACTIVE_STATUSES:
                if not job.done.is_set():
                    job.status = "STOP_REQUESTED" if job.stop_requested else "IN_PROGRESS"
                elif job.polls_left > 0 and not job.stop_requested:
                    job.polls_left -= 1
                    job.status = "IN_PROGRESS"
                else:
                    status, message = job.outcome or ("FAILED", "no outcome")
                    job.status = "STOPPED" if job.stop_requested else status
                    job.message, job.ended = message, time.time()
            return {"SentimentDetectionJobProperties": job.properties()}

    def _stop_sentiment_detection_job(self, params: dict) -> dict[str, Any]:
        job = self._job(params)
        with self._lock:
            if job.status not in ACTIVE_STATUSES:
                raise ComprehendError(
                    "InvalidRequestException", f"Job {job.job_id} has already ended ({job.status})"
                )
            job.stop_requested = True
            job.status = "STOP_REQUESTED"
            return {"JobId": job.job_id, "JobStatus": job.status}

    def _list_sentiment_detection_jobs(self, params: dict) -> dict[str, Any]:
        """Every job matching ``Filter``'s JobName and JobStatus, in one page."""
        wanted = params.get("Filter") or {}
        with self._lock:
            found = [
                job.properties()
                for job in sorted(self.jobs.values(), key=lambda job: job.number)
                if wanted.get("JobName") in (None, job.name)
                and wanted.get("JobStatus") in (None, job.status)
            ]
        return {"SentimentDetectionJobPropertiesList": found}

    def _work_jobs(self) -> None:
        """The background worker: each job's work, in the order started."""
        while (job := self._work.get()) is not None:
            plan = self.plan
            started = time.perf_counter()
            try:
                if job.number in plan.failed_jobs:
                    job.outcome = ("FAILED", plan.failed_jobs[job.number])
                elif job.number in plan.stopped_jobs or job.stop_requested:
                    job.outcome = ("STOPPED", None)
                else:
                    self._run_job(job, plan)
                    job.outcome = ("COMPLETED", None)
            except Exception as error:  # noqa: BLE001 - the job fails, as the service's would
                job.outcome = ("FAILED", f"INTERNAL_ERROR: {type(error).__name__}: {error}")
            with self._lock:
                self.job_work_seconds += time.perf_counter() - started
            job.done.set()

    def _s3_client(self):
        if self._s3 is None:
            from tests.fakes.s3_server import s3_client

            self._s3 = s3_client(self.s3_endpoint_url)
        return self._s3

    def _run_job(self, job: FakeJob, plan: FaultPlan) -> None:
        """Read every input file, score each line, write the output archive."""
        s3 = self._s3_client()
        bucket, prefix = _split_uri(job.input_uri)
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        if not keys:
            raise ValueError(f"no input files under {job.input_uri}")
        output: list[bytes] = []
        for key in keys:
            name = key.rsplit("/", 1)[-1]
            job.files.append(name)
            lines = s3.get_object(Bucket=bucket, Key=key)["Body"].read().split(b"\n")
            if lines and lines[-1] == b"":
                lines.pop()  # the file's final newline ends its last line
            output.extend(self._answer_lines(job, plan, name, lines))
        members = max(1, plan.output_members)
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz", compresslevel=1) as tar:
            for number in range(members):
                data = b"".join(output[number::members])
                info = tarfile.TarInfo("output" if number == 0 else f"output-{number}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        out_bucket, out_key = _split_uri(job.output_uri)
        s3.put_object(Bucket=out_bucket, Key=out_key, Body=archive.getvalue())

    def _answer_lines(
        self, job: FakeJob, plan: FaultPlan, name: str, lines: list[bytes]
    ) -> list[bytes]:
        """The output lines for one input file's lines."""
        answers: list[dict[str, Any] | None] = []
        scored: list[tuple[int, str]] = []
        for number, raw in enumerate(lines):
            text: str | None = None
            if len(raw) > MAX_DOCUMENT_BYTES:
                answers.append(
                    _line_error(
                        "DOCUMENT_SIZE_EXCEEDED",
                        f"Document size {len(raw)} bytes exceeds the limit of {MAX_DOCUMENT_BYTES} bytes",
                    )
                )
            else:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    answers.append(
                        _line_error("UNSUPPORTED_ENCODING", "Document is not valid UTF-8")
                    )
                else:
                    if any(mark in text for mark in _LINE_SEPARATORS):
                        self._violation(
                            f"job {job.job_id}: line {number} of {name} holds a line separator"
                        )
                    if text in plan.line_errors:
                        answers.append(_line_error(plan.line_errors[text], "Injected line error"))
                    elif text in plan.dropped_lines:
                        answers.append(None)
                    else:
                        answers.append({})
                        scored.append((number, text))
            job.texts.append(text)
        started = time.perf_counter()
        results = [self.scorer(text) for _, text in scored]
        elapsed = time.perf_counter() - started
        with self._lock:
            self.job_scoring_seconds += elapsed
            for _, text in scored:
                self.billed[text] += 1
                self.billed_documents[("DetectSentiment", job.language, text)] += 1
        for (number, _), (label, score) in zip(scored, results, strict=True):
            answers[number] = {"Sentiment": label, "SentimentScore": score}
        return [
            json.dumps(
                {"File": name, "Line": str(number) if plan.line_as_string else number, **answer}
            ).encode()
            + b"\n"
            for number, answer in enumerate(answers)
            if answer is not None
        ]


def _snake(operation: str) -> str:
    """``StartSentimentDetectionJob`` -> ``start_sentiment_detection_job``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def _is_s3_uri(value: Any) -> bool:
    return isinstance(value, str) and _S3_URI.fullmatch(value) is not None


def _split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _line_error(code: str, message: str) -> dict[str, str]:
    return {"ErrorCode": code, "ErrorMessage": message}


def _item_error(index: int, code: str, message: str) -> dict[str, Any]:
    return {"Index": index, "ErrorCode": code, "ErrorMessage": message}


def _parse_body(body: bytes) -> Any:
    """The JSON request body, or ``None`` when it is not JSON."""
    try:
        return json.loads(body or b"{}")
    except ValueError:
        return None


def _documents(operation: str, params: Any) -> list[Any]:
    """The documents of a request: ``TextList`` for batch calls, ``[Text]`` for single ones."""
    if not isinstance(params, dict):
        return []
    if operation in BATCH_OPERATIONS:
        texts = params.get("TextList")
        return list(texts) if isinstance(texts, list) else []
    text = params.get("Text")
    return [text] if text not in (None, "") else []


def max_in_window(times: list[float], window_s: float) -> int:
    """Largest number of sorted ``times`` within any closed window ``[t, t + window_s]``."""
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] > window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


class _Handler(BaseHTTPRequestHandler):
    """Speaks AWS JSON 1.1 on ``POST /`` for the owning :class:`FakeComprehend`."""

    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    # Headers and body go out in separate writes; with Nagle's algorithm on, the client's
    # delayed ACK would add about 40 ms to every call and distort the latency plan.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        target = self.headers.get("X-Amz-Target", "")
        if self.path.split("?")[0] != "/":
            status, payload = (
                400,
                {
                    "__type": "InvalidRequestException",
                    "message": f"Only AWS JSON 1.1 on POST / is supported, not {self.path}",
                },
            )
        else:
            status, payload = self.server.fake.handle(target, body)  # type: ignore[attr-defined]
        self._send(status, payload)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        if status >= 400:
            self.send_header("x-amzn-ErrorType", str(payload.get("__type", "")))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        """Stay quiet: the test output is not the place for an access log."""
