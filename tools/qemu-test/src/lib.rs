//! Boot-test runner logic: run a command (QEMU) under a timeout, stream its output, and
//! decide pass/fail.
//!
//! A run passes as soon as every expected line has appeared, in order (each expectation is
//! a substring of some output line, later than the line matching the previous one). It fails
//! on a line containing a panic pattern (default [`DEFAULT_PANIC_PATTERNS`]), when the
//! command exits before all expectations appeared, or at the timeout. With an expected exit
//! status ([`Spec::expect_exit`], for testing failure paths such as the kernel panic), the
//! run instead passes only if the command also exits with that status before the timeout.
//! The command runs in its own process group, which is killed when the run ends.
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Lines containing any of these fail a run (the kernel panic path prints the first).
pub const DEFAULT_PANIC_PATTERNS: &[&str] = &["KERNEL PANIC", "user panic:"];

/// What to run and what to look for.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Program and arguments.
    pub command: Vec<String>,
    /// Substrings expected on output lines, in order.
    pub expect: Vec<String>,
    /// Substrings that fail the run when seen.
    pub panic_patterns: Vec<String>,
    /// Give up after this long.
    pub timeout: Duration,
    /// If set, the command must also exit with this status (after all expectations).
    pub expect_exit: Option<i32>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every expected line appeared.
    Passed,
    /// A panic pattern appeared on this line.
    Panicked(String),
    /// The command exited before `missing` (the first unseen expectation) appeared.
    ExitedEarly {
        missing: String,
        status: Option<i32>,
    },
    /// The timeout passed before `missing` appeared.
    TimedOut { missing: String },
    /// The command could not be started.
    SpawnFailed(String),
    /// All lines appeared but the command exited with the wrong status (`None`: killed by
    /// a signal, or still running at the timeout).
    WrongExit { expected: i32, status: Option<i32> },
}

impl Outcome {
    /// Whether the run passed.
    pub fn passed(&self) -> bool {
        *self == Outcome::Passed
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Passed => write!(f, "PASS: all expected lines seen"),
            Outcome::Panicked(l) => write!(f, "FAIL: panic line: {l}"),
            Outcome::ExitedEarly { missing, status } => {
                write!(
                    f,
                    "FAIL: command exited (status {status:?}) before line: {missing}"
                )
            }
            Outcome::TimedOut { missing } => write!(f, "FAIL: timeout waiting for line: {missing}"),
            Outcome::SpawnFailed(e) => write!(f, "FAIL: cannot start command: {e}"),
            Outcome::WrongExit { expected, status } => {
                write!(f, "FAIL: expected exit status {expected}, got {status:?}")
            }
        }
    }
}

/// Incremental matcher over output lines (no I/O; unit-tested directly).
#[derive(Clone, Debug)]
pub struct Matcher {
    expect: Vec<String>,
    panic_patterns: Vec<String>,
    next: usize,
}

impl Matcher {
    /// A matcher for `expect` (in order) failing on any of `panic_patterns`.
    pub fn new(expect: Vec<String>, panic_patterns: Vec<String>) -> Self {
        Matcher {
            expect,
            panic_patterns,
            next: 0,
        }
    }

    /// Feed one output line: `Some(outcome)` once the run is decided.
    pub fn line(&mut self, line: &str) -> Option<Outcome> {
        if self
            .panic_patterns
            .iter()
            .any(|p| line.contains(p.as_str()))
        {
            return Some(Outcome::Panicked(line.to_string()));
        }
        if self.next < self.expect.len() && line.contains(self.expect[self.next].as_str()) {
            self.next += 1;
        }
        self.done().then_some(Outcome::Passed)
    }

    /// Whether every expectation has been seen.
    pub fn done(&self) -> bool {
        self.next == self.expect.len()
    }

    /// The first expectation not yet seen (empty when done).
    pub fn missing(&self) -> String {
        self.expect.get(self.next).cloned().unwrap_or_default()
    }
}

/// Output events from the reader thread.
enum Event {
    Line(String),
    Eof,
}

