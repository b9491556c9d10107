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

.PHONY: all setup run test test-host test-qemu bench fuzz verify-deep mutants images c-sdk clean

all: images

setup:
	@bash scripts/setup.sh

## Build every bootable image into build/<arch>/.
images: setup
	@bash scripts/build-images.sh $(ARCH)

## The whole SDK in build/sdk for every board: the `microkit` tool, kernels, initialiser, and the
## C side (include/ with microkit.h and sel4/*.h generated from abi/, lib/ with libmicrokit.a and
## microkit.ld, built with clang); see sdk/libmicrokit/README.md.
c-sdk: setup
	@bash microkit-hello/setup.sh
	@bash scripts/build-c-sdk.sh

## Boot the default system for $(ARCH) in QEMU, interactively (Ctrl-A X quits): on aarch64 the
## Microkit hello system (microkit-hello/). IMAGE=<name> boots build/<arch>/<name>.elf instead,
## e.g. `make run IMAGE=hello` (the root task printing `hello from user mode`).
IMAGE ?=
run: setup
	@bash scripts/build-images.sh $(ARCH)
	@bash scripts/run.sh $(ARCH) $(IMAGE)

## Every test: host unit/property/model-checking tests and QEMU boot tests on all arches.
test: setup
	@bash scripts/test-all.sh

test-host: setup
	@bash scripts/test-all.sh host

test-qemu: setup
	@bash scripts/test-all.sh qemu

## Guest-instruction cost of the kernel's hot paths (root task user/sel4-bench: null syscalls,
## Signal+Wait, notification and Call/ReplyRecv round trips) under QEMU -icount, one table per
## arch and a Markdown table of all (docs/bench.md). Narrow with BENCH_ARCHES. Not in `make test`.
BENCH_ARCHES ?= aarch64 riscv64 x86_64
bench: setup
	@bash scripts/bench.sh $(BENCH_ARCHES)

## Fuzz campaign on $(ARCH): the root task user/sel4-fuzz makes CALLS seeded random system calls
## and templated invocations (seed SEED), checks every reply and prints a coverage table; fails
## on a kernel panic, an invalid reply (printed with seed and call index) or a hang (docs/fuzz.md).
## Log: build/<arch>/fuzz.log. `make test` runs a short campaign per arch (tests/qemu/*-fuzz.sh).
SEED ?= 1
CALLS ?= 1000000
fuzz: setup
	@bash scripts/fuzz.sh $(ARCH) $(SEED) $(CALLS)

## Deeper exhaustive model checking and kernel-core lockstep refinement than `make test` runs
## (verified/README.md). Depths: VERIFY_SPEC_DEPTH (default 5), VERIFY_REFINE_DEPTH (default 5);
## the TCB-configuration runs use VERIFY_TCB_DEPTH (default 4); VERIFY_DEEP_ONLY=tcb-config runs only those.
VERIFY_SPEC_DEPTH ?= 5
VERIFY_REFINE_DEPTH ?= 5
verify-deep:
	$(CARGO) run --release -p kernel-verified --bin verify-deep -- $(VERIFY_SPEC_DEPTH) $(VERIFY_REFINE_DEPTH)

## Mutation testing of kernel-core's object/CSpace code (verified/MUTANTS.md), in two stages:
## every mutant against kernel-core's own tests, then the survivors against the lockstep
## refinement tests (scripts/mutants.sh). Not part of `make test`: hours of CPU for all files.
## Narrow with MUTANTS_FILES, e.g. `make mutants MUTANTS_FILES=kernel/core/src/mdb.rs`; options
## (a seeded sample, stage 1 only, ...) go in MUTANTS_ARGS, e.g. MUTANTS_ARGS="--sample 60 --seed 6".
MUTANTS_FILES ?= kernel/core/src/cap.rs kernel/core/src/cnode.rs kernel/core/src/cspace.rs \
  kernel/core/src/mdb.rs kernel/core/src/delete.rs kernel/core/src/untyped.rs 'kernel/core/src/object/*.rs'
mutants:
	bash scripts/mutants.sh $(MUTANTS_ARGS) $(MUTANTS_FILES)

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
