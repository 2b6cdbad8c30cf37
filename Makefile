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

up: setup
	@$(PY) -m ragmesh_devstack up

down:
	@if [ -x $(PY) ]; then $(PY) -m ragmesh_devstack down; fi

status:
	@$(PY) -m ragmesh_devstack status

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
	@.venv/bin/ruff check services libs/ragmesh_kit libs/ragmesh_devstack libs/ragmesh_cli libs/ragmesh_llm libs/sdk tests models bench
	@.venv/bin/mypy
	@.venv/bin/buf lint
	@if git rev-parse -q --verify HEAD~1 >/dev/null && git cat-file -e HEAD~1:protos 2>/dev/null; then \
	  .venv/bin/buf breaking --against '.git#ref=HEAD~1'; fi
	@echo "lint: ok"

# The whole suite: contracts, lint, unit tests, then the real stack (Kafka, Jaeger, Triton, Qdrant).
test: setup proto-check lint
	@$(PY) -m pytest

# Opt-in soak: a bounded mixed load for RAGMESH_SOAK_SECONDS (600) with RSS checks.
soak: setup
	@$(PY) -m pytest -m soak tests/stack/test_soak.py -s

test-unit: setup
	@$(PY) -m pytest -m "not stack"

demo: up
	@$(PY) -m ragmesh_devstack.demo

# Speed measured side by side in one run, on its own stack instance (.run/bench, ports +5000);
# writes docs/benchmarks/ (never asserted in tests).
bench: setup
	@$(PY) -m bench.run

# The architecture picture, from its source (needs Graphviz: apt-get install graphviz).
docs:
	@dot -Tsvg docs/architecture.dot -o docs/images/architecture.svg
	@$(PY) -m ragmesh_devstack.config_docs

clean: down
	rm -rf .run

# Re-publishes dead-lettered documents (ragmesh.documents.dlq.v1) to ragmesh.documents.v1, once each.
.PHONY: dlq-replay
dlq-replay: setup
	@$(PY) -m ragmesh_devstack.dlq replay

# Offline checks of deploy/ (Dockerfiles, compose, kustomize overlays) without Docker or a cluster.
# kustomize: kubectl's built-in, else built once from the Go module proxy into the cache.
.PHONY: deploy-check
deploy-check: setup
	@start=$$(date +%s%N); \
	if ! command -v kustomize >/dev/null && ! command -v kubectl >/dev/null; then \
	  k=$${RAGMESH_CACHE:-$$HOME/.cache/ragmesh}/tools/kustomize; \
	  if [ ! -x $$k ]; then echo "deploy-check: building kustomize v5.5.0 (Go module proxy)"; \
	    GOBIN=$$(dirname $$k) go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0; fi; fi; \
	$(PY) deploy/docker/gen_requirements.py --check && \
	$(PY) -m pytest -q -p no:cacheprovider tests/deploy && \
	echo "deploy-check: ok in $$(( ($$(date +%s%N) - start) / 1000000 )) ms"