/// Run `spec`, echoing the command's output (stdout and stderr, line by line) to `echo`.
pub fn run(spec: &Spec, echo: &mut dyn Write) -> Outcome {
    let mut m = Matcher::new(spec.expect.clone(), spec.panic_patterns.clone());
    let Some((prog, args)) = spec.command.split_first() else {
        return Outcome::SpawnFailed("empty command".into());
    };
    let mut child = match Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Outcome::SpawnFailed(format!("{prog}: {e}")),
    };
    let (tx, rx) = mpsc::channel();
    let readers = 2;
    if let Some(out) = child.stdout.take() {
        spawn_reader(out, tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        spawn_reader(err, tx.clone());
    }
    drop(tx);
    let deadline = Instant::now() + spec.timeout;
    let mut eofs = 0;
    let outcome = loop {
        if m.done() {
            break match spec.expect_exit {
                None => Outcome::Passed,
                Some(expected) => wait_exit(&mut child, &rx, deadline, expected, echo),
            };
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::Line(l)) => {
                let _ = writeln!(echo, "{l}");
                match m.line(&l) {
                    // Passing is decided at the top of the loop (it may also need an exit).
                    Some(Outcome::Passed) | None => {}
                    Some(o) => break o,
                }
            }
            Ok(Event::Eof) => {
                eofs += 1;
                if eofs == readers {
                    let status = child.wait().ok().and_then(|s| s.code());
                    break Outcome::ExitedEarly {
                        missing: m.missing(),
                        status,
                    };
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                break Outcome::TimedOut {
                    missing: m.missing(),
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().ok().and_then(|s| s.code());
                break Outcome::ExitedEarly {
                    missing: m.missing(),
                    status,
                };
            }
        }
    };
    let _ = echo.flush();
    // Kill the whole process group we created (the command and anything it started).
    let pid = child.id();
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
    outcome
}

/// After all lines were seen: drain output until the command exits, check its status.
fn wait_exit(
    child: &mut std::process::Child,
    rx: &mpsc::Receiver<Event>,
    deadline: Instant,
    expected: i32,
    echo: &mut dyn Write,
) -> Outcome {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::Line(l)) => {
                let _ = writeln!(echo, "{l}");
            }
            Ok(Event::Eof) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Outcome::WrongExit {
                    expected,
                    status: None,
                }
            }
        }
    }
    match child.wait().ok().and_then(|s| s.code()) {
        Some(c) if c == expected => Outcome::Passed,
        status => Outcome::WrongExit { expected, status },
    }
}

/// Forward lines (split on `\n`, `\r` stripped, invalid UTF-8 replaced) to `tx`.
fn spawn_reader(r: impl Read + Send + 'static, tx: mpsc::Sender<Event>) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(r);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match r.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let s = String::from_utf8_lossy(&buf);
                    let s = s.trim_end_matches(['\n', '\r']).replace('\r', "");
                    if tx.send(Event::Line(s)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Event::Eof);
    });
}

