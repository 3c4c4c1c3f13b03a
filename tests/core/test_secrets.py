import pytest

from tasks.core.secrets import secret_from_environment

V, F = "EDI_TEST_SECRET", "EDI_TEST_SECRET_FILE"


def test_value_wins_over_file_and_file_is_read_stripped(tmp_path, monkeypatch):
    f = tmp_path / "k"
    f.write_text("  from-file\n", encoding="utf-8")
    monkeypatch.setenv(F, str(f))
    monkeypatch.delenv(V, raising=False)
    assert secret_from_environment(value_env=V, file_env=F) == "from-file"
    monkeypatch.setenv(V, "from-value")
    assert secret_from_environment(value_env=V, file_env=F) == "from-value"


def test_nothing_set_is_none(monkeypatch):
    monkeypatch.delenv(V, raising=False)
    monkeypatch.delenv(F, raising=False)
    assert secret_from_environment(value_env=V, file_env=F) is None


def test_missing_or_empty_file_is_a_clear_error_without_the_content(tmp_path, monkeypatch):
    monkeypatch.delenv(V, raising=False)
    monkeypatch.setenv(F, str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match=f"{F} names .*absent, which is not a file"):
        secret_from_environment(value_env=V, file_env=F)
    empty = tmp_path / "empty"
    empty.write_text("  \n", encoding="utf-8")
    monkeypatch.setenv(F, str(empty))
    with pytest.raises(ValueError, match="which is empty"):
        secret_from_environment(value_env=V, file_env=F)
