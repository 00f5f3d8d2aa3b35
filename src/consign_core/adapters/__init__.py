"""HTTP adapters implementing the engine's ports against real vendor APIs.

They need the ``http`` extra (``pip install "consign-core[http]"``: httpx and stamina).
Nothing outside this package imports httpx, so ``import consign_core`` works without it.
Vendor wire shapes (camelCase JSON, string numbers, vendor codes) live only here, mapped to
domain types at the boundary. The Coupang and Domeme adapters are being built in
``consign_core.adapters.coupang`` and ``consign_core.adapters.domeme``.
"""

__all__: list[str] = []
