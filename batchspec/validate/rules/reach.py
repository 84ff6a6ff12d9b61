"""Which checks can say anything about a spec of a given target, from the
rules they cite.

A check emits diagnostics only through cited rules (`core.Rule`), and a
rule of one service is never applied to another, so a check none of whose
rules guards a target (or batchspec itself, which every target follows)
has nothing to say about a spec of that target. Most checks guard one or
two services, so a spec runs about two thirds of them; asking each of the
others `applies(...)` cost a fifth of checking a spec.

The rules a check cites are found in its code, not written next to it by
hand: every name its code (and the code of its nested functions, lambdas
and comprehensions) reads from its module, followed into the rules
package's helpers (through `functools` caches), modules and tables (a
dict of rules by target, a table of rows holding rules). Names that are
not rules or rule holders are ignored, so the answer can only be too
large (a check kept that could have been skipped), never too small as
long as rules are reached through names; tests/validate/test_rule_reach.py
holds the table's diagnostics equal to every check's, for every rule case
under every target.
"""

from __future__ import annotations

from functools import cache
from types import CodeType, FunctionType, ModuleType
from typing import Any

from batchspec.validate.rules.core import BATCHSPEC, Check, Rule

PACKAGE = "batchspec.validate.rules"


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
    """Whether `check` can say anything about a spec of `target`."""
    return any(
        target in rule.services or BATCHSPEC in rule.services for rule in rules_reached(check)
    )


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


__all__ = ["for_target", "guards", "rules_reached"]
