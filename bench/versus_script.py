#!/usr/bin/env python3
"""`monitor once` against the plain script a user would write, on the same loopback feeds (issue 16).

    python3 bench/versus_script.py [--articles N] [--rounds R] [--feeds F] [--repeat K]
                                   [--shared DIR] [--stages] [--keep DIR] [--base DIR] [--source-only]

Pages and feeds are built from REAL text: N SaudiNewsNet articles (bodies of 300+ characters,
spread over the three days) from DIR/corpus (default ../shared, else /work/shared; when neither
exists, the tests/fixtures excerpts, and the script says so), each made into a news page with
tests/support/corpus_pages.article_page (styles 0..5, real related headlines, every third page
with another real story appended). They are served from a threaded HTTP server on 127.0.0.1 in
this process (its CPU is not counted), split into F RSS feeds. Feeds answer 304 to a matching
If-None-Match.

Round r (1..R) publishes the r-th share of the articles: each feed lists its new items and the
previous round's (already seen). After every round of each client an idle pass follows nothing;
after the last round one extra idle pass runs where every feed answers 304.

Both clients run as real subprocesses, one after the other per round, each with its own state:
  ours:   python3 -m monitor --config CONFIG once   (SQLite store, every feature on; topics =
          config.yaml + the labelled-set topics, all notifying a json:// sink on the server)
  script: python3 bench/plain_script.py             (feedparser, httpx, trafilatura.extract,
          substring search for the same topics' terms, apprise json:// to the same sink)
CPU is user+sys of each child and peak RSS its ru_maxrss, both from os.wait4 (per child, so
nothing else on the machine is counted). With --repeat K the whole run (fresh state) is
repeated K times and medians are printed.

--stages runs one more fresh round 1 of ours with CPU timers (time.thread_time, so worker
threads count) wrapped around the pipeline's stages, and prints inclusive ms per new article.

--base DIR also runs `monitor once` from another checkout (e.g. a detached worktree of main) as a
third client on the same feeds, in the same rounds, with its own state: before/after in one run.

Bytecode: an installed package has its .pyc files (pip compiles them); a checkout run with
PYTHONDONTWRITEBYTECODE=1 (as on the team's machine) compiles every module of monitor/ from source
in every process (≈ 95 modules, ≈ 0.15-0.3 s CPU). So each checkout's monitor/ is copied into the
run's folder and compiled there first (the checkout itself is not written to), as an install would
be; the script's libraries are installed, with their .pyc. --source-only runs the checkouts as
they are (the figures before 2026-11-30's fourth pass were measured that way).

Targets (issue 16): CPU ratio <= 1.5, our peak RSS <= 150 MB, idle pass ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

MIN_CONTENT = 300


# ---------------------------------------------------------------- data
def shared_dir(arg: str | None) -> Path | None:
    """The shared folder: --shared, else ../shared beside the checkout, else /work/shared."""
    for cand in ([Path(arg)] if arg else []) + [ROOT.parent / "shared", Path("/work/shared")]:
        if (cand / "corpus" / "saudinewsnet").is_dir():
            return cand
    return None


def load_articles(n: int, shared: Path | None) -> tuple[list[dict], str]:
    by_day: list[list[dict]] = []
    if shared is not None:
        for z in sorted((shared / "corpus" / "saudinewsnet").glob("*.zip")):
            with zipfile.ZipFile(z) as zf:
                by_day += [json.loads(zf.read(m)) for m in zf.namelist() if m.endswith(".json")]
    if by_day:
        source = f"full SaudiNewsNet corpus in {shared / 'corpus' / 'saudinewsnet'}"
    else:
        from tests.support import corpus_pages as cp

        print("NOTE: no shared corpus found: falling back to the tests/fixtures/saudinewsnet excerpts.")
        by_day = [cp.saudinewsnet_articles(d) for d in cp.DAYS]
        source = "tests/fixtures/saudinewsnet excerpts (fallback)"
    by_day = [[a for a in d if len(a.get("content") or "") >= MIN_CONTENT and a.get("title")] for d in by_day]
    # Round-robin over the days so every share of the articles mixes them.
    picked: list[dict] = []
    i = 0
    while len(picked) < n and any(i < len(d) for d in by_day):
        picked += [d[i] for d in by_day if i < len(d)]
        i += 1
    return picked[:n], source


def build_pages(arts: list[dict]) -> list[str]:
    from tests.support import corpus_pages as cp

    chrome = cp.titles_mentioning(cp.CHROME_WORDS)
    return [cp.corpus_article_page(arts, i, f"/a/{i}.html", chrome) for i in range(len(arts))]


def load_topics() -> list[dict]:
    """config.yaml topics then the labelled-set topics (a repeated id gets '-labelled')."""
    topics: list[dict] = []
    for path in (ROOT / "config.yaml", ROOT / "tests" / "fixtures" / "labelled" / "topics.yaml"):
        for t in yaml.safe_load(path.read_text(encoding="utf-8")).get("topics") or []:
            t = dict(t)
            if any(o["id"] == t["id"] for o in topics):
                t["id"] += "-labelled"
            t["notify"] = ["sink"]
            topics.append(t)
    return topics


def plain_terms(topics: list[dict]) -> list[str]:
    """Every positive term of the topics as the script's user would list them."""
    out: list[str] = []

    def add(term: object) -> None:
        if isinstance(term, dict):
            for t in term.get("terms") or [term.get("term")]:
                add(t)
        elif isinstance(term, list):
            for t in term:
                add(t)
        elif isinstance(term, str) and term.strip("~ ") and term.strip("~ ") not in out:
            out.append(term.strip("~ "))

    for t in topics:
        add(t.get("all") or [])
        add(t.get("any") or [])
    return out


