"""The scoring engine: facts in, score card out.  Pure Python, Decimal only."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ..rules.pack import RulePack
from .card import LedgerCard, ScoreCard, dumps, to_dict
from .facts import convert_facts
from .ledger import plan_for as ledger_plan
from .rubric import plan_for as rubric_plan


def score(pack: RulePack, facts: Mapping[str, Any], *, source: str = "facts",
          locate: Callable[[str], str] | None = None) -> ScoreCard | LedgerCard:
    """Check *facts* against *pack* and score them.  Raises FactsError."""
    values = convert_facts(pack, facts, source, locate)
    if pack.model.kind == "ledger":  # the ledger also checks its top-level facts
        return ledger_plan(pack).run(values, locate or (lambda key: f"{source}: {key}"))
    return score_values(pack, values)


def score_values(pack: RulePack, values: dict) -> ScoreCard | LedgerCard:
    """Score already converted values (see :func:`convert_facts`)."""
    if pack.model.kind == "ledger":
        return ledger_plan(pack).run(values)
    return rubric_plan(pack).run(values)


__all__ = ["score", "score_values", "convert_facts", "ScoreCard", "LedgerCard", "to_dict", "dumps"]
