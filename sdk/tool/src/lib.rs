//! The `microkit` tool as a library: one module per stage, driven by [`run`].
//!
//! Stages: [`args`] (command line) -> [`board`] (board table) -> [`system`] (read and
//! validate the system description) -> [`layout`] (cap slots, badges, patched symbols) ->
//! [`report`] (text report) -> [`image`] (bootable image; not implemented yet).
#![forbid(unsafe_code)]

pub mod args;
pub mod board;
pub mod error;
pub mod image;
pub mod layout;
pub mod report;
pub mod system;

pub use error::ToolError;

/// What a successful run produced.
#[derive(Debug)]
pub struct RunSummary {
    /// Warnings to show the user.
    pub warnings: Vec<String>,
    /// Result of the image stage.
    pub image: image::ImageOutcome,
}

/// Runs every stage for `args`.
pub fn run(args: &args::Args) -> Result<RunSummary, ToolError> {
    let board = board::find(&args.board)?;
    let sys = system::load(&args.system, board, &args.search_path)?;
    let lay = layout::compute(&sys, board, args.config);
    let text = report::render(
        &args.system.display().to_string(),
        &sys,
        &lay,
        board,
        args.config,
    );
    std::fs::write(&args.report, text).map_err(|source| ToolError::Write {
        path: args.report.clone(),
        source,
    })?;
    let image = image::build(&args.output, &sys, &lay, board);
    Ok(RunSummary {
        warnings: sys.warnings.clone(),
        image,
    })
}
