"""The example plugin built into a wheel, as its author would build it: shared by the wheel and publish tests."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE_PLUGIN = Path(__file__).resolve().parents[1] / "example_plugin"


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args, "--disable-pip-version-check"], capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def hello_wheel(tmp_path_factory) -> Path:
    """The example plugin built into a wheel (from a copy, so the source tree stays clean)."""
    work = tmp_path_factory.mktemp("wheel")
    shutil.copytree(EXAMPLE_PLUGIN, work / "src")
    result = pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(work / "dist"),
                 str(work / "src"))
    assert result.returncode == 0, result.stderr
    [wheel] = (work / "dist").glob("kontor_hello-1.0.0-*.whl")
    return wheel
