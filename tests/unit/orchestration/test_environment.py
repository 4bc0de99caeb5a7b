"""Where the product finds the console scripts it runs (airflow, dbt)."""

import shutil
import sys
from pathlib import Path

from insight_hub.orchestration.environment import installed_executable


def test_a_script_beside_the_interpreter_is_preferred():
    assert installed_executable("dbt") == str(Path(sys.executable).parent / "dbt")


def test_a_script_not_beside_the_interpreter_is_found_on_path():
    # `sh` is never installed into a virtualenv's bin.
    assert not (Path(sys.executable).parent / "sh").exists()
    on_path = shutil.which("sh")
    assert on_path is not None
    assert installed_executable("sh") == on_path
