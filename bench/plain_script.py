"""Baseline 1: the plain script a user would otherwise write.

One process, no database, no cache: pandas reads the same Kustomer JSON Lines files (skipping lines it cannot parse), VADER
scores every message row by row (``DataFrame.apply``), and pandas groupbys compute the same
conversation, customer and daily aggregates as the marts (inbound messages only; a
conversation's and a customer's score is the confidence-free mean of its inbound scores; the
daily rows are per UTC day and channel). The results are written as Parquet, so the script
does the same amount of output work as the warehouse.

    .venv/bin/python -m bench.plain_script <folder of *.jsonl> <output folder>
"""

import json
import sys
import time
from pathlib import Path

import pandas as pd
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


def read_messages(folder: Path) -> pd.DataFrame:
    records = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # the plain script skips what it cannot parse
    flat = pd.json_normalize(records)
    column = flat.get
    messages = pd.DataFrame(
        {
            "message_id": column("id"),
            "conversation_id": column("relationships.conversation.data.id"),
            "customer_id": column("relationships.customer.data.id"),
            "channel": column("attributes.channel"),
            "direction": column("attributes.direction"),
            "body": column("attributes.preview"),
            "created_at": pd.to_datetime(column("attributes.createdAt"), utc=True, errors="coerce"),
        }
    )
    # What a careful script still does: drop rows it cannot use, keep the newest duplicate.
    messages = messages.dropna(subset=["message_id", "conversation_id", "created_at"])
    return messages.drop_duplicates("message_id", keep="last")


def main(argv: list[str]) -> None:
    folder, out = Path(argv[0]), Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    messages = read_messages(folder)
    read_seconds = time.perf_counter() - started

    analyzer = SentimentIntensityAnalyzer()
    messages["score"] = (
        messages["body"].fillna("").apply(lambda text: analyzer.polarity_scores(text)["compound"])
    )
    score_seconds = time.perf_counter() - started - read_seconds

    inbound = messages[messages["direction"] == "in"].copy()
    inbound["day"] = inbound["created_at"].dt.date
    conversations = inbound.groupby("conversation_id").agg(
        customer_id=("customer_id", "first"),
        messages=("message_id", "count"),
        score=("score", "mean"),
        started_at=("created_at", "min"),
        last_message_at=("created_at", "max"),
    )
    customers = inbound.groupby("customer_id").agg(
        messages=("message_id", "count"),
        conversations=("conversation_id", "nunique"),
        score=("score", "mean"),
    )
    inbound["negative"] = inbound["score"] <= -0.05
    daily = inbound.groupby(["day", "channel"]).agg(
        inbound_message_count=("message_id", "count"),
        mean_score=("score", "mean"),
        negative_share=("negative", "mean"),
    )
    messages.to_parquet(out / "messages.parquet")
    conversations.to_parquet(out / "conversations.parquet")
    customers.to_parquet(out / "customers.parquet")
    daily.reset_index().astype({"day": "string"}).to_parquet(out / "daily.parquet")
    total = time.perf_counter() - started
    print(
        f"plain script: {len(messages):,} messages, read {read_seconds:.1f} s, "
        f"scored {score_seconds:.1f} s, total {total:.1f} s"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
