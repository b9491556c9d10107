//! End-to-end tests of the `microkit` binary: exit status, messages, report contents.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sdf/tests/fixtures")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("microkit-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d.join(name)
}

fn microkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_microkit"))
        .args(args)
        .output()
        .expect("run microkit")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn valid_system_writes_the_report_and_image_and_exits_zero() {
    let dir = common::tmpdir("cli-valid");
    common::populate(&dir, common::EM_RISCV);
    let sys = fixture("ok/passive_server.system");
    let o = common::run_tool(&sys, "qemu_virt_riscv64", &dir, &["--config", "release"]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(out.starts_with("microkit: wrote '"), "{out}");
    assert!(dir.join("loader.img").is_file());
    let text = std::fs::read_to_string(dir.join("report.txt")).expect("report written");
    assert!(
        text.contains("board: qemu_virt_riscv64 (RISC-V 64), config: release"),
        "{text}"
    );
    assert!(text.contains("### server (index 0)"));
    assert!(text.contains("priority 200, budget 1000 us, period 1000 us, passive true"));
    // client_a calls server on its channel 3; the server knows that channel as 0.
    assert!(text.contains("ch  0 <-> 'client_a' (its id 3): may notify; notifications arrive with badge 0x1, PPCs arrive with badge 0x8000000000000000"), "{text}");
    assert!(
        text.contains("   77: endpoint of 'server' (PPC) badge 0x8000000000000000"),
        "{text}"
    );
    assert!(text.contains("  microkit_passive = true"));
    assert!(
        text.contains("  slot  77: endpoint 'ep_server' rights RWGP badge 0x8000000000000000"),
        "{text}"
    );
}

#[test]
fn invalid_system_prints_a_located_error_and_exits_one() {
    let sys = fixture("err/ch_ppc_priority.system");
    let o = microkit(&[
        sys.to_str().expect("utf8"),
        "--board",
        "qemu_virt_aarch64",
        "--config",
        "debug",
        "-r",
        tmp("r1").to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    let want = format!(
        "{}:11:9: error: protected procedure call from 'b'",
        sys.display()
    );
    assert!(e.starts_with(&want), "got: {e}");
}

#[test]
fn unknown_board_is_rejected() {
    let sys = fixture("ok/hello.system");
    let o = microkit(&[
        sys.to_str().expect("utf8"),
        "--board",
        "pc99",
        "--config",
        "debug",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: unknown board 'pc99'; known boards: qemu_virt_aarch64, qemu_virt_riscv64, x86_64_generic"));
}

#[test]
fn bad_config_and_missing_arguments_are_rejected() {
    let sys = fixture("ok/hello.system");
    let o = microkit(&[
        sys.to_str().expect("utf8"),
        "--board",
        "qemu_virt_aarch64",
        "--config",
        "fast",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("invalid value 'fast'"),
        "{}",
        stderr(&o)
    );
    let o = microkit(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("required"), "{}", stderr(&o));
}

#[test]
fn missing_system_file_is_reported() {
    let o = microkit(&[
        "/nonexistent/x.system",
        "--board",
        "x86_64_generic",
        "--config",
        "debug",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: cannot read '/nonexistent/x.system'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn help_exits_zero() {
    let o = microkit(&["--help"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("--board"));
}

#[test]
fn arch_specific_system_fails_on_the_wrong_board() {
    let sys = fixture("ok/all_attributes_x86.system");
    let o = microkit(&[
        sys.to_str().expect("utf8"),
        "--board",
        "qemu_virt_aarch64",
        "--config",
        "debug",
        "-r",
        tmp("r2").to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error: an x86 IOAPIC interrupt is not available on AArch64"),
        "{}",
        stderr(&o)
    );
}

/// Microkit 2.3's options: `--search-path` with any number of directories (even none),
/// `--override-kernel`, `--image-type` (checked values), `--viper-output`; `-o`/`-r` default
/// to `loader.img`/`report.txt`.
#[test]
fn microkit_2_3_options_parse() {
    use microkit_tool::args::{Args, Parsed};
    use microkit_tool::format::ImageType;
    let parse = |argv: &[&str]| match Args::parse_from_argv(argv) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Info(i)) => panic!("info: {i}"),
        Err(e) => panic!("{e}"),
    };
    let a = parse(&[
        "microkit", "s.system", "--board", "qemu_virt_aarch64", "--config", "debug",
        "--search-path", "--override-kernel", "k.elf", "--image-type", "elf",
        "--viper-output", "v",
    ]);
    assert!(a.search_path.is_empty());
    assert_eq!(a.kernel.as_deref(), Some(Path::new("k.elf")));
    assert_eq!(a.image_type, Some(ImageType::Elf));
    assert_eq!(a.viper_output.as_deref(), Some(Path::new("v")));
    assert_eq!(a.output, Path::new("loader.img"));
    assert_eq!(a.report, Path::new("report.txt"));
    let a = parse(&[
        "microkit", "--search-path", "a", "b", "--board", "qemu_virt_riscv64", "--config",
        "release", "s.system", "-o", "x.img", "-r", "x.txt",
    ]);
    assert_eq!(a.search_path, vec![PathBuf::from("a"), PathBuf::from("b")]);
    assert_eq!(a.system, Path::new("s.system"));
    assert_eq!(a.image_type, None);
    assert_eq!((a.output.as_path(), a.report.as_path()), (Path::new("x.img"), Path::new("x.txt")));
    // Defaults per architecture, as Microkit's.
    assert_eq!(ImageType::resolve(None, sdf::Arch::Aarch64).ok(), Some(ImageType::Binary));
    assert_eq!(ImageType::resolve(None, sdf::Arch::Riscv64).ok(), Some(ImageType::Uimage));
    assert_eq!(ImageType::resolve(None, sdf::Arch::X86_64).ok(), Some(ImageType::Elf));
    // An unknown image type is refused with the choices.
    let e = Args::parse_from_argv([
        "microkit", "s.system", "--board", "b", "--config", "debug", "--image-type", "zip",
    ])
    .err()
    .expect("refused")
    .to_string();
    assert!(e.contains("zip") && e.contains("binary") && e.contains("uimage"), "{e}");
    // The help lists Microkit's options.
    let o = microkit(&["--help"]);
    let help = String::from_utf8_lossy(&o.stdout).to_string();
    for opt in ["--image-type", "--override-kernel", "--viper-output", "--search-path", "--board", "--config", "-o", "-r"] {
        assert!(help.contains(opt), "{opt} missing from\n{help}");
    }
}
