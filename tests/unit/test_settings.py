"""Settings: parsing, production safety, and the README documenting every setting."""

from pathlib import Path

import pytest

from warehouse.config import (
    DEFAULT_SECRET,
    SETTINGS,
    SettingsError,
    env_example,
    load_settings,
    settings_markdown,
)

README = Path(__file__).resolve().parents[2] / "README.md"
ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_defaults_need_no_environment():
    settings = load_settings(environ={})
    assert settings.env == "development"
    assert settings.control_db_url.startswith("sqlite:///")
    assert settings.lake_root == Path("var/lake")


def test_environment_overrides_defaults():
    settings = load_settings(
        environ={
            "SHOPLAKE_PORT": "9001",
            "SHOPLAKE_TRUST_PROXY": "yes",
            "SHOPLAKE_CORS_ORIGINS": "https://a.example, https://b.example",
        }
    )
    assert settings.port == 9001
    assert settings.trust_proxy is True
    assert settings.cors_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    "environ",
    [
        {"SHOPLAKE_PORT": "eighty"},  # not an integer
        {"SHOPLAKE_TRUST_PROXY": "maybe"},  # not a boolean
        {"SHOPLAKE_ENV": "staging"},  # unknown environment
    ],
)
def test_unparseable_values_are_refused(environ):
    with pytest.raises(SettingsError):
        load_settings(environ=environ)


@pytest.mark.parametrize("secret", [DEFAULT_SECRET, "short-secret"])
def test_production_refuses_default_or_weak_secret(secret):
    with pytest.raises(SettingsError, match="SHOPLAKE_SECRET_KEY"):
        load_settings(environ={"SHOPLAKE_ENV": "production", "SHOPLAKE_SECRET_KEY": secret})


def test_production_starts_with_a_real_secret():
    settings = load_settings(
        environ={
            "SHOPLAKE_ENV": "production",
            "SHOPLAKE_SECRET_KEY": "x" * 40,
            "SHOPLAKE_PAYMENTS_ENCRYPTION_KEY": "y" * 40,
        }
    )
    assert settings.is_production


def test_unknown_override_is_refused():
    with pytest.raises(SettingsError):
        load_settings({"no_such_setting": 1}, environ={})


def test_readme_settings_table_matches_code():
    # Regenerate with: python -c "from warehouse.config import settings_markdown as m; print(m())"
    assert settings_markdown() in README.read_text()


def test_env_example_matches_code():
    # Regenerate with: python -m warehouse.config > .env.example
    assert ENV_EXAMPLE.read_text() == env_example()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env_var)
def test_every_setting_has_help(setting):
    assert len(setting.help) > 20
