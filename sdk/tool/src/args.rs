//! Command-line interface, matching Microkit 2.3's:
//! `microkit <system> --board <board> --config <config> [-o <image>] [-r <report>]
//! [--image-type binary|elf|uimage] [--override-kernel <kernel>] [--viper-output <dir>]
//! [--search-path [<dir> ...]]`, plus our own `--sdk-dir` and `--initialiser`.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::error::ToolError;

/// Kernel configuration the image is built for: Microkit 2.3's three, and their multicore
/// variants (`smp-*`) on boards with several cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Config {
    /// Kernel prints and debug syscalls.
    Debug,
    /// No debug output.
    Release,
    /// Benchmark counters; PDs also get their own TCB cap.
    Benchmark,
    /// `debug` on a multicore kernel (`CONFIG_MAX_NUM_NODES` = the board's cores).
    SmpDebug,
    /// `release` on a multicore kernel.
    SmpRelease,
    /// `benchmark` on a multicore kernel.
    SmpBenchmark,
}

impl Config {
    /// Name as written on the command line (and the SDK's `board/<board>/<name>` directory).
    pub fn name(self) -> &'static str {
        match self {
            Config::Debug => "debug",
            Config::Release => "release",
            Config::Benchmark => "benchmark",
            Config::SmpDebug => "smp-debug",
            Config::SmpRelease => "smp-release",
            Config::SmpBenchmark => "smp-benchmark",
        }
    }

    /// Whether this is a multicore (`smp-*`) configuration.
    pub fn is_smp(self) -> bool {
        matches!(
            self,
            Config::SmpDebug | Config::SmpRelease | Config::SmpBenchmark
        )
    }

    /// Whether this is a benchmark configuration (`benchmark`, `smp-benchmark`).
    pub fn is_benchmark(self) -> bool {
        matches!(self, Config::Benchmark | Config::SmpBenchmark)
    }
}

/// Parsed command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "microkit",
    version,
    about = "Validates a Microkit system description and builds the system image"
)]
pub struct Args {
    /// The system description (.system) file.
    pub system: PathBuf,
    /// Target board (qemu_virt_aarch64, qemu_virt_riscv64, x86_64_generic).
    #[arg(long)]
    pub board: String,
    /// Kernel configuration.
    #[arg(long, value_enum)]
    pub config: Config,
    /// Where to write the bootable image.
    #[arg(short = 'o', long = "output", default_value = "loader.img")]
    pub output: PathBuf,
    /// Where to write the report.
    #[arg(short = 'r', long = "report", default_value = "report.txt")]
    pub report: PathBuf,
    /// Extra directories to look in for program images and prefill files (after the
    /// directory of the system file); takes any number of directories, as Microkit's.
    #[arg(long = "search-path", num_args = 0..)]
    pub search_path: Vec<PathBuf>,
    /// Image file format (Microkit's default: binary on AArch64, uimage on RISC-V, elf on
    /// x86_64).
    #[arg(long = "image-type", value_enum)]
    pub image_type: Option<crate::format::ImageType>,
    /// Write each PD's capabilities, channels and memory as Viper definitions to
    /// `<dir>/<pd>.vpr` (Microkit's `--viper-output`).
    #[arg(long = "viper-output", value_name = "DIRECTORY_PATH")]
    pub viper_output: Option<PathBuf>,
    /// SDK directory holding `board/<board>/<config>/elf/{sel4.elf,initialiser.elf}`
    /// (default: the MICROKIT_SDK environment variable, else this repository's
    /// `target/<triple>/release/` build outputs).
    #[arg(long = "sdk-dir")]
    pub sdk_dir: Option<PathBuf>,
    /// Kernel file to use instead of the SDK's (Microkit's `--override-kernel`; `--kernel` is
    /// accepted too).
    #[arg(long = "override-kernel", alias = "kernel", value_name = "KERNEL")]
    pub kernel: Option<PathBuf>,
    /// Initialiser ELF to use instead of the SDK's.
    #[arg(long)]
    pub initialiser: Option<PathBuf>,
}

/// Whether a clap error is a request for help or version rather than a mistake.
pub enum Parsed {
    /// Arguments to act on.
    Run(Args),
    /// Text to print on stdout, then exit successfully.
    Info(String),
}

impl Args {
    /// Parses `argv` (including the program name) without exiting.
    pub fn parse_from_argv<I, T>(argv: I) -> Result<Parsed, ToolError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        match Args::try_parse_from(argv) {
            Ok(a) => Ok(Parsed::Run(a)),
            Err(e) => match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Ok(Parsed::Info(e.to_string()))
                }
                _ => Err(ToolError::Args(e.to_string())),
            },
        }
    }
}
