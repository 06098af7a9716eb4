"""Amazon Comprehend through boto3: ``BatchDetectSentiment`` with the service's limits
enforced here, partial failures retried one document at a time, a request-rate cap, and the
billed units counted. A run with more texts than ``async_threshold`` goes through
asynchronous jobs instead (``score_bulk``, see ``comprehend_jobs.py``) when they are configured.

boto3 does not check Comprehend's limits (25 documents per batch, 5,000 bytes of UTF-8 per
document); the real service rejects what breaks them, so this engine never sends it:
long texts are packed into sentence-bounded pieces that fit, scored, and combined weighted by
the pieces' lengths. Throttling, 5xx answers and timeouts are retried by botocore's retry
mode (set explicitly on the client); every HTTP attempt, retries included, passes the rate
cap through botocore's ``before-send`` event.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ..text.pieces import pack_pieces
from .base import ScoreFailure, SentimentEngine, SentimentScore, polarity_of
from .rate_limit import SlidingWindowLimiter

if TYPE_CHECKING:
    from .base import BulkStore
    from .comprehend_jobs import JobSettings

MAX_DOCUMENTS_PER_BATCH = 25
MAX_DOCUMENT_BYTES = 5_000
API_VERSION = "2017-11-27"
SENTIMENT_CALL = "batch_detect_sentiment"
TARGETED_CALL = "batch_detect_targeted_sentiment"

# Languages Comprehend's sentiment calls accept.
SUPPORTED_LANGUAGES = frozenset(
    {"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"}
)

# Errors no retry can fix: the run stops at once and says what to change.
FATAL_ERRORS = {
    "UnrecognizedClientException": "the AWS access key is not valid: check the credentials boto3 finds (AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws/credentials or the instance role)",
    "InvalidSignatureException": "the request signature is wrong: check AWS_SECRET_ACCESS_KEY and the machine's clock",
    "ExpiredTokenException": "the AWS session token has expired: refresh the credentials (e.g. aws sso login)",
    "InvalidClientTokenId": "the AWS access key is not valid: check the credentials boto3 finds",
    "AccessDeniedException": "the credentials may not call Comprehend: grant comprehend:BatchDetectSentiment (and comprehend:BatchDetectTargetedSentiment for entities) to the role or user",
    "InvalidRequestException": "Comprehend rejected the request as invalid: this is a bug in the engine or an unsupported setting",
    "ValidationException": "Comprehend rejected the request's parameters: this is a bug in the engine",
    "UnsupportedLanguageException": "Comprehend does not support the language sent: this is a bug in the engine's language routing",
    "BatchSizeLimitExceededException": "more than 25 documents were sent in one batch: this is a bug in the engine",
    "TextSizeLimitExceededException": "a document over 5,000 bytes was sent: this is a bug in the engine",
}

_LABELS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
_SCORE_KEYS = tuple((label, label.title()) for label in _LABELS)  # SentimentScore's keys


class ComprehendConfigurationError(RuntimeError):
    """A failure that retrying cannot fix (credentials, permissions, invalid requests)."""


def normalize_language(language: str | None) -> str:
    """Comprehend's language code for a BCP-47 tag; unknown language is sent as English."""
    if not language:
        return "en"
    tag = language.replace("_", "-")
    lower = tag.lower()
    if lower in ("zh-tw", "zh-hant", "zh-hk", "zh-hant-tw"):
        return "zh-TW"
    return lower.split("-")[0]


def billed_units(text: str) -> int:
    """Comprehend bills each document in units of 100 characters, at least 3."""
    return billed_units_for_length(len(text))


def billed_units_for_length(characters: int) -> int:
    """The billed units of a document of this many characters."""
    return max(3, math.ceil(characters / 100))


@dataclass
class ComprehendUsage:
    """What the engine spent; thread-safe through ``lock``."""

    calls: int = 0
    documents: int = 0
    billed_units: int = 0
    item_errors: int = 0
    item_retries: int = 0
    failed_documents: int = 0
    # Asynchronous jobs: started, completed, failed or stopped (or unreadable), their lines,
    # the lines their output answered with an error, and the time spent waiting for them.
    jobs_started: int = 0
    jobs_completed: int = 0
    jobs_failed: int = 0
    job_lines: int = 0
    job_line_errors: int = 0
    job_wait_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: float) -> None:
        with self.lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


