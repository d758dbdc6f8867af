-- The loader's own tables, created on first use: one row per rejected line, one row per file
-- and load (a history), and the load batches raw.events holds (ingest/load_batches.py).
create schema if not exists raw;

create table if not exists raw.load_rejects (
    file_name varchar not null,
    line_number bigint not null,
    column_name varchar,
    error varchar not null,
    raw_line varchar
);

create table if not exists raw.load_audit (
    file_name varchar not null,
    sha256 varchar not null,
    data_lines bigint not null,
    loaded_rows bigint not null,
    rejected_lines bigint not null,
    loaded_at timestamp not null,
    load_batch_id bigint,
    source_path varchar
);

-- a database loaded before load batches, or source paths, were recorded
alter table raw.load_audit add column if not exists load_batch_id bigint;
alter table raw.load_audit add column if not exists source_path varchar;

create table if not exists raw.load_batches (
    load_batch_id bigint not null,
    file_name varchar not null,
    sha256 varchar not null,
    loaded_rows bigint not null
);
