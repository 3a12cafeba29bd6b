"""monitor.extract.article on real article text inside realistic pages (tests/corpus_pages.py).

Thresholds were measured first (run ``python3 tests/test_extract.py`` for the table)
and then set with some slack. Measured with trafilatura 2.3.1:
CNN page P=1.000 R=1.000 (trafilatura alone P=0.842, it keeps the comment policy);
seed pages x 6 styles: P=R=1.000 on every page.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import trafilatura

from monitor.errors import ExtractError
from monitor.extract.article import extract
from monitor.models import ExtractedText
from tests.support import corpus_pages as cp

PAGES = Path(__file__).parent.parent / "fixtures" / "pages"
_FOLD = str.maketrans("أإآٱىة", "اااايه")


def norm(text: str) -> str:
    text = re.sub(r"[\u064b-\u065f\u0670\u0640]", "", text).translate(_FOLD)
    return " ".join(re.findall(r"\w+", text))


def prf(got: str, expected: str) -> tuple[float, float]:
    """Token-level (bag of words) precision and recall."""
    g, e = Counter(norm(got).split()), Counter(norm(expected).split())
    overlap = sum((g & e).values())
    return overlap / max(1, sum(g.values())), overlap / max(1, sum(e.values()))


def leaked(body: str, snippets, article: str = "") -> list[str]:
    """Snippets (>= 20 chars) found in ``body`` that are not part of the article itself."""
    b, a = norm(body), norm(article)
    return [s for s in snippets if len(s) >= 20 and norm(s) in b and norm(s) not in a]


def trafilatura_alone(page: str) -> str:
    return trafilatura.extract(page, include_comments=False, favor_precision=True) or ""


# ---------------------------------------------------------------- (a) the real CNN page
def test_cnn_page_matches_human_marked_body():
    page = (PAGES / "cnn-arabic-2013.html").read_bytes()
    expected = (PAGES / "cnn-arabic-2013.expected.txt").read_text(encoding="utf-8")
    got = extract(page, url="http://arabic.cnn.com/2013/middle_east/8/3/syria.clashes/index.html")
    assert isinstance(got, ExtractedText)
    assert got.title == "معارضون يسيطرون على مخازن للصواريخ بريف دمشق"
    precision, recall = prf(got.body, expected)
    assert recall >= 0.97 and precision >= 0.95, (precision, recall)
    assert len(got.body.split("\n\n")) == len(expected.strip().split("\n\n"))
    assert "الأكثر تصفحاً" not in got.body and "ترحب شبكة CNN" not in got.body


# ---------------------------------------------------------------- (b) seed reports x styles
SEEDS = {s.name: s for s in cp.seed_reports()}


def test_seed_table_splits_article_from_junk():
    s000, s002, s003 = SEEDS.values()
    assert s003.appended_story and "باكستان" in s003.appended_story[0]
    assert not any("باكستان" in p for s in SEEDS.values() for p in s.body_paragraphs)
    assert len(s003.related) == 5 and len(s000.read_also) == 2 and not s002.tail_junk
    assert all(p not in s.tail_junk for s in SEEDS.values() for p in s.body_paragraphs)


@pytest.mark.parametrize("style", cp.STYLES)
@pytest.mark.parametrize("name", list(SEEDS))
def test_seed_page_keeps_article_drops_related(name, style):
    seed = SEEDS[name]
    page = cp.seed_page(seed, style)
    got = extract(page, url=seed.url)
    article = "\n".join(seed.body_paragraphs)
    precision, recall = prf(got.body, article)
    assert recall >= 0.98 and precision >= 0.97, (precision, recall)
    assert norm(got.title) == norm(seed.title)
    chrome = cp.titles_mentioning(cp.CHROME_WORDS) + cp.other_titles(5, exclude=seed.title)
    assert not leaked(got.body, list(seed.tail_junk) + chrome, article)
    paragraphs = set(got.body.split("\n\n"))
    assert not paragraphs & set(seed.furniture + ("مشاركة", "طباعة", "الكلمات الدالة"))
    assert "باكستان" not in got.body  # the appended story of seed 003 (and absent from others)


# ---------------------------------------------------------------- (c) SaudiNewsNet x styles
def _snn_cases():
    arts = [a for d in cp.DAYS for a in cp.saudinewsnet_articles(d)]
    chrome = cp.titles_mentioning(cp.CHROME_WORDS)
    for i, a in enumerate(arts[::12]):
        other = arts[(i * 7 + 3) % len(arts)]
        appended = (other["title"], tuple(cp.split_paragraphs(other["content"])[:3])) if i % 2 == 0 else None
        yield pytest.param(
            a,
            chrome[i % 5 : i % 5 + 4],
            [chrome[(i + 6) % len(chrome)], chrome[(i + 7) % len(chrome)]],
            appended,
            id=f"{a['source']}-{i}",
        )


@pytest.mark.parametrize("style", cp.STYLES)
@pytest.mark.parametrize("art,related,read_also,appended", list(_snn_cases()))
def test_saudinewsnet_page(art, related, read_also, appended, style):
    paragraphs = cp.split_paragraphs(art["content"])
    page = cp.article_page(
        art["title"],
        paragraphs,
        outlet=art["source"],
        url=art["url"],
        style=style,
        related=[(t, f"/r/{k}") for k, t in enumerate(related)],
        read_also=[(t, "/ra") for t in read_also],
        appended_story=appended,
    )
    got = extract(page, url=art["url"])
    article = "\n".join(paragraphs)
    precision, recall = prf(got.body, article)
    assert recall >= 0.98 and precision >= 0.97, (precision, recall)
    junk = related + read_also + (list(appended[1]) + [appended[0]] if appended else [])
    assert not leaked(got.body, junk, article)


# ---------------------------------------------------------------- layouts without class hints
def _bare_layouts():
    """Pages whose only hints are text labels and structure (neutral class names)."""
    arts = [a for d in cp.DAYS for a in cp.saudinewsnet_articles(d)]
    chrome = cp.titles_mentioning(cp.CHROME_WORDS)
    li = "".join(f"<li><a href=/x>{c}</a></li>" for c in chrome[:4])
    for n, a in enumerate(arts[5::60]):
        ps, t = cp.split_paragraphs(a["content"]), a["title"]
        other = arts[(n * 11 + 2) % len(arts)]
        ops = cp.split_paragraphs(other["content"])[:3]
        p = lambda xs, tag="p": "".join(f"<{tag}>{x}</{tag}>" for x in xs)  # noqa: E731
        half = max(1, len(ps) // 2)
        cards = "".join(f"<div class=c><a href=/x>{c}</a><p>{ops[0][:150]}</p></div>" for c in chrome[:3])
        layouts = {
            "div-paragraphs+strong-label": (
                ps,
                f"<h1>{t}</h1><div>{p(ps, 'div')}</div><strong>روابط ذات صلة</strong><ul>{li}</ul>",
            ),
            "tags-above-body": (
                ps,
                f"<h1>{t}</h1><div><span>كلمات مفتاحية:</span> <a href=/t>روسيا</a> <a href=/u>كوريا</a></div>{p(ps)}",
            ),
            "short-article+teaser-cards": (ps[:1], f"<h1>{t}</h1>{p(ps[:1])}<h3>مقالات ذات صلة</h3>{cards}"),
            "mid-body-watch-also": (
                ps,
                f"<h1>{t}</h1>{p(ps[:half])}<div><span>شاهد أيضًا:</span> <a href=/v>{chrome[0]}</a></div>{p(ps[half:])}",
            ),
            "mid-body-related-list": (
                ps,
                f"<h1>{t}</h1>{p(ps[:half])}<div><h4>أخبار ذات صلة</h4><ul>{li}</ul></div>{p(ps[half:])}",
            ),
            "appended-story-h1": (ps, f"<h1>{t}</h1>{p(ps)}</div><div><h1>{other['title']}</h1>{p(ops)}"),
            "br-body+more-from": (
                ps,
                f"<h1>{t}</h1><div>{'<br/><br/>'.join(ps)}<br/><br/>المزيد من أخبار المحليات<br/>"
                f"<a href=/a>{chrome[1]}</a><br/><a href=/b>{chrome[2]}</a></div>",
            ),
        }
        for name, (kept, body) in layouts.items():
            junk = chrome[:4] + [other["title"], ops[0][:150]] + ops
            yield pytest.param(
                kept,
                f"<html><head><title>{t}</title></head><body><div>{body}</div></body></html>",
                junk,
                id=f"{name}-{n}",
            )


@pytest.mark.parametrize("kept,page,junk", list(_bare_layouts()))
def test_layout_without_class_hints(kept, page, junk):
    got = extract(page)
    article = "\n".join(kept)
    assert prf(got.body, article)[1] >= 0.98
    assert not leaked(got.body, junk, article)


@pytest.mark.xfail(
    reason="known gap: an appended story under a plain <h2> in a plain <div>, "
    "with no <article>, label or title class, is read as a subhead",
    strict=True,
)
def test_appended_story_under_plain_h2_is_dropped():
    seed = SEEDS["003_06eb678c74ab6c05"]
    title, paragraphs = seed.appended_story
    page = (
        f"<html><body><div><h1>{seed.title}</h1><div>{''.join(f'<p>{p}</p>' for p in seed.body_paragraphs)}"
        f"</div><div><h2>{title}</h2>{''.join(f'<p>{p}</p>' for p in paragraphs)}</div></div></body></html>"
    )
    assert "باكستان" not in extract(page).body


# ---------------------------------------------------------------- trafilatura alone, for the record
def leak_table():
    """Per (seed, style): (ours P, R, leaks) and (trafilatura alone P, R, leaks)."""
    rows = []
    for seed in SEEDS.values():
        article = "\n".join(seed.body_paragraphs)
        junk = list(seed.tail_junk) + cp.titles_mentioning(cp.CHROME_WORDS)
        for style in cp.STYLES:
            page = cp.seed_page(seed, style)
            ours, alone = extract(page).body, trafilatura_alone(page)
            rows.append(
                (
                    seed.name[:3],
                    style,
                    *prf(ours, article),
                    len(leaked(ours, junk, article)),
                    *prf(alone, article),
                    len(leaked(alone, junk, article)),
                )
            )
    return rows


def test_trafilatura_alone_keeps_related_material_we_drop():
    """Documents a finding: trafilatura 2.3.1 alone keeps related cards and the appended
    Pakistan story on some layouts (seed 003 styles 1 and 4); our pass removes them."""
    rows = leak_table()
    assert sum(r[4] for r in rows) == 0
    assert sum(r[7] for r in rows) >= sum(r[4] for r in rows)


# ---------------------------------------------------------------- (d) errors and encodings
@pytest.mark.parametrize("page", ["", "   \n", b"", b"\xef\xbb\xbf"])
def test_empty_page_raises(page):
    with pytest.raises(ExtractError, match="empty"):
        extract(page, url="https://news.example/a")


def test_navigation_only_page_raises_with_reason():
    links = "".join(f'<li><a href="/n/{k}">{t}</a></li>' for k, t in enumerate(cp.other_titles(12)))
    page = f"<html><body><nav><ul>{links}</ul></nav><ul>{links}</ul><footer>© 2015</footer></body></html>"
    with pytest.raises(ExtractError, match=r"no article text found \(https://news.example/a\).*links"):
        extract(page, url="https://news.example/a")


def test_page_without_text_raises():
    with pytest.raises(ExtractError, match="no visible text"):
        extract("<html><head><script>var a=1;</script></head><body><img src=x></body></html>")


def _sample_page(charset: str = "utf-8", style: int = 0) -> tuple[str, list[str], str]:
    art = cp.saudinewsnet_articles("2015-07-21", limit=2)[1]
    paras = cp.split_paragraphs(art["content"])
    return (
        cp.article_page(art["title"], paras, outlet="alyaum", url=art["url"], style=style, charset=charset),
        paras,
        art["title"],
    )


@pytest.mark.parametrize(
    "encoding,declared",
    [("utf-8", "utf-8"), ("cp1256", "windows-1256"), ("utf-8", None), ("cp1256", None), ("utf-8", "windows-1256")],
)  # a wrong declaration
def test_bytes_input_is_decoded(encoding, declared):
    page, paras, title = _sample_page(declared or "x-unknown")
    if declared is None:
        page = page.replace('<meta charset="x-unknown">', "")
    got = extract(page.encode(encoding))
    assert got.title == title
    assert prf(got.body, "\n".join(paras))[1] >= 0.98


def test_xml_declaration_and_control_characters_are_tolerated():
    page, paras, _ = _sample_page()
    got = extract('<?xml version="1.0" encoding="utf-8"?>' + page.replace("</p>", "\x0b</p>", 1))
    assert prf(got.body, "\n".join(paras))[1] >= 0.98


def test_title_prefers_agreeing_h1_and_strips_outlet():
    _, paras, title = _sample_page()
    body = "".join(f"<p>{p}</p>" for p in paras)
    logo = (
        f'<html><head><title>{title} | اليوم</title><meta property="og:site_name" content="اليوم">'
        f'</head><body><h1 class="logo">اليوم</h1><div>{body}</div></body></html>'
    )
    assert extract(logo).title == title
    no_og = f"<html><head><title>{title} - اليوم</title></head><body><h1>{title}</h1>{body}</body></html>"
    assert extract(no_og).title == title


if __name__ == "__main__":  # the measurement table quoted in the report
    cnn = extract((PAGES / "cnn-arabic-2013.html").read_bytes()).body
    alone = trafilatura_alone((PAGES / "cnn-arabic-2013.html").read_text(encoding="utf-8"))
    exp = (PAGES / "cnn-arabic-2013.expected.txt").read_text(encoding="utf-8")
    print("CNN  ours P={:.3f} R={:.3f} | trafilatura alone P={:.3f} R={:.3f}".format(*prf(cnn, exp), *prf(alone, exp)))
    print("seed style | ours P R leaks | alone P R leaks")
    for r in leak_table():
        print("%s  %d  | %.3f %.3f %d | %.3f %.3f %d" % r)
