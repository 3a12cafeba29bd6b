"""Issue 12, loss 8: a config file that is not UTF-8 is a config error that says "save it as UTF-8",
never a traceback (older Arabic editors save windows-1256 or UTF-16)."""

from __future__ import annotations

import codecs

import pytest

from monitor.cli.main import main
from monitor.config.load import load_config
from monitor.errors import ConfigError

TEXT = (
    "feeds: [{name: أخبار, url: 'https://example.org/feed'}]\n"
    "channels: {m: 'mailto://x@example.org'}\ntopics: [{id: t, name: إيران, any: [إيران], notify: [m]}]\n"
)


@pytest.mark.parametrize(
    "data,says",
    [
        (TEXT.encode("cp1256"), "windows-1256"),
        (TEXT.encode("utf-16"), "UTF-16"),  # with a BOM
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "UTF-16"),
        (TEXT.encode("utf-16-le"), "UTF-16"),  # no BOM
        (TEXT.encode("utf-32"), "UTF-32"),
        ("feeds: []  # café\n".encode("latin-1"), "line 1, column 17"),
    ],
)
def test_a_config_that_is_not_utf8_is_a_config_error(tmp_path, data, says):
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    with pytest.raises(ConfigError, match="save it as UTF-8") as info:
        load_config(path, env={})
    assert says in str(info.value)


def test_utf8_with_a_bom_is_read(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(codecs.BOM_UTF8 + TEXT.encode())
    assert load_config(path, env={}).feeds[0].name == "أخبار"


def test_check_exits_2_and_says_save_it_as_utf8(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_bytes(TEXT.encode("cp1256"))
    assert main(["--config", str(path), "check"]) == 2
    err = capsys.readouterr().err
    assert "save it as UTF-8" in err and "Traceback" not in err