def combine_pieces(results: Sequence[dict], lengths: Sequence[int]) -> SentimentScore:
    """One score from the pieces of a text, their probabilities weighted by length.

    A single piece keeps Comprehend's own label; several take the label with the largest
    combined probability."""
    total = sum(lengths) or 1
    if len(results) == 1:
        # The same arithmetic as below (a sum of one term is that term), without the
        # generators: asynchronous jobs combine a million single pieces.
        (result,), (n,) = results, lengths
        shares = result["SentimentScore"]
        probabilities = {
            "POSITIVE": shares["Positive"] * n / total,
            "NEGATIVE": shares["Negative"] * n / total,
            "NEUTRAL": shares["Neutral"] * n / total,
            "MIXED": shares["Mixed"] * n / total,
        }
        sentiment = result["Sentiment"]
    else:
        probabilities = {
            label: sum(r["SentimentScore"][key] * n for r, n in zip(results, lengths, strict=True))
            / total
            for label, key in _SCORE_KEYS
        }
        sentiment = max(_LABELS, key=lambda label: probabilities[label])
    return SentimentScore(
        sentiment=sentiment,
        positive=probabilities["POSITIVE"],
        negative=probabilities["NEGATIVE"],
        neutral=probabilities["NEUTRAL"],
        mixed=probabilities["MIXED"],
        score=probabilities["POSITIVE"] - probabilities["NEGATIVE"],
        polarity=polarity_of(sentiment),
        confidence=probabilities[sentiment],
    )


def check_request(texts: Sequence[str]) -> None:
    """The limits boto3 does not check and the real service enforces: refuse to send more."""
    if not 0 < len(texts) <= MAX_DOCUMENTS_PER_BATCH:
        raise ValueError(
            f"a batch holds 1 to {MAX_DOCUMENTS_PER_BATCH} documents, not {len(texts)}"
        )
    for text in texts:
        size = len(text.encode("utf-8"))
        if not 0 < size <= MAX_DOCUMENT_BYTES:
            raise ValueError(
                f"a document holds 1 to {MAX_DOCUMENT_BYTES} bytes of UTF-8, not {size}"
            )


