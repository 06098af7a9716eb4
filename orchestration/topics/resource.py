"""Where the topics file is: a resource field, else $SENTIMENT_TOPICS_PATH, else the file
that ships with the dbt project. Read when the asset runs, never at import."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from ..dbt_project import DBT_PROJECT_DIR
from ..resources import setting
from .config import Topic, load_topics

TOPICS_PATH_ENV = "SENTIMENT_TOPICS_PATH"
DEFAULT_TOPICS_PATH = DBT_PROJECT_DIR / "topics.yml"


class TopicsResource(dg.ConfigurableResource):
    """The topics (keywords and phrases) whose sentiment ``message_topics`` measures."""

    path: str = Field(
        default="",
        description=f"YAML file mapping topics to keywords. Empty: ${TOPICS_PATH_ENV}, else "
        "dbt_project/topics.yml of the project.",
    )

    def topics_path(self) -> Path:
        configured = setting(self.path, TOPICS_PATH_ENV, "")
        return Path(configured).resolve() if configured else DEFAULT_TOPICS_PATH

    def load(self) -> tuple[Topic, ...]:
        """The topics, validated (``TopicsFileError`` names the file and the problem)."""
        return load_topics(self.topics_path())
