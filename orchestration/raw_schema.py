"""DDL of the raw schema that the Python assets write and the dbt sources read.

Timestamps are stored as naive ``TIMESTAMP`` values in UTC: analysts get the same answer
whatever their session time zone, and the column names say nothing else is meant.
"""

# The columns of a score cache, keyed by the hash of (text, language, engine, version): the
# messages' (raw.score_cache) and the topic snippets' (raw.topic_snippet_scores), which
# orchestration.scoring.store_scores writes alike.
SCORE_CACHE_COLUMNS = """
    text_hash      varchar primary key,
    sentiment      varchar not null,
    positive       double not null,
    negative       double not null,
    neutral        double not null,
    mixed          double not null,
    score          double not null,
    polarity       integer not null,
    confidence     double not null,
    engine         varchar not null,
    engine_version varchar not null,
    language       varchar,
    scored_at      timestamp not null
"""

_RAW_SCHEMA_TEMPLATE = """
create schema if not exists raw;

create table if not exists raw.messages (
    message_id      varchar primary key,
    conversation_id varchar not null,
    customer_id     varchar not null,
    channel         varchar not null,
    direction       varchar not null,      -- 'in' (customer) or 'out' (agent or bot)
    created_at      timestamp not null,    -- UTC
    updated_at      timestamp not null,    -- UTC; created_at when the source has no edit time
    body            varchar,
    subject         varchar,
    language        varchar,               -- BCP-47 code when the source knows it
    source_name     varchar not null,      -- file the row came from
    source_row      bigint not null,       -- 1-based line or row number in that file
    ingested_at     timestamp not null
);
-- The text policy (full | redacted | none) the row's body and subject were written under.
alter table raw.messages add column if not exists text_policy varchar;

-- Every source file read, with its version and the span of its messages' created_at: a
-- partition run skips unchanged files whose span misses its days, so a daily run costs
-- what the new files cost, not what the whole history costs.
create table if not exists raw.source_files (
    uri            varchar primary key,
    version        varchar not null,       -- local mtime_ns:size, or the S3 ETag
    min_created_at timestamp,              -- null when the file has no valid message
    max_created_at timestamp,
    messages       bigint not null,
    read_at        timestamp not null
);
-- The window (naive UTC, half-open) this version of the file was loaded for: a run over days
-- inside it, with every file unchanged, has nothing to read. Added after the table shipped,
-- hence the migration.
alter table raw.source_files add column if not exists loaded_from timestamp;
alter table raw.source_files add column if not exists loaded_to timestamp;

create table if not exists raw.rejected_messages (
    source_name varchar not null,
    source_row  bigint not null,
    raw_content varchar,
    reason      varchar not null,
    rejected_at timestamp not null
);
-- sha256 of the raw content, kept under every text policy (under none, instead of it).
alter table raw.rejected_messages add column if not exists raw_content_sha256 varchar;

create table if not exists raw.message_scores (
    message_id         varchar primary key,
    text_hash          varchar,             -- hash of (cleaned text, language, engine, version)
    cleaned_text       varchar,
    language           varchar,
    status             varchar not null,    -- scored | empty | unsupported_language | engine_error
    status_reason      varchar,
    sentiment          varchar,             -- POSITIVE | NEGATIVE | NEUTRAL | MIXED, null unless scored
    positive           double,
    negative           double,
    neutral            double,
    mixed              double,
    score              double,              -- -1..1
    polarity           integer,             -- -1, 0, 1
    confidence         double,              -- 0..1
    engine             varchar,
    engine_version     varchar,
    scored_at          timestamp,
    message_updated_at timestamp not null   -- updated_at of the message version scored
);

create table if not exists raw.score_cache (
{score_columns});

-- Targeted (entity-level) sentiment from Comprehend's BatchDetectTargetedSentiment, keyed by
-- the scored text's hash (raw.message_scores.text_hash): one row per entity mention.
create table if not exists raw.entity_mentions (
    text_hash      varchar not null,
    entity_index   integer not null,        -- entity number within the text, from 0
    mention_index  integer not null,        -- mention number within the entity, from 0
    entity_text    varchar not null,        -- the entity's descriptive mention
    entity_type    varchar not null,        -- PERSON, ORGANIZATION, COMMERCIAL_ITEM, DATE, ...
    mention_text   varchar not null,
    begin_offset   integer,
    end_offset     integer,
    sentiment      varchar not null,        -- POSITIVE | NEGATIVE | NEUTRAL | MIXED
    positive       double not null,
    negative       double not null,
    neutral        double not null,
    mixed          double not null,
    score          double not null,         -- positive - negative
    engine         varchar not null,
    engine_version varchar not null,
    scored_at      timestamp not null,
    primary key (text_hash, entity_index, mention_index)
);

-- Texts already analysed for entities (also those with none), so a rerun sends nothing twice.
create table if not exists raw.entity_scans (
    text_hash    varchar primary key,
    entity_count integer not null,
    scanned_at   timestamp not null
);

-- Topic (keyword-level) sentiment, written by the message_topics asset (orchestration/topics/):
-- one row per scored inbound message and topic of topics.yml that its cleaned text mentions,
-- with the score of the sentences that mention the topic. No message text is stored here.
create table if not exists raw.message_topics (
    message_id     varchar not null,
    topic          varchar not null,
    text_hash      varchar not null,        -- raw.message_scores.text_hash of the text matched
    topic_hash     varchar not null,        -- fingerprint of the topic's keywords it was matched with
    snippet_hash   varchar not null,        -- score cache key of the snippet (its sentences, language, engine, version)
    matched_terms  varchar not null,        -- the topic's keywords found, sorted, comma-separated
    sentence_count integer not null,        -- sentences that mention the topic
    sentiment      varchar not null,        -- POSITIVE | NEGATIVE | NEUTRAL | MIXED, of the snippet
    positive       double not null,
    negative       double not null,
    neutral        double not null,
    mixed          double not null,
    score          double not null,         -- -1..1
    polarity       integer not null,        -- -1, 0, 1
    confidence     double not null,         -- 0..1
    engine         varchar not null,        -- the engine that scored the message, and the snippet
    engine_version varchar not null,
    language       varchar,                 -- the language the snippet was scored in
    evaluated_at   timestamp not null,
    primary key (message_id, topic)
);

-- Scores of topic snippets, keyed like raw.score_cache (hash of snippet, language, engine,
-- version): a snippet is sent to the engine once. A snippet that is a whole message's text is
-- found in raw.score_cache instead and never scored again.
create table if not exists raw.topic_snippet_scores (
{score_columns});

-- Messages whose text (raw.message_scores.text_hash) was matched against every topic of
-- raw.topic_definitions, mentioned or not: a run evaluates only new or edited messages, and
-- only the topics whose keywords changed for the others. A scan holds only while its message
-- is a scored inbound message with that text_hash; otherwise it is deleted with the rows.
create table if not exists raw.topic_scans (
    message_id varchar primary key,
    text_hash  varchar not null,
    scanned_at timestamp not null
);

-- The topics the rows of raw.message_topics were computed with, and each one's fingerprint.
create table if not exists raw.topic_definitions (
    topic      varchar primary key,
    topic_hash varchar not null,
    terms      varchar[] not null,
    defined_at timestamp not null
);

-- Conversations and customers pulled from Kustomer's API (orchestration/sources/kustomer_api/),
-- one row per id, newest updated_at wins. A deleted conversation stays as a tombstone (deleted,
-- no name), so that its messages are removed even when they arrive after it.
create table if not exists raw.conversations (
    conversation_id   varchar primary key,
    customer_id       varchar,
    name              varchar,               -- under the text policy, like a subject
    status            varchar,               -- open | snoozed | done
    channels          varchar[],
    assigned_user_ids varchar[],
    assigned_team_ids varchar[],
    message_count     integer,
    created_at        timestamp,             -- UTC
    updated_at        timestamp not null,    -- UTC
    deleted           boolean not null,
    redacted          boolean not null,      -- its messages are kept without their text
    text_policy       varchar not null,
    ingested_at       timestamp not null
);

create table if not exists raw.customers (
    customer_id  varchar primary key,
    name         varchar,                    -- kept under the full and redacted policies
    locale       varchar,
    created_at   timestamp,
    updated_at   timestamp not null,
    deleted      boolean not null,
    text_policy  varchar not null,
    ingested_at  timestamp not null
);

-- The API source's cursor per resource: the greatest updatedAt committed. The next search
-- asks for updated_at >= it (inclusive: records sharing that instant are read again, and
-- upserted by id).
create table if not exists raw.kustomer_cursors (
    resource   varchar primary key,          -- message | conversation | customer
    cursor_at  timestamp not null,           -- UTC
    updated_at timestamp not null
);

-- The records read by the pass in progress, with the updatedAt read (emptied when a pass
-- reaches the end of the search): a record that comes back newer within one pass moved while
-- the search was paged, which can shift a record past a page boundary (see
-- orchestration/sources/kustomer_api/pull.py). Appended to, without a key: emptying 100k
-- rows under a primary-key index took 2 s, without one 3 ms.
create table if not exists raw.kustomer_pass_reads (
    resource   varchar not null,
    record_id  varchar not null,
    updated_at timestamp not null           -- the newest read of the record is what counts
);

-- UTC days whose messages a source changed outside the run's own partition window (the
-- API source's edits, deletes and redactions of older messages): scoring and the dbt build
-- cover them too, and a successful build clears them.
create table if not exists raw.changed_days (
    day        date primary key,
    changed_at timestamp not null
);

-- The files last written to the Parquet lake (orchestration/lake/writer.py), by lake root and
-- key below it, with the fingerprint of their rows: a sync rewrites only what changed.
create table if not exists raw.lake_files (
    lake_root   varchar not null,
    file_key    varchar not null,        -- e.g. messages/day=2024-01-31/data.parquet
    table_name  varchar not null,
    fingerprint varchar not null,        -- rows:bit_xor(hash(row)), or 'empty'
    row_count   bigint not null,
    written_at  timestamp not null,
    primary key (lake_root, file_key)
);

-- Each successful dbt build: a fingerprint of what it read, the window it built (naive UTC,
-- half-open) and when it was published. A build whose inputs are unchanged since the latest
-- one, already published, is skipped (orchestration/build_state.py).
create table if not exists raw.dbt_builds (
    inputs       varchar not null,
    project      varchar not null,
    window_start timestamp not null,
    window_end   timestamp not null,
    built_at     timestamp not null,
    published_at timestamp
);
"""

ALERT_LOG_DDL = """
-- Which sentiment events the alert checks have raised, so that each is alerted at most once
-- (orchestration/alerts/log.py).
create table if not exists raw.alert_log (
    event_kind       varchar not null,   -- anomaly | negative_shift
    event_id         varchar not null,   -- the mart's anomaly_id or shift_id
    status           varchar not null,   -- sending | posted | unconfirmed | check_only
    first_alerted_at timestamp not null, -- UTC, when an evaluation claimed the event
    delivered_at     timestamp,          -- UTC, when the webhook answered 2xx
    delivered_to     varchar,            -- the webhook as scheme://host/..., never in full
    run_id           varchar,            -- the Dagster run that claimed it
    primary key (event_kind, event_id)
);
"""

RAW_SCHEMA_DDL = (
    _RAW_SCHEMA_TEMPLATE.replace("{score_columns}", SCORE_CACHE_COLUMNS.strip("\n") + "\n")
    + ALERT_LOG_DDL
)
