"""Interstitial pages ("walls") as outlets and their CDNs answer them instead of an article,
for issue 12 loss 5. Each kind is rebuilt, in our own markup, after a public report:

- Cloudflare's managed challenge, "Just a moment..." with ``/cdn-cgi/challenge-platform``
  (eafer/rdrview#32; techempower-org/candela#1438 lists the same three signals);
- a GDPR consent form answered for every article URL from an EU address
  (JBGruber/paperboy#3, washingtonpost.com), and Google/Yahoo-style consent redirects;
- an "enable JavaScript" notice taken as the article text (ageitgey/node-unfluff#100;
  fivefilters/ftr-site-config#1558, NZZ's "benötigt JavaScript" in every article);
- a paywall stub: the article's first paragraph, then a subscribe box.

Only UI labels are written here (English/German/French as the services write them, Arabic
as outlets label their banners, like the cookie banner of tests/support/corpus_pages);
article text comes from tests/fixtures (SaudiNewsNet).
"""

from __future__ import annotations

from html import escape


def _page(title: str, body: str, head: str = "", lang: str = "en") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="robots" content="noindex,nofollow">{head}</head><body>{body}</body></html>'
    )


def cloudflare_challenge(host: str = "www.example.com") -> str:
    return _page(
        "Just a moment...",
        '<div class="main-wrapper" role="main"><div class="main-content">'
        f'<h1 class="zone-name-title h1">{host}</h1>'
        '<noscript><div id="challenge-error-title"><div class="h2">Enable JavaScript and cookies to continue'
        "</div></div></noscript>"
        f'<div id="challenge-body-text" class="core-msg spacer">{host} needs to review the security of your '
        "connection before proceeding.</div>"
        '<form id="challenge-form" action="/a/1?__cf_chl_f_tk=abc" method="POST"></form></div></div>'
        '<div class="footer"><div class="footer-inner"><div class="clearfix diagnostic-wrapper">'
        '<div class="ray-id">Ray ID: <code>7a1b2c3d4e5f6789</code></div></div></div></div>'
        '<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=7a1b2c3d4e5f6789"></script>',
        head='<link href="/cdn-cgi/styles/challenges.css" rel="stylesheet">',
    )


def cloudflare_block() -> str:
    return _page(
        "Attention Required! | Cloudflare",
        '<div id="cf-wrapper"><div id="cf-error-details"><h1>Sorry, you have been blocked</h1>'
        "<h2>You are unable to access this site</h2>"
        "<p>This website is using a security service to protect itself from online attacks. The action you just "
        "performed triggered the security solution. There are several actions that could trigger this block "
        "including submitting a certain word or phrase, a SQL command or malformed data.</p>"
        "<p>You can email the site owner to let them know you were blocked. Please include what you were doing "
        "when this page came up and the Cloudflare Ray ID found at the bottom of this page.</p></div></div>",
    )


def datadome_captcha() -> str:
    return _page(
        "",
        '<p>Please enable JS and disable any ad blocker</p><script>var dd={"rt":"c","cid":"AHrlqAAAAAMA",'
        '"host":"geo.captcha-delivery.com"}</script><script src="https://ct.captcha-delivery.com/c.js"></script>',
    )


def consent_wall_en(site: str = "Example News") -> str:
    return _page(
        f"{site} and our partners",
        '<div class="consent-page"><h1>We value your privacy</h1>'
        f"<p>{site} and our partners store and/or access information on a device, such as cookies, and process "
        "personal data, such as unique identifiers and standard information sent by a device, for personalised "
        "advertising and content, advertising and content measurement, audience research and services "
        "development.</p><p>With your permission we and our partners may use precise geolocation data and "
        "identification through device scanning. You may click to consent to our and our partners' processing "
        "as described above. Alternatively you may access more detailed information and change your "
        "preferences before consenting or to refuse consenting.</p>"
        '<form method="post" action="/consent/collect"><button name="agree">I agree</button>'
        '<button name="manage">Manage settings</button></form></div>',
    )


