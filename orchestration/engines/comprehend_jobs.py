"""Amazon Comprehend's asynchronous sentiment jobs, for runs too large for batch calls.

A backfill of millions of texts would take hours in ``BatchDetectSentiment`` calls of 25
documents under the account's request rate. ``StartSentimentDetectionJob`` scores up to a
million documents per job from files on S3. This module runs such jobs for a set of texts:

1. **Input.** Each text becomes the synchronous engine's pieces (cut on sentence boundaries
   within 5,000 bytes of UTF-8), one document per line (``ONE_DOC_PER_LINE``), with every
   line break inside a piece replaced by a space. A text's pieces stay in one job, so a job's
   output completes its texts; a job holds at most ``max_lines_per_job`` lines, in one or more
   files.
2. **Jobs.** At most ``max_active_jobs`` run at once; each is polled with
   ``DescribeSentimentDetectionJob`` at a capped, exponentially growing interval.
3. **Output.** A completed job's ``output.tar.gz`` (the path Describe returns) is read, every
   file in it, and each JSON line is mapped back to its text by (file, line). The pieces of a
   text are combined as in the synchronous engine (``combine_pieces``), so a text gets the same
   score either way. An error line, or a line missing from the output, leaves its text
   unscored as ``engine_error`` with the reason.
4. **Storing.** Each job's results go to ``store`` as soon as its output is read, so a job that
   fails later does not cost the others: a rerun sends only texts without a score. Failed,
   stopped, unstartable or unreadable jobs are reported together at the end
   (:class:`ComprehendJobError`).

Message text is customer data: only counts, job ids and error codes are logged.
"""

from __future__ import annotations

import io
import json
import logging
import re
import tarfile
import time
import uuid
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from ..text.pieces import pack_pieces
from .base import ScoreFailure, SentimentScore
from .comprehend import (
    MAX_DOCUMENT_BYTES,
    ComprehendUsage,
    billed_units_for_length,
    combine_pieces,
    normalize_language,
)

log = logging.getLogger(__name__)

# The service's limits: documents (lines) per job, and jobs of one kind active per account.
MAX_LINES_PER_JOB = 1_000_000
MAX_ACTIVE_JOBS = 10
INPUT_FORMAT = "ONE_DOC_PER_LINE"
TERMINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "STOPPED"})
# Every character some reader takes for the end of a line (str.splitlines' set): inside a
# document it would cut the document in two and shift every later line number. Each becomes
# one space, so a piece keeps its length (its weight and billed units) and never grows in
# bytes. (A regular expression: str.translate is ten times slower on texts without any.)
_LINE_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")

Result = SentimentScore | ScoreFailure
# store(language, keys, results): the results of the texts with these keys, in that language.
Store = Callable[[str, list[str], list[Result]], None]

# What to fix, for errors no retry can fix when starting a job or writing its input.
_HINTS = {
    "AccessDeniedException": "the credentials may not start Comprehend jobs: grant "
    "comprehend:StartSentimentDetectionJob, comprehend:DescribeSentimentDetectionJob and "
    "iam:PassRole on the data access role",
    "AccessDenied": "the credentials may not write the async S3 prefix: grant s3:PutObject, "
    "s3:GetObject and s3:DeleteObject on it",
    "NoSuchBucket": "the bucket of the async S3 URI does not exist",
    "InvalidRequestException": "Comprehend refused the job: check that the data access role "
    "exists, trusts comprehend.amazonaws.com, and may read and write the async S3 prefix",
    "ValidationException": "Comprehend rejected the job's parameters: check the data access "
    "role ARN and the S3 URI",
}


