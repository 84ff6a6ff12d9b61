"""Which checks can say anything about a spec of a given target, from the
rules they cite.

A check emits diagnostics only through cited rules (`core.Rule`), and a
rule of one service is never applied to another, so a check none of whose
rules guards a target (or batchspec itself, which every target follows)
has nothing to say about a spec of that target. Most checks guard one or
two services, so a spec runs about two thirds of them; asking each of the
others `applies(...)` cost a fifth of checking a spec.

The rules a check cites are found in its code, not written next to it by
hand (`rules_reached`): every name its code (and the code of its nested
functions, lambdas and comprehensions) reads from its module, followed
into the rules package's helpers (through `functools` caches), modules and
tables (a dict of rules by target, a table of rows holding rules). Names
that are not rules or rule holders are ignored, so the answer can only be
too large (a check kept that could have been skipped), never too small as
long as rules are reached through names.

That walk reads bytecode, which the compiled rule modules
(`batchspec._native`) do not have, and costs start-up time, so its answers
are kept in `batchspec/data/reach.json` (rule ids by check), written by
`scripts/regen-schema`. tests/test_native.py holds the file equal to a
fresh walk of the Python sources, and tests/validate/test_rule_reach.py
the table's diagnostics equal to every check's, for every rule case under
every target. A check
the file does not know (a new one, before the file is written again) is
walked when it has bytecode, and otherwise kept for every target.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from types import CodeType, FunctionType, ModuleType
from typing import Any

from batchspec.validate.rules.core import BATCHSPEC, RULES_CITED, Check, Rule

PACKAGE = "batchspec.validate.rules"
TABLE = Path(__file__).resolve().parents[2] / "data" / "reach.json"


def key(check: Check) -> str:
    """A check's name in the table: the same for its compiled and Python forms."""
    return f"{check.__module__}.{check.__qualname__}"


def table_text(checks: Iterable[Check]) -> str:
    """The table's file for `checks`, walked in their Python form."""
    table = {key(check): sorted(r.id for r in rules_reached(check)) for check in checks}
    return json.dumps(table, indent=1, sort_keys=True) + "\n"


@cache
def _table() -> dict[str, frozenset[Rule]]:
    try:
        raw: dict[str, list[str]] = json.loads(TABLE.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a damaged install: walk, or keep every check
        return {}
    return {
        name: frozenset(RULES_CITED[i] for i in ids if i in RULES_CITED)
        for name, ids in raw.items()
    }


def reached(check: Check) -> frozenset[Rule] | None:
    """The rules `check` cites: the table's answer, else a walk of its code;
    None when neither can tell (a compiled check the table does not know)."""
    found = _table().get(key(check))
    if found is not None:
        return found
    if isinstance(check, FunctionType):
        return rules_reached(check)
    return None


@cache  # each target's table asks again: the walk is the cost, once per check
def rules_reached(check: Check) -> frozenset[Rule]:
    """Every cited rule `check` can reach through the names in its code."""
    found: set[Rule] = set()
    seen: set[int] = set()
    todo: list[Any] = [check]
    while todo:
        obj = todo.pop()
        if isinstance(obj, Rule):  # before tuples: a Rule is a NamedTuple
            found.add(obj)
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, FunctionType) and _ours(obj.__module__):
            todo.extend(_names_read(obj.__code__, obj.__globals__))
            todo.extend(cell.cell_contents for cell in obj.__closure__ or ())
            todo.extend(obj.__defaults__ or ())
        elif callable(obj) and hasattr(obj, "__wrapped__"):  # functools.cache and the like
            todo.append(obj.__wrapped__)
        elif isinstance(obj, dict):
            todo.extend(obj.values())
        elif isinstance(obj, tuple | list | set | frozenset):
            todo.extend(obj)
    return frozenset(found)


def guards(check: Check, target: str) -> bool:
    """Whether `check` can say anything about a spec of `target` (always,
    when its rules are not known)."""
    rules = reached(check)
    if rules is None:
        return True
    return any(target in rule.services or BATCHSPEC in rule.services for rule in rules)


def for_target(checks: tuple[Check, ...], target: str) -> tuple[Check, ...]:
    """The checks of `checks` that can speak to `target`, in their order."""
    return tuple(check for check in checks if guards(check, target))


def _ours(module: str | None) -> bool:
    return module is not None and (module == PACKAGE or module.startswith(PACKAGE + "."))


def _names_read(code: CodeType, globals_: dict[str, Any]) -> list[Any]:
    """What the names of `code` and its nested code objects are in its
    module, and, for names read from a rules module (`names.x`), in that
    module too."""
    names: set[str] = set()
    codes = [code]
    while codes:
        current = codes.pop()
        names.update(current.co_names)
        codes.extend(c for c in current.co_consts if isinstance(c, CodeType))
    values = [globals_[name] for name in names if name in globals_]
    modules = [m for m in values if isinstance(m, ModuleType) and _ours(m.__name__)]
    values.extend(getattr(m, name) for m in modules for name in names if hasattr(m, name))
    return values


__all__ = ["TABLE", "for_target", "guards", "key", "reached", "rules_reached", "table_text"]
