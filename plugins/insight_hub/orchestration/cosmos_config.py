"""cosmos configuration: dbt runs from a manifest built ahead of time, credentials from the Airflow connection."""

from __future__ import annotations

from insight_hub.orchestration.environment import installed_executable
from insight_hub.settings import PROJECT_ROOT, get_settings

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
# dbt as installed with Airflow; the one `dbt build` runs it as a process of its own.
DBT_EXECUTABLE = installed_executable("dbt")
# Models dbt builds at once: as many as dbt_project/profiles.yml gives the dbt CLI.
DBT_THREADS = 4
# The scheduled build leaves out the dbt unit tests, as dbt's documentation advises for production: their
# inputs are fixtures written in the project, so a scheduled run cannot learn anything new from them,
# and each one delays its model. Every `dbt build` of `make test` runs them, where a change to a formula
# is checked. dbt reads the variable only in the commands that take the option.
PRODUCTION_DBT_ENV = {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}
# No manifest.json or run_results.json written: the manifest is the one built ahead of time, and the
# results reach Airflow from dbt's log events (cosmos' watcher producer adds `--log-format json`).
# No debug log file either: dbt writes one by default (logs/dbt.log, every statement it sends, about
# 15 MB a daily build at 200,000 customers) into the temporary copy of the project cosmos runs it in and
# deletes afterwards, and its threads queue on that file's lock. What the task log shows is unchanged.
PRODUCTION_DBT_FLAGS = ["--no-write-json", "--log-level-file", "none"]


def dbt_task_group_kwargs() -> dict:
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    settings = get_settings()
    return {
        "project_config": ProjectConfig(dbt_project_path=DBT_PROJECT_DIR, manifest_path=MANIFEST_PATH),
        "profile_config": ProfileConfig(
            profile_name="insight_hub",
            target_name="airflow",
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id=settings.warehouse_conn_id, profile_args={"schema": "public", "threads": DBT_THREADS}
            ),
        ),
        "render_config": RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            # A task per model and one per model's tests, each reporting what the single `dbt build` did
            # to it (see run_producer_first for a build that fails).
            test_behavior=TestBehavior.AFTER_EACH,
            # A test that reads two models (relationships) is reported by the tests task of each: the build
            # counts it among both models' tests. A task of its own would have no result to read (the build
            # reports tests per model), so it would defer to the triggerer on every run, and Airflow can fail
            # a task whose trigger fires at once (apache/airflow#72716: the worker's exit on deferring is
            # taken as the resumed task's end).
            should_detach_multiple_parents_tests=False,
            # The product's own Assets (raw.<entity>, marts) are its contract with downstream DAGs; cosmos
            # would add one per model, named by the warehouse's host and port.
            emit_datasets=False,
        ),
        # One `dbt build` of the whole project (cosmos' watcher producer), run by dbt's own threads, instead
        # of a dbt invocation per model: each invocation paid about a second of dbt start-up around a
        # model that, on a day's data, builds in milliseconds. dbt runs in a process of its own, so its
        # threads do not share an interpreter with the Airflow task that reports each node's result.
        "execution_config": ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=str(DBT_EXECUTABLE),
        ),
        "operator_args": {
            "install_deps": False,
            "dbt_cmd_flags": PRODUCTION_DBT_FLAGS,
            "env": PRODUCTION_DBT_ENV,
        },
    }


def run_producer_first(group) -> None:
    """Put the group's `dbt build` (cosmos' watcher producer) ahead of the tasks that report its models.

    cosmos starts the producer and the model tasks together and lets the model tasks wait on it. A runner
    that runs one task at a time (`airflow dags test`, `dag_runs.py`) may start a model task first, and
    that task then waits for a build that never starts. Here the group's first tasks follow the producer:
    each then reads its model's result from what the producer reported. When the build fails (a model or
    a test failed; the producer's log names it), they do not run, and the transform run fails. When the
    producer is skipped, as cosmos skips it on a retry or a cleared run, they run and build their models
    one by one.
    """
    from cosmos.constants import PRODUCER_WATCHER_TASK_ID

    producer = group.children[f"{group.group_id}.{PRODUCER_WATCHER_TASK_ID}"]
    # The group's first tasks, in it or in its per-model subgroups: none of their upstream is in the group.
    for task in group.get_roots():
        if task is not producer:
            task.trigger_rule = "none_failed"
            producer >> task
