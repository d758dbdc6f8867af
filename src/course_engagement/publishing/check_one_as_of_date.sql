-- 1 when the mart {mart} mixes as_of_dates, and the dates it holds.
select
    (count(distinct as_of_date) > 1)::int as offending,
    string_agg(distinct as_of_date::varchar, ', ') as examples
from {mart}
