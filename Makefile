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

.PHONY: all setup run test test-host test-qemu bench verify-deep mutants images clean

all: images

setup:
	@bash scripts/setup.sh

## Build every bootable image into build/<arch>/.
images: setup
	@bash scripts/build-images.sh $(ARCH)

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

## Deeper exhaustive model checking and kernel-core lockstep refinement than `make test` runs
## (verified/README.md). Depths: VERIFY_SPEC_DEPTH (default 5), VERIFY_REFINE_DEPTH (default 5);
## the TCB-configuration runs use VERIFY_TCB_DEPTH (default 4); VERIFY_DEEP_ONLY=tcb-config runs only those.
VERIFY_SPEC_DEPTH ?= 5
VERIFY_REFINE_DEPTH ?= 5
verify-deep:
	$(CARGO) run --release -p kernel-verified --bin verify-deep -- $(VERIFY_SPEC_DEPTH) $(VERIFY_REFINE_DEPTH)

## Mutation testing of kernel-core's object/CSpace code against kernel-core's tests plus the
## lockstep refinement tests (verified/MUTANTS.md). Not part of `make test`: hours of CPU for
## all files. Narrow with MUTANTS_FILES (e.g. `make mutants MUTANTS_FILES="-f kernel/core/src/mdb.rs"`)
## and MUTANTS_FILTER (a `-F` regex). The skipped tests are the spec-only model checks (they
## cannot see kernel-core) and the depth-4 exhaustive lockstep run (applied to survivors only).
MUTANTS_FILES ?= -f kernel/core/src/mdb.rs -f kernel/core/src/cnode.rs
MUTANTS_FILTER ?=
MUTANTS_SKIP ?= --skip lockstep_exhaustive_cnode_untyped --skip exhaustive_depth --skip random_long_sequences
mutants:
	CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_INCREMENTAL=true \
	nice -n 10 $(CARGO) mutants -p kernel-core --test-package kernel-core --test-package kernel-verified \
	  $(MUTANTS_FILES) $(if $(MUTANTS_FILTER),-F '$(MUTANTS_FILTER)') \
	  --jobs 1 --profile release --timeout 180 --build-timeout 400 --copy-target true \
	  -- -- $(MUTANTS_SKIP)

clean:
	$(CARGO) clean
	rm -rf $(BUILD)
