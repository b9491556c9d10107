//! Locating the SDK pieces an image is built from: the kernel and the initialiser root task.
//!
//! Lookup order for each piece (the first that names a file wins):
//! 1. the explicit option (`--kernel <file>`, `--initialiser <file>`);
//! 2. the SDK directory (`--sdk-dir <dir>`, else the `MICROKIT_SDK` environment variable), laid
//!    out like Microkit's SDK: `<sdk>/board/<board>/<config>/elf/sel4.elf` (aarch64, riscv64:
//!    the kernel ELF `sel4.elf`; on x86_64 optional, written beside the image with its
//!    32-bit ELF `sel4_32.elf`, as Microkit does) and
//!    `<sdk>/board/<board>/<config>/elf/initialiser.elf`. `microkit-hello/setup.sh` fills it;
//! 3. without an SDK directory: this repository's own build outputs,
//!    `target/<triple>/release/<kernel binary>` and `target/<triple>/release/initialiser`.
//!
//! When an SDK directory is given, its layout is required (no silent fallback to the
//! repository), so a half-installed SDK is reported rather than mixed with other builds.

use std::path::{Path, PathBuf};

use sdf::Arch;

use crate::args::Config;
use crate::board::Board;
use crate::error::ToolError;

/// Environment variable naming the SDK directory.
pub const SDK_ENV: &str = "MICROKIT_SDK";

/// The files an image is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdkFiles {
    /// The kernel. `None` on x86_64, where the kernel is booted beside the image (QEMU
    /// `-kernel`) rather than packed into it, and no kernel file was found.
    pub kernel: Option<PathBuf>,
    /// The initialiser root task ELF.
    pub initialiser: PathBuf,
}

/// Rust target triple of the bare-metal builds for `arch`.
pub fn triple(arch: Arch) -> &'static str {
    match arch {
        Arch::Aarch64 => "aarch64-unknown-none",
        Arch::Riscv64 => "riscv64gc-unknown-none-elf",
        Arch::X86_64 => "x86_64-unknown-none",
    }
}

/// File name of the kernel inside `<sdk>/board/<board>/<config>/elf/`.
pub fn sdk_kernel_name(arch: Arch) -> &'static str {
    let _ = arch;
    "sel4.elf"
}

/// Binary names of the kernel in this repository's `target/<triple>/release/`, in the order tried.
fn repo_kernel_names(arch: Arch) -> &'static [&'static str] {
    match arch {
        Arch::Aarch64 => &["kernel"],
        Arch::Riscv64 => &["kernel-qemu-virt-riscv64"],
        Arch::X86_64 => &["kernel-x86_64"],
    }
}

/// This repository's root (the tool lives in `<root>/sdk/tool`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the pieces are looked for.
#[derive(Debug, Clone, Default)]
pub struct SdkOptions {
    /// `--sdk-dir`, or `MICROKIT_SDK` if unset.
    pub sdk_dir: Option<PathBuf>,
    /// `--kernel`.
    pub kernel: Option<PathBuf>,
    /// `--initialiser`.
    pub initialiser: Option<PathBuf>,
}

fn must_exist(p: PathBuf, what: &str) -> Result<PathBuf, ToolError> {
    if p.is_file() {
        Ok(p)
    } else {
        Err(ToolError::Sdk(format!(
            "{what} not found at '{}'",
            p.display()
        )))
    }
}

/// Finds the kernel and initialiser for `board` and `config`.
pub fn locate(opts: &SdkOptions, board: &Board, config: Config) -> Result<SdkFiles, ToolError> {
    let x86 = board.arch == Arch::X86_64;
    if let Some(dir) = &opts.sdk_dir {
        let elf = dir
            .join("board")
            .join(board.name)
            .join(config.name())
            .join("elf");
        if !elf.is_dir() {
            return Err(ToolError::Sdk(format!(
                "the SDK at '{}' has no '{}' (board {}, config {})",
                dir.display(),
                elf.display(),
                board.name,
                config.name()
            )));
        }
        let initialiser = match &opts.initialiser {
            Some(p) => must_exist(p.clone(), "initialiser (--initialiser)")?,
            None => must_exist(elf.join("initialiser.elf"), "initialiser")?,
        };
        let kernel = match &opts.kernel {
            Some(p) => Some(must_exist(p.clone(), "kernel (--kernel)")?),
            // x86_64: optional; an older SDK has only the flat multiboot `kernel32.bin`.
            None if x86 => [sdk_kernel_name(board.arch), "kernel32.bin"]
                .iter()
                .map(|n| elf.join(n))
                .find(|p| p.is_file()),
            None => Some(must_exist(elf.join(sdk_kernel_name(board.arch)), "kernel")?),
        };
        return Ok(SdkFiles {
            kernel,
            initialiser,
        });
    }
    let bin = repo_root()
        .join("target")
        .join(triple(board.arch))
        .join("release");
    let initialiser = match &opts.initialiser {
        Some(p) => must_exist(p.clone(), "initialiser (--initialiser)")?,
        None => must_exist(
            bin.join("initialiser"),
            "initialiser (build it with `cargo build -p microkit-initialiser --release --target ...`, or pass --sdk-dir/--initialiser)",
        )?,
    };
    let kernel = match &opts.kernel {
        Some(p) => Some(must_exist(p.clone(), "kernel (--kernel)")?),
        // x86_64: the kernel is not packed into the image; when found, the tool writes it
        // (and its 32-bit ELF) beside the image.
        None if x86 => repo_kernel_names(board.arch)
            .iter()
            .map(|n| bin.join(n))
            .find(|p| p.is_file()),
        None => {
            let names = repo_kernel_names(board.arch);
            match names.iter().map(|n| bin.join(n)).find(|p| p.is_file()) {
                Some(p) => Some(p),
                None => {
                    return Err(ToolError::Sdk(format!(
                    "no kernel for {} in '{}' (looked for {}); build it or pass --sdk-dir/--kernel",
                    board.name,
                    bin.display(),
                    names.join(", ")
                )))
                }
            }
        }
    };
    Ok(SdkFiles {
        kernel,
        initialiser,
    })
}
