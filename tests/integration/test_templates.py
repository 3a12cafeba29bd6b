"""User Jinja2 templates: escaped feed text, one-line subjects, errors reported with their line."""

from __future__ import annotations

import pytest

from monitor.delivery import notify
from monitor.delivery.render import render_alert
from monitor.delivery.templates import Templates
from monitor.errors import ConfigError
from monitor.fetch.client import Fetcher
from monitor.models import Article, FeedItem, Match, TermHit
from monitor.pipeline import Pipeline
from monitor.storage import Store
from tests.support.outbox_helpers import TOKEN, corpus, make_config

ROW = next(r for r in corpus() if "كوريا" in r["title"])
HOSTILE = ROW["title"] + ' <script>x</script> & "q" \u202e\u200b\u2028line'


def _alert_parts(title: str):
    article = Article(url=ROW["url"], url_key=ROW["url"], feed="F", title=title, body=ROW["content"])
    match = Match(
        "t",
        "كوريا الشمالية",
        (TermHit("كوريا", "كوريا", "body", 0, 0, 5, "any"),),
        " ".join(ROW["content"][:200].split()),
    )
    return article, match


def _write(tmp_path, **files) -> Templates:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, body in files.items():
        (folder / name.replace("_", ".")).write_text(body, encoding="utf-8")
    return Templates(folder)


def test_telegram_template_escapes_feed_text_and_telegram_accepts_it(tmp_path, fake_telegram):
    templates = _write(
        tmp_path,
        telegram_html_j2=('{{ rtl("") }}<b>{{ topic }}</b>\n{{ rtl(title) }}\n<a href="{{ url }}">{{ outlet }}</a>\n'),
    )
    article, match = _alert_parts(HOSTILE)
    base = render_alert(article, match, outlet="الشرق الأوسط", channel_kind="telegram")
    alert = templates.apply(base, article, match, outlet="الشرق الأوسط", kind="telegram")
    assert "&lt;script&gt;" in alert.html and "<script>" not in alert.html
    assert "\u202e" not in alert.html and "\u200b" not in alert.html and "\u2028" not in alert.html
    assert alert.subject == base.subject and alert.text == base.text  # not templated: built-in
    result = notify.send("tg", [f"tgram://{TOKEN}/1"], alert, kind="telegram")
    assert result.ok, result.error
    [msg] = fake_telegram.messages
    assert msg.visible_text.splitlines()[1].startswith("\u200f" + ROW["title"])


def test_subject_template_is_one_line(tmp_path):
    templates = _write(tmp_path, subject_j2="[{{ topic }}]\n{{ title }}\n", text_j2="{{ title }} {{ url }}")
    article, match = _alert_parts(HOSTILE)
    base = render_alert(article, match, outlet="x", channel_kind="email")
    alert = templates.apply(base, article, match, outlet="x", kind="email")
    assert alert.subject.startswith("[كوريا الشمالية] " + ROW["title"])
    assert not any(c in alert.subject for c in "\r\n\u2028\u2029\u202e")
    assert alert.text.endswith(ROW["url"]) and "<script>" in alert.text  # plain text: not HTML
    assert alert.html == base.html


def test_template_errors_name_the_file_and_line(tmp_path):
    with pytest.raises(ConfigError, match=r"telegram\.html\.j2:2: template error"):
        _write(tmp_path, telegram_html_j2="<b>ok</b>\n{% if %}")
    with pytest.raises(ConfigError, match="not a folder"):
        Templates(tmp_path / "missing")


def test_pipeline_uses_the_templates(tmp_path):
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "telegram.html.j2").write_text("<b>{{ topic }}</b>: {{ title }}", encoding="utf-8")
    config = make_config(tmp_path, {"tg": f"tgram://{TOKEN}/1"}, notify={"templates_dir": "tpl"})
    store = Store(config.storage_url)
    fetcher = Fetcher(timeout=5, user_agent="test")
    try:
        pipeline = Pipeline(config, store, fetcher)
        feed = config.feeds[0]
        item = FeedItem(feed="F", url="", guid="g1", title=ROW["title"], summary=ROW["content"])
        assert pipeline.process_item(feed, item)
        [alert] = store.list_alerts()
        assert alert.html == f"<b>كوريا الشمالية</b>: {ROW['title']}"
    finally:
        fetcher.close()
        store.close()


# Classic server-side template injection payloads (public reports rebuilt: the Jinja2 SSTI
# write-ups using cycler/joiner/lipsum `__globals__` to reach `os.environ` and `open`, and
# `''.__class__.__mro__` subclass walks). In the sandbox each raises SecurityError: the alert
# falls back to the built-in layout and no secret or file content is rendered.
SSTI = [
    "{{ cycler.__init__.__globals__.os.environ['MONITOR_SSTI_SECRET'] }}",
    "{{ joiner.__init__.__globals__.os.environ }}",
    "{{ lipsum.__globals__['os'].environ }}",
    "{{ rtl.__globals__['os'].environ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ title.__class__.__base__.__subclasses__() }}",
    "{{ lipsum.__globals__.__builtins__.open('SECRET_FILE').read() }}",
    "{{ self._TemplateReference__context }}",
]


@pytest.mark.parametrize("payload", SSTI)
@pytest.mark.parametrize("name", ["text.j2", "subject.j2", "email.html.j2"])
def test_templates_cannot_read_environment_or_files(tmp_path, monkeypatch, caplog, payload, name):
    secret = "SSTI-SECRET-7f3a"
    monkeypatch.setenv("MONITOR_SSTI_SECRET", secret)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(secret)
    templates = _write(tmp_path, **{name.replace(".", "_"): payload.replace("SECRET_FILE", str(secret_file))})
    article, match = _alert_parts(ROW["title"])
    base = render_alert(article, match, outlet="x", channel_kind="email")
    alert = templates.apply(base, article, match, outlet="x", kind="email")
    assert secret not in alert.subject + alert.text + alert.html
    assert "MONITOR_SSTI_SECRET" not in alert.subject + alert.text + alert.html
    assert alert == base  # refused: the built-in layout
    assert "template failed" in caplog.text


def test_include_outside_the_template_folder_is_refused(tmp_path):
    (tmp_path / "outside.txt").write_text("SSTI-SECRET-7f3a")
    templates = _write(tmp_path, text_j2="{% include '../outside.txt' %}{% include '/etc/hostname' %}")
    article, match = _alert_parts(ROW["title"])
    base = render_alert(article, match, outlet="x", channel_kind="email")
    assert templates.apply(base, article, match, outlet="x", kind="email") == base
