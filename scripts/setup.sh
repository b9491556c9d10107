#!/usr/bin/env bash
# Idempotent setup: installs QEMU (aarch64, riscv64, x86_64), clang and lld (the C SDK's
# compiler and linker for all three targets) from Debian packages and the rustup
# targets/components named in rust-toolchain.toml. Downloads nothing else.
set -euo pipefail

need_qemu=0
for q in qemu-system-aarch64 qemu-system-riscv64 qemu-system-x86_64; do
  command -v "$q" >/dev/null 2>&1 || need_qemu=1
done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

if [ "$need_qemu" = 1 ]; then
  echo "setup: installing QEMU from Debian packages"
  . /etc/os-release
  codename="${VERSION_CODENAME:-bookworm}"
  pkgs="qemu-system-arm qemu-system-riscv qemu-system-x86"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || true
  # First try the configured suites as they are.
  if ! $SUDO apt-get install -y -qq --no-install-recommends $pkgs; then
    # The preinstalled qemu-utils may come from <codename>-backports and block the base
    # suite's QEMU. Derive a backports entry from the Debian source already configured
    # (same URIs and keyring), never naming a host ourselves.
    src=""
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      if grep -qE "^Suites:.*\b${codename}\b" "$f"; then src="$f"; break; fi
    done
    bp=/etc/apt/sources.list.d/zz-project-backports.sources
    if [ -n "$src" ] && [ ! -f "$bp" ]; then
      awk -v cn="$codename" '
        BEGIN { RS=""; ORS="\n\n" }
        $0 ~ ("Suites:[^\n]*" cn "([ \n]|$)") && $0 !~ /security/ {
          out=""
          n=split($0, lines, "\n")
          for (i=1;i<=n;i++) {
            if (lines[i] ~ /^Suites:/) lines[i]="Suites: " cn "-backports"
            if (lines[i] ~ /^#/) continue
            out = out lines[i] "\n"
          }
          printf "%s\n", out
          exit
        }' "$src" | $SUDO tee "$bp" >/dev/null
    elif [ -z "$src" ] && [ -f /etc/apt/sources.list ]; then
      line=$(grep -E "^deb [^ ]+ ${codename} " /etc/apt/sources.list | head -n1 || true)
      if [ -n "$line" ]; then
        echo "$line" | sed -E "s/ ${codename} / ${codename}-backports /" | $SUDO tee /etc/apt/sources.list.d/zz-project-backports.list >/dev/null
      fi
    fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends -t "${codename}-backports" $pkgs
  fi
fi

# The C SDK (scripts/build-c-sdk.sh, examples/c-hello) compiles with Debian's clang for every
# target and links with ld.lld.
if ! command -v clang >/dev/null 2>&1 || ! command -v ld.lld >/dev/null 2>&1; then
  echo "setup: installing clang and lld from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq || true
  $SUDO apt-get install -y -qq --no-install-recommends clang lld
fi

# rustup reads rust-toolchain.toml and installs the pinned toolchain, targets and components.
if command -v rustup >/dev/null 2>&1; then
  cd "$(dirname "$0")/.."
  rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
  for t in aarch64-unknown-none aarch64-unknown-none-softfloat riscv64gc-unknown-none-elf x86_64-unknown-none; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
  done
  rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools
fi
echo "setup: ok ($(qemu-system-aarch64 --version | head -n1); $(clang --version | head -n1))"
