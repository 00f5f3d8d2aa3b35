"""Only the Coupang adapter and its fake import httpx: the core works without the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> subprocess.CompletedProcess[str]:
    blocker = textwrap.dedent(
        """
        import sys
        sys.modules["httpx"] = None  # importing it now raises ImportError
        sys.modules["stamina"] = None
        """
    )
    return subprocess.run(
        [sys.executable, "-c", blocker + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_library_imports_without_httpx() -> None:
    result = _run(
        """
        import consign_core, consign_core.adapters, consign_core.testing, consign_core.engine
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_the_coupang_adapter_needs_httpx() -> None:
    result = _run("import consign_core.adapters.coupang")
    assert result.returncode != 0
    assert "httpx" in result.stderr