class ComprehendEngine(SentimentEngine):
    """Scores texts with ``BatchDetectSentiment``, ``max_concurrency`` batches at a time."""

    name = "comprehend"
    version = API_VERSION

    def __init__(
        self,
        client,
        *,
        max_concurrency: int = 8,
        max_requests_per_second: float = 10.0,
        item_attempts: int = 3,
        item_backoff_s: float = 0.2,
        price_per_unit_usd: float = 0.0001,
        jobs: JobSettings | None = None,
        s3_client=None,
        async_threshold: int = 100_000,
    ):
        """``jobs`` (with ``s3_client``) turns asynchronous jobs on for runs of more than
        ``async_threshold`` texts; without it every text goes through batch calls."""
        self.client = client
        self.max_concurrency = max(1, max_concurrency)
        self.price_per_unit_usd = price_per_unit_usd
        self.item_attempts = item_attempts
        self.item_backoff_s = item_backoff_s
        self.usage = ComprehendUsage()
        # Commit scores every few rounds of batches: a killed run loses only what is in flight.
        self.commit_texts = self.max_concurrency * MAX_DOCUMENTS_PER_BATCH * 2
        self._limiter = SlidingWindowLimiter(max(1, int(max_requests_per_second)))
        client.meta.events.register("before-send.comprehend", self._before_send)
        self.jobs = None
        if jobs is not None:
            from .comprehend_jobs import ComprehendJobs

            self.jobs = ComprehendJobs(client, s3_client, jobs, self.usage)
            self.bulk_threshold = async_threshold

    def _before_send(self, **_) -> None:
        # Every HTTP attempt, including botocore's own retries, waits for the rate cap.
        self._limiter.acquire()

    def supports(self, language: str | None) -> bool:
        return normalize_language(language) in SUPPORTED_LANGUAGES

    def usage_metadata(self) -> dict[str, float]:
        u = self.usage
        return {
            "comprehend_calls": u.calls,
            "comprehend_documents": u.documents,
            "billed_units": u.billed_units,
            "estimated_cost_usd": round(u.billed_units * self.price_per_unit_usd, 6),
            "document_errors_retried": u.item_retries,
            "documents_failed": u.failed_documents,
            "comprehend_jobs_started": u.jobs_started,
            "comprehend_jobs_failed": u.jobs_failed,
            "comprehend_job_lines": u.job_lines,
            "comprehend_job_line_errors": u.job_line_errors,
        }

    def score_bulk(self, texts: Mapping[str, Sequence[tuple[str, str]]], store: BulkStore) -> None:
        """Score a large run's texts through asynchronous jobs (see ``comprehend_jobs.py``);
        each job's results are stored as soon as they are read."""
        if self.jobs is None:
            raise RuntimeError("Comprehend's asynchronous jobs are not configured")
        supported = {}
        for language, items in texts.items():
            if normalize_language(language) in SUPPORTED_LANGUAGES:
                supported[language] = items
            elif items:
                failure = ScoreFailure(
                    "unsupported_language", f"Comprehend does not score language {language}"
                )
                store(language, [key for key, _ in items], [failure] * len(items))
        self.jobs.score(supported, store)

    def score_batch(
        self, texts: Sequence[str], language: str | None
    ) -> list[SentimentScore | ScoreFailure]:
        code = normalize_language(language)
        if code not in SUPPORTED_LANGUAGES:
            failure = ScoreFailure(
                "unsupported_language", f"Comprehend does not score language {language}"
            )
            return [failure] * len(texts)
        documents = _documents(texts)
        answers = self._send_all(documents, code, SENTIMENT_CALL)
        return self._assemble(len(texts), documents, answers)

    def detect_entities(self, texts: Sequence[str]) -> list[list[EntityMention] | ScoreFailure]:
        """Entity-level sentiment of English texts (``BatchDetectTargetedSentiment``): every
        mention of every entity, offsets relative to the whole text."""
        documents = _documents(texts)
        answers = self._send_all(documents, "en", TARGETED_CALL)
        found: list[list[EntityMention] | ScoreFailure] = [[] for _ in texts]
        starts = _piece_offsets(texts, documents)
        for (index, _), start, answer in zip(documents, starts, answers, strict=True):
            so_far = found[index]
            if isinstance(so_far, ScoreFailure):
                continue
            if isinstance(answer, ScoreFailure):
                found[index] = answer  # one failed piece fails the text; it is sent again next run
                continue
            first_entity = so_far[-1].entity_index + 1 if so_far else 0
            so_far.extend(_mentions(answer, start, first_entity))
        return found

    def _send_all(self, documents: list[tuple[int, str]], language: str, operation: str) -> list:
        """Send documents in batches of 25, ``max_concurrency`` batches at a time, in order."""
        batches = [
            documents[i : i + MAX_DOCUMENTS_PER_BATCH]
            for i in range(0, len(documents), MAX_DOCUMENTS_PER_BATCH)
        ]
        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            answered = pool.map(lambda batch: self._send_batch(batch, language, operation), batches)
            return [answer for batch_answers in answered for answer in batch_answers]

    @staticmethod
    def _assemble(
        count: int, documents: list[tuple[int, str]], answers: list
    ) -> list[SentimentScore | ScoreFailure]:
        pieces: list[list[tuple[dict | ScoreFailure, int]]] = [[] for _ in range(count)]
        for (index, piece), answer in zip(documents, answers, strict=True):
            pieces[index].append((answer, len(piece)))
        results: list[SentimentScore | ScoreFailure] = []
        for parts in pieces:
            failure = next((a for a, _ in parts if isinstance(a, ScoreFailure)), None)
            if not parts:
                results.append(ScoreFailure("empty", "no text to send"))
            elif failure is not None:
                results.append(failure)
            else:
                results.append(combine_pieces([a for a, _ in parts], [n for _, n in parts]))
        return results

    def _call(self, operation: str, texts: list[str], language: str) -> dict:
        check_request(texts)
        try:
            response = getattr(self.client, operation)(TextList=texts, LanguageCode=language)
        except NoCredentialsError as error:
            raise ComprehendConfigurationError(
                "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "or run where an instance role is available"
            ) from error
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in FATAL_ERRORS:
                raise ComprehendConfigurationError(
                    f"Comprehend {code}: {FATAL_ERRORS[code]}"
                ) from error
            raise
        finally:
            self.usage.add(calls=1)
        return response

    def _send_batch(
        self, batch: list[tuple[int, str]], language: str, operation: str = SENTIMENT_CALL
    ) -> list[dict | ScoreFailure]:
        """Results in batch order; documents in the ErrorList are retried alone, with backoff."""
        texts = [piece for _, piece in batch]
        try:
            response = self._call(operation, texts, language)
        except (ClientError, BotoCoreError) as error:
            # botocore's retry mode already retried throttling, 5xx and timeouts; what is left
            # stays unscored with its code, and the next run sends it again.
            return [ScoreFailure("engine_error", _error_reason(error))] * len(batch)
        answers: list[dict | ScoreFailure | None] = [None] * len(batch)
        for result in response.get("ResultList", []):
            answers[result["Index"]] = result
        errors = response.get("ErrorList", [])
        self._bill([t for t, a in zip(texts, answers, strict=True) if a is not None])
        self.usage.add(item_errors=len(errors))
        for error in errors:
            index = error["Index"]
            answers[index] = self._retry_document(operation, texts[index], language, error)
        return [
            a if a is not None else ScoreFailure("engine_error", "no result returned")
            for a in answers
        ]

    def _retry_document(
        self, operation: str, text: str, language: str, error: dict
    ) -> dict | ScoreFailure:
        reason = f"{error.get('ErrorCode')}: {error.get('ErrorMessage', '')}".strip()
        for attempt in range(1, self.item_attempts):
            time.sleep(random.uniform(0, self.item_backoff_s * 2**attempt))  # full jitter
            self.usage.add(item_retries=1)
            try:
                response = self._call(operation, [text], language)
            except (ClientError, BotoCoreError) as failure:
                reason = _error_reason(failure)
                continue
            if response.get("ResultList"):
                self._bill([text])
                return response["ResultList"][0]
            item = (response.get("ErrorList") or [{}])[0]
            reason = f"{item.get('ErrorCode')}: {item.get('ErrorMessage', '')}".strip()
        self.usage.add(failed_documents=1)
        return ScoreFailure("engine_error", reason)

    def _bill(self, texts: list[str]) -> None:
        self.usage.add(documents=len(texts), billed_units=sum(billed_units(t) for t in texts))


