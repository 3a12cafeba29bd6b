"""Text made safe to print on a terminal (no I/O).

Feeds are untrusted: a title holding ESC sequences can retitle the window, erase
lines or forge output ("fake: all feeds OK"), BEL rings, CR overwrites the line,
and bidi overrides reorder what is shown. `terminal_safe` writes every such
character as a visible escape instead (``\\x1b``, ``\\x07``, ``\\u202e``) so the
output shows what the feed sent without acting on it.
"""

from __future__ import annotations

import re

__all__ = ["terminal_safe"]

# C0 controls but TAB and LF, DEL, C1 controls, bidi embeddings/overrides/isolates
# and the line/paragraph separators (terminals and pagers treat them inconsistently).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str, *, keep_newlines: bool = True) -> str:
    """`text` with terminal control characters written as escapes (``\\x1b``).

    TAB is kept; LF is kept unless `keep_newlines` is False (then ``\\x0a``).
    Linear in the length of `text`."""
    out = _UNSAFE.sub(_escape, text)
    return out if keep_newlines else out.replace("\n", "\\x0a")
