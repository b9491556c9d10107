//! `microkit` command: parses arguments, runs the tool, and is the only place that exits.

use std::process::ExitCode;

use microkit_tool::args::{Args, Parsed};

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
            let (o, c, m) = summary.counts;
            println!(
                "microkit: wrote '{}' ({} bytes; {o} objects, {c} caps, {m} mappings) and report '{}'",
                args.output.display(),
                summary.image.image_size,
                args.report.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
