"""Airflow wiring: DAG factories, Assets and the cosmos configuration. DAG files only call these."""