# ---------------------------------------------------------------- server
class Site:
    """Feeds and pages of the current round; counts what was asked."""

    def __init__(self, arts: list[dict], pages: list[str], feeds: int, rounds: int) -> None:
        self.arts, self.pages, self.nfeeds, self.rounds = arts, pages, feeds, rounds
        self.round = 1
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}
        self.port = 0
        self.base = datetime(2015, 7, 21, tzinfo=UTC)

    def share(self, r: int) -> range:
        n = len(self.arts)
        return range((r - 1) * n // self.rounds, r * n // self.rounds) if r >= 1 else range(0)

    def feed(self, f: int) -> bytes:
        ids = [i for i in list(self.share(self.round - 1)) + list(self.share(self.round)) if i % self.nfeeds == f]
        items = []
        for i in reversed(ids):
            a = self.arts[i]
            link = f"http://127.0.0.1:{self.port}/a/{i}.html"
            first = a["content"].strip().split("\n")[0][:400]
            when = format_datetime(self.base + timedelta(minutes=i))
            items.append(
                f"<item><title>{escape(a['title'])}</title><link>{link}</link><guid>{link}</guid>"
                f"<pubDate>{when}</pubDate><description>{escape(first)}</description></item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>feed {f}</title><link>http://127.0.0.1:{self.port}/</link><description>bench</description>"
            + "".join(items)
            + "</channel></rss>"
        ).encode()

    def count(self, key: str) -> None:
        with self.lock:
            self.hits[key] = self.hits.get(key, 0) + 1


def serve(site: Site) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def _send(self, code: int, body: bytes, ctype: str, etag: str | None = None) -> None:
            self.send_response(code)
            if etag:
                self.send_header("ETag", etag)
            if code != 304:
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if code != 304:
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path.startswith("/feed/"):
                body = site.feed(int(path.split("/")[2].split(".")[0]))
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    site.count("feed 304")
                    return self._send(304, b"", "", etag)
                site.count("feed 200")
                return self._send(200, body, "application/rss+xml; charset=utf-8", etag)
            if path.startswith("/a/"):
                i = int(path.split("/")[2].split(".")[0])
                site.count("page")
                return self._send(200, site.pages[i].encode(), "text/html; charset=utf-8")
            self._send(404, b"not here", "text/plain")

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            site.count("alert")
            self._send(200, b"{}", "application/json")

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    site.port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


# ---------------------------------------------------------------- clients
OURS_ENV: dict[str, str] = {}  # --env K=V: extra environment for our process only (experiments)
BASE: list[Path] = []  # --base DIR: another checkout of monitor run alongside ours ("before")
INSTALLED: dict[Path, Path] = {}  # checkout -> its compiled copy (unless --source-only)


def install(tree: Path, dest: Path) -> Path:
    """A copy of ``tree``'s monitor/ package in ``dest`` with every module compiled (as pip does)."""
    shutil.copytree(tree / "monitor", dest / "monitor", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(dest / "monitor")], check=True)
    return dest


