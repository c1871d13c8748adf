"""A contender's class facts as data: what a record carries, so a folder reports as it ran.

``Facts.of(cls)`` reads them off a contender class; every record stores them as JSON
(``model_facts``), and ``recorded(...)`` makes a folder's own facts the ones the registry's
fact queries (``suite.models.enters``, ``is_floor``, ...) answer with while that folder is
read — not today's registry, whose contenders may have changed or retired since.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import asdict, dataclass, fields
from typing import Any

from suite.models.code_lines import code_lines as count_code_lines


@dataclass(frozen=True)
class Facts:
    """The facts of one contender that reports and verdicts read (see ``Model``)."""

    contests: tuple[str, ...]
    floor: bool = False
    trains: bool = True
    epoch_curve: bool = True
    caps_epochs: bool = False
    same_model_as: str | None = None
    speedup_baseline: bool = False
    uses_features: bool = False
    library: str | None = None
    method: str = ""
    code_lines: int | None = None  # ``suite.models.code_lines``; None in older records

    @classmethod
    def of(cls, contender: Any) -> Facts:
        """The facts a ``Model`` subclass declares."""
        return cls(
            contests=tuple(str(contest) for contest in contender.contests),
            floor=contender.floor,
            trains=contender.trains,
            epoch_curve=contender.epoch_curve,
            caps_epochs=contender.caps_epochs,
            same_model_as=contender.same_model_as,
            speedup_baseline=contender.speedup_baseline,
            uses_features=contender.uses_features,
            library=contender.requirements[0].import_name if contender.requirements else None,
            method=contender.method,
            code_lines=count_code_lines(contender),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: Any) -> Facts | None:
        """The facts a record stored, or None where it stored none (an older record)."""
        if not isinstance(text, str) or not text:
            return None
        try:
            raw = json.loads(text)
        except ValueError:
            return None
        known = {f.name for f in fields(cls)}
        if not isinstance(raw, dict) or "contests" not in raw:
            return None
        raw = {key: value for key, value in raw.items() if key in known}
        return cls(**{**raw, "contests": tuple(raw["contests"])})


_RECORDED: ContextVar[Mapping[str, Facts] | None] = ContextVar("recorded_facts", default=None)


def recorded_facts(model: str) -> Facts | None:
    """The facts the folder being read recorded for ``model``, if any (see ``recorded``)."""
    return (_RECORDED.get() or {}).get(model)


def recorded_models() -> list[str]:
    """The contenders whose facts the folder being read recorded."""
    return list(_RECORDED.get() or {})


@contextlib.contextmanager
def recorded(facts: Mapping[str, Facts]) -> Iterator[None]:
    """Within the block, the fact queries answer with ``facts`` (a folder's) where they hold
    a contender, and with its class elsewhere."""
    token = _RECORDED.set(dict(facts))
    try:
        yield
    finally:
        _RECORDED.reset(token)
