# Top-level entry points. A newcomer needs exactly two: `make run` and `make test`.
# Both first run `make setup`, which installs what is missing (QEMU from Debian packages,
# rustup targets) and is a no-op when everything is there.

ARCH ?= aarch64
SUPPORTED_ARCHES := aarch64 riscv64 x86_64
ifeq ($(filter $(ARCH),$(SUPPORTED_ARCHES)),)
$(error ARCH must be one of: $(SUPPORTED_ARCHES) (got '$(ARCH)'))
endif

CARGO ?= cargo
BUILD := build

.PHONY: all setup run test test-host test-qemu bench verify-deep images clean

all: images

setup:
	@bash scripts/setup.sh

## Build every bootable image into build/<arch>/.
images: setup
	@bash scripts/build-images.sh $(ARCH)

## Boot the default system for $(ARCH) in QEMU, interactively (Ctrl-A X quits).
run: setup
	@bash scripts/build-images.sh $(ARCH)
	@bash scripts/run.sh $(ARCH)

## Every test: host unit/property/model-checking tests and QEMU boot tests on all arches.
test: setup
	@bash scripts/test-all.sh

test-host: setup
	@bash scripts/test-all.sh host

test-qemu: setup
	@bash scripts/test-all.sh qemu

## Deeper exhaustive model checking and kernel-core lockstep refinement than `make test` runs
## (verified/README.md). Depths: VERIFY_SPEC_DEPTH (default 5), VERIFY_REFINE_DEPTH (default 5).
VERIFY_SPEC_DEPTH ?= 5
VERIFY_REFINE_DEPTH ?= 5
verify-deep:
	$(CARGO) run --release -p kernel-verified --bin verify-deep -- $(VERIFY_SPEC_DEPTH) $(VERIFY_REFINE_DEPTH)

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
