# The GAN Forge project as an image: each pod of the Kubernetes DAG
# (conf/airflow/k8s_dag_template.j2) runs one Kedro node in it. Build from the project root:
#   docker build -t ganforge:latest .
# PyPI's torch wheels for Linux carry CUDA, so the same image trains on GPU nodes and on CPU.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KEDRO_DISABLE_TELEMETRY=true \
    MPLBACKEND=Agg

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install .
COPY conf ./conf
# data/ is mounted from shared storage in the cluster; a bare container starts with an empty one
RUN mkdir -p data conf/local && printf 'consent: false\n' > .telemetry

CMD ["kedro", "run", "--pipeline=wgan"]
