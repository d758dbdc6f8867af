"""The columns and types of a published mart, read from its enforced dbt contract.

`models/marts/_marts__models.yml` is the one list of a mart's columns: the export publishes
them in that order, and the tests that need the mart's shape read them here.
"""

from __future__ import annotations

from functools import cache

import yaml

from course_engagement.settings import REPO_ROOT

MARTS_YML = REPO_ROOT / "2-dbt_project" / "models" / "marts" / "_marts__models.yml"


@cache
def contract_columns(model: str) -> dict[str, str]:
    """Column name -> data type of `model`'s enforced contract, in the contract's order."""
    models = {m["name"]: m for m in yaml.safe_load(MARTS_YML.read_text())["models"]}
    node = models.get(model, {})
    if not node.get("config", {}).get("contract", {}).get("enforced"):
        raise ValueError(f"{model} has no enforced contract in {MARTS_YML}")
    return {column["name"]: column["data_type"] for column in node["columns"]}
