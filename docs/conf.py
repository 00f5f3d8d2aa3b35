"""Sphinx configuration for the consign-core documentation."""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil

import consign_core
from consign_core._exports import restore_defining_modules


project = "consign-core"
author = "consign-core contributors"
copyright = "2026, consign-core contributors"
release = importlib.metadata.version("consign-core")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_preserve_defaults = True


html_theme = "furo"
html_title = "consign-core"
exclude_patterns = ["_build"]

# Public classes present their public module (``consign_core.store.OutboxEntry``); autodoc
# reads field docstrings and source order from the module that defines them, so the docs build
# imports every public module and gives the objects their defining module back. Each is still
# documented under the public module that exports it.
for _info in pkgutil.walk_packages(consign_core.__path__, prefix="consign_core."):
    if not any(part.startswith("_") for part in _info.name.split(".")[1:]):
        importlib.import_module(_info.name)
restore_defining_modules()


def _public_bases(
    _app: object, _name: str, _obj: object, _options: object, bases: list[type]
) -> None:
    """Show only public base classes (a class assembled from private mix-ins shows none)."""
    bases[:] = [base for base in bases if not base.__name__.startswith("_")]


def setup(app: object) -> None:
    app.connect("autodoc-process-bases", _public_bases)  # type: ignore[attr-defined]
