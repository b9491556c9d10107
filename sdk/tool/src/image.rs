//! Image stage. Building the bootable image needs the kernel, loader and initialiser, which
//! are still being written; until then this stage reports that no image was produced.

use std::path::Path;

use sdf::SystemDescription;

use crate::board::Board;
use crate::layout::SystemLayout;

/// What the image stage did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageOutcome {
    /// Image building is not implemented yet; nothing was written.
    NotImplemented,
}

/// Builds the image at `output` (not implemented yet: writes nothing).
pub fn build(
    _output: &Path,
    _sys: &SystemDescription,
    _layout: &SystemLayout,
    _board: &Board,
) -> ImageOutcome {
    ImageOutcome::NotImplemented
}
