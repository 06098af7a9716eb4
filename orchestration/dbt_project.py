"""The one DbtProject object that everything imports, and how its manifest is prepared."""

import hashlib
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_executable() -> str:
    """dbt from this interpreter's environment, so the venv need not be on PATH."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_cli() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())


# What dbt writes into the project folder, and the topics file (read by the message_topics
# asset, not by dbt); none of it changes what the project parses to.
_NOT_INPUTS = ("target", "logs", "dbt_packages", ".user.yml", "topics.yml", "__pycache__")
_STAMP = ".sentiment_manifest_inputs"


def project_fingerprint() -> str:
    """A hash of every file the manifest is parsed from, and of dbt's and the adapter's
    versions."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"{version('dbt-core')} {version('dbt-duckdb')}".encode())
    for path in sorted(DBT_PROJECT_DIR.rglob("*")):
        relative = path.relative_to(DBT_PROJECT_DIR)
        if path.is_file() and not set(relative.parts).intersection(_NOT_INPUTS):
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def prepare_manifest() -> Path:
    """Parse the dbt project into target/manifest.json, unless the manifest there was parsed
    from the same files by the same dbt (``dbt parse`` takes about 4 s, on every CLI run).

    Tests, CI and the CLI call this; ``dagster dev`` does it itself through ``prepare_if_dev``.
    (dagster-dbt's own preparer looks for ``dbt`` on PATH only, which a venv that is not
    activated does not provide.)
    """
    manifest = dbt_project.manifest_path
    stamp = manifest.with_name(_STAMP)
    fingerprint = project_fingerprint()
    if manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return manifest
    dbt_cli().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()
    stamp.write_text(fingerprint)
    return manifest
