-- One row per record in DuckDB's rejects table {rejects}: all its column errors, and of a
-- record missing columns only the first missing one.
with errors as (
    select
        line,
        line_byte_position,
        column_idx,
        column_name,
        error_message,
        csv_line,
        error_type::varchar as error_type
    from {rejects}
    qualify
        error_type <> 'MISSING COLUMNS'
        or row_number() over (partition by line, error_type order by column_idx) = 1
)

select
    line,
    min(line_byte_position) as line_byte_position,
    string_agg(distinct column_name, ', ') as column_name,
    string_agg(error_type || ': ' || error_message, '; ' order by column_idx nulls last) as error,
    trim(any_value(csv_line), chr(13) || chr(10)) as raw_line
from errors
group by line
order by line
