"""Orchestration: dbt runs, the DAG's task bodies, and launching Airflow."""
