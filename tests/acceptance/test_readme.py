"""README stays true: its commands, its config reference and the shipped files agree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main as cli
from monitor.config.load import (
    Channel,
    Dedup,
    Defaults,
    Feed,
    Fetch,
    Http,
    Notify,
    RawConfig,
    Topic,
    load_config,
    parse_config,
)
from monitor.sources import DEFAULT_KIND, KINDS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _env_file(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def test_ci_runs_the_readme_test_command():
    test_cmd = next(b.strip() for b in _blocks("sh") if "pytest" in b)
    assert test_cmd in (ROOT / ".ci" / "run").read_text()


def test_readme_installs_into_a_virtual_environment():
    """Debian 12 / Ubuntu 23.04+ refuse `pip install` into the system Python
    (externally-managed-environment): every set-up command uses a venv."""
    installs = [b for b in _blocks("sh") if "pip install" in b]
    assert len(installs) >= 2
    for block in installs:
        assert "python3 -m venv " in block and "/bin/pip install" in block, block
        assert "python3 -m pip install" not in block, block
    assert "apt install python3-venv" in README


def test_a_venv_as_the_readme_makes_runs_monitor(tmp_path):
    """The quick start's venv, made offline: reuses this interpreter's packages."""
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "monitor", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert out.returncode == 0 and out.stdout.startswith("monitor "), out.stderr


def test_quick_start_files_exist_and_shipped_config_checks_with_example_env(tmp_path):
    run_cmd = next(b.strip() for b in _blocks("sh") if "bin/monitor run" in b)
    assert "monitor.env.example" in run_cmd and (ROOT / "monitor.env.example").is_file()
    env = _env_file(ROOT / "monitor.env.example")
    config = load_config(ROOT / "config.yaml", env=env)
    assert config.storage_url == f"sqlite:///{(ROOT / 'monitor.db').resolve()}"
    # The same check as a user runs it, with exactly the example variables.
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(ROOT / "config.yaml"), "check"],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert env["TELEGRAM_BOT_TOKEN"] not in out.stdout + out.stderr


def test_config_reference_example_is_a_valid_config():
    block = next(b for b in _blocks("yaml") if "topics:" in b)
    env = {
        "TELEGRAM_BOT_TOKEN": "1:x",
        "TELEGRAM_CHAT_ID": "1",
        "SMTP_USER": "alerts@example.org",
        "SMTP_PASSWORD": "p@ss/w#rd?x",
        "SMTP_HOST": "smtp.example.org",
        "ALERT_FROM": "alerts@example.org",
        "ALERT_TO": "you@example.org",
    }
    config = parse_config(block, env=env)
    assert config.feeds[0].interval == 900 and config.defaults.interval == 600
    assert config.topics[0].none == ["كرة القدم"]


@pytest.mark.parametrize("model", [RawConfig, Defaults, Feed, Topic, Notify, Fetch, Channel, Dedup, Http])
def test_config_reference_names_every_key(model):
    block = next(b for b in _blocks("yaml") if "topics:" in b)
    keys = set(re.findall(r"^\s*(?:- )?([a-z_]+):", block, flags=re.M))
    missing = set(model.model_fields) - keys
    assert not missing, f"README's config reference lacks {sorted(missing)}"


def test_config_reference_names_every_source_kind():
    block = next(b for b in _blocks("yaml") if "topics:" in b)
    lines = re.findall(r"^\s*kind: (\w+)\s*(?:#(.*))?$", block, flags=re.M)
    default = next(comment for kind, comment in lines if "the default" in comment)
    named = set(re.findall(r"\b[a-z]+\b", default)) & set(KINDS)
    assert named == set(KINDS), f"the `kind:` line of the config reference lacks {sorted(set(KINDS) - named)}"
    assert re.search(rf"\b{DEFAULT_KIND} \([^)]*the default", default)
    shown = {kind for kind, _ in lines}
    assert shown == set(KINDS), f"example feeds' kinds {sorted(shown)} are not the kinds {sorted(KINDS)}"


def test_commands_table_lists_every_verb():
    verbs = cli.build_parser()._subparsers._group_actions[0].choices  # argparse keeps them here
    for verb in verbs:
        assert f"`monitor {verb}" in README, verb


def test_systemd_unit_matches_readme_paths():
    unit = (ROOT / "systemd" / "monitor.service").read_text()
    for needle in (
        "StateDirectory=monitor",
        "MONITOR_CONFIG=/etc/monitor/config.yaml",
        "EnvironmentFile=/etc/monitor/monitor.env",
        "ExecStart=/opt/monitor/bin/monitor run",
    ):
        assert needle in unit
    assert "/etc/monitor/monitor.env" in README and "/opt/monitor" in README


def _layout_rows() -> list[tuple[list[str], str]]:
    section = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = line.split("|")
        if line.startswith("|") and len(cells) >= 4 and cells[1].strip().startswith("`"):
            rows.append((re.findall(r"`([^`]+)`", cells[1]), cells[2]))
    return rows


def test_layout_table_names_every_module_and_nothing_that_is_gone():
    """README's Layout table is the newcomer's map: every module of monitor/ is on it, and
    every path and file it names exists."""
    named: set[Path] = set()
    for paths, what in _layout_rows():
        for path in paths:
            assert (ROOT / path).exists(), f"README Layout names {path}, which does not exist"
            if path.endswith("/"):
                for name in re.findall(r"`([\w.]+\.(?:py|txt))`", what):
                    assert (ROOT / path / name).exists(), f"README Layout: {path}{name} does not exist"
                    named.add(ROOT / path / name)
                if not re.findall(r"`([\w.]+\.py)`", what):  # a folder described as a whole
                    named |= set((ROOT / path).glob("*.py"))
            else:
                named.add(ROOT / path)
    modules = {
        p
        for p in (ROOT / "monitor").rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py") and "migrations" not in p.parts
    }
    missing = sorted(str(p.relative_to(ROOT)) for p in modules - named)
    assert not missing, f"modules missing from README's Layout table: {missing}"
