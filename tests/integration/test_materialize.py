"""The whole graph materialized into a temporary DuckDB, on a hand-made Kustomer fixture
whose answers are known."""

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.assets.dbt import dbt_unit_test_args
from orchestration.dbt_project import dbt_cli
from orchestration.definitions import defs
from tests.conftest import partition_tags

T0 = "2026-01-10T09:00:00Z"


def resource(
    message_id,
    conversation,
    customer,
    direction,
    text,
    created,
    channel="chat",
    lang="en",
    updated=None,
):
    return {
        "type": "message",
        "id": message_id,
        "attributes": {
            "channel": channel,
            "direction": direction,
            "preview": text,
            "lang": lang,
            "createdAt": created,
            "updatedAt": updated or created,
        },
        "relationships": {
            "conversation": {"data": {"type": "conversation", "id": conversation}},
            "customer": {"data": {"type": "customer", "id": customer}},
        },
    }


FIXTURE = [
    # c-angry: the customer is furious, the agent is polite; outbound must not soften it.
    resource(
        "m01",
        "c-angry",
        "alice",
        "in",
        "This is terrible, my order is broken!",
        "2026-01-10T09:00:00Z",
    ),
    resource(
        "m02",
        "c-angry",
        "alice",
        "out",
        "We are so sorry, we are happy to help, thank you!",
        "2026-01-10T09:05:00Z",
    ),
    resource("m03", "c-angry", "alice", "in", "Still awful. I hate this.", "2026-01-10T09:10:00Z"),
    # c-happy: positive customer, a furious agent line that must be ignored.
    resource(
        "m04",
        "c-happy",
        "bob",
        "in",
        "Great service, thank you so much!",
        "2026-01-11T10:00:00Z",
        channel="email",
    ),
    resource(
        "m05",
        "c-happy",
        "bob",
        "out",
        "This is terrible awful horrible",
        "2026-01-11T10:01:00Z",
        channel="email",
    ),
    # c-mixed: bad then good; an unscored German message; a duplicated id (newest wins).
    resource("m06", "c-mixed", "alice", "in", "The app crashed, very bad", "2026-01-12T08:00:00Z"),
    resource(
        "m07",
        "c-mixed",
        "alice",
        "in",
        "Das ist wirklich schlecht",
        "2026-01-12T08:01:00Z",
        lang="de",
    ),
    resource("m08", "c-mixed", "alice", "in", "it is bad", "2026-01-12T08:02:00Z"),
    resource(
        "m08",
        "c-mixed",
        "alice",
        "in",
        "works now, love it!",
        "2026-01-12T08:02:00Z",
        updated="2026-01-12T09:00:00Z",
    ),
]
BAD_LINES = [
    '{"type": "message", "id": "broken"',
    json.dumps(resource("m99", "c-x", "carol", "sideways", "hi", T0)),
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("integration")
    source = tmp / "export.jsonl"
    source.write_text("\n".join([json.dumps(r) for r in FIXTURE] + BAD_LINES) + "\n")
    database = tmp / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SENTIMENT_SOURCE_PATH", str(source))
        env.setenv("SENTIMENT_SOURCE_FORMAT", "kustomer")
        env.setenv("SENTIMENT_WAREHOUSE_PATH", str(database))
        env.setenv("DBT_TARGET_PATH", str(tmp / "dbt_target"))
        env.setenv("SENTIMENT_DBT_DOCS", "on")  # the suite turns them off elsewhere
        job = defs.resolve_job_def("sentiment_warehouse")
        instance = dg.DagsterInstance.ephemeral()
        tags = partition_tags(source, "kustomer")
        result = job.execute_in_process(instance=instance, tags=tags)
        assert result.success
        rerun = job.execute_in_process(instance=instance, tags=tags)
        assert rerun.success
        # The models' unit tests, which the scheduled builds leave to CI, run here against
        # the built warehouse (dbt needs the models' input relations to exist).
        unit_tests = dbt_cli().cli(
            dbt_unit_test_args(database), target_path=tmp / "dbt_unit", raise_on_error=False
        )
        unit_tests.wait()
    with duckdb.connect(str(database), read_only=True) as connection:
        yield connection, result, rerun, unit_tests


def rows(connection, sql):
    cursor = connection.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_every_input_line_is_a_message_or_a_rejection(warehouse):
    connection, _, _, _ = warehouse
    assert connection.execute("select count(*) from raw.messages").fetchone() == (8,)
    rejected = rows(
        connection, "select source_row, reason from raw.rejected_messages order by source_row"
    )
    assert [(r["source_row"], r["reason"].split(":")[0]) for r in rejected] == [
        (10, "malformed JSON"),
        (11, "unknown direction"),
    ]
    assert connection.execute(
        "select preview from (select body as preview from raw.messages where message_id='m08')"
    ).fetchone() == ("works now, love it!",)


def test_conversation_scores_use_inbound_only_and_the_weighted_mean(warehouse):
    connection, _, _, _ = warehouse
    conversations = {
        r["conversation_id"]: r
        for r in rows(connection, "select * from marts.fct_conversation_sentiment")
    }
    assert set(conversations) == {"c-angry", "c-happy", "c-mixed"}
    assert conversations["c-angry"]["polarity"] == -1
    assert conversations["c-happy"]["polarity"] == 1
    assert conversations["c-happy"]["inbound_message_count"] == 1
    mixed = conversations["c-mixed"]
    assert (
        mixed["inbound_message_count"],
        mixed["scored_inbound_count"],
        mixed["unscored_inbound_count"],
    ) == (3, 2, 1)
    assert mixed["first_inbound_score"] < 0 < mixed["last_inbound_score"]
    assert mixed["sentiment_change"] == pytest.approx(
        mixed["last_inbound_score"] - mixed["first_inbound_score"]
    )
    # Recompute every conversation's weighted mean independently from the message scores.
    scores = rows(
        connection,
        """select m.conversation_id, s.score, s.confidence from raw.messages m
           join raw.message_scores s using (message_id) where m.direction = 'in' and s.status = 'scored'""",
    )
    for conversation_id, conversation in conversations.items():
        mine = [
            (r["score"], r["confidence"]) for r in scores if r["conversation_id"] == conversation_id
        ]
        expected = sum(s * c for s, c in mine) / sum(c for _, c in mine)
        assert conversation["sentiment_score"] == pytest.approx(expected)


def test_customer_and_daily_marts(warehouse):
    connection, _, _, _ = warehouse
    customers = {
        r["customer_id"]: r for r in rows(connection, "select * from marts.dim_customer_sentiment")
    }
    assert set(customers) == {"alice", "bob"}
    assert (
        customers["alice"]["conversation_count"] == 2 and customers["bob"]["lifetime_polarity"] == 1
    )
    assert customers["alice"]["last_conversation_id"] == "c-mixed"
    daily = rows(
        connection, "select * from marts.agg_sentiment_daily where channel = 'all' order by day"
    )
    assert [r["inbound_message_count"] for r in daily] == [2, 1, 3]
    assert daily[2]["unscored_count"] == 1
    per_channel = connection.execute(
        "select sum(inbound_message_count) from marts.agg_sentiment_daily where channel <> 'all'"
    ).fetchone()
    assert per_channel == (6,)


def test_message_fact_has_both_directions_and_unscored_status(warehouse):
    connection, _, _, _ = warehouse
    facts = {
        r["message_id"]: r for r in rows(connection, "select * from marts.fct_message_sentiment")
    }
    assert len(facts) == 8
    assert facts["m02"]["direction"] == "out" and facts["m02"]["is_scored"]
    assert facts["m07"]["status"] == "unsupported_language" and facts["m07"]["score"] is None


def test_dbt_tests_ran_as_passing_asset_checks(warehouse):
    _, result, _, _ = warehouse
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) >= 10
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {
        "raw_messages",
        "message_scores",
        "marts/fct_conversation_sentiment",
        "marts/agg_sentiment_daily",
        "published_marts",
    } <= materialized


