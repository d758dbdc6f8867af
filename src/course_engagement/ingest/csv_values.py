"""The SQL that turns a CSV's text into the contract's types without changing any value.

DuckDB's own casts are lenient (`12.6` becomes 13, `0x3E9` 1001, `yes` true), so every column
is read as text and a value is kept only if the typed value prints back as the very same text:
BIGINT `-?[0-9]+` without leading zeros, TIMESTAMP `YYYY-MM-DD HH:MM:SS`, DATE `YYYY-MM-DD`,
BOOLEAN one of `contract.BOOLEAN_SPELLINGS`, VARCHAR anything. An empty field is NULL, except
in the key column, where it rejects the row.
"""

from __future__ import annotations

from course_engagement.contract import BOOLEAN_SPELLINGS, RawTable
from course_engagement.sql_files import quote_literal

_SPELLINGS = list(BOOLEAN_SPELLINGS)
MAX_QUOTED = 200  # characters of a rejected value quoted in its error
_EXPECTED = {
    "BIGINT": "expected a plain integer: digits, an optional leading minus, no leading zeros",
    "TIMESTAMP": "expected YYYY-MM-DD HH:MM:SS",
    "DATE": "expected YYYY-MM-DD",
    "BOOLEAN": f"expected {', '.join(_SPELLINGS[:-1])} or {_SPELLINGS[-1]}",
}


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def value_sql(column: str, kind: str) -> str:
    """The typed value of a text column (NULL where the text is not exact: it is filtered)."""
    text = _quote(column)
    return text if kind == "VARCHAR" else f"TRY_CAST({text} AS {kind})"


def _exact_sql(column: str, kind: str) -> str | None:
    """True when the non-empty text is in the contract's format, NULL or false otherwise; None
    when any text is (VARCHAR)."""
    text = _quote(column)
    if kind == "VARCHAR":
        return None
    if kind == "BIGINT":
        return f"TRY_CAST({text} AS BIGINT)::VARCHAR = {text}"
    if kind == "TIMESTAMP":  # the length excludes `infinity`, fractions and 5-digit years
        return f"(length({text}) = 19 AND TRY_CAST({text} AS TIMESTAMP)::VARCHAR = {text})"
    if kind == "DATE":
        return f"(length({text}) = 10 AND TRY_CAST({text} AS DATE)::VARCHAR = {text})"
    if kind == "BOOLEAN":
        return f"{text} IN ({', '.join(quote_literal(s) for s in BOOLEAN_SPELLINGS)})"
    raise ValueError(f"no exact text format for a {kind} column ({column}); add one here")


def _ok_sql(column: str, kind: str, is_key: bool) -> str | None:
    exact, text = _exact_sql(column, kind), _quote(column)
    if is_key:
        return f"({text} IS NOT NULL AND {exact or 'true'})"
    return f"({text} IS NULL OR {exact})" if exact else None


def checked_select(table: RawTable, relation: str, tail: str = "") -> str:
    """SELECT the typed rows of `relation` (all text columns) whose every value is exact;
    `tail` continues the select list (", 7 AS load_batch_id")."""
    values = ", ".join(value_sql(name, kind) for name, kind in table.columns) + tail
    checks = [_ok_sql(name, kind, name == table.key) for name, kind in table.columns]
    where = " AND ".join(check for check in checks if check) or "true"
    return f"SELECT {values} FROM {relation} WHERE {where}"


def _problem_sql(column: str, kind: str, is_key: bool) -> str | None:
    """Why a value is rejected, or NULL; in the words of DuckDB's own cast errors. None when
    the column cannot be wrong."""
    text, exact = _quote(column), _exact_sql(column, kind)
    if not is_key and exact is None:
        return None
    empty = (
        quote_literal(
            f'EMPTY KEY: column "{column}" is empty; a row without its key cannot be loaded'
        )
        if is_key
        else "NULL"
    )
    if exact is None:
        return f"CASE WHEN {text} IS NULL THEN {empty} END"
    prefix = quote_literal(
        f'CAST: Error when converting column "{column}". Could not convert string "'
    )
    suffix = quote_literal(f"\" to '{kind}' without changing it; {_EXPECTED[kind]}")
    return (
        f"CASE WHEN {text} IS NULL THEN {empty} WHEN {exact} THEN NULL "
        f"ELSE {prefix} || {_shown(text)} || {suffix} END"
    )


def _shown(text: str) -> str:
    """SQL: the value as quoted in an error, cut to MAX_QUOTED characters."""
    return (
        f"CASE WHEN length({text}) <= {MAX_QUOTED} THEN {text} ELSE left({text}, {MAX_QUOTED})"
        f" || '... (' || length({text}) || ' characters)' END"
    )


def problems_select(table: RawTable, relation: str) -> str:
    """One row per record of `relation`, in its order: the error (NULL when the record is
    loaded), the rejected column names, and the line breaks inside its values."""
    problems = [
        (name, sql)
        for name, kind in table.columns
        if (sql := _problem_sql(name, kind, name == table.key))
    ]
    per_column = ", ".join(f"{sql} AS _problem_{i}" for i, (_, sql) in enumerate(problems))
    breaks = " + ".join(
        f"length({c}) - length(replace({c}, chr(10), ''))"
        for c in (f"coalesce({_quote(name)}, '')" for name in table.column_names)
    )
    error = ", ".join(f"_problem_{i}" for i in range(len(problems)))
    columns = ", ".join(
        f"CASE WHEN _problem_{i} IS NOT NULL THEN {quote_literal(name)} END"
        for i, (name, _) in enumerate(problems)
    )
    return (
        f"SELECT nullif(concat_ws('; ', {error}), '') AS error, "
        f"nullif(concat_ws(', ', {columns}), '') AS column_name, breaks "
        f"FROM (SELECT {per_column}, {breaks} AS breaks FROM {relation})"
    )


def read_text_sql(table: RawTable, reject_options: str) -> str:
    """`read_csv` of a contract file (the path is parameter `$path`) with every column as text,
    for the selects above to type."""
    columns = "{" + ", ".join(f"'{name}': 'VARCHAR'" for name in table.column_names) + "}"
    return f"""read_csv(
        $path, columns = {columns}, header = true, auto_detect = false,
        delim = ',', quote = '"', escape = '"', strict_mode = true, {reject_options}
    )"""