class ComprehendJobError(RuntimeError):
    """Jobs that failed, stopped, or could not be started or read; the other jobs' results
    are stored by the time it is raised."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` as (bucket, key or prefix)."""
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise ValueError(f"not an S3 URI (s3://bucket/prefix): {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


@dataclass(frozen=True)
class JobSettings:
    """Where jobs read and write, and how many and how fast. The defaults are the service's
    limits and a polling pace for jobs that take minutes; tests shrink them."""

    s3_uri: str  # s3://bucket/prefix: each run's input and output go under it
    data_access_role_arn: str  # the role Comprehend assumes to read and write there
    max_lines_per_job: int = MAX_LINES_PER_JOB
    max_active_jobs: int = MAX_ACTIVE_JOBS
    # An input file holds at most this many lines and (unless one line is larger) bytes, so
    # that no single upload is huge.
    lines_per_file: int = 100_000
    max_file_bytes: int = 64 * 2**20
    poll_initial_s: float = 5.0
    poll_max_s: float = 60.0
    poll_factor: float = 2.0
    # Describe failures in a row (after botocore's own retries) before a job is given up.
    max_poll_errors: int = 5
    # Delete a job's input and output once its results are stored: they hold message text.
    keep_files: bool = False

    def __post_init__(self) -> None:
        split_s3_uri(self.s3_uri)
        if not self.data_access_role_arn:
            raise ValueError("Comprehend jobs need a data access role ARN")
        for name in ("max_lines_per_job", "max_active_jobs", "lines_per_file", "max_file_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.poll_initial_s < 0 or self.poll_max_s < self.poll_initial_s:
            raise ValueError("polling needs 0 <= poll_initial_s <= poll_max_s")


# --------------------------------------------------------------------------- input


def document_lines(text: str, max_bytes: int = MAX_DOCUMENT_BYTES) -> list[str]:
    """The documents a text is sent as, one per line: the synchronous engine's pieces (cut on
    sentence boundaries within ``max_bytes`` of UTF-8; blank ones dropped), each with its
    line breaks replaced by spaces."""
    if len(text) * 4 <= max_bytes:
        # Within the limit whatever its characters: one piece, as pack_pieces would give,
        # without encoding it to count its bytes (most texts are this short).
        return [_LINE_BREAKS.sub(" ", text)] if text.strip() else []
    return [_LINE_BREAKS.sub(" ", piece) for piece in pack_pieces(text, max_bytes) if piece.strip()]


@dataclass
class InputFile:
    """One input file of a job: its name, its first line within the job, and its lines."""

    name: str
    first_line: int
    lines: int = 0
    size: int = 0  # bytes, line ends included
    parts: list[bytes] = field(default_factory=list, repr=False)  # encoded lines

    def content(self) -> bytes:
        """The file as uploaded: UTF-8, one document per line."""
        return b"\n".join(self.parts) + b"\n" if self.parts else b""


@dataclass
class JobInput:
    """One job's documents: its texts (by key), where each text's lines are, and the files."""

    language: str  # as the caller names it; the job is sent in Comprehend's code for it
    keys: list[str] = field(default_factory=list)
    # First line of each text, and the job's line count as the last entry.
    starts: array = field(default_factory=lambda: array("q", [0]))
    chars: array = field(default_factory=lambda: array("q"))  # characters of each line
    files: list[InputFile] = field(default_factory=list)
    # Texts that cannot be sent (nothing to send, or too many pieces for one job).
    rejected: list[tuple[str, ScoreFailure]] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        return self.starts[-1]

    def add(self, key: str, lines: Sequence[str], lines_per_file: int, max_file_bytes: int):
        """Append a text's lines, starting a new file when the current one is full."""
        line = self.line_count
        current = self.files[-1] if self.files else None
        for text in lines:
            # A lone surrogate (possible in a str, never in UTF-8) becomes "?": the line stays
            # valid UTF-8 instead of failing the whole file's encoding.
            encoded = text.encode("utf-8", "replace")
            size = len(encoded) + 1
            if (
                current is None
                or current.lines >= lines_per_file
                or (current.lines and current.size + size > max_file_bytes)
            ):
                current = InputFile(f"part-{len(self.files):05d}.txt", line)
                self.files.append(current)
            current.parts.append(encoded)
            current.lines += 1
            current.size += size
            self.chars.append(len(text))
            line += 1
        self.starts.append(line)
        self.keys.append(key)

    def file_of(self, line: int) -> InputFile:
        """The file holding the job's ``line``."""
        firsts = [f.first_line for f in self.files]
        return self.files[bisect_right(firsts, line) - 1]


def plan_jobs(
    texts: Mapping[str, Sequence[tuple[str, str]]],
    max_lines: int = MAX_LINES_PER_JOB,
    lines_per_file: int = 100_000,
    max_file_bytes: int = 64 * 2**20,
) -> Iterator[JobInput]:
    """The jobs for ``texts`` (``{language: [(key, text), ...]}``), one language per job,
    made one at a time as they are asked for, so only the jobs about to start are in memory.
    A text's lines never span two jobs."""
    for language, items in texts.items():
        job = JobInput(language)
        for key, text in items:
            lines = document_lines(text)
            if not lines:
                job.rejected.append((key, ScoreFailure("empty", "no text to send")))
                continue
            if len(lines) > max_lines:
                job.rejected.append(
                    (
                        key,
                        ScoreFailure(
                            "engine_error",
                            f"the text is {len(lines)} documents long, more than a job's "
                            f"{max_lines} lines",
                        ),
                    )
                )
                continue
            if job.line_count + len(lines) > max_lines:
                yield job
                job = JobInput(language)
            job.add(key, lines, lines_per_file, max_file_bytes)
        if job.keys or job.rejected:
            yield job


# --------------------------------------------------------------------------- output


# Output is read in blocks of this many bytes, and each block's lines parsed as one JSON array:
# one parse per block is several times faster than one per line, and memory stays bounded.
_READ_BLOCK = 4 * 2**20


def read_archive(data: bytes) -> Iterator[dict | None]:
    """Every JSON line of every file in a job's ``output.tar.gz`` (None for a line that is
    not a JSON object)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for member in archive:
            if not member.isfile():
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                for lines in _line_blocks(handle):
                    yield from _parse_lines(lines)


def _line_blocks(handle) -> Iterator[list[bytes]]:
    """A file's non-blank lines, a block at a time."""
    rest = b""
    while block := handle.read(_READ_BLOCK):
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        yield [line for line in lines if line.strip()]
    if rest.strip():
        yield [rest]


def _parse_lines(lines: list[bytes]) -> list[dict | None]:
    try:
        # Each line names its file and line, so even lines that merge in the array (not JSON
        # objects alone) cannot misplace a result: they are dropped as strays.
        records = json.loads(b"[" + b",".join(lines) + b"]")
    except ValueError:
        records = []
        for line in lines:  # one broken line: parse the block line by line
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append(None)
    return [record if isinstance(record, dict) else None for record in records]


@dataclass
class MappedOutput:
    """A job's results in the order of its keys, and what its output held."""

    results: list[Result]
    lines_scored: int = 0
    line_errors: int = 0
    stray_lines: int = 0  # not JSON, or naming a file or line the job does not have
    billed_units: int = 0


def _line_of(record: dict | None, files: dict[str, InputFile]) -> int | None:
    """The job's line number an output line answers, or None when it names none of them."""
    if record is None:
        return None
    name = str(record.get("File", "")).rsplit("/", 1)[-1]
    found = files.get(name)
    try:
        line = int(record.get("Line"))  # an int, or a string of one
    except (TypeError, ValueError):
        return None
    if found is None or not 0 <= line < found.lines:
        return None
    return found.first_line + line


def _answer(record: dict) -> dict | ScoreFailure:
    """The line's result as ``combine_pieces`` takes it, or its error."""
    if "ErrorCode" in record:
        return ScoreFailure(
            "engine_error", f"{record.get('ErrorCode')}: {record.get('ErrorMessage', '')}".strip()
        )
    score = record.get("SentimentScore")
    try:
        # Unrolled: this runs for every line of a million-line job.
        valid = (
            record.get("Sentiment") in _LABELS
            and isinstance(score["Positive"], _NUMBER)
            and isinstance(score["Negative"], _NUMBER)
            and isinstance(score["Neutral"], _NUMBER)
            and isinstance(score["Mixed"], _NUMBER)
        )
    except (KeyError, TypeError):
        valid = False
    return (
        record
        if valid
        else ScoreFailure("engine_error", "malformed result line in the job's output")
    )


_LABELS = frozenset({"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"})
_NUMBER = (int, float)


def map_back(job: JobInput, records: Iterable[dict | None], job_id: str) -> MappedOutput:
    """Each of the job's texts' result, from its output lines: its pieces combined, else the
    error of a failed piece, else the first line missing from the output."""
    files = {f.name: f for f in job.files}
    starts, chars = job.starts, job.chars
    results: list[Result | None] = [None] * len(job.keys)
    pieces: dict[int, dict[int, dict | ScoreFailure]] = {}  # texts of several lines
    mapped = MappedOutput(results)  # type: ignore[arg-type]
    for record in records:
        line = _line_of(record, files)
        if line is None:
            mapped.stray_lines += 1
            continue
        answer = _answer(record)  # type: ignore[arg-type]
        if isinstance(answer, ScoreFailure):
            mapped.line_errors += 1
        else:
            mapped.lines_scored += 1
            mapped.billed_units += billed_units_for_length(chars[line])
        index = bisect_right(starts, line) - 1
        if starts[index + 1] - starts[index] == 1:
            results[index] = (
                answer
                if isinstance(answer, ScoreFailure)
                else combine_pieces([answer], [chars[line]])
            )
        else:
            pieces.setdefault(index, {})[line] = answer
    for index, result in enumerate(results):
        if result is not None:
            continue
        lines = range(starts[index], starts[index + 1])
        found = pieces.get(index, {})
        missing = next((line for line in lines if line not in found), None)
        if missing is not None:
            where = job.file_of(missing)
            results[index] = ScoreFailure(
                "engine_error",
                f"no result in job {job_id}'s output for line {missing - where.first_line} "
                f"of {where.name}",
            )
            continue
        answers = [found[line] for line in lines]
        failure = next((a for a in answers if isinstance(a, ScoreFailure)), None)
        results[index] = failure or combine_pieces(answers, [chars[line] for line in lines])
    return mapped


# --------------------------------------------------------------------------- jobs


@dataclass
class _Active:
    """A started job and when to ask about it next."""

    job: JobInput
    job_id: str
    name: str
    keys: list[str]  # its S3 objects: the input files, then the output once known
    delay: float
    next_poll: float
    poll_errors: int = 0
    ended: bool = False  # the service said it ended: nothing to stop


class ComprehendJobs:
    """Runs sentiment jobs for sets of texts: ``score(texts, store)``."""

    def __init__(
        self,
        comprehend,
        s3,
        settings: JobSettings,
        usage: ComprehendUsage | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.comprehend = comprehend
        self.s3 = s3
        self.settings = settings
        self.usage = usage if usage is not None else ComprehendUsage()
        self._sleep = sleep
        self._clock = clock
        self.bucket, prefix = split_s3_uri(settings.s3_uri)
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def score(self, texts: Mapping[str, Sequence[tuple[str, str]]], store: Store) -> None:
        """Score ``texts`` (``{language: [(key, text), ...]}``) through jobs, calling
        ``store(language, keys, results)`` once per job as soon as its output is read (and for
        texts that cannot be sent). Raises :class:`ComprehendJobError` once every job has
        ended if any failed, stopped, or could not be started or read. If this is interrupted
        (or ``store`` raises), the active jobs are stopped, so that they stop billing."""
        settings = self.settings
        run = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        jobs = plan_jobs(
            texts, settings.max_lines_per_job, settings.lines_per_file, settings.max_file_bytes
        )
        active: list[_Active] = []
        errors: list[str] = []
        starting, number = True, 0
        try:
            while True:
                while starting and len(active) < settings.max_active_jobs:
                    job = next(jobs, None)
                    if job is None:
                        starting = False
                        break
                    if job.rejected:
                        keys, failures = zip(*job.rejected, strict=True)
                        store(job.language, list(keys), list(failures))
                    if not job.keys:
                        continue
                    try:
                        active.append(self._start(job, run, number))
                    except (ClientError, BotoCoreError) as error:
                        errors.append(f"could not start a job of {job.line_count} lines "
                                      f"({job.language}): {_reason(error)}")  # fmt: skip
                        starting = False  # what stopped this job would stop the next ones
                    number += 1
                if not active:
                    break
                self._wait(min(a.next_poll for a in active))
                now = self._clock()
                for job in [a for a in active if a.next_poll <= now]:
                    if self._poll(job, store, errors):
                        active.remove(job)
        except BaseException:
            self._stop(active)
            raise
        if errors:
            raise ComprehendJobError(
                f"{len(errors)} Comprehend job(s) did not complete: " + "; ".join(errors) + ". "
                "The other jobs' scores are stored: a rerun sends only the texts without one."
            )

    def _wait(self, until: float) -> None:
        wait = until - self._clock()
        if wait > 0:
            self._sleep(wait)
            self.usage.add(job_wait_seconds=wait)

    def _start(self, job: JobInput, run: str, number: int) -> _Active:
        settings = self.settings
        base = f"{self.prefix}{run}/job-{number:05d}/"
        keys: list[str] = []
        name = f"sentiment-{run}-{number:05d}"
        try:
            for part in job.files:
                key = f"{base}input/{part.name}"
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=part.content())
                keys.append(key)
                part.parts = []  # uploaded: the job keeps only where its lines are
            response = self.comprehend.start_sentiment_detection_job(
                InputDataConfig={"S3Uri": f"s3://{self.bucket}/{base}input/", "InputFormat": INPUT_FORMAT},
                OutputDataConfig={"S3Uri": f"s3://{self.bucket}/{base}output/"},
                DataAccessRoleArn=settings.data_access_role_arn,
                JobName=name,
                LanguageCode=normalize_language(job.language),
            )  # fmt: skip
        except (ClientError, BotoCoreError):
            if keys and not settings.keep_files:
                self._delete(self.bucket, keys)  # message text no job will read
            raise
        self.usage.add(jobs_started=1, job_lines=job.line_count)
        log.info(
            "Comprehend job %s started: %d lines for %d texts (%s), %d files",
            response["JobId"], job.line_count, len(job.keys), job.language, len(job.files),
        )  # fmt: skip
        return _Active(
            job,
            response["JobId"],
            name,
            keys,
            settings.poll_initial_s,
            self._clock() + settings.poll_initial_s,
        )

    def _poll(self, active: _Active, store: Store, errors: list[str]) -> bool:
        """Ask about one job; handle it when it has ended. True when it has."""
        try:
            response = self.comprehend.describe_sentiment_detection_job(JobId=active.job_id)
        except (ClientError, BotoCoreError) as error:
            # botocore retried already; a few more tries, spaced like the polls, then give up.
            active.poll_errors += 1
            if active.poll_errors >= self.settings.max_poll_errors:
                errors.append(f"job {active.job_id} ({active.name}) could not be described "
                              f"{active.poll_errors} times: {_reason(error)}")  # fmt: skip
                self._stop([active])
                return True
            self._reschedule(active)
            return False
        active.poll_errors = 0
        properties = response["SentimentDetectionJobProperties"]
        status = properties.get("JobStatus", "")
        if status not in TERMINAL_STATUSES:
            self._reschedule(active)
            return False
        active.ended = True
        if status == "COMPLETED":
            self._complete(active, properties, store, errors)
        else:
            self.usage.add(jobs_failed=1)
            errors.append(
                f"job {active.job_id} ({active.name}, {active.job.line_count} lines, "
                f"{active.job.language}) {status}: {properties.get('Message') or 'no message'}"
            )
            log.warning(
                "Comprehend job %s ended %s: %s", active.job_id, status, properties.get("Message")
            )
        return True

    def _reschedule(self, active: _Active) -> None:
        settings = self.settings
        active.delay = min(active.delay * settings.poll_factor, settings.poll_max_s)
        active.next_poll = self._clock() + active.delay

    def _complete(self, active: _Active, properties: dict, store: Store, errors: list[str]):
        uri = properties.get("OutputDataConfig", {}).get("S3Uri", "")
        try:
            bucket, key = split_s3_uri(uri)
            data = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            mapped = map_back(active.job, read_archive(data), active.job_id)
        except (ClientError, BotoCoreError, ValueError, tarfile.TarError, EOFError, OSError, zlib.error) as error:  # fmt: skip
            self.usage.add(jobs_failed=1)
            errors.append(f"job {active.job_id} ({active.name}) completed, but its output "
                          f"{uri or '(none given)'} could not be read: {_reason(error)}")  # fmt: skip
            return
        store(active.job.language, active.job.keys, mapped.results)
        failed = sum(isinstance(r, ScoreFailure) for r in mapped.results)
        self.usage.add(
            jobs_completed=1,
            documents=mapped.lines_scored,
            billed_units=mapped.billed_units,
            job_line_errors=mapped.line_errors,
            failed_documents=failed,
        )
        log.info(
            "Comprehend job %s completed: %d texts scored, %d unscored, %d error lines, "
            "%d stray lines", active.job_id, len(mapped.results) - failed, failed,
            mapped.line_errors, mapped.stray_lines,
        )  # fmt: skip
        if not self.settings.keep_files:
            self._delete(bucket, [*active.keys, key])

    def _delete(self, bucket: str, keys: list[str]) -> None:
        """Remove a job's files once its results are stored (best effort: a bucket lifecycle
        rule is the backstop)."""
        try:
            for start in range(0, len(keys), 1000):
                self.s3.delete_objects(
                    Bucket=bucket,
                    Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]], "Quiet": True},
                )  # fmt: skip
        except (ClientError, BotoCoreError) as error:
            log.warning("could not delete a Comprehend job's files: %s", _reason(error))

    def _stop(self, active: list[_Active]) -> None:
        """Stop jobs whose results nobody will read (best effort)."""
        for job in active:
            if job.ended:
                continue
            try:
                self.comprehend.stop_sentiment_detection_job(JobId=job.job_id)
                log.warning("stopped Comprehend job %s", job.job_id)
            except (ClientError, BotoCoreError) as error:
                log.warning("could not stop Comprehend job %s: %s", job.job_id, _reason(error))


def _reason(error: BaseException) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code", "ClientError")
        reason = f"{code}: {details.get('Message', '')}".strip()
        return f"{reason} ({_HINTS[code]})" if code in _HINTS else reason
    return f"{type(error).__name__}: {error}"