def consent_wall_ar(site: str = "الموقع") -> str:
    return _page(
        site,
        '<div class="cmp-wall" dir="rtl"><h1>نحترم خصوصيتك</h1>'
        "<p>نستخدم ملفات تعريف الارتباط (الكوكيز) لتحسين تجربتك على الموقع.</p>"
        '<button>قبول الكل</button><button>رفض الكل</button></div>',
        lang="ar",
    )


def consent_wall_de() -> str:
    return _page(
        "Bevor Sie fortfahren",
        "<h1>Bevor Sie fortfahren</h1><p>Wir verwenden Cookies und Daten, um Dienste bereitzustellen und zu "
        "verwalten, Ausfälle zu verfolgen und vor Spam, Betrug und Missbrauch zu schützen.</p>"
        "<button>Alle ablehnen</button><button>Alle akzeptieren</button>",
        lang="de",
    )


def javascript_notice_en() -> str:
    return _page(
        "",
        '<div id="app"></div><div class="no-js-message"><h2>JavaScript is disabled</h2>'
        "<p>Some features may not work without JavaScript. Please enable JavaScript in your browser settings "
        "and reload this page to read the article and its comments.</p></div>",
    )


def javascript_notice_de() -> str:
    return _page(
        "Optimieren Sie Ihre Browsereinstellungen",
        "<h1>Optimieren Sie Ihre Browsereinstellungen</h1><p>Diese Seite benötigt JavaScript für wichtige "
        "Funktionen. Ihr Browser oder Adblocker verhindert dies momentan. Bitte passen Sie die Einstellungen an "
        "und laden Sie die Seite danach neu, um den Artikel vollständig zu lesen.</p>",
        lang="de",
    )


def javascript_notice_ar(site: str = "الموقع") -> str:
    return _page(
        site,
        '<div id="root"></div><div class="noscript" dir="rtl">'
        "<p>يرجى تفعيل جافا سكريبت في المتصفح لعرض هذه الصفحة.</p></div>",
        lang="ar",
    )


def paywall_stub(title: str, first_paragraph: str) -> str:
    return _page(
        title,
        f'<article dir="rtl"><h1>{escape(title)}</h1><p>{escape(first_paragraph)}</p>'
        '<div class="paywall"><h3>هذا المحتوى للمشتركين</h3><p>اشترك لمتابعة القراءة</p>'
        '<a class="btn" href="/subscribe">اشترك الآن</a></div></article>',
        lang="ar",
    )


def paywall_stub_en(title: str, first_paragraph: str) -> str:
    return _page(
        title,
        f"<article><h1>{escape(title)}</h1><p>{escape(first_paragraph)}</p>"
        '<div class="piano-offer"><p>Subscribe to continue reading. Already a subscriber? '
        '<a href="/login">Log in</a></p></div></article>',
    )


# name -> (kind expected, page builder taking (title, first paragraph))
WALLS = {
    "cloudflare_challenge": ("challenge", lambda t, p: cloudflare_challenge()),
    "cloudflare_block": ("challenge", lambda t, p: cloudflare_block()),
    "datadome_captcha": ("challenge", lambda t, p: datadome_captcha()),
    "consent_en": ("consent", lambda t, p: consent_wall_en()),
    "consent_ar": ("consent", lambda t, p: consent_wall_ar()),
    "consent_de": ("consent", lambda t, p: consent_wall_de()),
    "javascript_en": ("javascript", lambda t, p: javascript_notice_en()),
    "javascript_de": ("javascript", lambda t, p: javascript_notice_de()),
    "javascript_ar": ("javascript", lambda t, p: javascript_notice_ar()),
    "paywall_ar": ("paywall", paywall_stub),
    "paywall_en": ("paywall", paywall_stub_en),
}
