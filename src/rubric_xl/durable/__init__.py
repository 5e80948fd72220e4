"""A second, independent executor of the lowered form on durable-rules.

The bands of every item (有误, 待填, which zeroing condition, which tier, which
deductions and bonuses apply and whether their caps bite) and of every ledger row
(its status, its errors and warnings, its metric conditions) are decided by
durable-rules matching posted facts against rules compiled from the lowered form
(:mod:`rubric_xl.rules.lowered`); amounts and wording come from that form's
shared definitions.  The result is the engine's own :class:`ScoreCard` /
:class:`LedgerCard`, so the two can be compared field by field.

Optional: ``pip install "rubric-xl[durable]"`` (Python 3.10–3.12; durable-rules
has no wheels, so Windows needs a C compiler).  Without it every entry point
raises :class:`DurableError` with a Chinese message.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ..engine.card import LedgerCard, ScoreCard
from ..engine.facts import convert_facts
from ..rules.pack import RulePack
from ._host import DurableError, _engine


def require() -> None:
    """Raise :class:`DurableError` (a Chinese message) when durable-rules does not import."""
    _engine()


def available() -> bool:
    try:
        require()
    except DurableError:
        return False
    return True


def ruleset_for(pack: RulePack):
    """The compiled ruleset of *pack* (cached on the pack; registered once per pack hash)."""
    rs = getattr(pack, "_durable_ruleset", None)
    if rs is None:
        _engine()  # a clear message before any compiling
        if pack.model.kind == "ledger":
            from ._ledger import LedgerRuleset
            rs = LedgerRuleset(pack)
        else:
            from ._rubric import RubricRuleset
            rs = RubricRuleset(pack)
        pack._durable_ruleset = rs  # type: ignore[attr-defined]
    return rs


def score(pack: RulePack, facts: Mapping[str, Any], *, source: str = "facts",
          locate: Callable[[str], str] | None = None) -> ScoreCard | LedgerCard:
    """Like :func:`rubric_xl.engine.score`, computed on durable-rules."""
    rs = ruleset_for(pack)
    values = convert_facts(pack, facts, source, locate)
    if pack.model.kind == "ledger":
        return rs.run(values, locate or (lambda key: f"{source}: {key}"))
    return rs.run(values)


def score_values(pack: RulePack, values: dict) -> ScoreCard | LedgerCard:
    """Like :func:`rubric_xl.engine.score_values`, computed on durable-rules."""
    return ruleset_for(pack).run(values)


__all__ = ["score", "score_values", "available", "require", "ruleset_for", "DurableError"]
