"""The matched-terms line of a delivered alert (issue 18, item 13), run as a user runs
`monitor once` and `monitor explain`: at most TERMS_SHOWN entries, each a term as the rule
writes it (never a clitic spelling such as وموسكو / لموسكو), while `explain` still lists
every spelling found.
"""

from __future__ import annotations

import yaml

from monitor.delivery.render import L_TERMS, TERMS_SHOWN
from monitor.matching.rules import as_term
from tests.support.site import ROOT, run_monitor, write_config


def rule_terms() -> set[str]:
    topic = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["topics"][0]
    return {as_term(t).text for group in topic["all"] for t in group}


def test_alert_terms_line_is_short_and_explain_keeps_the_spellings(
    tmp_path, site, smtp_server, fake_telegram_unpatched
):
    web, expected = site
    telegram = fake_telegram_unpatched
    config = write_config(tmp_path, web, smtp_server, telegram)
    result = run_monitor(config, "once")
    assert result.returncode == 0, result.stderr
    assert len(telegram.messages) == len(expected)
    terms = rule_terms()
    for message in telegram.messages:
        line = next(x for x in message.visible_text.splitlines() if L_TERMS in x)
        shown = line.split(":", 1)[1].strip().split("، ")
        assert 2 <= len(shown) <= TERMS_SHOWN, line
        assert set(shown) <= terms and "→" not in line, line
        published = [x for x in message.visible_text.splitlines() if "تاريخ النشر" in x]
        assert published, message.visible_text[:400]  # the publication time is on the alert
    for mail in smtp_server.messages:
        body = mail.message.get_body(("html",)).get_content()
        assert L_TERMS in body and "→" not in body
    explained = run_monitor(config, "explain", expected[0])
    assert explained.returncode == 0, explained.stderr
    spelled = [x for x in explained.stdout.splitlines() if " -> " in x]
    assert spelled, explained.stdout  # explain still names each spelling the article wrote
