"""User templates (Jinja2) that replace the built-in alert layout, file by file.

`notify.templates_dir` may hold any of:

* ``telegram.html.j2`` -- the Telegram message (Telegram's HTML subset)
* ``email.html.j2``    -- the email HTML (the text part is derived from it)
* ``subject.j2``       -- the email subject (made one line afterwards)
* ``text.j2``          -- the plain-text message (other apprise services)

Variables: ``outlet``, ``title``, ``topic``, ``terms``, ``snippet``, ``url``,
``also`` (the other copies' outlets, a list of strings), ``also_links`` (the same copies
as ``{"outlet": ..., "url": ...}``, at most ``render.ALSO_SHOWN``; ``also_more``: how many
more),
``published`` (the publication time in the channel's time zone, e.g.
"2015-07-21 10:00 Asia/Riyadh"; "" when the feed gave none), all
feed text already cleaned (bidi overrides, zero-width and control characters
removed). ``.html.j2`` templates autoescape every variable, so feed text can
never inject markup; ``rtl(text)`` prefixes a right-to-left mark when the text
holds Arabic. A missing template keeps the built-in one.

Templates run in Jinja2's ``SandboxedEnvironment``: attributes starting with
``_`` (``__class__``, ``__globals__``...) and unsafe callables are refused, so a
template cannot reach Python objects, files or the environment (a
``SecurityError`` makes that alert fall back to the built-in layout, logged);
the loader reads only files inside the folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from monitor.dedup.keys import clean_link
from monitor.delivery.links import link_url
from monitor.delivery.render import RLM, also_entries, clean, cut_words, has_arabic, published_text, terms_plain
from monitor.errors import ConfigError
from monitor.models import CHANNEL_KINDS, Article, ChannelKind, Match, RenderedAlert, ReportedBy

if TYPE_CHECKING:
    import jinja2  # imported when a templates folder is configured (~80 ms a process otherwise)

FILES = ("telegram.html.j2", "email.html.j2", "subject.j2", "text.j2")


def rtl(text: str) -> str:
    return RLM + text if has_arabic(str(text)) else text


class Templates:
    """The templates found in one folder, compiled once (errors are config errors)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise ConfigError(f"notify.templates_dir: not a folder: {self.directory}")
        import jinja2  # imported only with user templates
        from jinja2.sandbox import SandboxedEnvironment  # templates cannot reach files or env secrets

        env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(str(self.directory)),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
        )
        env.globals["rtl"] = rtl
        self.templates: dict[str, jinja2.Template] = {}
        for name in FILES:
            if (self.directory / name).is_file():
                try:
                    self.templates[name] = env.get_template(name)
                except jinja2.TemplateSyntaxError as exc:
                    raise ConfigError(f"{self.directory / name}:{exc.lineno}: template error: {exc.message}") from None

    def apply(
        self,
        base: RenderedAlert,
        article: Article,
        match: Match,
        *,
        outlet: str,
        kind: ChannelKind,
        also: tuple[ReportedBy | str, ...] = (),
        tz: str | None = None,
    ) -> RenderedAlert:
        """`base` (the built-in rendering) with the parts the user templated replaced."""
        if not self.templates:
            return base
        copies, more = also_entries(also)
        ctx = {
            "outlet": clean(outlet),
            "title": clean(article.title) or link_url(clean_link(article.url)),
            "topic": clean(match.topic_name),
            "terms": terms_plain(match),
            "snippet": clean(match.snippet),
            "url": link_url(clean_link(article.url)),  # utm_* and the fragment dropped, as the built-in layout
            "also": [o for o, _ in copies],
            "also_links": [{"outlet": o, "url": u} for o, u in copies],
            "also_more": more,
            "published": published_text(article.published, tz),
        }
        import jinja2

        subject, text, html = base.subject, base.text, base.html
        try:
            if "subject.j2" in self.templates:
                subject = cut_words(clean(self.templates["subject.j2"].render(ctx)), 200)
            if "text.j2" in self.templates:
                text = self.templates["text.j2"].render(ctx)
            name = CHANNEL_KINDS[kind].html_template
            if name in self.templates:
                html = self.templates[name].render(ctx).strip()
        except jinja2.TemplateError as exc:  # e.g. an unknown variable: fall back, say so
            import logging

            logging.getLogger(__name__).error(
                "template failed dir=%s error=%s; using the built-in layout", self.directory, exc
            )
            return base
        return RenderedAlert(subject, text, html)
