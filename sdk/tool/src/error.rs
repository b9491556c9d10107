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
