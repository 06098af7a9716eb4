"""Checks on the scores of a run's days, evaluated by the scoring step itself."""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

COMPLETE = "every_message_scored_or_explained"
IN_RANGE = "scores_in_range"

CHECK_SPECS = [
    dg.AssetCheckSpec(
        COMPLETE,
        asset="message_scores",
        description="Every message of the run's days is scored, or unscored with a reason.",
    ),
    dg.AssetCheckSpec(
        IN_RANGE,
        asset="message_scores",
        description="score in [-1, 1], confidence and class probabilities in [0, 1], polarity in {-1, 0, 1}.",
    ),
]

_COMPLETENESS_SQL = """
select
    count(*) as messages,
    count(*) filter (where s.message_id is null) as without_score_row,
    count(*) filter (where s.message_updated_at < m.updated_at) as stale,
    count(*) filter (where s.status <> 'scored' and coalesce(s.status_reason, '') = '') as unexplained
from raw.messages m
left join raw.message_scores s using (message_id)
where m.created_at >= $start and m.created_at < $end
"""

_RANGE_SQL = """
select count(*)
from raw.message_scores s
join raw.messages m using (message_id)
where m.created_at >= $start and m.created_at < $end
  and s.status = 'scored'
  and not (
      s.score between -1 and 1
      and s.confidence between 0 and 1
      and s.polarity in (-1, 0, 1)
      and least(s.positive, s.negative, s.neutral, s.mixed) >= 0
      and greatest(s.positive, s.negative, s.neutral, s.mixed) <= 1
  )
"""


@dataclass
class Completeness:
    messages: int
    without_score_row: int
    stale: int
    unexplained: int

    @property
    def passed(self) -> bool:
        return not (self.without_score_row or self.stale or self.unexplained)


def score_checks(connection, window) -> list[dg.AssetCheckResult]:
    """Both checks for the window's messages, with the counts an operator needs."""
    params = {"start": window[0], "end": window[1]}
    complete = Completeness(*connection.execute(_COMPLETENESS_SQL, params).fetchone())
    out_of_range = connection.execute(_RANGE_SQL, params).fetchone()[0]
    return [
        dg.AssetCheckResult(
            check_name=COMPLETE,
            asset_key="message_scores",
            passed=complete.passed,
            metadata=vars(complete),
        ),
        dg.AssetCheckResult(
            check_name=IN_RANGE,
            asset_key="message_scores",
            passed=out_of_range == 0,
            metadata={"out_of_range": out_of_range},
        ),
    ]
