//! `microkit-cgen --board <board> --config <config> --out <dir>`: writes the C SDK headers for
//! one Microkit board and configuration under `<dir>` (normally
//! `build/sdk/board/<board>/<config>/include`). `--layout <arch>` prints the method layout
//! lines instead (for comparing with seL4's generated data by hand).

use std::path::PathBuf;
use std::process::ExitCode;

use microkit_cgen::{board_arch, headers, layout_lines, Config};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut board = None;
    let mut config = None;
    let mut out = None;
    let mut layout = None;
    let mut i = 0;
    while i < args.len() {
        let val = args.get(i + 1).cloned();
        match args[i].as_str() {
            "--board" => board = val,
            "--config" => config = val,
            "--out" => out = val.map(PathBuf::from),
            "--layout" => layout = val,
            other => {
                eprintln!("microkit-cgen: unknown argument '{other}'");
                return ExitCode::FAILURE;
            }
        }
        i += 2;
    }
    if let Some(b) = layout {
        let Some(arch) = board_arch(&b) else {
            eprintln!("microkit-cgen: unknown board '{b}'");
            return ExitCode::FAILURE;
        };
        for l in layout_lines(arch) {
            println!("{l}");
        }
        return ExitCode::SUCCESS;
    }
    let (Some(board), Some(config), Some(out)) = (board, config, out) else {
        eprintln!("usage: microkit-cgen --board <board> --config <debug|release> --out <include dir>");
        return ExitCode::FAILURE;
    };
    let Some(arch) = board_arch(&board) else {
        eprintln!("microkit-cgen: unknown board '{board}' (qemu_virt_aarch64, qemu_virt_riscv64, x86_64_generic)");
        return ExitCode::FAILURE;
    };
    let Some(config) = Config::from_name(&config) else {
        eprintln!("microkit-cgen: unknown config '{config}' (debug, release)");
        return ExitCode::FAILURE;
    };
    for (path, text) in headers(arch, config) {
        let p = out.join(&path);
        if let Some(dir) = p.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                eprintln!("microkit-cgen: {}: {e}", dir.display());
                return ExitCode::FAILURE;
            }
        }
        // Leave an unchanged file alone so make-style rebuilds stay incremental.
        if std::fs::read_to_string(&p).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if let Err(e) = std::fs::write(&p, text) {
            eprintln!("microkit-cgen: {}: {e}", p.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
