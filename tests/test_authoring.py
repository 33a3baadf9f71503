"""Plugin authoring: `copydesk plugin new`, `copydesk install` / `uninstall`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from copydesk import __version__
from copydesk.cli import cli
from copydesk.cli.scaffold import PluginNames, ScaffoldError, create, render


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_names_derive_from_the_plugin_name() -> None:
    names = PluginNames.of("bias-meter")
    assert (names.stage, names.module, names.dist, names.camel) == (
        "bias_meter", "copydesk_bias_meter", "copydesk-bias-meter", "BiasMeter")


@pytest.mark.parametrize("bad", ["Tone", "1tone", "tone check", "tone-", "", "x" * 50])
def test_an_unusable_name_is_refused(bad: str) -> None:
    with pytest.raises(ScaffoldError, match="not a usable plugin name"):
        PluginNames.of(bad)


def test_the_package_depends_on_this_copydesk_and_declares_its_entry_point() -> None:
    files = render(PluginNames.of("tonecheck"), __version__)
    project = tomllib.loads(files["pyproject.toml"])["project"]
    assert project["dependencies"] == [f"copydesk>={__version__}"]
    assert project["entry-points"]["copydesk"] == {"tonecheck": "copydesk_tonecheck"}
    assert set(files) == {"pyproject.toml", "README.md", ".gitignore", "copydesk_tonecheck/py.typed",
                          "copydesk_tonecheck/__init__.py", "tests/test_tonecheck.py"}


def test_plugin_new_writes_the_package_under_dir(tmp_path: Path) -> None:
    result = run("plugin", "new", "tonecheck", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tonecheck" / "copydesk_tonecheck" / "__init__.py").is_file()
    assert f"pip install -e {tmp_path / 'tonecheck'}" in result.output


def test_plugin_new_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "tonecheck").mkdir()
    (tmp_path / "tonecheck" / "notes.txt").write_text("mine")
    result = run("plugin", "new", "tonecheck", "--dir", str(tmp_path))
    assert result.exit_code == 1 and "not empty; nothing written" in result.output
    assert os.listdir(tmp_path / "tonecheck") == ["notes.txt"]


def test_plugin_new_refuses_the_name_of_an_installed_stage(tmp_path: Path) -> None:
    result = run("plugin", "new", "entities", "--dir", str(tmp_path))
    assert result.exit_code == 1 and "'entities' is already installed" in result.output
    assert not (tmp_path / "entities").exists()


def test_install_needs_something_to_install() -> None:
    result = CliRunner().invoke(cli, ["install"])
    assert result.exit_code == 2 and "at least one package" in result.output


def test_create_refuses_a_taken_stage_name(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="plugin 'readtime'"):
        create("readtime", tmp_path, __version__, {"readtime": "readtime"})


# -- the whole flow, in a throwaway environment ---------------------------------------------


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A fresh virtual environment that sees the dev environment's packages (copydesk,
    pip, setuptools) through a .pth file, so installing into it leaves the dev one alone."""
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    dev = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "_copydesk_dev.pth").write_text(f"import site; site.addsitedir({dev!r})\n")
    return python


def in_venv(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYDESK_")}
    return subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_scaffolded_plugin_installs_passes_its_tests_and_is_listed(venv: Path,
                                                                   tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()

    def copydesk(*args: str) -> subprocess.CompletedProcess[str]:
        out = in_venv(venv, "-m", "copydesk.cli", *args, cwd=work)
        assert out.returncode == 0, out.stdout + out.stderr
        return out

    copydesk("plugin", "new", "tonecheck", "--dir", str(tmp_path / "plugins"))
    package = tmp_path / "plugins" / "tonecheck"
    # build with the installed setuptools: nothing to download, and copydesk>=VERSION is met
    # by the copydesk installed from this clone
    installed = copydesk("install", "--no-build-isolation", "-e", str(package))
    assert "new plugins: tonecheck" in installed.stdout

    tests = in_venv(venv, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package), cwd=work)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "5 passed" in tests.stdout

    checked = copydesk("plugins", "--check")  # exits non-zero on any broken plugin
    assert "tonecheck" in checked.stdout
    listed = json.loads(copydesk("plugins", "--json").stdout)
    tonecheck = next(p for p in listed["plugins"] if p["name"] == "tonecheck")
    assert tonecheck["distribution"] == "copydesk-tonecheck" and not listed["broken"]
    assert "tonecheck" in listed["order"]

    schema = json.loads(copydesk("schema").stdout)
    assert "TonecheckLayer" in schema["$defs"] and "TonecheckMark" in schema["$defs"]

    article = work / "a.txt"
    article.write_text("The minister reportedly resigned.\n")
    doc = json.loads(copydesk("--stages", "tonecheck", "process", str(article)).stdout)
    assert doc["extensions"]["tonecheck"]["marks"][0]["text"] == "reportedly"

    copydesk("uninstall", "-y", "copydesk-tonecheck")
    after = json.loads(copydesk("plugins", "--json").stdout)
    assert "tonecheck" not in [p["name"] for p in after["plugins"]]
    # and the dev environment never had it
    assert subprocess.run([sys.executable, "-c", "import copydesk_tonecheck"],
                          capture_output=True).returncode == 1


def test_scaffolded_plugin_passes_ruff(tmp_path: Path) -> None:
    create("tonecheck", tmp_path, __version__)
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--select",
                          "E,F,W,I,B,UP,SIM,RUF", "--line-length", "100", "."],
                         cwd=tmp_path / "tonecheck", capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
