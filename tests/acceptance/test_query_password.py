"""Issue 18 (red team 18): a `%` in a password placed in a channel URL's query by `${VAR}`
reaches the SMTP server as written (the real aiosmtpd server of tests/support)."""

from __future__ import annotations

from tests.acceptance.test_once_rate_limit import edit
from tests.support.site import run_monitor, write_config


# caronc/apprise#32 (a mailto password holding "%"), rebuilt with the password in the query
# (`?user=${SU}&pass=${SP}`, the form apprise#161/#400 recommend for awkward passwords).
# README: "in the query ... its value is percent-encoded for you, so a password ... with
# @ / # ? % ; in it works". In the user:password part it does; in the query `%41` is decoded.
def test_a_percent_in_a_query_password_variable_reaches_the_server_as_written(
    tmp_path, site, smtp_server, fake_telegram_unpatched
):
    web, _ = site
    config = write_config(tmp_path, web, smtp_server, fake_telegram_unpatched)
    host = f"{smtp_server.host}:{smtp_server.port}"
    url = f"mailto://{host}?user=${{SU}}&pass=${{SP}}&from=a@example.org&to=b@example.org&mode=insecure"

    def channel(data):
        data["channels"]["email"] = url

    edit(config, channel)
    env = {"SU": "ali@example.org", "SP": "Zq%41x"}
    assert run_monitor(config, "check", env=env).returncode == 0
    result = run_monitor(config, "test-alert", "email", env=env)
    assert smtp_server.auth_attempts, result.stdout + result.stderr
    assert smtp_server.auth_attempts[-1][1:] == ("ali@example.org", "Zq%41x"), smtp_server.auth_attempts
