"""setup.cfg ships every file of the package: each data file is in a found package and matched by package_data."""

from __future__ import annotations

import configparser
import fnmatch
from pathlib import Path

from setuptools import find_namespace_packages

from logmonitor import __version__

ROOT = Path(__file__).resolve().parents[2]


def package_data() -> tuple[set[str], dict[str, list[str]]]:
    """The packages setup.cfg finds and its package_data globs, read as setuptools reads them."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    assert config["options"]["packages"].strip() == "find_namespace:"
    find = config["options.packages.find"]
    packages = set(find_namespace_packages(str(ROOT), include=find["include"].split(), exclude=find["exclude"].split()))
    globs = {package: [glob.strip() for glob in value.replace("\n", ",").split(",") if glob.strip()]
             for package, value in config["options.package_data"].items()}
    return packages, globs


def test_every_data_file_of_the_package_is_shipped() -> None:
    packages, globs = package_data()
    data = [path for path in (ROOT / "logmonitor").rglob("*") if path.is_file()
            and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts]
    assert any(path.name == "pom.xml" for path in data) and any(path.parent.name == "static" for path in data)
    for path in data:
        package = ".".join(path.parent.relative_to(ROOT).parts)
        assert package in packages, f"{package} is not a package: {path.name} would not be installed"
        assert any(fnmatch.fnmatch(path.name, glob) for glob in globs.get(package, [])), f"{path} not in package_data"


def test_no_test_or_tool_code_is_shipped() -> None:
    packages, _ = package_data()
    assert "logmonitor" in packages and all(p == "logmonitor" or p.startswith("logmonitor.") for p in packages)
    assert not any("__pycache__" in package for package in packages)


def test_the_install_lines_of_the_readme_name_this_distribution_and_version() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    name = config["metadata"]["name"]
    assert name == "logmonitor-kafka", "`logmonitor` on the package index is an unrelated project (issue 27)"
    lines = [line.split("#")[0].strip() for line in (ROOT / "README.md").read_text().splitlines()
             if line.startswith("pip install")]
    wheel = f"dist/{name.replace('-', '_')}-{__version__}-py3-none-any.whl"
    assert lines == ["pip install .", "pip install -c constraints.txt '.[server]'", f"pip install {wheel}",
                     f"pip install '{wheel}[server]'"], "no line installs a name the index does not hold as ours"
