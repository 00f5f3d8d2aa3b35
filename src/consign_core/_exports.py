"""How a public module presents the names it re-exports from its private parts.

A public module (``consign_core.domain.trust``, ``consign_core.store``, ...) re-exports classes
and functions defined in private submodules (``consign_core.domain.trust._model``). Calling
:func:`publish` at the end of the public module sets their ``__module__`` to the public one, so
that reprs, tracebacks, pickles and the API docs name the module a user imports from, the way
httpx presents its own classes. Nothing else changes: the objects are the same.

For an attrs class the string annotations (``from __future__ import annotations``) are resolved
first, against the module that defines them, so that cattrs and :func:`attrs.resolve_types`
never look them up in the public module. A class whose annotations cannot be resolved yet (a
name imported only for type checking), and any other class with string annotations (a
``NamedTuple``, whose hints :func:`typing.get_type_hints` would look up in the new module),
keeps its defining module.
"""

from __future__ import annotations

import inspect
import sys
import typing
from collections.abc import Iterable

import attrs


__all__ = ["public_home", "publish", "restore_defining_modules"]

_PUBLISHED: list[tuple[object, str]] = []
"""Every object :func:`publish` presented, with the module that defines it."""


def public_home(module_name: str) -> str:
    """The public module a name defined in ``module_name`` is re-exported from.

    The module path up to its first private part: ``consign_core.domain.trust._model`` ->
    ``consign_core.domain.trust``; a public module is its own home.
    """
    parts = module_name.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and index > 0:
            return ".".join(parts[:index])
    return module_name


def publish(module_name: str, names: Iterable[str]) -> None:
    """Show each class and function of ``names`` as defined in ``module_name``.

    Only objects still shown in a private module at or above ``module_name`` are touched:
    ``consign_core.lab.backtest`` may present a class of ``consign_core.lab._order_log``, but
    never one of another package, nor one a public module presented first.
    """
    module = sys.modules[module_name]
    for name in names:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        defined_in = getattr(value, "__module__", None)
        if not isinstance(defined_in, str) or public_home(defined_in) == defined_in:
            continue  # already shown in a public module (this one, or the first to claim it)
        home = public_home(defined_in)
        if module_name != home and not module_name.startswith(home + "."):
            continue  # defined elsewhere: that module's own public home presents it
        if inspect.isclass(value):
            if attrs.has(value):
                try:
                    attrs.resolve_types(value)
                except NameError:
                    continue
            elif _has_string_annotations(value):
                continue  # typing.get_type_hints would look its names up in the new module
        _PUBLISHED.append((value, defined_in))
        value.__module__ = module_name


def restore_defining_modules() -> None:
    """Give every published object back the module that defines it (for the API docs).

    Sphinx reads field and member docstrings from the source of ``__module__``; the docs
    build calls this after importing the package, and still documents each name under the
    public module that exports it.
    """
    for value, defined_in in _PUBLISHED:
        value.__module__ = defined_in


def _has_string_annotations(cls: type) -> bool:
    annotations = vars(cls).get("__annotations__", {})
    return any(isinstance(hint, (str, typing.ForwardRef)) for hint in annotations.values())