def scoring_metadata(result):
    # A run over several days records the step once per day, with the same metadata.
    event = next(
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("message_scores")
    )
    return {name: value.value for name, value in event.materialization.metadata.items()}


def test_a_rerun_with_no_new_input_scores_nothing(warehouse):
    connection, result, rerun, _ = warehouse
    first, second = scoring_metadata(result), scoring_metadata(rerun)
    assert (first["messages_processed"], first["unscored"], first["texts_scored"]) == (8, 1, 7)
    assert (second["messages_processed"], second["texts_scored"]) == (0, 0)
    assert connection.execute("select count(*) from raw.rejected_messages").fetchone() == (2,)


def test_the_models_unit_tests_pass_in_ci_and_stay_out_of_scheduled_builds(warehouse):
    _, result, _, unit_tests = warehouse
    outcomes = {
        r["unique_id"]: r["status"] for r in unit_tests.get_artifact("run_results.json")["results"]
    }
    assert len(outcomes) >= 10 and all(u.startswith("unit_test.") for u in outcomes)
    assert set(outcomes.values()) == {"pass"}, outcomes
    assert unit_tests.is_successful()
    # The scheduled builds (their run_results.json under DBT_TARGET_PATH) ran data tests only.
    built = {
        r["unique_id"]
        for path in (unit_tests.target_path.parent / "dbt_target").rglob("run_results.json")
        for r in json.loads(path.read_text())["results"]
    }
    assert any(u.startswith("test.") for u in built)
    assert not any(u.startswith("unit_test.") for u in built)


