# Set-up and everyday commands. `make test` and `make run` install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The tested torch; pinned first so a CPU machine does not pull CUDA wheels.
TORCH_SPEC ?= torch==2.13.0

.PHONY: install run test test-large test-random fuzz test-window lint bench examples clean

$(BIN)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

# Opens the editor on the spiral example; on a machine with no display it
# trains the same example headless instead.
run: install
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY$$QT_QPA_PLATFORM" ] || [ "$$(uname)" != Linux ]; then \
		$(BIN)/studio examples/spiral_mlp.json; \
	else \
		echo "No display: training examples/spiral_mlp.json headless (studio train)."; \
		$(BIN)/studio train examples/spiral_mlp.json; \
	fi

lint: install
	$(BIN)/lint-imports

# In file order; `make test-random` shuffles it (pytest-randomly prints the seed to rerun an order).
test: install lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -p no:randomly -m "not large"

# The ONNX export and source round trip of VGG-16 and AlexNet (hundreds of MB of weights each): a minute and a half.
test-large: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -p no:randomly -m large

test-random: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(if $(SEED),--randomly-seed=$(SEED))

# The property tests (hostile files, data, graph files, exported code) with FUZZ times the examples.
FUZZ ?= 25
fuzz: install
	STUDIO_FUZZ=$(FUZZ) QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -p no:randomly tests/hostile \
		tests/files/test_file_fuzz.py tests/data/test_data_properties.py tests/export \
		tests/ui/test_edit_property.py tests/blocks/test_conv_arithmetic.py

# The journeys (whole tasks through the whole window) on a real X server with a window manager.
test-window: install
	tools/with-window $(BIN)/python -m pytest tests/journeys

# Trains every learning example at full length and checks its target (minutes).
examples: install
	$(BIN)/python examples/check_examples.py

bench: install
	$(BIN)/pip install --quiet -e ".[bench]"
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
