from pathlib import Path

import pytest

from orchestration.cli import apply_run_options, build_parser, ensure_instance


def test_run_options_become_absolute_settings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(
        [
            "run",
            "--source",
            "in.csv",
            "--format",
            "csv",
            "--warehouse",
            "w.duckdb",
            "--workers",
            "3",
        ]
    )
    environ: dict[str, str] = {}
    apply_run_options(args, environ)
    assert environ == {
        "SENTIMENT_SOURCE_PATH": str(tmp_path / "in.csv"),
        "SENTIMENT_SOURCE_FORMAT": "csv",
        "SENTIMENT_WAREHOUSE_PATH": str(tmp_path / "w.duckdb"),
        "SENTIMENT_WORKERS": "3",
        "DAGSTER_HOME": str(tmp_path / ".dagster_home"),
    }


def test_unset_options_leave_the_environment_and_an_existing_dagster_home(tmp_path):
    args = build_parser().parse_args(["run"])
    environ = {"SENTIMENT_ENGINE": "vader", "DAGSTER_HOME": str(tmp_path)}
    apply_run_options(args, environ)
    assert environ == {"SENTIMENT_ENGINE": "vader", "DAGSTER_HOME": str(tmp_path)}


def test_unknown_format_is_refused_by_the_parser():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--format", "xml"])


def test_instance_config_is_written_once(tmp_path):
    home = Path(tmp_path) / "home"
    ensure_instance(home)
    config = (home / "dagster.yaml").read_text()
    assert "telemetry" in config and "default_limit: 1" in config
    (home / "dagster.yaml").write_text("# mine\n")
    ensure_instance(home)
    assert (home / "dagster.yaml").read_text() == "# mine\n"
