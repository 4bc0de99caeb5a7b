"""cosmos configuration: dbt runs from a manifest built ahead of time, credentials from the Airflow connection."""

from __future__ import annotations

import sys
from pathlib import Path

from insight_hub.settings import PROJECT_ROOT, get_settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
# dbt installed beside the interpreter running Airflow (the project's virtualenv or the image's).
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"


def dbt_task_group_kwargs() -> dict:
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    settings = get_settings()
    return {
        "project_config": ProjectConfig(dbt_project_path=DBT_PROJECT_DIR, manifest_path=MANIFEST_PATH),
        "profile_config": ProfileConfig(
            profile_name="insight_hub",
            target_name="airflow",
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id=settings.warehouse_conn_id, profile_args={"schema": "public"}
            ),
        ),
        "render_config": RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # One task per model: `dbt build --select <model>` builds it and then runs its tests, so a
            # failing test fails that model's task and stops what depends on it. (A task per test as well
            # would double the tasks, and each task costs a few seconds of start-up.)
            test_behavior=TestBehavior.BUILD,
            # A test that reads two models (relationships) runs after both, not after the first.
            should_detach_multiple_parents_tests=True,
            # The product's own Assets (raw.<entity>, marts) are its contract with downstream DAGs; cosmos
            # would add one per model, named by the warehouse's host and port.
            emit_datasets=False,
        ),
        # dbt runs inside the task's process (dbtRunner): no interpreter start-up per model.
        "execution_config": ExecutionConfig(
            invocation_mode=InvocationMode.DBT_RUNNER, dbt_executable_path=str(DBT_EXECUTABLE)
        ),
        "operator_args": {
            "install_deps": False,
            # Each task builds one model, so per task: no manifest.json or run_results.json written (the
            # manifest is the one built ahead of time; cosmos reads neither), and the relation cache filled
            # for the model's own schemas only, not every schema of the warehouse.
            "dbt_cmd_flags": ["--no-write-json", "--cache-selected-only"],
        },
    }
