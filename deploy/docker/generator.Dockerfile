# syntax=docker/dockerfile:1.7
# ragmesh generator: Grounded answers (the extractive answerer in-process, a language model on Triton) streamed back; tiktoken (offline cl100k) budgets the context.
# Build from the repository root:  docker build -f deploy/docker/generator.Dockerfile -t ragmesh/generator .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- deps: the pinned import closure of this service only (deploy/docker/gen_requirements.py) ---
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY deploy/docker/requirements/generator.txt /tmp/requirements.txt
# A venv without pip: the base image's pip installs into it, so no installer ships in the runtime.
RUN python -m venv --without-pip /opt/venv \
 && pip --python /opt/venv/bin/python install --no-deps --only-binary=:all: -r /tmp/requirements.txt

# --- source: only the code this service imports, compiled ahead (the root filesystem is read-only) ---
FROM ${PYTHON_IMAGE} AS source
WORKDIR /app
COPY libs/gen/ libs/gen/
COPY libs/ragmesh_kit/ libs/ragmesh_kit/
COPY libs/ragmesh_answering/ libs/ragmesh_answering/
COPY services/__init__.py services/__init__.py
COPY services/generator/ services/generator/
RUN find /app -name '__pycache__' -prune -exec rm -rf {} + && python -m compileall -q /app

# --- runtime: slim, non-root ---
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 ragmesh \
 && useradd --system --uid 10001 --gid ragmesh --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin ragmesh
COPY --from=deps /opt/venv /opt/venv
COPY --from=source /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app:/app/libs:/app/libs/gen \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GENERATOR_HOST=0.0.0.0 \
    GENERATOR_PORT=50054 \
    GENERATOR_METRICS_PORT=9454
USER 10001:10001
EXPOSE 50054 9454
ENTRYPOINT ["python", "-m", "services.generator.main"]
