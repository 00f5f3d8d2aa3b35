"""The public surface: sorted, complete ``__all__``; public homes in reprs; a light façade."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import pickle
import pkgutil
import subprocess
import sys
import textwrap
import types
import typing
from collections.abc import Iterator

import attrs
import pytest

import consign_core
from consign_core._exports import public_home, publish


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


def _string_annotated(value: object) -> bool:
    annotations = vars(value).get("__annotations__", {}) if inspect.isclass(value) else {}
    return any(isinstance(hint, (str, typing.ForwardRef)) for hint in annotations.values())


def export_problems(module: types.ModuleType) -> Iterator[str]:
    """What is wrong with ``module``'s exports (nothing, for a well-kept public module)."""
    name = module.__name__
    exported = getattr(module, "__all__", None)
    if exported is None:
        yield f"{name} has no __all__"
        return
    if list(exported) != sorted(exported, key=isort_key):
        yield f"{name}.__all__ is not sorted"
    if len(set(exported)) != len(exported):
        yield f"{name}.__all__ has duplicates"
    for export in exported:
        if not hasattr(module, export):
            yield f"{name}.__all__ names {export}, which is missing"
    for attr, value in vars(module).items():
        if attr.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        home = public_home(getattr(value, "__module__", "") or "")
        if home == name and attr not in exported:
            yield f"{name} defines {attr} (in {value.__module__}) but leaves it out of __all__"
    for export in exported:
        value = getattr(module, export, None)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        shown = value.__module__
        if shown != public_home(shown) and not _string_annotated(value):
            yield f"{name}.{export} shows its private module {shown}"


