//! The tool's typed error: one variant per stage that can fail.

use std::fmt;
use std::path::PathBuf;

/// Anything that stops the `microkit` tool.
#[derive(Debug)]
pub enum ToolError {
    /// Bad command line (the message is clap's, including usage).
    Args(String),
    /// The board name is not in the board table.
    UnknownBoard {
        name: String,
        known: Vec<&'static str>,
    },
    /// A file could not be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The system description file is not UTF-8.
    NotUtf8 { path: PathBuf },
    /// The system description is invalid.
    Sdf(sdf::SdfError),
    /// The system layout could not be computed.
    Layout(String),
    /// A PD's program image is missing or unusable. `at` is where the PD is declared
    /// (`file:line:col` of the system description).
    Program {
        pd: String,
        at: String,
        path: PathBuf,
        reason: String,
    },
    /// A symbol the tool must patch is not in a PD's ELF.
    MissingSymbol {
        pd: String,
        at: String,
        path: PathBuf,
        symbol: String,
    },
    /// Two things would occupy the same virtual addresses of a PD.
    Overlap {
        pd: String,
        at: String,
        what: String,
    },
    /// A feature this SDK cannot build into an image.
    Unsupported(String),
    /// The kernel or initialiser could not be found.
    Sdk(String),
    /// The spec could not be built.
    Spec(String),
    /// The image could not be packed.
    Image(String),
    /// A file could not be written.
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::Args(m) => write!(f, "{}", m.trim_end()),
            ToolError::UnknownBoard { name, known } => {
                write!(
                    f,
                    "error: unknown board '{name}'; known boards: {}",
                    known.join(", ")
                )
            }
            ToolError::Read { path, source } => {
                write!(f, "error: cannot read '{}': {source}", path.display())
            }
            ToolError::NotUtf8 { path } => {
                write!(f, "error: '{}' is not UTF-8 text", path.display())
            }
            ToolError::Sdf(e) => write!(f, "{e}"),
            ToolError::Layout(m) => write!(f, "error: {m}"),
            ToolError::Program {
                pd,
                at,
                path,
                reason,
            } => {
                write!(f, "{at}: error: PD '{pd}': '{}': {reason}", path.display())
            }
            ToolError::MissingSymbol {
                pd,
                at,
                path,
                symbol,
            } => write!(
                f,
                "{at}: error: PD '{pd}': '{}': symbol '{symbol}' not found (the tool must patch it; is the PD linked against the microkit library, and is the setvar symbol defined?)",
                path.display()
            ),
            ToolError::Overlap { pd, at, what } => write!(f, "{at}: error: PD '{pd}': {what}"),
            ToolError::Unsupported(m) => write!(f, "error: {m}"),
            ToolError::Sdk(m) => write!(f, "error: SDK: {m}"),
            ToolError::Spec(m) => write!(f, "error: building the system spec: {m}"),
            ToolError::Image(m) => write!(f, "error: building the image: {m}"),
            ToolError::Write { path, source } => {
                write!(f, "error: cannot write '{}': {source}", path.display())
            }
        }
    }
}

impl std::error::Error for ToolError {}

impl From<sdf::SdfError> for ToolError {
    fn from(e: sdf::SdfError) -> Self {
        ToolError::Sdf(e)
    }
}
