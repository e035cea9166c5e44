"""Every problem code and every command-line subcommand is documented in the README."""

from __future__ import annotations

from cjm_core.cli import build_parser
from cjm_core.ingest.problems import CODES
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_problem_code_is_in_the_readme():
    missing = [code for code in CODES if f"`{code}`" not in README]
    assert not missing, f"document these codes in README.md: {missing}"


def test_every_subcommand_is_in_the_readme():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    missing = [name for name in sub.choices if f"cjm_core {name}" not in README]
    assert not missing, missing


def test_upload_limit_is_the_same_in_config_and_core():
    import tomllib

    from cjm_core.ingest.limits import MAX_UPLOAD_BYTES

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_UPLOAD_BYTES or \
        config["server"]["maxUploadSize"] * 1_000_000 == MAX_UPLOAD_BYTES
