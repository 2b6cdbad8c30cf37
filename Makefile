# ragmesh — see README.md. Every target runs from a fresh clone; `make setup` is idempotent.
SHELL := /bin/bash
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR):$(CURDIR)/libs:$(CURDIR)/libs/gen:$(CURDIR)/libs/sdk
PROTOS := $(shell find protos -name '*.proto' | sort)
# `make up GENERATOR=llm` / `make demo GENERATOR=llm`: the generator's Triton model (generator:
# extractive, the default; llm: SmolLM2-135M-Instruct on llama.cpp with the grounding guard).
ifdef GENERATOR
export RAGMESH_STACK_GENERATOR_MODEL := $(GENERATOR)
endif

.PHONY: setup up down status proto proto-check lint test test-unit demo bench soak docs clean

setup:
	@bash deploy/local/setup.sh

# One command line for the stack: the Makefile calls the same `ragmesh` a user runs.
up: setup
	@$(PY) -m ragmesh_cli up

down:
	@if [ -x $(PY) ]; then $(PY) -m ragmesh_cli down; fi

status:
	@$(PY) -m ragmesh_cli status

# Generated code lives only in libs/gen and is committed; proto-check fails when it drifts.
proto: setup
	@rm -rf libs/gen/ragmesh
	@$(PY) -m grpc_tools.protoc -I protos --python_out=libs/gen --pyi_out=libs/gen --grpc_python_out=libs/gen $(PROTOS)
	@echo "generated into libs/gen"

proto-check: setup
	@tmp=$$(mktemp -d) && $(PY) -m grpc_tools.protoc -I protos --python_out=$$tmp --pyi_out=$$tmp --grpc_python_out=$$tmp $(PROTOS) \
	  && if diff -r $$tmp/ragmesh libs/gen/ragmesh >/dev/null; then echo "proto-check: generated code is up to date"; rm -rf $$tmp; \
	  else echo "proto-check: libs/gen drifted from protos/; run 'make proto' and commit" >&2; diff -r $$tmp/ragmesh libs/gen/ragmesh | head -20 >&2; rm -rf $$tmp; exit 1; fi

lint: setup
	@.venv/bin/ruff check tools services libs/ragmesh_kit libs/ragmesh_devstack libs/ragmesh_cli libs/ragmesh_llm libs/ragmesh_models libs/ragmesh_answering libs/sdk tests models bench
	@.venv/bin/mypy
	@# Every Triton model is a module named "model" (in <name>/1/): one mypy run each.
	@for model in models/triton/*/1/model.py; do .venv/bin/mypy --no-error-summary "$$model" || exit 1; done
	@.venv/bin/buf lint
	@# v1 stays compatible with every published version: compare with each commit of main's own
	@# line (--first-parent: a branch's drafts were never published) that changed protos/, so a
	@# break spread over several commits is caught too.
	@for ref in $$(git log --first-parent --format=%H -- protos 2>/dev/null); do \
	  .venv/bin/buf breaking --against ".git#ref=$$ref" || { echo "buf breaking: incompatible with $$ref" >&2; exit 1; }; done
	@echo "lint: ok"

# The whole suite: contracts, lint, unit tests, then the real stack (Kafka, Jaeger, Triton, Qdrant).
test: setup proto-check lint
	@$(PY) -m pytest

# Opt-in soak: a bounded mixed load for RAGMESH_SOAK_SECONDS (600) with RSS checks.
soak: setup
	@$(PY) -m pytest -m soak tests/stack/test_soak.py -s

# Opt-in traced load: ghz at 64 connections on the embedder for RAGMESH_LOAD_SECONDS (600), every
# service tracing; Triton must neither crash nor lose a request.
.PHONY: load-test
load-test: setup
	@$(PY) -m pytest -m load tests/stack/test_traced_load.py -s

test-unit: setup
	@$(PY) -m pytest -m "not stack"

demo: up
	@$(PY) -m ragmesh_devstack.demo

# Speed measured side by side in one run, on its own stack instance (.run/bench, ports +5000),
# then the llm generator (.run/bench-llm, ports +7000); writes docs/benchmarks/ (never asserted in tests).
bench: setup
	@$(PY) -m bench.run

# py-spy flame graphs (speedscope JSON) of every process an Ask crosses, at 32 callers, on the bench
# instance (started if needed, kept up; `make bench` or `ragmesh down` with its settings stops it):
# docs/benchmarks/profiles/. Open them at https://www.speedscope.app (files stay local).
.PHONY: profile
profile: setup
	@$(PY) -m bench.profile

# The architecture picture, from its source (needs Graphviz: apt-get install graphviz).
docs:
	@dot -Tsvg docs/architecture.dot -o docs/images/architecture.svg
	@$(PY) -m tools.config_docs

clean: down
	rm -rf .run

# Re-publishes dead-lettered documents (ragmesh.documents.dlq.v1) to ragmesh.documents.v1, once each.
.PHONY: dlq-replay
dlq-replay: setup
	@$(PY) -m ragmesh_devstack.dlq replay

# Offline checks of deploy/ (Dockerfiles, compose, kustomize overlays) without Docker or a cluster.
# kustomize: kubectl's built-in, else the one `make setup` builds into the cache.
.PHONY: deploy-check
deploy-check: setup
	@start=$$(date +%s%N); \
	$(PY) deploy/docker/gen_requirements.py --check && \
	$(PY) -m pytest -q -p no:cacheprovider tests/deploy && \
	echo "deploy-check: ok in $$(( ($$(date +%s%N) - start) / 1000000 )) ms"
