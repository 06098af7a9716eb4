"""The Kustomer API source from the local fake of the API into the marts: the CLI's first
load, then a scheduled day's run; every day a pull changed is scored and built by the same
run."""

from __future__ import annotations

import dagster as dg
import duckdb

from orchestration.definitions import WAREHOUSE_JOB, defs
from orchestration.full_load import run_full_load
from tests.fakes.kustomer_server import FakeKustomer


def _metadata(result, key: str) -> dict:
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(key)
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_a_daily_run_pulls_the_api_into_the_marts_and_carries_older_days_changes(
    isolated_env, monkeypatch
):
    with FakeKustomer(rate_limit=(50, 0.5)) as api:
        api.load_sample(2_000, seed=21, days=20)
        monkeypatch.setenv("SENTIMENT_SOURCE_FORMAT", "kustomer_api")
        monkeypatch.setenv("SENTIMENT_KUSTOMER_URL", api.url)
        monkeypatch.setenv("SENTIMENT_KUSTOMER_PAGE_SIZE", "100")
        monkeypatch.setenv("KUSTOMER_API_TOKEN", "test-token")
        days = sorted(
            {
                m["attributes"]["createdAt"][:10]
                for m in api.records("message")
                if isinstance(m.get("attributes", {}).get("createdAt"), str)
            }
        )
        yesterday = days[-1]
        instance = dg.DagsterInstance.ephemeral()
        # the first load as `sentiment-warehouse run --format kustomer_api` does it
        results = run_full_load(defs, instance, "unused", "kustomer_api")
        assert [r.success for r in results] == [True, True]
        pulled = _metadata(results[0], "raw_messages")
        assert pulled["format"] == "kustomer_api"
        assert pulled["days_changed"] == len(days)

        database = isolated_env / "warehouse.duckdb"
        with duckdb.connect(str(database), read_only=True) as connection:
            raw, fact, scored_days = connection.execute(
                """
                select
                    (select count(*) from raw.messages),
                    (select count(*) from marts.fct_message_sentiment),
                    (select count(distinct created_date) from marts.fct_message_sentiment
                     where is_scored)
                """
            ).fetchone()
            # one partition ran, and every day the first pull brought is scored and built
            assert raw == fact > 1_900
            assert scored_days == len(days)
            statuses, names = connection.execute(
                """
                select
                    (select count(conversation_status) from marts.fct_conversation_sentiment),
                    (select count(customer_name) from marts.dim_customer_sentiment)
                """
            ).fetchone()
            assert (
                statuses
                == connection.execute(
                    "select count(*) from marts.fct_conversation_sentiment"
                ).fetchone()[0]
            )
            assert names > 0
            assert connection.execute("select count(*) from raw.changed_days").fetchone() == (0,)
            first_day = [
                (m, c)
                for m, c in connection.execute(
                    f"""
                    select message_id, conversation_id from raw.messages
                    where cast(created_at as date) = '{days[0]}' and direction = 'in'
                    order by message_id
                    """
                ).fetchall()
            ]
        # a week later in Kustomer, and the daily schedule's run of yesterday: a first-day conversation deleted, another message edited
        gone = first_day[0][1]
        edited = next(m for m, c in first_day if c != gone)
        api.delete("conversation", gone)
        angry = "This is terrible. I hate it, worst service ever!"
        api.update("message", edited, preview=angry, body=angry, lang="en")

        job = defs.resolve_job_def(WAREHOUSE_JOB)
        rerun = job.execute_in_process(instance=instance, partition_key=yesterday)
        assert rerun.success
        assert _metadata(rerun, "raw_messages")["days_changed"] >= 1
        with duckdb.connect(str(database), read_only=True) as connection:
            left = connection.execute(
                "select count(*) from marts.fct_message_sentiment where conversation_id = ?",
                [gone],
            ).fetchone()[0]
            assert left == 0
            score = connection.execute(
                "select score from marts.fct_message_sentiment where message_id = ?", [edited]
            ).fetchone()[0]
            assert score < -0.5
            assert connection.execute("select count(*) from raw.changed_days").fetchone() == (0,)
