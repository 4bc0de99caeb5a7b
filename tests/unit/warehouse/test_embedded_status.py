"""Whether the embedded server is running is read from its data directory's lock file (postmaster.pid),
which outlives a server that was killed or a machine that restarted."""

from __future__ import annotations

import subprocess
import sys

from insight_hub.warehouse import EmbeddedPostgres


def _lock_file(server: EmbeddedPostgres, pid: int, port: int = 5999) -> None:
    # The fields PostgreSQL writes, one per line: pid, data directory, start time, port, socket folder.
    server.data_dir.mkdir(parents=True)
    (server.data_dir / "postmaster.pid").write_text(f"{pid}\n{server.data_dir}\n1764748800\n{port}\n/tmp\n")


def test_a_lock_file_whose_pid_now_belongs_to_another_program_is_not_a_running_server(tmp_path):
    # After a restart the lock file's pid can name any process: here, a live Python one.
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        server = EmbeddedPostgres(tmp_path / "pg", preferred_port=0)
        _lock_file(server, other.pid)
        status = server.status()
    finally:
        other.kill()
        other.wait()
    assert (status.running, status.pid, status.port) == (False, None, None)


def test_a_lock_file_of_an_ended_process_is_not_a_running_server(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    server = EmbeddedPostgres(tmp_path / "pg", preferred_port=0)
    _lock_file(server, ended.pid)
    assert server.status().running is False


def test_the_running_session_server_is_seen_with_its_pid_and_port(warehouse, settings):
    from insight_hub.warehouse import embedded_server

    status = embedded_server(settings).status()
    assert status.running
    assert f":{status.port}/" in warehouse
    with open(f"/proc/{status.pid}/cmdline", "rb") as cmdline:
        assert cmdline.read().split(b"\0")[0].endswith(b"/postgres")


def test_the_server_plans_for_a_local_cached_disk(warehouse):
    import psycopg

    with psycopg.connect(warehouse) as conn:
        assert conn.execute("show random_page_cost").fetchone()[0] == "1.1"


def test_a_query_gets_parallel_workers_only_from_cores_dbt_threads_leave():
    from insight_hub.warehouse.embedded import parallel_workers_per_gather

    # Four dbt threads: a query gets a worker only once the machine has a second core for each thread.
    workers = {cores: parallel_workers_per_gather(cores, 4) for cores in (1, 2, 4, 7, 8, 12, 16)}
    assert workers == {1: 0, 2: 0, 4: 0, 7: 0, 8: 1, 12: 2, 16: 3}
    assert parallel_workers_per_gather(2, 1) == 1


def test_the_sizing_counts_the_threads_the_dbt_cli_runs_with_too():
    import yaml

    from insight_hub.orchestration.cosmos_config import DBT_PROJECT_DIR, DBT_THREADS

    profiles = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    assert profiles["insight_hub"]["outputs"]["local"]["threads"] == DBT_THREADS


def test_the_server_sizes_parallel_query_for_this_machine_and_dbt_threads(warehouse):
    import psycopg

    from insight_hub.orchestration.cosmos_config import DBT_THREADS
    from insight_hub.warehouse.embedded import available_cores, parallel_workers_per_gather

    expected = parallel_workers_per_gather(available_cores(), DBT_THREADS)
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("show max_parallel_workers_per_gather").fetchone()[0] == str(expected)
