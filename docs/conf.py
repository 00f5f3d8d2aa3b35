"""Sphinx configuration for the consign-core documentation."""

from __future__ import annotations

import importlib.metadata


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