def child(
    cmd: list[str], cwd: Path, extra_env: dict[str, str] | None = None, tree: Path = ROOT
) -> tuple[float, float, str]:
    """(CPU seconds user+sys, peak RSS MB, stdout tail) of one subprocess, via os.wait4."""
    with open(cwd / "out.txt", "w") as out, open(cwd / "err.txt", "w") as err:
        # This checkout (or --base's) first on the path: the installed package may be another worktree's.
        where = INSTALLED.get(tree, tree)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(where), os.environ.get("PYTHONPATH")]))}
        env.update(extra_env or {})
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    tail = (cwd / "out.txt").read_text().strip().splitlines()[-1:]
    if p.returncode != 0:
        raise SystemExit(f"{cmd} exited {p.returncode}: {(cwd / 'err.txt').read_text()[-2000:]}")
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, tail[0] if tail else ""


def setup(work: Path, site: Site, topics: list[dict]) -> tuple[list[str], list[str]]:
    ours, plain = work / "ours", work / "plain"
    ours.mkdir(parents=True)
    plain.mkdir(parents=True)
    if BASE:
        (work / "base").mkdir()
    feeds = [f"http://127.0.0.1:{site.port}/feed/{f}.xml" for f in range(site.nfeeds)]
    config = {
        "storage": "sqlite:///monitor.db",
        # every item is worked, as the plain script does (the feeds carry the corpus's 2015 dates)
        "defaults": {"backfill": "off"},
        "fetch": {"allow_private_networks": True},
        "feeds": [{"name": f"feed {f}", "url": u} for f, u in enumerate(feeds)],
        "channels": {"sink": f"json://127.0.0.1:{site.port}/sink"},
        "topics": topics,
    }
    for d in [ours] + ([work / "base"] if BASE else []):
        (d / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (plain / "feeds.txt").write_text("\n".join(feeds))
    (plain / "terms.txt").write_text("\n".join(plain_terms(topics)), encoding="utf-8")
    ours_cmd = [sys.executable, "-m", "monitor", "--config", str(ours / "config.yaml"), "once"]
    plain_cmd = [
        sys.executable,
        str(ROOT / "bench" / "plain_script.py"),
        str(plain / "state.json"),
        str(plain / "feeds.txt"),
        str(plain / "terms.txt"),
        f"json://127.0.0.1:{site.port}/sink",
    ]
    return ours_cmd, plain_cmd


def one_run(work: Path, site: Site, topics: list[dict]) -> dict[str, list[tuple[float, float, str]]]:
    ours_cmd, plain_cmd = setup(work, site, topics)
    env_cwd = {"ours": work / "ours", "plain": work / "plain", "base": work / "base"}
    res: dict[str, list[tuple[float, float, str]]] = {"ours": [], "plain": [], **({"base": []} if BASE else {})}
    base_cmd = [a.replace(str(work / "ours"), str(work / "base")) for a in ours_cmd]
    for r in range(1, site.rounds + 2):  # the last pass is idle: nothing changed, every feed 304
        site.round = min(r, site.rounds)
        order = [("ours", ours_cmd), ("plain", plain_cmd)] + ([("base", base_cmd)] if BASE else [])
        for name, cmd in order if r % 2 else order[::-1]:
            tree = BASE[0] if name == "base" else ROOT
            res[name].append(child(cmd, env_cwd[name], OURS_ENV if name != "plain" else None, tree))
    return res


# ---------------------------------------------------------------- per-stage timers (child mode)
STAGES = [
    ("_poll_feed (a feed, its items incl.)", "monitor.pipeline", "Pipeline._poll_feed", False),
    ("  page fetch", "monitor.fetch.client", "Fetcher.get", True),
    ("  parse_source (feed)", "monitor.pipeline", "parse_source", True),
    ("process_item (all per-article work)", "monitor.pipeline", "Pipeline.process_item", True),
    ("  decode_html", "monitor.pipeline", "decode_html", True),
    ("  check_page (depth parse)", "monitor.extract.htmlcheck", "check_page", True),  # imported per page
    ("  extract (ours, incl. trafilatura)", "monitor.extract.article", "extract", True),
    ("    trafilatura.extract", "trafilatura", "extract", True),
    ("  detect_language", "monitor.pipeline", "detect_language", True),
    ("  matcher.match", "monitor.matching.matcher", "Matcher.match", True),
    ("  interstitial detect", "monitor.pipeline", "detect", True),
    ("  interstitial repeated body", "monitor.pipeline", "Pipeline._repeated", True),
    ("  store.title_twin", "monitor.storage.store", "Store.title_twin", True),
    ("  FoldedText.of (fold+split once)", "monitor.text.folded", "FoldedText.of", True),
    ("  neardup.fingerprint_words", "monitor.dedup.neardup", "fingerprint_words", True),
    ("  stories.profile_folded", "monitor.dedup.stories", "profile_folded", True),
    ("  composer.alerts", "monitor.delivery.compose", "Composer.alerts", True),
    ("  store.save_article", "monitor.storage.store", "Store.save_article", True),
    ("  store.save_and_resolve (article + item)", "monitor.storage.store", "Store.save_and_resolve", True),
    ("  store.known", "monitor.storage.store", "Store.known", True),
    ("store.enqueue_items", "monitor.storage.store", "Store.enqueue_items", True),
    ("store.resolve_item", "monitor.storage.store", "Store.resolve_item", True),
    ("store.set_item", "monitor.storage.store", "Store.set_item", True),
    ("deliver", "monitor.pipeline", "Pipeline.deliver", True),
]


def stage_child(config: str, out: str) -> int:
    """Run `monitor once` in this process with thread-CPU timers around the stages."""
    import importlib

    import monitor

    print(f"monitor from {monitor.__file__}", file=sys.stderr)

    t_import = time.process_time()
    from monitor.cli import main as cli_main

    t_import = time.process_time() - t_import
    totals: dict[str, float] = {}
    calls: dict[str, int] = {}
    lock = threading.Lock()

    def wrap(label: str, fn):  # type: ignore[no-untyped-def]
        def timed(*a, **k):  # type: ignore[no-untyped-def]
            t0 = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                dt = time.thread_time() - t0
                with lock:
                    totals[label] = totals.get(label, 0.0) + dt
                    calls[label] = calls.get(label, 0) + 1

        return timed

    for label, mod, name, _ in STAGES:
        owner = importlib.import_module(mod)
        parts = name.split(".")
        for p in parts[:-1]:
            owner = getattr(owner, p)
        setattr(owner, parts[-1], wrap(label, getattr(owner, parts[-1])))
    t0 = time.process_time()
    rc = cli_main.main(["--config", config, "once"])
    Path(out).write_text(
        json.dumps({"totals": totals, "calls": calls, "import": t_import, "run": time.process_time() - t0})
    )
    return rc


def stages(work: Path, site: Site, topics: list[dict]) -> None:
    ours_cmd, _ = setup(work, site, topics)
    site.round = 1
    cfg = ours_cmd[ours_cmd.index("--config") + 1]
    out = work / "stages.json"
    child([sys.executable, str(Path(__file__).resolve()), "--stage-child", cfg, str(out)], work / "ours")
    data = json.loads(out.read_text())
    new = data["calls"].get("process_item (all per-article work)", 0) or 1
    print(f"\nper-stage CPU, ours, round 1 ({new} new articles; inclusive, nested stages indented):")
    print(f"  imports (monitor.cli.main): {data['import'] * 1000:.0f} ms once per process")
    print(f"  whole pass after imports: {data['run'] * 1000 / new:.2f} ms/article")
    for label, *_ in STAGES:
        if label in data["totals"]:
            print(f"  {label:40s} {data['totals'][label] * 1000 / new:7.2f} ms/article  ({data['calls'][label]} calls)")


# ---------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=1500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--feeds", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--shared", default=None, help="folder holding corpus/ (default ../shared, else /work/shared)")
    ap.add_argument("--stages", action="store_true", help="also print our per-stage ms per article")
    ap.add_argument("--keep", default=None, help="keep the state folders here")
    ap.add_argument("--env", action="append", default=[], help="K=V added to our process's environment")
    ap.add_argument("--base", default=None, help="another monitor checkout to run alongside (before/after)")
    ap.add_argument("--source-only", action="store_true", help="run the checkouts without compiling them first")
    ap.add_argument("--stage-child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage_child:
        return stage_child(*args.stage_child)

    OURS_ENV.update(kv.split("=", 1) for kv in args.env)
    BASE.extend([Path(args.base).resolve()] if args.base else [])
    shared = shared_dir(args.shared)
    print(f"shared folder: {shared if shared else 'none found'}; monitor from {ROOT / 'monitor'}")
    arts, source = load_articles(args.articles, shared)
    pages = build_pages(arts)
    topics = load_topics()
    print(
        f"data: {source}; {len(arts)} articles, {sum(map(len, pages)) / 1e6:.1f} MB of pages, "
        f"{args.feeds} feeds, {args.rounds} rounds + 1 idle pass; {len(topics)} topics, "
        f"{len(plain_terms(topics))} terms for the script"
    )
    site = Site(arts, pages, args.feeds, args.rounds)
    srv = serve(site)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="versus-"))
    if not args.source_only:
        for name, tree in [("ours", ROOT)] + [("base", b) for b in BASE]:
            INSTALLED[tree] = install(tree, base / f"site-{name}")
    print("monitor runs " + ("from the checkouts, as source" if args.source_only else "compiled, as installed"))
    runs = []
    try:
        for k in range(args.repeat):
            site.hits.clear()
            res = one_run(base / f"run{k}", site, topics)
            runs.append(res)
            print(f"\nrun {k + 1}: server saw {dict(sorted(site.hits.items()))}")
            for name in res:
                for r, (cpu, rss, tail) in enumerate(res[name], 1):
                    what = "idle" if r > args.rounds else f"round {r}"
                    print(f"  {name:5s} {what:8s} cpu {cpu:6.2f} s  peak {rss:6.1f} MB  | {tail}")
        if args.stages:
            stages(base / "stages", site, topics)
    finally:
        srv.shutdown()

    def med(name: str, sel: slice, i: int, agg=sum) -> float:  # type: ignore[no-untyped-def]
        return statistics.median(agg(x[i] for x in run[name][sel]) for run in runs)

    work = slice(0, args.rounds)
    idle = slice(args.rounds, args.rounds + 1)
    o_cpu, p_cpu = med("ours", work, 0), med("plain", work, 0)
    o_rss, p_rss = med("ours", work, 1, max), med("plain", work, 1, max)
    o_idle, p_idle = med("ours", idle, 0), med("plain", idle, 0)
    print(f"\nmedians over {len(runs)} run(s), {len(arts)} new articles in {args.rounds} rounds:")
    print(
        f"  CPU   ours {o_cpu:6.2f} s ({o_cpu * 1000 / len(arts):.1f} ms/article)   script {p_cpu:6.2f} s "
        f"({p_cpu * 1000 / len(arts):.1f} ms/article)   ratio {o_cpu / p_cpu:.2f}  (target <= 1.5)"
    )
    print(f"  RSS   ours {o_rss:6.1f} MB   script {p_rss:6.1f} MB   ratio {o_rss / p_rss:.2f}  (target ours <= 150 MB)")
    print(f"  idle  ours {o_idle:6.2f} s   script {p_idle:6.2f} s   ratio {o_idle / p_idle:.2f}  (target <= 1.2)")
    if BASE:
        b_cpu, b_rss, b_idle = med("base", work, 0), med("base", work, 1, max), med("base", idle, 0)
        print(f"  --base {BASE[0]} (same run, same feeds):")
        print(f"  CPU   base {b_cpu:6.2f} s   ratio to script {b_cpu / p_cpu:.2f}")
        print(f"  RSS   base {b_rss:6.1f} MB")
        print(f"  idle  base {b_idle:6.2f} s   ratio to script {b_idle / p_idle:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
