//! `qemu-test [--timeout SECS] --expect LINE... [--panic-pattern PAT]... [--no-panic-check]
//! [--expect-exit CODE] -- CMD ARGS...`: run a boot test; exit 0 on pass, 1 on failure,
//! 2 on bad usage.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spec = match qemu_test::parse_args(&args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("qemu-test: {e}");
            eprintln!(
                "usage: qemu-test [--timeout SECS] --expect LINE... [--panic-pattern PAT]... \
                 [--no-panic-check] [--expect-exit CODE] -- CMD ARGS..."
            );
            return ExitCode::from(2);
        }
    };
    let start = std::time::Instant::now();
    let outcome = qemu_test::run(&spec, &mut std::io::stdout());
    // Ignore a closed stdout (e.g. piped into `head`): the exit status carries the result.
    let _ = writeln!(
        std::io::stdout(),
        "qemu-test: {} ({:.2} s)",
        outcome,
        start.elapsed().as_secs_f64()
    );
    if outcome.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