@dataclass(frozen=True, slots=True)
class EntityMention:
    """One mention of an entity, with the sentiment expressed towards it."""

    entity_index: int
    mention_index: int
    entity_text: str  # the entity's descriptive mention
    entity_type: str
    mention_text: str
    begin_offset: int | None
    end_offset: int | None
    sentiment: str
    positive: float
    negative: float
    neutral: float
    mixed: float


def _documents(texts: Sequence[str]) -> list[tuple[int, str]]:
    """(text index, piece) for every piece to send; empty texts send nothing."""
    return [
        (index, piece)
        for index, text in enumerate(texts)
        for piece in pack_pieces(text, MAX_DOCUMENT_BYTES)
        if piece.strip()
    ]


def _piece_offsets(texts: Sequence[str], documents: list[tuple[int, str]]) -> list[int]:
    """Where each piece starts in its text (pieces are stripped, in order)."""
    cursor: dict[int, int] = {}
    starts = []
    for index, piece in documents:
        found = texts[index].find(piece[:50], cursor.get(index, 0))
        start = max(found, 0)
        starts.append(start)
        cursor[index] = start + 1
    return starts


def _mentions(result: dict, offset: int, first_entity: int) -> list[EntityMention]:
    mentions = []
    for number, entity in enumerate(result.get("Entities", [])):
        entity_mentions = entity.get("Mentions", [])
        descriptive = (entity.get("DescriptiveMentionIndex") or [0])[0]
        name = entity_mentions[descriptive]["Text"] if descriptive < len(entity_mentions) else ""
        for position, mention in enumerate(entity_mentions):
            sentiment = mention.get("MentionSentiment", {})
            probabilities = sentiment.get("SentimentScore", {})
            begin, end = mention.get("BeginOffset"), mention.get("EndOffset")
            mentions.append(
                EntityMention(
                    entity_index=first_entity + number,
                    mention_index=position,
                    entity_text=name or mention.get("Text", ""),
                    entity_type=mention.get("Type", "OTHER"),
                    mention_text=mention.get("Text", ""),
                    begin_offset=None if begin is None else begin + offset,
                    end_offset=None if end is None else end + offset,
                    sentiment=sentiment.get("Sentiment", "NEUTRAL"),
                    positive=probabilities.get("Positive", 0.0),
                    negative=probabilities.get("Negative", 0.0),
                    neutral=probabilities.get("Neutral", 0.0),
                    mixed=probabilities.get("Mixed", 0.0),
                )
            )
    return mentions


def _error_reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'ClientError')}: {details.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"
