"""What text preparation (cleaning, redaction, language detection) adds to the scoring stage.

On N generated messages (default 1M), loaded once into a warehouse, the scoring stage
(``score_pending`` with the local VADER engine) runs twice on two copies of that warehouse:

1. **With preparation**: every distinct (body, channel) is cleaned, redacted and its
   language detected, as in production.
2. **Baseline**: the same stage where preparation is a dictionary lookup of texts and
   languages prepared beforehand (outside the timing). The engine scores exactly the same
   texts, so the difference between the two is what preparation costs.

Both run in this one process on one core (``workers=1``), so that the baseline's lookup can
replace the preparation function; the ratio is per core and holds across cores, since both
sides parallelise alike. The preparation's parts (clean, redact, detect) are also timed alone
over the distinct items. The two warehouses' scores are compared row for row.

    .venv/bin/python -m bench.text_prep [--messages 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_OVERHEAD = 0.20
_PREPARED: dict = {}


def lookup_many(items, redact: bool):
    """The baseline's preparation: the answers computed beforehand."""
    return [_PREPARED[item] for item in items]


def _items(warehouse: Path) -> list[tuple]:
    from orchestration.text.language import normalize_language

    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute("select body, channel, language from raw.messages").fetchall()
    # The scoring stage detects the language of messages whose source gives none.
    return list(
        dict.fromkeys(
            (body, channel, normalize_language(lang) is None) for body, channel, lang in rows
        )
    )


def _timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def _score(warehouse: Path) -> tuple[float, dict]:
    from orchestration.engines.vader import VaderEngine
    from orchestration.scoring import score_pending

    with duckdb.connect(str(warehouse)) as connection:
        seconds, stats = _timed(score_pending, connection, VaderEngine(workers=1))
        rows = connection.execute(
            "select message_id, text_hash, cleaned_text, language, status, score "
            "from raw.message_scores order by message_id"
        ).fetchall()
    return seconds, {"stats": stats, "rows": rows}


def run(messages: int, work: Path) -> dict:
    import orchestration.scoring as scoring
    from bench.daily import split_by_day
    from orchestration.ingest import load_files
    from orchestration.raw_schema import RAW_SCHEMA_DDL
    from orchestration.sample.generator import iter_sample_lines
    from orchestration.sources.location import list_source_files
    from orchestration.text.clean import clean_text
    from orchestration.text.language import detect_language
    from orchestration.text.prepare import prepare_many
    from orchestration.text.redact import redact_text

    folder = work / "messages"
    folder.mkdir()
    split_by_day(iter_sample_lines(messages, seed=7), folder)
    loaded = work / "loaded.duckdb"
    with duckdb.connect(str(loaded)) as connection:
        connection.execute(RAW_SCHEMA_DDL)
        load_files(connection, list_source_files(str(folder), (".jsonl",)), "kustomer")
    items = _items(loaded)

    # The parts alone, over the distinct items, on one core.
    clean_s, cleaned = _timed(lambda: [clean_text(b, c) for b, c, _ in items])
    redact_s, redacted = _timed(lambda: [redact_text(t) if t else t for t in cleaned])
    detect_s, _ = _timed(
        lambda: [
            detect_language(t) if d and t else None
            for t, (_, _, d) in zip(redacted, items, strict=True)
        ]
    )
    prepare_s, prepared = _timed(prepare_many, items, True)
    _PREPARED.update(zip(items, prepared, strict=True))

    with_prep, baseline = work / "with_prep.duckdb", work / "baseline.duckdb"
    shutil.copy(loaded, with_prep)
    shutil.copy(loaded, baseline)
    full_s, full = _score(with_prep)
    real = scoring.prepare_many
    scoring.prepare_many = lookup_many
    try:
        base_s, base = _score(baseline)
    finally:
        scoring.prepare_many = real
    if full["rows"] != base["rows"]:
        raise AssertionError("the baseline scored other texts than the real stage")
    stats = full["stats"]
    lengths = [len(b or "") for b, _, _ in items]
    return {
        "messages": messages,
        "distinct_items": len(items),
        "mean_body_chars": round(sum(lengths) / len(lengths), 1),
        "texts_scored": stats.texts_scored,
        "languages": dict(stats.languages.most_common()),
        "unscored": dict(stats.unscored),
        "seconds": {
            "scoring_with_preparation": round(full_s, 2),
            "scoring_baseline": round(base_s, 2),
            "prepare_alone": round(prepare_s, 2),
            "clean_alone": round(clean_s, 2),
            "redact_alone": round(redact_s, 2),
            "detect_alone": round(detect_s, 2),
        },
        "preparation_overhead": round(full_s / base_s - 1, 3),
        "cleaning_overhead": round(clean_s / base_s, 3),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-text-") as tmp:
        result = run(args.messages, Path(tmp))
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "python": platform.python_version()},
        "target_cleaning_overhead": TARGET_OVERHEAD,
        **result,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"text-prep-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))
    s = result["seconds"]
    print(
        f"{result['messages']:,} messages, {result['distinct_items']:,} distinct bodies: "
        f"scoring {s['scoring_with_preparation']} s with preparation, "
        f"{s['scoring_baseline']} s with it looked up -> preparation adds "
        f"{result['preparation_overhead']:.1%}; cleaning alone {s['clean_alone']} s = "
        f"{result['cleaning_overhead']:.1%} of the baseline (target {TARGET_OVERHEAD:.0%}); "
        f"redact {s['redact_alone']} s, detect {s['detect_alone']} s"
    )
    print(f"results: {out}")
    return report


if __name__ == "__main__":
    main()
