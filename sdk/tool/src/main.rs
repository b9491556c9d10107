//! `microkit` command: parses arguments, runs the tool, and is the only place that exits.

use std::process::ExitCode;

use microkit_tool::args::{Args, Parsed};
use microkit_tool::image::ImageOutcome;

fn main() -> ExitCode {
    let args = match Args::parse_from_argv(std::env::args_os()) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Info(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    match microkit_tool::run(&args) {
        Ok(summary) => {
            for w in &summary.warnings {
                eprintln!("{w}");
            }
            match summary.image {
                ImageOutcome::NotImplemented => eprintln!(
                    "microkit: warning: image building is not implemented yet; no image written to '{}' (report written to '{}')",
                    args.output.display(),
                    args.report.display()
                ),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
