#!/usr/bin/env bash
# Build Airflow's own environment the way its users do (Apache Airflow 3 with pinned constraints,
# plus this project installed into it), then run the retraining DAG under it end to end
# (scheduling/airflow_end_to_end.py says what each DAG run checks). Run from anywhere:
#
#     bash scheduling/airflow_end_to_end.sh
#
# AIRFLOW_VENV (default .venv-airflow) is reused when it already holds Airflow; PYTHON picks the
# interpreter it is made from (default python3). GANFORGE_AIRFLOW_LOGS keeps the DAG runs' logs.
set -euo pipefail
cd "$(dirname "$0")/.."

AIRFLOW_VERSION=3.3.2
VENV="${AIRFLOW_VENV:-.venv-airflow}"
export KEDRO_DISABLE_TELEMETRY=true PIP_DISABLE_PIP_VERSION_CHECK=1

if ! "$VENV/bin/python" -c "import airflow, ganforge" 2>/dev/null; then
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # Airflow's published constraints (https://raw.githubusercontent.com/apache/airflow/
  # constraints-3.3.2/constraints-3.11.txt) are not reachable from machines that see only the
  # package registries; scheduling/airflow-constraints.txt pins the versions that this project and
  # Airflow 3.3.2 resolved to together, so the install does not spend minutes backtracking.
  "$VENV/bin/python" -m pip install -q "apache-airflow==${AIRFLOW_VERSION}" -e . \
      -c scheduling/airflow-constraints.txt
fi
"$VENV/bin/python" -c 'import airflow, sys; print("Airflow", airflow.__version__, "on Python", sys.version.split()[0])'
exec "$VENV/bin/python" scheduling/airflow_end_to_end.py
