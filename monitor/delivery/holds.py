"""Which hold keeps a channel silent: a target's identity, and the rate a hold was made under.

Cluster mode keeps holds in the database (storage/holds.py); this module says whose they
are, from the config:

- A server's hold (Telegram's 429 "retry after N", a failure pause) is the TARGET's: the
  chat, mailbox or webhook the server throttles, whatever the config names the channel.
  :func:`identity` derives a stable key from the target URL (a hash of its normalised
  scheme, host, bot or account, chat or recipient: never the token itself), so two
  channel names for one chat, or a channel renamed by a reload, wait it out alike, and
  the config cannot shorten it (the server set it).
- A rate hold is OURS: the channel's ``rate:`` had no slot. It is keyed by the channel
  name, because ``rate:`` is the channel's option and its slots are counted from the
  channel's own sends (storage ``recent_sends``); two names for one chat each keep their
  own ``rate:``, as on one node. It records the limits it was computed from
  (:func:`rate_signature`): a channel whose limits differ now (a reload or restart
  raised or lowered ``rate:``) ignores it, and its next send job re-judges the wait from
  the channel's sends under the current limits.

Rebuilt from public reports (rows of tests/integration/test_cluster_redteam17c_holds.py):
Tabcorp/redis-rate-limiter#44, 3scale/APIcast#667, NatLabRockies/api-umbrella#3 (a stored
limit outlives the config that raised or changed it); diegosouzapw/OmniRoute#11413 (a fresh
limiter after a 429 sends at once), steavy29/Telegram.Net#34 (a flood wait is the account's,
shared by every app using it), getsentry/sentry-java#360 (a server's backoff is kept across
restarts).
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.delivery import telegram
from monitor.delivery.targets import expand, mail_recipients
from monitor.storage import Hold
from monitor.storage.holds import RATE, SERVER

__all__ = ["TargetId", "channel_keys", "held_by", "identity", "legacy_key", "rate_signature"]

# a secure scheme and its plain twin name one endpoint (apprise: jsons = json over TLS)
_TWINS = {"mailtos": "mailto", "jsons": "json", "forms": "form", "xmls": "xml", "ntfys": "ntfy", "https": "http"}


@dataclass(frozen=True)
class TargetId:
    """A target's stable identity: ``key`` (a hash, stored) and ``label`` (what it is, its
    secrets left out: shown by `monitor outbox holds`)."""

    key: str
    label: str


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _chat(chat: str) -> str:
    """A Telegram chat as apprise reads it: a forum topic's (CHAT:TOPIC) is its chat's
    (Telegram's 429 of a group is the group's); a name with or without its @, any case."""
    chat = re.sub(r"(:|%3A)\d+$", "", chat, flags=re.IGNORECASE)
    return chat if re.fullmatch(r"-?\d+", chat) else "@" + chat.lstrip("@").lower()


def _telegram(parts: urllib.parse.SplitResult, url: str) -> TargetId:
    token = urllib.parse.unquote(parts.netloc)
    token = token[3:] if token.lower().startswith("bot") else token
    bot = token.split(":", 1)[0] if ":" in token else ""  # the bot's id; the secret is after ':'
    query = {k.lower(): v for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
    named = telegram.chats(url) + re.split(r"[\s,]+", query.get("to", ""))  # apprise reads ?to= too
    chats = sorted({_chat(c) for c in named if c})
    chat = ",".join(chats)
    return TargetId(_hash("tgram", bot or token, chat), f"telegram bot {bot or '?'} chat {chat or '?'}")


def _mail(parts: urllib.parse.SplitResult, url: str) -> TargetId:
    query = {k.lower(): v for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
    host = (parts.hostname or "").lower()
    user = urllib.parse.unquote(query.get("user") or parts.username or "").lower()
    account = user if "@" in user or not user else f"{user}@{host}"
    smtp = (query.get("smtp") or host).lower()
    rcpt = ",".join(sorted(r.lower() for r in mail_recipients(url))) or account
    return TargetId(_hash("mail", smtp, account, rcpt), f"email {account or '?'} to {rcpt} via {smtp}")


def identity(url: str) -> TargetId:
    """`url`'s target (one chat, recipient or endpoint, as :func:`targets.expand` splits a
    channel): the same key for every URL that reaches it (options, ``bot`` prefix, a TLS
    twin scheme, letter case of a host or @name aside)."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme == "tgram":
            return _telegram(parts, url)
        if scheme in ("mailto", "mailtos"):
            return _mail(parts, url)
        host = (parts.hostname or "").lower()
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return TargetId(_hash("url", url.strip()), "a URL that does not parse")
    family = _TWINS.get(scheme, scheme)
    user = urllib.parse.unquote(parts.username or "")
    key = _hash(family, user, host + port, parts.path.rstrip("/"))
    return TargetId(key, f"{scheme}://{host}{port}" + ("/…" if parts.path.strip("/") else ""))


def legacy_key(channel: str) -> str:
    """The holder of a server hold written before targets had identities (migration 0015)."""
    return f"channel:{channel}"


def channel_keys(channel: str, urls: Iterable[str]) -> frozenset[str]:
    """The server-hold keys of a channel sending to `urls` (each split per recipient)."""
    return frozenset([identity(u).key for configured in urls for u in expand(configured)] + [legacy_key(channel)])


def rate_signature(limits: Iterable[tuple[int, float]]) -> str:
    """The limits (count, seconds) a channel's targets send under, as one string: a rate
    hold made under other limits no longer holds."""
    return ",".join(f"{count}/{period:g}s" for count, period in sorted(set(limits), key=lambda cp: (cp[1], cp[0])))


def held_by(holds: Iterable[Hold], channel: str, keys: frozenset[str], rate: str) -> Hold | None:
    """The hold that keeps `channel` silent now (the longest), or None: a server hold of
    one of its targets (`keys`: :func:`channel_keys`), or its own rate hold when made
    under the limits it has now (`rate`: :func:`rate_signature`)."""
    mine = [
        h
        for h in holds
        if (h.kind == SERVER and h.holder in keys) or (h.kind == RATE and h.holder == channel and h.rate == rate)
    ]
    return max(mine, key=lambda h: h.left, default=None)
