import gzip
from monitor.sources.sitemap import parse_sitemap
from monitor.sources.opml import read_opml
T = "مجلس الأمن يصادق على «الاتفاق النووي».. وإيران تقول إنه «غير مقبول»"   # from tests/fixtures/issue13/K4 EXPECTED
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"'
def sm(body, pre='<?xml version="1.0" encoding="UTF-8"?>'): return (pre + f'<urlset {NS}>{body}</urlset>').encode()
news = f'<news:news><news:publication><news:name>الشرق الأوسط</news:name><news:language>ar</news:language></news:publication><news:publication_date>2015-07-21T10:00:00+03:00</news:publication_date><news:title>{T}</news:title></news:news>'
img = '<image:image><image:loc>https://cdn.n.example/i.jpg</image:loc><image:title>صورة أرشيفية</image:title></image:image>'
cases = {
 "image before news": sm(f'<url><loc>https://n.example/a1</loc>{img}{news}</url>'),
 "publication name as title?": sm(f'<url><loc>https://n.example/a1</loc><news:news><news:publication><news:name>الشرق الأوسط</news:name></news:publication><news:title>{T}</news:title></news:news></url>'),
 "loc after image (image:loc first)": sm(f'<url>{img}<loc>https://n.example/a1</loc>{news}</url>'),
 "DOCTYPE w/ entity used in title": sm(f'<url><loc>https://n.example/a1</loc><news:news><news:title>&org; {T}</news:title></news:news></url>', '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY org "وكالة">]>'),
 "DOCTYPE with ]> inside value": sm(f'<url><loc>https://n.example/a1</loc>{news}</url><url><loc>https://n.example/a2</loc>{news}</url>', '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x "a]>b">]>'),
 "mixed-case LOC via http": sm('<url><loc> HTTPS://n.example/a1 </loc></url>'),
 "loc CDATA": sm(f'<url><loc><![CDATA[https://n.example/a?x=1&y=2]]></loc>{news}</url>'),
 "loc with raw & and &nbsp; title": sm(f'<url><loc>https://n.example/a?x=1&y=2</loc><news:news><news:title>مجلس&nbsp;الأمن &hellip;</news:title></news:news></url>'),
 "gzip + trailing junk": gzip.compress(sm(f'<url><loc>https://n.example/a1</loc>{news}</url>')) + b"\n<!-- cache -->",
 "gzip twice": gzip.compress(gzip.compress(sm(f'<url><loc>https://n.example/a1</loc>{news}</url>'))),
 "truncated mid-title (2 entries)": sm(f'<url><loc>https://n.example/a1</loc>{news}</url><url><loc>https://n.example/a2</loc>{news}</url>')[:-60],
 "HTML error page 200": b'<!DOCTYPE html><html><body><h1>404</h1><a href="https://n.example/a">x</a></body></html>',
 "no namespace urlset": b'<urlset><url><loc>https://n.example/a1</loc></url></urlset>',
 "leading junk text": b'Warning: mysql_connect() failed in /var/www\n' + sm(f'<url><loc>https://n.example/a1</loc>{news}</url>'),
 "PHP notice after": sm(f'<url><loc>https://n.example/a1</loc>{news}</url>') + b'\n<b>Notice</b>: Undefined index',
}
for k, v in cases.items():
    try:
        r = parse_sitemap("s", v, "https://n.example/sitemap.xml")
        print(f"{k:34} n={len(r.items)} " + " | ".join(f"{i.url} title={i.title[:25]!r}" for i in r.items[:2]) + f"  W={[w[:70] for w in r.warnings]}")
    except Exception as e: print(f"{k:34} RAISE {type(e).__name__}: {str(e)[:120]}")
print("---- OPML")
op = {
 "lowercase xmlurl": '<opml version="1.0"><body><outline text="a" xmlurl="https://n.example/feed"/></body></opml>',
 "javascript / file url": '<opml version="2.0"><body><outline text="a" xmlUrl="file:///etc/passwd"/><outline text="b" xmlUrl="javascript:alert(1)"/><outline text="c" xmlUrl="http://127.0.0.1:9/x"/></body></opml>',
 "relative url": '<opml version="2.0"><body><outline text="a" xmlUrl="/feed.xml"/></body></opml>',
 "type=link url attr": '<opml version="2.0"><body><outline text="a" type="link" url="https://n.example/feed"/></body></opml>',
 "type=sitemap": '<opml version="2.0"><body><outline text="a" type="sitemap" xmlUrl="https://n.example/sitemap.xml"/></body></opml>',
 "type=page no links": '<opml version="2.0"><body><outline text="a" type="page" xmlUrl="https://n.example/news"/></body></opml>',
 "empty title/text": '<opml version="2.0"><body><outline title="" text="" xmlUrl="https://n.example/feed"/></body></opml>',
 "same name twice": f'<opml version="2.0"><body><outline text="{T}" xmlUrl="https://n.example/f1"/><outline text="{T}" xmlUrl="https://n.example/f2"/></body></opml>',
 "html entities in text": '<opml version="2.0"><body><outline text="أخبار&nbsp;&laquo;اليوم&raquo; &amp;amp; more" xmlUrl="https://n.example/f?a=1&b=2"/></body></opml>',
 "no opml root (body only)": '<body><outline text="a" xmlUrl="https://n.example/feed"/></body>',
 "namespaced opml": '<o:opml xmlns:o="http://opml.org/spec2"><o:body><o:outline text="a" xmlUrl="https://n.example/feed"/></o:body></o:opml>',
 "xmlUrl with spaces/newline": '<opml><body><outline text="a" xmlUrl="  https://n.example/my feed.xml\n"/></body></opml>',
}
for k, v in op.items():
    try:
        feeds, w = read_opml(v.encode())
        print(f"{k:28} {[(f.name[:20], f.url, f.kind) for f in feeds]} W={[x[:60] for x in w]}")
    except Exception as e: print(f"{k:28} RAISE {type(e).__name__}: {str(e)[:100]}")
