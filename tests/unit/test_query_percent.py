"""Issue 18: a `${VAR}` value placed in a channel URL reaches apprise as written, `%` too,
wherever it stands (apprise decodes most query values twice, list keys like `to` once).
Checked with apprise itself parsing the expanded URL."""

from __future__ import annotations

import apprise
import pytest

from monitor.config.advice import expand_url, query_key

HOST = "mail.example.org:25"


@pytest.mark.parametrize(
    ("template", "value", "read"),
    [
        # caronc/apprise#32 (a mailto password holding "%"), rebuilt: the password in the query
        (f"mailto://{HOST}?user=ali@example.org&pass=${{V}}&to=b@example.org", "Zq%41x", lambda p: p.password),
        (f"mailto://{HOST}?user=ali@example.org&pass=${{V}}&to=b@example.org", "50%", lambda p: p.password),
        (f"mailto://{HOST}?user=ali@example.org&pass=${{V}}&to=b@example.org", "a%25b@#?;", lambda p: p.password),
        (f"mailto://{HOST}?user=${{V}}&pass=x&to=b@example.org", "al%69", lambda p: p.user),
        # the same password in the user:password part (decoded once there)
        (f"mailto://ali:${{V}}@{HOST}?to=b@example.org", "Zq%41x", lambda p: p.password),
        # caronc/apprise#400 (special characters in an SMTP password), rebuilt
        (f"mailtos://${{V}}:pw@{HOST}?to=b@example.org", "u%2Fser", lambda p: p.user),
        # a recipient list is decoded once: `%` kept as written there too
        (f"mailto://ali:pw@{HOST}?to=${{V}}", "b%41@example.org", lambda p: p.targets[0][1]),
    ],
)
def test_a_variable_reaches_apprise_as_written(template, value, read):
    problems: list[str] = []
    missing: list[str] = []
    secrets: list[str] = []
    url = expand_url(template, {"V": value}, problems, missing, secrets)
    assert problems == [] and missing == []
    plugin = apprise.Apprise.instantiate(url)
    assert plugin is not None, url
    assert read(plugin) == value, url
    assert value in secrets


@pytest.mark.parametrize(
    ("template", "key"),
    [("x://h?pass=${V}", "pass"), ("x://h?a=1&TO=${V}", "to"), ("x://h?a=1&b=2&user=${V}", "user")],
)
def test_query_key_names_the_parameter(template, key):
    assert query_key(template, template.index("${V}")) == key
