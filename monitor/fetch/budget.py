"""One budget per source: how much work a fetched feed or page may cost (pure).

Every limit is enforced by code that is linear in its input (monitor.fetch.scan),
so the work a hostile source can cause is bounded by its bytes. What happens when
a limit is passed (README, "Fetching"): bytes and nesting make the poll fail with
a BudgetError recorded on the source; items, page elements and page characters
cut the input and leave a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Budget:
    """Limits for one source.

    max_bytes: bytes after every decompression layer (Content-Encoding and a .gz body).
    max_items: feed/sitemap items read per poll (the rest, in document order, is cut).
    max_depth: element nesting of a feed or sitemap (deeper: error).
    max_page_depth: element nesting of an article page (deeper: error).
    max_elements: start tags read from an article page (the rest is cut).
    max_page_chars: decoded characters read from an article page (the rest is cut).
    """

    max_bytes: int = MAX_BYTES
    max_items: int = 1000
    max_depth: int = 256
    max_page_depth: int = 1000
    max_elements: int = 40_000
    max_page_chars: int = 2_000_000
