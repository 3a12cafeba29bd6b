"""An apprise URL → its apprise plugin object, importing only that plugin's module when it can.

apprise finds the plugin of a URL's scheme by importing every plugin module it has (≈ 120
modules, ≈ 350 entries in ``sys.modules``, ≈ 0.11 s CPU and ≈ 16 MB per process, measured with
apprise 2.3: ``bench/startup.py``) the first time any scheme is looked up. For the schemes in
:data:`PLUGINS` (the kinds we ship examples for and the common webhooks), :func:`plugin_for`
imports that one module and builds the plugin the way ``apprise.Apprise.instantiate`` does:
``cls(**cls.parse_url(url), tag=set(), asset=asset)``, with the plugin's public ``parse_url``.
For everything else, and every URL that path does not accept (unparseable, refused by the
plugin's constructor, a disabled plugin, text holding more than one URL), it returns None and
the caller hands the URL to apprise itself (``Apprise.add`` or ``Apprise.instantiate``), so
apprise's own log messages (which :mod:`monitor.delivery.failures` and
:func:`monitor.config.advice.check_channel_url` read) are the same as before.
``tests/unit/test_channel_urls.py`` checks the table against apprise's own scheme map and the
plugin objects against apprise's, URL by URL.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["PLUGINS", "plugin_for"]

# scheme -> (module, class) of the apprise plugin that owns it (apprise 2.3)
PLUGINS: dict[str, tuple[str, str]] = {
    "tgram": ("apprise.plugins.telegram", "NotifyTelegram"),
    "mailto": ("apprise.plugins.email.base", "NotifyEmail"),
    "mailtos": ("apprise.plugins.email.base", "NotifyEmail"),
    "json": ("apprise.plugins.custom_json", "NotifyJSON"),
    "jsons": ("apprise.plugins.custom_json", "NotifyJSON"),
    "form": ("apprise.plugins.custom_form", "NotifyForm"),
    "forms": ("apprise.plugins.custom_form", "NotifyForm"),
    "xml": ("apprise.plugins.custom_xml", "NotifyXML"),
    "xmls": ("apprise.plugins.custom_xml", "NotifyXML"),
    "ntfy": ("apprise.plugins.ntfy", "NotifyNtfy"),
    "ntfys": ("apprise.plugins.ntfy", "NotifyNtfy"),
    "discord": ("apprise.plugins.discord", "NotifyDiscord"),
    "slack": ("apprise.plugins.slack", "NotifySlack"),
}


def plugin_for(url: str, asset: Any) -> Any:
    """The apprise plugin object for the single URL ``url`` with ``asset``, built from its one
    module, or None: then apprise itself must read the URL (and say why it refuses it)."""
    from apprise.utils.parse import parse_urls

    if "://" not in url:
        return None
    scheme = url.split("://", 1)[0].strip().lower()
    spec = PLUGINS.get(scheme)
    if spec is None or parse_urls(url) != [url.strip()]:  # type: ignore[no-untyped-call]  # apprise: no annotations
        return None  # unknown here, or text apprise would split into several URLs
    try:
        cls = getattr(importlib.import_module(spec[0]), spec[1])
        if not cls.enabled:
            return None
        # apprise's url_to_dict: a "/#" (a Slack or Discord channel) is read as a path part
        results = cls.parse_url(url.replace("/#", "/%23"))
        if not results:
            return None
        results["tag"] = set()
        results["asset"] = asset
        plugin = cls(**results)
    except Exception:  # the caller's apprise path reports it, in apprise's words
        return None
    return plugin if plugin.enabled else None
