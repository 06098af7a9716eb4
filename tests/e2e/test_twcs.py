"""End to end on real data: the first 5,000 rows of Customer Support on Twitter."""

import csv

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import defs
from orchestration.full_load import run_full_load
from tests.conftest import SHARED_DATA

TWCS = SHARED_DATA / "twcs" / "twcs_first5000.csv"

pytestmark = pytest.mark.skipif(
    not TWCS.exists(),
    reason=f"real data not found at {TWCS} (../shared/data is beside the checkout in CI)",
)


def independent_thread_roots() -> set[str]:
    """Thread roots counted straight from the file: tweets whose parent is absent or not in it."""
    with open(TWCS, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    ids = {row["tweet_id"] for row in rows}
    return {row["tweet_id"] for row in rows if row["in_response_to_tweet_id"] not in ids}


def test_twcs_lands_whole_with_one_conversation_per_thread(isolated_env, monkeypatch):
    monkeypatch.setenv("SENTIMENT_SOURCE_PATH", str(TWCS))
    monkeypatch.setenv("SENTIMENT_SOURCE_FORMAT", "twcs")
    results = run_full_load(defs, dg.DagsterInstance.get(), TWCS, "twcs")
    assert all(result.success for result in results)
    with duckdb.connect(str(isolated_env / "warehouse.duckdb"), read_only=True) as connection:
        total, inbound = connection.execute(
            "select count(*), count(*) filter (where direction = 'in') from marts.fct_message_sentiment"
        ).fetchone()
        assert (total, inbound) == (5000, 2778)
        assert connection.execute("select count(*) from raw.rejected_messages").fetchone() == (0,)
        conversations = {
            r[0]
            for r in connection.execute(
                "select conversation_id from marts.fct_conversation_sentiment"
            ).fetchall()
        }
        assert conversations == independent_thread_roots()
        # every scored or unscored status is explicit; most tweets carry text to score
        statuses = dict(
            connection.execute(
                "select status, count(*) from raw.message_scores group by 1"
            ).fetchall()
        )
        assert sum(statuses.values()) == 5000 and statuses["scored"] > 4800
        # The tweets VADER cannot read (Spanish, Japanese, German, ... about 2.5%) are
        # detected and left unsupported, never scored as English or neutral.
        unsupported = dict(
            connection.execute(
                "select language, count(*) from raw.message_scores "
                "where status = 'unsupported_language' group by 1"
            ).fetchall()
        )
        assert sum(unsupported.values()) == statuses["unsupported_language"] < 200
        assert "en" not in unsupported and {"es", "ja"} <= set(unsupported)
        assert connection.execute(
            "select count(*) from marts.fct_conversation_sentiment where customer_id is null"
        ).fetchone() == (0,)
        assert (
            connection.execute(
                "select count(*) from marts.agg_sentiment_daily where channel = 'twitter'"
            ).fetchone()[0]
            > 0
        )
