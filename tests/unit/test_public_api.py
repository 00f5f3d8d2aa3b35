"""The public surface: sorted ``__all__``, every public name exported, version from metadata."""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import subprocess
import sys
import textwrap
import types

import pytest

import consign_core


def public_modules() -> list[str]:
    names = ["consign_core"]
    for info in pkgutil.walk_packages(consign_core.__path__, prefix="consign_core."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts[1:]):
            continue
        names.append(info.name)
    return names


def isort_key(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions, each A-Z."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[0].isupper() else (2, name)


# Modules needing an optional extra (httpx, matplotlib) are checked only when it is there.
OPTIONAL = {"consign_core.adapters": "httpx"}


@pytest.mark.parametrize("module_name", public_modules())
def test_all_is_sorted_and_complete(module_name: str) -> None:
    for prefix, extra in OPTIONAL.items():
        if module_name.startswith(prefix):
            pytest.importorskip(extra)
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{module_name} has no __all__"
    assert list(exported) == sorted(exported, key=isort_key), f"{module_name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported), f"{module_name}.__all__ has duplicates"
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ names missing {name}"
    defined_here = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", None) == module_name
        and callable(value)
    }
    missing = defined_here - set(exported)
    assert not missing, f"{module_name} defines public names not in __all__: {sorted(missing)}"


def test_version_comes_from_package_metadata() -> None:
    assert consign_core.__version__ == importlib.metadata.version("consign-core")


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        consign_core.no_such_name  # noqa: B018


BLOCK_AND_IMPORT = textwrap.dedent(
    """
    import importlib, sys

    class Blocker:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"httpx", "stamina", "matplotlib"}:
                raise ImportError(f"blocked optional dependency: {name}")
            return None

    sys.meta_path.insert(0, Blocker())
    for name in sys.argv[1:]:
        importlib.import_module(name)
    forbidden = sorted(
        m for m in sys.modules
        if m.split(".")[0] in {"httpx", "stamina", "matplotlib"}
        or m.startswith(tuple("consign_core." + s for s in ("engine", "store", "adapters", "cli")))
    )
    print(",".join(forbidden))
    """
)

PURE_MODULES = [
    "consign_core",
    "consign_core.domain.model",
    "consign_core.domain.events",
    "consign_core.domain.calendar",
    "consign_core.domain.serialization",
    "consign_core.errors",
    "consign_core.domain.rules",
    "consign_core.domain.trust",
    "consign_core.domain.cancel_rate",
    "consign_core.domain.timing",
    "consign_core.domain.workflow",
    "consign_core.lab.sim",
    "consign_core.lab.backtest",
    "consign_core.lab.sweep",
]


def test_import_works_without_the_http_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_IMPORT, "consign_core"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


@pytest.mark.parametrize("module_name", PURE_MODULES)
def test_pure_modules_never_import_the_shell_or_httpx(module_name: str) -> None:
    if importlib.util.find_spec(module_name) is None:
        pytest.skip(f"{module_name} is not written yet")
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_IMPORT, module_name],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module_name} pulled in: {result.stdout.strip()}"
