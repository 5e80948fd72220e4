"""rubric-xl: executable government performance-scoring rubrics.

Public API::

    from rubric_xl import load_pack, score, to_dict
    pack = load_pack("rules/shanxi-2005.yaml")
    card = score(pack, {"weekly_reports_count": 18, ...})
    card.total, card.grade, card.item("10").explanation

Everything not listed in ``__all__`` is private and may change.
"""
from .engine import score, score_values
from .engine.card import LedgerCard, ScoreCard, dumps, to_dict
from .engine.facts import convert_facts
from .errors import (ExpressionError, FactsError, InputFileError, PackError, Problem,
                     RubricError)
from ._version import __version__
from .rules import RulePack, load_pack, load_pack_text

__all__ = [
    "load_pack", "load_pack_text", "RulePack", "score", "score_values", "convert_facts",
    "ScoreCard", "LedgerCard", "to_dict", "dumps",
    "RubricError", "PackError", "ExpressionError", "FactsError", "InputFileError", "Problem",
    "__version__",
]
