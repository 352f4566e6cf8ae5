# The GAN Forge project as an image: each pod of the Kubernetes DAG
# (conf/airflow/k8s_dag_template.j2) runs one Kedro node in it. Build from the project root:
#   docker build -t ganforge:latest .
# PyPI's torch wheels for Linux carry CUDA, so the same image trains on GPU nodes and on CPU.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KEDRO_DISABLE_TELEMETRY=true \
    MPLBACKEND=Agg

# Runs execute as this unprivileged user. Its fixed uid/gid lets a volume for data/ be given to
# it: the Kubernetes DAG's pods set fsGroup to the same number.
RUN groupadd --gid 10001 ganforge \
    && useradd --uid 10001 --gid ganforge --create-home --shell /usr/sbin/nologin ganforge

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install .
COPY conf ./conf
# data/ is mounted from shared storage in the cluster; a bare container starts with an empty one.
# The code and configuration stay root's; a run writes data/, conf/local and, in /app, the local
# tracking store (mlruns.db, mlartifacts/); caches (torch hub, matplotlib) go to the user's home.
RUN mkdir -p data conf/local && printf 'consent: false\n' > .telemetry \
    && chown ganforge:ganforge /app data conf/local
# numeric, so that Kubernetes' runAsNonRoot can verify it: ganforge
USER 10001:10001

CMD ["kedro", "run", "--pipeline=wgan"]
