"""SQL kept in `.sql` files beside the module that runs it, where sqlfluff lints it.

Values are DuckDB prepared parameters (`$name`, passed as a dict). A name DuckDB cannot take
as a parameter (a table, a column) is written `{name}` and filled here, always quoted, so no
text from outside is ever spliced into SQL unquoted.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def quote_identifier(name: str) -> str:
    """`name`, or `schema.name`, as a quoted DuckDB identifier."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def quote_literal(text: str) -> str:
    """`text` as a DuckDB string literal, for the few places a parameter cannot go (COPY TO)."""
    return "'" + text.replace("'", "''") + "'"


@cache
def _text(path: Path) -> str:
    return path.read_text()


def sql_file(module_file: str, name: str, **identifiers: str) -> str:
    """The SQL of `name` beside `module_file` (pass `__file__`), each `{identifier}` quoted."""
    path = Path(module_file).with_name(name)
    text = _text(path)

    def fill(match: re.Match[str]) -> str:
        if match[1] not in identifiers:
            raise KeyError(f"{path} needs the identifier {{{match[1]}}}; pass {match[1]}=...")
        return quote_identifier(identifiers[match[1]])

    return _PLACEHOLDER.sub(fill, text)