@pytest.mark.parametrize("module_name", public_modules())
def test_public_module_exports_are_sorted_complete_and_shown_at_home(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert list(export_problems(module)) == []


def _synthetic(name: str) -> types.ModuleType:
    """A public module ``name`` re-exporting two classes of its private part ``name._part``."""
    part = types.ModuleType(f"{name}._part")
    exec(  # noqa: S102 - the test's own source
        "class Listed:\n    pass\n\nclass Forgotten:\n    pass\n", part.__dict__
    )
    module = types.ModuleType(name)
    module.Listed = part.Listed  # type: ignore[attr-defined]
    module.Forgotten = part.Forgotten  # type: ignore[attr-defined]
    module.__all__ = ["Listed"]  # type: ignore[attr-defined]
    return module


def test_export_check_flags_a_re_export_left_out_of_all() -> None:
    problems = list(export_problems(_synthetic("pkg.public")))
    assert any("defines Forgotten" in p for p in problems), problems


def test_export_check_flags_an_unsorted_or_dangling_all() -> None:
    module = _synthetic("pkg.other")
    module.__all__ = ["Listed", "Forgotten", "Gone"]  # type: ignore[attr-defined]
    problems = list(export_problems(module))
    assert "pkg.other.__all__ is not sorted" in problems
    assert any("names Gone, which is missing" in p for p in problems)


def test_export_check_flags_a_class_shown_in_its_private_module() -> None:
    problems = list(export_problems(_synthetic("pkg.shown")))
    assert "pkg.shown.Listed shows its private module pkg.shown._part" in problems


def test_publish_moves_re_exports_to_their_public_home_only() -> None:
    module = _synthetic("pkg.home")
    sys.modules["pkg.home"] = module
    try:
        foreign = type("Foreign", (), {"__module__": "other.place._x"})
        module.Foreign = foreign  # type: ignore[attr-defined]
        publish("pkg.home", ["Listed", "Forgotten", "Foreign"])
    finally:
        del sys.modules["pkg.home"]
    assert module.Listed.__module__ == "pkg.home"  # type: ignore[attr-defined]
    assert foreign.__module__ == "other.place._x"
    assert list(export_problems(module)) == [
        "pkg.home defines Forgotten (in pkg.home) but leaves it out of __all__"
    ]


def test_public_home_is_the_path_up_to_the_first_private_part() -> None:
    assert public_home("consign_core.domain.trust._model") == "consign_core.domain.trust"
    assert public_home("consign_core.store._types") == "consign_core.store"
    assert public_home("consign_core.domain.rules") == "consign_core.domain.rules"


def test_reprs_name_the_public_module() -> None:
    from consign_core.store import InMemoryStore, OutboxEntry

    assert repr(InMemoryStore).startswith("<class 'consign_core.store.InMemoryStore'")
    assert OutboxEntry.__module__ == "consign_core.store"


def test_published_classes_still_pickle_and_structure() -> None:
    from datetime import datetime, timezone

    from consign_core.domain.model import OrderRef
    from consign_core.domain.serialization import structure, unstructure
    from consign_core.domain.timing import ConfirmNow
    from consign_core.domain.workflow import Acknowledge
    from consign_core.store import OutboxEntry

    entry = OutboxEntry(
        entry_id=1,
        command=Acknowledge(ref=OrderRef(market="coupang", order_id="1")),
        created_at=datetime(2025, 3, 3, tzinfo=timezone.utc),
    )
    assert pickle.loads(pickle.dumps(entry)) == entry  # noqa: S301 - our own bytes
    decision = ConfirmNow(reason="safe supplier")
    assert pickle.loads(pickle.dumps(decision)) == decision  # noqa: S301 - our own bytes
    assert structure(unstructure(decision), ConfirmNow) == decision


# --- the façade ---------------------------------------------------------------------------

NOUNS = [
    "AMAZON",
    "COUPANG",
    "EBAY",
    "NAVER",
    "Engine",
    "EngineSettings",
    "InMemoryStore",
    "Ledger",
    "PlaceOrderRequest",
    "Recipient",
    "SQLiteStore",
    "TrustModel",
    "make_policy",
]


@pytest.mark.parametrize("noun", NOUNS)
def test_the_facade_re_exports_the_nouns_reached_for_first(noun: str) -> None:
    assert noun in consign_core.__all__
    value = getattr(consign_core, noun)
    home = getattr(value, "__module__", None) or consign_core._LAZY[noun]
    assert getattr(importlib.import_module(consign_core._LAZY[noun]), noun) is value
    assert home.startswith("consign_core.")


def test_the_facade_request_carries_the_buyers_delivery_details_and_the_option() -> None:
    recipient = consign_core.Recipient(
        name="수취인",
        phone="0502-0000-0000",
        zip_code="06236",
        address1="주소",
        address2="",
        memo="",
    )
    request = consign_core.PlaceOrderRequest(
        order_ref=consign_core.OrderRef(market="coupang", order_id="1"),
        supplier_id="S1",
        item_id="1001",
        quantity=1,
        idempotency_key="coupang:1:1",
        recipient=recipient,
        option="00_01",
    )
    assert (request.recipient, request.option) == (recipient, "00_01")
    fields = [f.name for f in attrs.fields(consign_core.Recipient)]
    assert fields == ["name", "phone", "zip_code", "address1", "address2", "memo"]
    assert "주소" not in repr(request)


def test_every_facade_name_resolves_and_is_listed_by_dir() -> None:
    for name in consign_core.__all__:
        assert getattr(consign_core, name) is not None
    assert set(consign_core.__all__) <= set(dir(consign_core))


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
            if name.split(".")[0] in {"httpx", "stamina", "matplotlib", "dask"}:
                raise ImportError(f"blocked optional dependency: {name}")
            return None

    sys.meta_path.insert(0, Blocker())
    forbidden = tuple("consign_core." + s for s in sys.argv[1].split(","))
    for name in sys.argv[2:]:
        importlib.import_module(name)
    pulled = sorted(
        m for m in sys.modules
        if m.split(".")[0] in {"httpx", "stamina", "matplotlib", "dask"} or m.startswith(forbidden)
    )
    print(",".join(pulled))
    """
)


def _pulled_in(forbidden: str, *modules: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_IMPORT, forbidden, *modules],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_package_imports_nothing_else() -> None:
    assert _pulled_in("domain,engine,store,adapters,cli,lab,testing", "consign_core") == ""


def test_the_facade_nouns_load_without_the_optional_extras() -> None:
    code = "import consign_core as c; [getattr(c, n) for n in c.__all__]"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            BLOCK_AND_IMPORT.replace("for name in", code + "\nfor name in"),
            "adapters,cli,lab,testing",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


DOMAIN_MODULES = [
    "consign_core.domain.model",
    "consign_core.domain.events",
    "consign_core.domain.calendar",
    "consign_core.domain.serialization",
    "consign_core.domain.rules",
    "consign_core.domain.trust",
    "consign_core.domain.cancel_rate",
    "consign_core.domain.timing",
    "consign_core.domain.workflow",
    "consign_core.errors",
]


@pytest.mark.parametrize("module_name", DOMAIN_MODULES)
def test_the_pure_core_never_imports_the_shell_or_an_extra(module_name: str) -> None:
    assert _pulled_in("engine,store,adapters,cli,lab,testing", module_name) == ""


@pytest.mark.parametrize(
    "module_name", ["consign_core.lab", "consign_core.engine", "consign_core.store"]
)
def test_the_lab_and_the_shell_never_import_http_or_the_cli(module_name: str) -> None:
    assert _pulled_in("adapters,cli", module_name) == ""