def test_the_model_level_data_tests_catch_nulls_and_out_of_range_values(warehouse, tmp_path):
    connection, _, _, unit_tests = warehouse
    copy = tmp_path / "broken.duckdb"
    shutil.copy(connection.execute("select path from duckdb_databases() where not internal")
                .fetchone()[0], copy)  # fmt: skip
    with duckdb.connect(str(copy)) as broken:
        broken.execute(
            "update marts.fct_message_sentiment set score = 2.5 where message_id = 'm01'"
        )
        broken.execute(
            "update marts.fct_message_sentiment set channel = null, confidence = -0.1 "
            "where message_id = 'm02'"
        )
    run = dbt_cli().cli(
        [
            "test",
            "--select",
            "fct_message_sentiment",
            "--vars",
            json.dumps({"warehouse_path": str(copy)}),
        ],
        target_path=tmp_path / "dbt",
        raise_on_error=False,
    )
    run.wait()
    results = {
        r["unique_id"].split(".")[2]: r for r in run.get_artifact("run_results.json")["results"]
    }
    failed = {name: r["failures"] for name, r in results.items() if r["status"] == "fail"}
    assert {name.split("_fct_")[0]: n for name, n in failed.items()} == {
        "not_null_columns": 1,  # m02's channel
        "values_in_range": 2,  # m01's score and m02's confidence
    }, failed


def materialization_metadata(result, key: str) -> dict:
    event = next(
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == key
    )
    return {name: value.value for name, value in event.materialization.metadata.items()}


def test_a_rerun_with_nothing_new_skips_the_dbt_build_and_the_publish(warehouse):
    _, result, rerun, _ = warehouse
    assert "dbt_build" not in materialization_metadata(result, "marts/fct_message_sentiment")
    assert "published" not in materialization_metadata(result, "published_marts")
    skipped = materialization_metadata(rerun, "marts/fct_message_sentiment")
    assert skipped["dbt_build"] == "skipped: unchanged"
    assert materialization_metadata(rerun, "published_marts")["published"] == "unchanged"
    # No dbt test ran again (the scoring checks still run, and the alert checks, which pass:
    # nothing new to alert).
    from orchestration.alerts.checks import alert_checks

    alert_keys = {key for check in alert_checks for key in check.check_keys}
    evaluations = rerun.get_asset_check_evaluations()
    dbt_checked = {e.asset_key.path[0] for e in evaluations if e.asset_check_key not in alert_keys}
    assert dbt_checked and not dbt_checked & {"staging", "intermediate", "marts"}
    assert all(e.passed for e in evaluations if e.asset_check_key in alert_keys)


def test_every_mart_and_column_is_documented_and_the_docs_are_generated(warehouse):
    """Analysts read the descriptions in dbt's docs and in the Dagster UI: every column the
    built marts really have must be described there, and the build writes the docs."""
    from orchestration.dbt_project import dbt_project

    connection, *_ = warehouse
    manifest = json.loads(dbt_project.manifest_path.read_text())
    models = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }
    built = connection.execute(
        "select table_name, list(column_name order by ordinal_position) "
        "from information_schema.columns where table_schema = 'marts' group by table_name"
    ).fetchall()
    assert {name for name, _ in built} == set(models)
    for name, columns in built:
        node = models[name]
        assert len(node["description"]) > 40, f"{name} has no real description"
        described = {c: v["description"] for c, v in node["columns"].items()}
        missing = [c for c in columns if not described.get(c)]
        assert not missing, f"marts.{name}: columns without a description: {missing}"
        extra = sorted(set(described) - set(columns))
        assert not extra, f"marts.{name}: documented columns the table does not have: {extra}"

    database = connection.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()[0]
    docs = Path(database).with_suffix(".dbt_docs")
    page = (docs / "static_index.html").read_text()
    catalog = json.loads((docs / "catalog.json").read_text())
    documented = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert set(models) <= documented
    assert "fct_sentiment_anomalies" in page
