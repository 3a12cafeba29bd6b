"""Interstitial pages: a consent wall, an "enable JavaScript" page, a bot challenge or a
paywall stub answered in place of an article (pure, no I/O).

An outlet that answers every article URL with the same such page would otherwise have
that text stored as the article's body, matched, and every later article of the outlet
taken as a Jaccard-1.0 copy of the first (issue 12, loss 5). The pipeline asks
``detect`` about every fetched page and ``HostMemory`` about every extracted body; on a
hit it matches the feed's own title and teaser instead, with a warning on the feed.

Signals, each enough on its own:

- ``markup``: the markup of a bot-challenge or consent service (Cloudflare's
  ``/cdn-cgi/challenge-platform``, DataDome, PerimeterX, Incapsula, Sucuri, a form posting
  to a ``consent.`` host) on a page of at most ``MARKUP_WORDS`` words of text (the same
  scripts sit on real article pages too).
- ``title``: a page title that is a wall's title ("Just a moment...", "Before you
  continue", "Access denied", ...), whatever the body.
- ``phrase``: wall phrases (English, Arabic, French, German, Spanish; matched on folded
  text) in a short body (<= ``MAX_WALL_WORDS`` words), or, but for consent phrases (cookie
  banners sit on real pages), anywhere on the page around a teaser of <= ``TEASER_WORDS``;
  kinds ``challenge``, ``javascript``, ``consent``, ``paywall``.
- ``redirect``: the page was reached by a redirect to a consent host (``consent.google.com``,
  ``guce.yahoo.com``, any ``consent.``/``cmp.`` host) or a consent path (``/consent``,
  ``/gdpr``, ``/cookie-wall``...).
- ``unrelated``: a short page (<= ``MAX_WALL_WORDS`` words) whose title and body hold none
  of the words of the feed's headline (a full article under another headline is left to
  ``repeated``: feeds and tests alike point several headlines at one real article).
- ``repeated`` (``HostMemory``): the same body text on a different URL of the same host,
  under a different headline.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
import urllib.parse
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.text.normalize import fold, words

MAX_WALL_WORDS = 250  # a body longer than this is an article, whatever phrases it holds
TEASER_WORDS = 120  # an article this short is checked for a paywall or JavaScript box around it
MARKUP_WORDS = 60  # a service's markup counts only on a page with at most this much text
_COUNT_WORDS = max(MAX_WALL_WORDS, TEASER_WORDS, MARKUP_WORDS) + 1  # a body's words are counted up to this
HOST_MEMORY = 64  # recent bodies remembered per host
MAX_HOSTS = 512  # hosts remembered (least recently used dropped)


@dataclass(frozen=True)
class Interstitial:
    """Why a page was taken for an interstitial: ``kind`` one of challenge, javascript,
    consent, paywall, repeated, unrelated; ``signal`` one of markup, title, phrase,
    redirect, unrelated, repeated; ``evidence`` the marker, URL or other URL found."""

    kind: str
    signal: str
    evidence: str

    def describe(self) -> str:
        return f"{self.kind} page ({self.signal}: {self.evidence})"


# Markup of challenge and consent services (raw HTML, case-insensitive).
_MARKUP: tuple[tuple[str, str], ...] = (
    ("challenge", "/cdn-cgi/challenge-platform/h/"),  # the challenge itself (not /scripts/jsd/ on real pages)
    ("challenge", "/cdn-cgi/challenge-platform/orchestrate"),
    ("challenge", "cf-chl-"),
    ("challenge", "cf_chl_opt"),
    ("challenge", 'id="challenge-form"'),
    ("challenge", "captcha-delivery.com"),  # DataDome
    ("challenge", "px-captcha"),  # PerimeterX / HUMAN
    ("challenge", "_incapsula_resource"),
    ("challenge", "sucuri_cloudproxy_js"),
    ("challenge", "/_sec/cp_challenge"),  # Akamai
    ("consent", 'action="https://consent.'),
    ("consent", "action='https://consent."),
    ("consent", "guce.yahoo.com"),
)

# Whole page titles of walls (folded, without trailing dots).
_TITLES: dict[str, str] = {
    "just a moment": "challenge",
    "attention required": "challenge",
    "attention required! | cloudflare": "challenge",
    "access denied": "challenge",
    "are you a robot?": "challenge",
    "are you a robot": "challenge",
    "security check": "challenge",
    "please wait": "challenge",
    "before you continue": "consent",
    "before you continue to google": "consent",
    "before you continue to youtube": "consent",
    "privacy consent": "consent",
    "cookie consent": "consent",
    "bevor sie fortfahren": "consent",
    "avant de continuer": "consent",
    "antes de continuar": "consent",
    "لحظة من فضلك": "challenge",
    "قبل المتابعة": "consent",
}

# Phrases of walls, matched as substrings of the folded text. Arabic ones as outlets and
# services write them (UI labels, like the cookie banner of tests/support/corpus_pages).
_PHRASES: dict[str, tuple[str, ...]] = {
    "challenge": (
        "checking your browser",
        "checking if the site connection is secure",
        "verify you are human",
        "verifying you are human",
        "needs to review the security of your connection",
        "enable cookies and reload",
        "are you a robot",
        "complete the captcha",
        "unusual traffic from your",
        "ray id",
        "request unsuccessful. incapsula",
        "التحقق من انك انسان",
        "تحقق من انك انسان",
        "تحقق من انك لست روبوت",
        "التحقق من متصفحك",
        "vérification que vous êtes humain",
        "überprüfen, ob sie ein mensch sind",
    ),
    "javascript": (
        "enable javascript",
        "javascript is disabled",
        "javascript is required",
        "requires javascript",
        "javascript must be enabled",
        "turn on javascript",
        "your browser does not support javascript",
        "تفعيل جافا سكريبت",
        "تفعيل الجافا سكريبت",
        "تفعيل جافاسكريبت",
        "تفعيل الجافاسكريبت",
        "تفعيل جافا سكربت",
        "تمكين جافا سكريبت",
        "تمكين جافاسكريبت",
        "activer javascript",
        "activez javascript",
        "javascript aktivieren",
        "benötigt javascript",
        "habilitar javascript",
        "habilita javascript",
    ),
    "consent": (
        "we value your privacy",
        "we care about your privacy",
        "your privacy choices",
        "before you continue",
        "accept all cookies",
        "manage your cookie",
        "use of cookies",
        "uses cookies",
        "we use cookies",
        "reject all",
        "consent to the use",
        "your consent",
        "store and/or access information on a device",  # the IAB consent framework's purpose text
        "precise geolocation data",
        "personalised advertising",
        "personalized advertising",
        "before consenting",
        "نستخدم ملفات تعريف الارتباط",
        "ملفات تعريف الارتباط",
        "الكوكيز",
        "قبول الكل",
        "رفض الكل",
        "نحترم خصوصيتك",
        "موافقتك على",
        "bevor sie fortfahren",
        "alle akzeptieren",
        "avant de continuer",
        "tout accepter",
        "nous utilisons des cookies",
        "aceptar todo",
        "utilizamos cookies",
    ),
    "paywall": (
        "subscribe to continue reading",
        "subscribe to read",
        "to continue reading, subscribe",
        "already a subscriber",
        "this article is for subscribers",
        "this content is for subscribers",
        "subscribers only",
        "للمشتركين فقط",
        "اشترك لمتابعة القراءة",
        "اشترك لمواصلة القراءة",
        "هذا المحتوى متاح للمشتركين",
        "هذا المحتوى للمشتركين",
        "réservé aux abonnés",
        "nur für abonnenten",
    ),
}
_FOLDED_PHRASES = tuple((kind, fold(p), p) for kind, ps in _PHRASES.items() for p in ps)
_STUB_KINDS = frozenset({"paywall", "javascript", "challenge"})  # not consent: cookie banners sit on real pages
_FOLDED_TITLES = {fold(t): k for t, k in _TITLES.items()}

CONSENT_HOSTS = frozenset(
    {
        "consent.google.com",
        "consent.youtube.com",
        "consent.yahoo.com",
        "guce.yahoo.com",
        "guce.oath.com",
        "guce.aol.com",
        "consent.cookiebot.com",
        "privacy.aol.com",
    }
)
_CONSENT_HOST_LABEL = re.compile(r"^(consent|guce|cmp|gdpr|cookies?)[.-]")
_CONSENT_PATH = re.compile(
    r"/(consent|gdpr|cmp|cookie-?wall|cookies?-?consent|privacy-?(gate|consent|wall)|collectconsent)(/|$|\.|\?)", re.I
)


def detect(html: str, *, url: str, item_title: str, page_title: str = "", body: str | None = "") -> Interstitial | None:
    """Whether a fetched page is an interstitial rather than the article.

    ``html``: the decoded page; ``url``: its final URL; ``item_title``: the feed's headline
    for it; ``page_title``/``body``: what the extractor made of it, ``body=None`` when it
    found no article text at all (then the raw page's text is read for phrases).
    """
    visible: str | None = None  # the raw page's text, read at most once
    if body is None:
        body = visible = _visible_text(html)
    # Only compared with the word limits: counting stops past the largest (a long body is not split whole).
    n_words = len(body.split(None, _COUNT_WORDS))
    if n_words <= MARKUP_WORDS:  # services put their scripts on real pages too: only a near-empty one
        low = html[:200_000].lower()
        for kind, marker in _MARKUP:
            if marker in low:
                return Interstitial(kind, "markup", marker)
    title = fold(page_title or _html_title(html)).strip().rstrip(".…").strip()
    if title in _FOLDED_TITLES:
        return Interstitial(_FOLDED_TITLES[title], "title", title)
    if n_words <= MAX_WALL_WORDS:
        text = fold(f"{page_title}\n{body}")
        for kind, phrase, written in _FOLDED_PHRASES:
            if phrase in text:
                return Interstitial(kind, "phrase", written)
    if n_words <= TEASER_WORDS:  # a teaser kept from a stub: the wall's box was dropped as chrome
        page = fold(visible if visible is not None else _visible_text(html))
        for kind, phrase, written in _FOLDED_PHRASES:
            if kind in _STUB_KINDS and phrase in page:
                return Interstitial(kind, "phrase", written)
    if body and n_words <= MAX_WALL_WORDS and unrelated(item_title, page_title, body):
        return Interstitial("unrelated", "unrelated", page_title[:80] or "(no title)")
    return None


def consent_redirect(requested: str, final: str) -> Interstitial | None:
    """A redirect from ``requested`` to a consent host or path (None when not redirected)."""
    if not final or final == requested:
        return None
    parts = urllib.parse.urlsplit(final)
    host = (parts.hostname or "").lower()
    if host in CONSENT_HOSTS or _CONSENT_HOST_LABEL.match(host) or _CONSENT_PATH.search(parts.path):
        return Interstitial("consent", "redirect", final[:200])
    return None


def unrelated(item_title: str, page_title: str, body: str) -> bool:
    """A page that says nothing of the feed's headline: of the headline's words (3 or more,
    of 3+ letters) none is in the page's title or body. (Looser rules misfire: 7% of the
    fixture articles hold under a third of their headline's words, 0.6% hold none.)"""
    head = {w for w in words(item_title) if len(w) >= 3}
    if len(head) < 3:
        return False
    # the title first: when it shares a headline word (nearly always) the body is not read
    return not (head.intersection(words(page_title)) or head.intersection(words(body)))


def body_key(body: str | Sequence[str]) -> str:
    """SHA-1 of the body's folded words joined by spaces ("" for a body without words).

    Words (``text.normalize.words``, cached per whitespace-separated piece), not ``fold`` of the whole
    body: folding a 5 KB body character by character cost ≈ 5 ms per article (issue 16).
    Bodies that differ only in punctuation get the same key. ``body`` may be given as its
    words already (``FoldedText.body``: the pipeline folds each article once)."""
    text = " ".join(words(body) if isinstance(body, str) else body)
    return hashlib.sha1(text.encode("utf-8")).hexdigest() if text else ""


class HostMemory:
    """Recent page bodies per host: the same body on a different URL of one host, under
    another headline, is the outlet's interstitial, not an article. In-process and bounded
    (``HOST_MEMORY`` bodies per host, ``MAX_HOSTS`` hosts); not thread-safe by itself."""

    def __init__(self, per_host: int = HOST_MEMORY, hosts: int = MAX_HOSTS) -> None:
        self._per_host, self._hosts = per_host, hosts
        self._seen: OrderedDict[str, OrderedDict[str, tuple[str, str]]] = OrderedDict()

    def check(self, url: str, url_key: str, title: str, body: str | Sequence[str]) -> Interstitial | None:
        """Remember this page's body (its text, or its words: ``body_key``); an Interstitial
        if another URL of its host had it."""
        key = body_key(body)
        host = (urllib.parse.urlsplit(url).hostname or "").lower()
        if not key or not host:
            return None
        seen = self._seen.setdefault(host, OrderedDict())
        self._seen.move_to_end(host)
        while len(self._seen) > self._hosts:
            self._seen.popitem(last=False)
        prior = seen.get(key)
        seen[key] = prior if prior is not None and prior[0] != url_key else (url_key, title)
        seen.move_to_end(key)
        while len(seen) > self._per_host:
            seen.popitem(last=False)
        if prior is None or prior[0] == url_key or not different_headlines(prior[1], title):
            return None
        return Interstitial("repeated", "repeated", prior[0][:200])


def different_headlines(a: str, b: str) -> bool:
    """Two headlines that share under half of their words (an edited headline is the same)."""
    wa, wb = set(words(a)), set(words(b))
    if not wa or not wb:
        return wa != wb
    return len(wa & wb) / min(len(wa), len(wb)) < 0.5


_RAW_TEXT = ("script", "style", "noscript", "template", "title")  # elements whose content is not page text


def _visible_text(html: str) -> str:
    """The raw page's text without scripts, styles, the title and tags (for a page with no
    article). One forward pass with `str.find` (no backtracking regex: a page of `<` or of
    unclosed `<script` costs its length, not its square); an unclosed tag ends the text."""
    page = html[:200_000]
    low = page.lower()
    out: list[str] = []
    pos, end = 0, len(page)
    while pos < end:
        lt = low.find("<", pos)
        if lt < 0:
            out.append(page[pos:])
            break
        out.append(page[pos:lt])
        out.append(" ")
        name = next(
            (
                t
                for t in _RAW_TEXT
                if low.startswith(t, lt + 1) and not low[lt + 1 + len(t) : lt + 2 + len(t)].isalnum()
            ),
            None,
        )
        if name is not None:
            close = low.find("</" + name, lt)
            gt = low.find(">", close) if close >= 0 else -1
        else:
            gt = low.find(">", lt + 1)
        if gt < 0:
            break
        pos = gt + 1
    return " ".join(html_lib.unescape("".join(out)).split())


def _html_title(html: str) -> str:
    """The page's <title> text (one forward pass, no regex)."""
    head = html[:50_000]
    low = head.lower()
    start = low.find("<title")
    gt = low.find(">", start) if start >= 0 else -1
    close = low.find("</title", gt) if gt >= 0 else -1
    return " ".join(head[gt + 1 : close].split()) if close >= 0 else ""
