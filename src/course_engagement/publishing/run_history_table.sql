-- One row per published report: its key figures, file and hash (the gate's memory). On the
-- Spark engine the DuckDB file holds only the raw tables until the first report.
create schema if not exists {schema};

create table if not exists {history} (
    report_date date primary key,
    courses bigint not null,
    learners bigint not null,
    active_learners bigint not null,
    active_learners_30d bigint not null,
    total_quizzes_completed bigint not null,
    total_videos_completed bigint not null,
    report_file varchar not null,
    report_sha256 varchar not null,
    recorded_at timestamp not null,
    counted_events bigint
);

-- a history recorded before counted events were kept: old rows stay null
alter table {history} add column if not exists counted_events bigint;
