# Ember developer commands. `make demo` and `make test` are the README's two set-up commands.
.PHONY: deps dataset demo autograd-demo build test bench fixtures clean

# System packages Ember needs (Debian): oneDNN for CPU math, zlib for gzipped datasets,
# libjpeg and libpng for images.
PACKAGES := libdnnl-dev zlib1g-dev libjpeg-dev libpng-dev
deps:
	@if ! dpkg -s $(PACKAGES) >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y $(PACKAGES); \
		else sudo apt-get update && sudo apt-get install -y $(PACKAGES); fi; \
	fi

# Builds Ember and trains an MLP on Fashion-MNIST for 5 epochs (installs the dataset
# package when missing), saving the model to fashion-mlp.safetensors.
demo: deps dataset
	swift build -c release --product ember
	.build/release/ember train fashion-mnist --model mlp --epochs 5 --save fashion-mlp.safetensors
	.build/release/ember eval --checkpoint fashion-mlp.safetensors

# The autograd example from the README.
autograd-demo: deps
	swift run -c release autograd-demo

# Fashion-MNIST from Debian's dataset-fashion-mnist package.
dataset:
	@if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y dataset-fashion-mnist; \
		else sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist; fi; \
	fi

build: deps
	swift build --build-tests

# Builds once, then runs the whole test suite (XCTest; Ember has no Swift Testing suites).
test: deps
	swift build --build-tests
	swift test --skip-build --disable-swift-testing

# Ember vs PyTorch side by side (creates .venv-bench with PyTorch from PyPI if missing).
bench: deps
	bash Benchmarks/run.sh

# Regenerates the PyTorch reference fixtures under Tests/EmberTests/Fixtures.
fixtures:
	bash scripts/make_fixtures.sh

clean:
	rm -rf .build