/// Parse `[--timeout SECS] [--expect LINE]... [--panic-pattern PAT]... [--no-panic-check]
/// [--expect-exit CODE] -- CMD ARGS...`.
pub fn parse_args(args: &[String]) -> Result<Spec, String> {
    let mut spec = Spec {
        command: Vec::new(),
        expect: Vec::new(),
        panic_patterns: Vec::new(),
        timeout: Duration::from_secs(30),
        expect_exit: None,
    };
    let mut panic_check = true;
    let mut i = 0;
    let value = |i: usize| {
        args.get(i + 1)
            .cloned()
            .ok_or_else(|| format!("{} needs a value", args[i]))
    };
    while i < args.len() {
        match args[i].as_str() {
            "--timeout" => {
                let v = value(i)?;
                let secs: f64 = v.parse().map_err(|_| format!("bad --timeout: {v}"))?;
                if !(secs > 0.0 && secs < 86400.0) {
                    return Err(format!("bad --timeout: {v}"));
                }
                spec.timeout = Duration::from_secs_f64(secs);
                i += 2;
            }
            "--expect" => {
                spec.expect.push(value(i)?);
                i += 2;
            }
            "--panic-pattern" => {
                spec.panic_patterns.push(value(i)?);
                i += 2;
            }
            "--no-panic-check" => {
                panic_check = false;
                i += 1;
            }
            "--expect-exit" => {
                let v = value(i)?;
                spec.expect_exit = Some(v.parse().map_err(|_| format!("bad --expect-exit: {v}"))?);
                i += 2;
            }
            "--" => {
                spec.command = args[i + 1..].to_vec();
                break;
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    if spec.command.is_empty() {
        return Err("no command after --".into());
    }
    if spec.expect.is_empty() {
        return Err("at least one --expect is required".into());
    }
    if !panic_check {
        spec.panic_patterns.clear();
    } else if spec.panic_patterns.is_empty() {
        spec.panic_patterns = DEFAULT_PANIC_PATTERNS
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(script: &str, expect: &[&str], timeout_ms: u64) -> Spec {
        Spec {
            command: vec!["sh".into(), "-c".into(), script.into()],
            expect: expect.iter().map(|s| s.to_string()).collect(),
            panic_patterns: DEFAULT_PANIC_PATTERNS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            timeout: Duration::from_millis(timeout_ms),
            expect_exit: None,
        }
    }

    fn go(s: &Spec) -> Outcome {
        run(s, &mut Vec::new())
    }

    #[test]
    fn passes_when_lines_appear_in_order() {
        let s = spec(
            "echo boot; printf 'hello from user mode\\r\\n'; echo tick; sleep 5",
            &["boot", "hello from user", "tick"],
            5000,
        );
        let t = Instant::now();
        assert_eq!(go(&s), Outcome::Passed);
        assert!(
            t.elapsed() < Duration::from_secs(4),
            "stops (and kills) as soon as it passes"
        );
    }

    #[test]
    fn out_of_order_fails() {
        let s = spec("echo b; echo a", &["a", "b"], 3000);
        assert_eq!(
            go(&s),
            Outcome::ExitedEarly {
                missing: "b".into(),
                status: Some(0)
            }
        );
    }

    #[test]
    fn panic_line_fails() {
        let s = spec(
            "echo boot; echo 'KERNEL PANIC: oops'; echo hello",
            &["boot", "hello"],
            3000,
        );
        assert_eq!(go(&s), Outcome::Panicked("KERNEL PANIC: oops".into()));
    }

    #[test]
    fn early_exit_fails() {
        let s = spec("echo boot; exit 3", &["boot", "never"], 3000);
        assert_eq!(
            go(&s),
            Outcome::ExitedEarly {
                missing: "never".into(),
                status: Some(3)
            }
        );
    }

    #[test]
    fn timeout_fails_and_kills() {
        let s = spec("echo boot; sleep 30", &["boot", "never"], 300);
        let t = Instant::now();
        assert_eq!(
            go(&s),
            Outcome::TimedOut {
                missing: "never".into()
            }
        );
        assert!(t.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn stderr_counts_and_missing_program_is_reported() {
        let s = spec("echo 'on stderr' >&2; sleep 5", &["on stderr"], 3000);
        assert_eq!(go(&s), Outcome::Passed);
        let mut s = spec("", &["x"], 1000);
        s.command = vec!["/nonexistent/qemu".into()];
        assert!(matches!(go(&s), Outcome::SpawnFailed(_)));
    }

    #[test]
    fn echo_gets_the_output() {
        let s = spec("echo one; echo two", &["two"], 3000);
        let mut out = Vec::new();
        assert!(run(&s, &mut out).passed());
        assert_eq!(String::from_utf8(out).unwrap(), "one\ntwo\n");
    }

    #[test]
    fn expected_exit_status() {
        let mut s = spec(
            "echo 'KERNEL PANIC: x'; sleep 0.2; exit 1",
            &["KERNEL PANIC"],
            3000,
        );
        s.panic_patterns.clear();
        s.expect_exit = Some(1);
        assert_eq!(go(&s), Outcome::Passed);
        s.expect_exit = Some(0);
        assert_eq!(
            go(&s),
            Outcome::WrongExit {
                expected: 0,
                status: Some(1)
            }
        );
        let mut s = spec("echo 'KERNEL PANIC: x'; sleep 30", &["KERNEL PANIC"], 300);
        s.panic_patterns.clear();
        s.expect_exit = Some(1);
        assert_eq!(
            go(&s),
            Outcome::WrongExit {
                expected: 1,
                status: None
            }
        );
    }

    #[test]
    fn args() {
        let a: Vec<String> = [
            "--timeout",
            "2.5",
            "--expect",
            "x",
            "--",
            "qemu",
            "-m",
            "1G",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let s = parse_args(&a).unwrap();
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(s.command, vec!["qemu", "-m", "1G"]);
        assert_eq!(s.panic_patterns[0], "KERNEL PANIC");
        assert!(parse_args(&a[..4]).is_err(), "no command");
        assert!(
            parse_args(&["--", "q"].map(String::from)).is_err(),
            "no expectation"
        );
        assert!(
            parse_args(&["--timeout", "-1", "--expect", "x", "--", "q"].map(String::from)).is_err()
        );
        assert!(parse_args(&["--bogus"].map(String::from)).is_err());
        let s = parse_args(
            &[
                "--no-panic-check",
                "--expect-exit",
                "1",
                "--expect",
                "x",
                "--",
                "q",
            ]
            .map(String::from),
        )
        .unwrap();
        assert!(s.panic_patterns.is_empty());
        assert_eq!(s.expect_exit, Some(1));
    }
}
