"""Configuration: defaults, instance file, FLASK_* variables; unsafe production settings refused."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from directory import ConfigError, create_app
from directory.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
LONG_KEY = "x" * 12 + "a-long-random-looking-secret-key"


def run_wsgi(args: list[str], env: dict[str, str], instance: Path) -> subprocess.CompletedProcess:
    """Run `flask --app wsgi …` in a child with only the given FLASK_* variables set."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    clean.update(env)
    clean["FLASK_INSTANCE_PATH"] = str(instance)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_refuses_to_start(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"ENVIRONMENT": "production", "SECRET_KEY": None}, instance_path=str(tmp_path))


@pytest.mark.parametrize("key", ["dev", "changeme", "short-key"])
def test_production_with_a_weak_secret_key_refuses_to_start(tmp_path, key):
    with pytest.raises(ConfigError, match="too weak"):
        create_app({"ENVIRONMENT": "production", "SECRET_KEY": key}, instance_path=str(tmp_path))


def test_production_accepts_a_strong_key_and_secures_cookies(tmp_path):
    app = create_app(
        {"ENVIRONMENT": "production", "SECRET_KEY": LONG_KEY}, instance_path=str(tmp_path)
    )
    assert app.config["SECRET_KEY"] == LONG_KEY
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="ENVIRONMENT"):
        create_app({"ENVIRONMENT": "staging", "SECRET_KEY": LONG_KEY}, instance_path=str(tmp_path))


def test_development_generates_a_secret_key_once_and_keeps_it(tmp_path):
    first = create_app(
        {"ENVIRONMENT": "development", "SECRET_KEY": None}, instance_path=str(tmp_path)
    )
    second = create_app(
        {"ENVIRONMENT": "development", "SECRET_KEY": None}, instance_path=str(tmp_path)
    )
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    app = create_app({"ENVIRONMENT": "development"}, instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'openings.sqlite3'}"


def test_instance_config_then_prefixed_environment(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        'ENVIRONMENT = "development"\nMAIL_SERVER = "smtp.instance.example.org"\nFEEDS_MAX_BYTES = 10\n'
    )
    monkeypatch.setenv("FLASK_MAIL_SERVER", "smtp.env.example.org")
    monkeypatch.setenv("FLASK_FEEDS_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://u@db.example.org/o")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["MAIL_SERVER"] == "smtp.env.example.org"
    assert app.config["FEEDS_MAX_BYTES"] == 10
    assert app.config["FEEDS_ALLOW_PRIVATE_ADDRESSES"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, re.MULTILINE))
    missing = [s.name for s in SETTINGS if s.name not in documented]
    assert not missing, f"settings missing from the README's table: {missing}"


def test_wsgi_in_production_without_a_key_prints_one_clear_line(tmp_path):
    result = run_wsgi(["routes"], {"FLASK_ENVIRONMENT": '"production"'}, tmp_path)
    assert result.returncode != 0
    assert "configuration error: SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["db", "upgrade"], ["demo", "load"]])
def test_an_unreachable_database_gives_one_clear_line(tmp_path, command):
    env = {
        "FLASK_ENVIRONMENT": '"development"',
        "FLASK_SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:9/openings",
    }
    result = run_wsgi(command, env, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "database" in line]
    assert lines and "cannot" in lines[-1], result.stderr
