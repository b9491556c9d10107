//! SDF stage: reads the system description and validates it for the board.

use std::path::{Path, PathBuf};

use sdf::SystemDescription;

use crate::board::Board;
use crate::error::ToolError;

/// Directories searched for program images and prefill files: the system file's own
/// directory first, then each `--search-path` in order.
pub fn search_dirs(system: &Path, extra: &[PathBuf]) -> Vec<PathBuf> {
    let own = system
        .parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty());
    own.into_iter()
        .chain(Some(PathBuf::from(".")))
        .chain(extra.iter().cloned())
        .collect()
}

/// Finds `name` in `dirs` (or as given, when absolute).
pub fn find_file(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_path_buf());
    }
    dirs.iter().map(|d| d.join(p)).find(|c| c.is_file())
}

/// Reads and validates `path` for `board` in a uniprocessor configuration.
pub fn load(
    path: &Path,
    board: &Board,
    search: &[PathBuf],
) -> Result<SystemDescription, ToolError> {
    load_for(path, board, crate::args::Config::Debug, search)
}

/// Reads and validates `path` for `board` in configuration `config` (which decides how many
/// cores `cpu` attributes may name).
pub fn load_for(
    path: &Path,
    board: &Board,
    config: crate::args::Config,
    search: &[PathBuf],
) -> Result<SystemDescription, ToolError> {
    load_target(path, board.target_config_for(config), search)
}

/// Reads and validates `path` against the target facts `target` (the board's, for one
/// configuration and kernel).
pub fn load_target(
    path: &Path,
    target: sdf::TargetConfig,
    search: &[PathBuf],
) -> Result<SystemDescription, ToolError> {
    let bytes = std::fs::read(path).map_err(|source| ToolError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| ToolError::NotUtf8 {
        path: path.to_path_buf(),
    })?;
    let dirs = search_dirs(path, search);
    let sizer = |name: &str| -> Result<u64, String> {
        let found =
            find_file(name, &dirs).ok_or_else(|| "not found in the search path".to_string())?;
        std::fs::metadata(&found)
            .map(|m| m.len())
            .map_err(|e| e.to_string())
    };
    let name = path.display().to_string();
    Ok(sdf::parse_with_prefill(
        &name,
        &text,
        &target,
        &sizer,
    )?)
}
