"""Conditional GET that cannot hide items for long (pure): what a poll sends, and when a
server's ETag / Last-Modified are caught lying.

A server that keeps its ETag (or Last-Modified) while its content changes answers
304 Not Modified to every conditional request, so new items stay hidden for as long
as it does so. Two defences:

* **A full fetch now and then.** :func:`plan` drops both validators (and asks caches
  for a fresh copy) once the feed's last full answer (a 200 with a body) is
  ``full_fetch_after`` old. Every other poll stays conditional: an idle pass is
  still a 304. A full answer whose body hashes like the last one is not parsed
  (:func:`body_hash`; the pipeline treats it as not modified).
* **Lies are remembered.** :func:`lies` reads one answer against the stored state;
  each lie names the validator (``etag`` or ``last-modified``) the feed stops
  sending from then on (kept on the feed, shown by ``monitor feeds`` and ``monitor
  status``). The other validator, if honest, is still sent; with neither left every
  poll is a full fetch, and the body hash keeps an unchanged one cheap.

The lies seen in the wild (the rows of tests/integration/test_validator_lies.py):
the same ETag or Last-Modified on a body that lists new items (miniflux-legacy#218,
newsbeuter#331), a Last-Modified in the future (FreshRSS#1020) or far older than the
feed's newest item (web.dev#4382, commafeed#859), a 304 to a request that had no
validators (miniflux/v2#874). Not judged here: a 304 carrying a body (never read; the
connection it leaves unread bytes on is not reused, a row of that test shows the next
answers intact) and one ETag for gzip and identity bodies (we always ask for the same
encodings, so it cannot hide anything from us).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

ETAG = "etag"
LAST_MODIFIED = "last-modified"
VALIDATORS = (ETAG, LAST_MODIFIED)

# A Last-Modified this far ahead of our clock, or this far behind the feed's newest
# item, is not a clock skew or a time-zone slip (those are hours, at most 14): it is a
# fixed date (2041, 1970, 1980 in the reports) that makes every If-Modified-Since 304.
LM_SLACK = timedelta(days=1)


@dataclass(frozen=True)
class Plan:
    """What one poll sends: the validators (None: not sent) and whether it is a full fetch
    (no validators at all, ``Cache-Control: no-cache``) and why."""

    etag: str | None
    last_modified: str | None
    full: bool = False
    why: str = ""


@dataclass(frozen=True)
class Lie:
    """A validator caught lying: which one (``etag`` | ``last-modified``) and what it did."""

    validator: str
    reason: str


def _shown(value: str | None) -> str:
    """A server's validator as our messages quote it: at most 80 characters."""
    value = value or ""
    return value if len(value) <= 80 else value[:79] + "…"


def untrusted_set(text: str | None) -> frozenset[str]:
    """The stored ``untrusted`` column (space-separated validator names) as a set."""
    return frozenset(w for w in (text or "").split() if w in VALIDATORS)


def untrusted_text(names: Iterable[str]) -> str | None:
    """The set back as the stored column (in a fixed order), or None when empty."""
    chosen = set(names)
    return " ".join(v for v in VALIDATORS if v in chosen) or None


def plan(
    etag: str | None,
    last_modified: str | None,
    *,
    untrusted: frozenset[str],
    last_full_at: datetime | None,
    now: datetime,
    full_fetch_after: float,
) -> Plan:
    """The request of a poll. Untrusted validators are never sent; both are dropped when
    the last full answer is ``full_fetch_after`` seconds old (or unknown: a feed stored
    before this was kept)."""
    etag = None if ETAG in untrusted else etag
    last_modified = None if LAST_MODIFIED in untrusted else last_modified
    if etag is None and last_modified is None:
        return Plan(None, None)  # unconditional anyway: nothing to drop
    if last_full_at is None or now - last_full_at >= timedelta(seconds=full_fetch_after):
        return Plan(None, None, True, "last full fetch " + ("unknown" if last_full_at is None else "too old"))
    return Plan(etag, last_modified)


def body_hash(content: bytes, *salt: object) -> str:
    """A short digest of a full answer (and of the feed settings that decide how it is read,
    `salt`): equal digests mean the same items, so the answer needs no parsing."""
    h = hashlib.blake2b(content, digest_size=16)
    for part in salt:
        h.update(b"\0" + repr(part).encode())
    return h.hexdigest()


def http_date(value: str | None) -> datetime | None:
    """An HTTP date header as an aware datetime, or None when absent or unreadable."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else None


def lies_of_304(sent: Plan) -> list[Lie]:
    """A 304 to a request that carried no validator cannot be true (miniflux/v2#874): both
    are moot until the server answers honestly, so both stop being trusted."""
    if sent.etag is None and sent.last_modified is None:
        why = "answered 304 Not Modified to a request without If-None-Match or If-Modified-Since"
        return [Lie(ETAG, why), Lie(LAST_MODIFIED, why)]
    return []


def lies_of_200(
    *,
    stored_etag: str | None,
    stored_last_modified: str | None,
    stored_hash: str | None,
    etag: str | None,
    last_modified: str | None,
    new_hash: str,
    new_items: int,
    published: Iterable[datetime | None],
    now: datetime,
) -> list[Lie]:
    """The lies one full answer shows, read against the feed's stored state.

    * the stored ETag (strong or weak ``W/``) or Last-Modified came back on a body that
      listed `new_items` never seen: a conditional request would have got a 304 and
      hidden them (a body changed only in a timestamp lists nothing new: no lie);
    * a Last-Modified more than LM_SLACK ahead of `now`, or more than LM_SLACK older
      than the newest item published (dates after `now` do not count).
    """
    out: list[Lie] = []
    changed = stored_hash is not None and new_hash != stored_hash and new_items > 0
    if changed and etag and etag == stored_etag:
        kind = "weak ETag" if etag.startswith("W/") else "ETag"
        out.append(Lie(ETAG, f"kept its {kind} {_shown(etag)} while the feed listed {new_items} new item(s)"))
    if changed and last_modified and last_modified == stored_last_modified:
        kept = f"kept Last-Modified {_shown(last_modified)}"
        out.append(Lie(LAST_MODIFIED, f"{kept} while the feed listed {new_items} new item(s)"))
    when = http_date(last_modified)
    if when is not None and LAST_MODIFIED not in {lie.validator for lie in out}:
        newest = max((p for p in published if p is not None and p <= now), default=None)
        if when > now + LM_SLACK:
            out.append(Lie(LAST_MODIFIED, f"Last-Modified {_shown(last_modified)} is in the future"))
        elif newest is not None and when < newest - LM_SLACK:
            shown = f"Last-Modified {_shown(last_modified)}"
            out.append(Lie(LAST_MODIFIED, f"{shown} is older than the feed's newest item ({newest:%Y-%m-%d %H:%MZ})"))
    return out
