"""Typed error hierarchy.

Every error the user can cause carries *records*: ``loc`` (where: a file, a YAML
path with its line, a fact id, or a ``sheet!cell``) and ``msg`` (what was
expected, in Chinese).  Nothing below ever leaks a traceback to the user; the
CLI turns these into exit codes (see :mod:`rubric_xl.cli`).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One problem: where it is and what was expected."""

    loc: str
    msg: str
    level: str = "error"  # "error" | "warning"

    def __str__(self) -> str:
        return f"{self.loc}: {self.msg}" if self.loc else self.msg

    def as_dict(self) -> dict:
        return {"loc": self.loc, "msg": self.msg, "level": self.level}


class RubricError(Exception):
    """Base class of every error rubric-xl raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.problems: list[Problem] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class PackError(RubricError):
    """A rule pack is malformed: bad YAML, schema violation, bad expression."""


class ExpressionError(PackError):
    """An expression in a pack does not parse or does not type-check."""

    def __init__(self, message: str, expr: str = "", pos: int | None = None):
        super().__init__(message)
        self.expr = expr
        self.pos = pos


class FactsError(RubricError):
    """Submitted facts are wrong: wrong type, out of range, unknown id."""


class InputFileError(RubricError):
    """An input file cannot be read at all (missing, not YAML/JSON, not a workbook)."""


@dataclass
class ProblemList:
    """Collects problems while validating; raises once at the end."""

    items: list[Problem] = field(default_factory=list)

    def add(self, loc: str, msg: str, level: str = "error") -> None:
        self.items.append(Problem(loc, msg, level))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.level == "error"]

    def __bool__(self) -> bool:
        return bool(self.items)
