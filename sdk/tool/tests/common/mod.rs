//! Test helpers: synthetic ELF files (PDs, initialiser, kernel) and running the tool.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const EM_AARCH64: u16 = 183;
pub const EM_RISCV: u16 = 243;
pub const EM_X86_64: u16 = 62;

/// A loadable segment: (vaddr, flags, file bytes, memsz).
pub type Seg = (u64, u32, Vec<u8>, u64);

/// Writes an ELF64 LE executable with the given segments and symbols (name, vaddr, size).
pub fn elf(machine: u16, entry: u64, segs: &[Seg], syms: &[(&str, u64, u64)]) -> Vec<u8> {
    let phoff = 64usize;
    let mut f = vec![0u8; phoff + 56 * segs.len()];
    f[0..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
    f[16..18].copy_from_slice(&2u16.to_le_bytes());
    f[18..20].copy_from_slice(&machine.to_le_bytes());
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&entry.to_le_bytes());
    f[32..40].copy_from_slice(&(phoff as u64).to_le_bytes());
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
    for (i, (vaddr, flags, data, memsz)) in segs.iter().enumerate() {
        while f.len() % 0x1000 != (*vaddr as usize) % 0x1000 {
            f.push(0);
        }
        let off = f.len() as u64;
        f.extend_from_slice(data);
        let p = phoff + 56 * i;
        f[p..p + 4].copy_from_slice(&1u32.to_le_bytes());
        f[p + 4..p + 8].copy_from_slice(&flags.to_le_bytes());
        f[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
        f[p + 16..p + 24].copy_from_slice(&vaddr.to_le_bytes());
        f[p + 24..p + 32].copy_from_slice(&vaddr.to_le_bytes());
        f[p + 32..p + 40].copy_from_slice(&(data.len() as u64).to_le_bytes());
        f[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
        f[p + 48..p + 56].copy_from_slice(&0x1000u64.to_le_bytes());
    }
    let mut strtab = vec![0u8];
    let mut symtab = vec![0u8; 24];
    for (name, value, size) in syms {
        let mut s = [0u8; 24];
        s[0..4].copy_from_slice(&(strtab.len() as u32).to_le_bytes());
        s[4] = 0x11; // STB_GLOBAL, STT_OBJECT
        s[6..8].copy_from_slice(&1u16.to_le_bytes());
        s[8..16].copy_from_slice(&value.to_le_bytes());
        s[16..24].copy_from_slice(&size.to_le_bytes());
        symtab.extend_from_slice(&s);
        strtab.extend_from_slice(name.as_bytes());
        strtab.push(0);
    }
    while !f.len().is_multiple_of(8) {
        f.push(0);
    }
    let symtab_off = f.len() as u64;
    f.extend_from_slice(&symtab);
    let strtab_off = f.len() as u64;
    f.extend_from_slice(&strtab);
    while !f.len().is_multiple_of(8) {
        f.push(0);
    }
    let shoff = f.len() as u64;
    f.extend_from_slice(&[0u8; 64]);
    let mut sh = [0u8; 64];
    sh[4..8].copy_from_slice(&2u32.to_le_bytes());
    sh[24..32].copy_from_slice(&symtab_off.to_le_bytes());
    sh[32..40].copy_from_slice(&(symtab.len() as u64).to_le_bytes());
    sh[40..44].copy_from_slice(&2u32.to_le_bytes());
    sh[56..64].copy_from_slice(&24u64.to_le_bytes());
    f.extend_from_slice(&sh);
    let mut sh = [0u8; 64];
    sh[4..8].copy_from_slice(&3u32.to_le_bytes());
    sh[24..32].copy_from_slice(&strtab_off.to_le_bytes());
    sh[32..40].copy_from_slice(&(strtab.len() as u64).to_le_bytes());
    f.extend_from_slice(&sh);
    f[40..48].copy_from_slice(&shoff.to_le_bytes());
    f[58..60].copy_from_slice(&64u16.to_le_bytes());
    f[60..62].copy_from_slice(&3u16.to_le_bytes());
    f
}

pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;

/// Vaddr of the PD data segment holding the patched symbols.
pub const PD_DATA: u64 = 0x20_2000;
/// Vaddr of the PD IPC buffer symbol.
pub const PD_IPCBUF: u64 = 0x20_6000;

/// Setvar symbols used by the fixtures; every synthetic PD defines all of them.
pub const SETVARS: &[&str] = &[
    "ring_vaddr",
    "ring_size",
    "worker_id",
    "kid_id",
    "uart_base",
    "tx_vaddr",
    "uart_irq_ch",
    "uart_paddr",
    "hpet_paddr",
    "serial_irq",
    "msi_irq",
    "com1_id",
    "shared_vaddr",
    "rtc_vaddr",
    "dev_vaddr",
    "dev_size",
    "dev_paddr",
    "filled_vaddr",
    "filled_len",
    "edge_irq",
    "code_vaddr",
    "blank_id",
];

/// The libmicrokit symbols and their (offset in the data segment, size).
pub fn libmicrokit_symbols() -> Vec<(&'static str, u64, u64)> {
    vec![
        ("microkit_name", 0, 64),
        ("microkit_passive", 0x40, 1),
        ("microkit_irqs", 0x48, 8),
        ("microkit_notifications", 0x50, 8),
        ("microkit_pps", 0x58, 8),
        ("microkit_ioports", 0x60, 8),
    ]
}

/// Offset of a symbol in the PD data segment.
pub fn sym_offset(name: &str) -> u64 {
    if let Some((_, o, _)) = libmicrokit_symbols()
        .into_iter()
        .find(|(n, _, _)| *n == name)
    {
        return o;
    }
    0x100
        + 8 * SETVARS
            .iter()
            .position(|s| *s == name)
            .expect("known symbol") as u64
}

/// A PD ELF: text at 0x200000 (0x1800 bytes), rodata+data at `PD_DATA` (0x400 bytes + 0x1000
/// bss), the IPC buffer symbol at `PD_IPCBUF`; every symbol except those in `omit`.
pub fn pd_elf_with(machine: u16, omit: &[&str], extra: &[Seg]) -> Vec<u8> {
    pd_elf_laid_out(machine, omit, extra, 0, true, None)
}

/// [`pd_elf`] with symbol `name` moved to `value` and/or resized to `size`.
pub fn pd_elf_tweaked(machine: u16, name: &str, value: Option<u64>, size: Option<u64>) -> Vec<u8> {
    pd_elf_laid_out(machine, &[], &[], 0, true, Some((name, value, size)))
}

/// Where [`pd_elf_2_3`] puts its symbols: this far into the data segment, past its 0x400 file
/// bytes, i.e. in `.bss`.
pub const BSS_SHIFT: u64 = 0x800;

/// A PD ELF as libmicrokit 2.3 links one: every patched variable in `.bss` (offsets
/// [`sym_offset`] + [`BSS_SHIFT`] into the data segment, beyond its file bytes) and no
/// `__sel4_ipc_buffer_obj` (the tool maps the IPC buffer at the top user page).
pub fn pd_elf_2_3(machine: u16) -> Vec<u8> {
    pd_elf_laid_out(machine, &[], &[], BSS_SHIFT, false, None)
}

fn pd_elf_laid_out(
    machine: u16,
    omit: &[&str],
    extra: &[Seg],
    shift: u64,
    old_ipc_symbol: bool,
    tweak: Option<(&str, Option<u64>, Option<u64>)>,
) -> Vec<u8> {
    let text: Vec<u8> = (0..0x1800u32).map(|i| (i % 251) as u8).collect();
    let mut segs: Vec<Seg> = vec![
        (0x20_0000, PF_R | PF_X, text, 0x1800),
        (PD_DATA, PF_R | PF_W, vec![0xaa; 0x400], 0x1400),
    ];
    segs.extend_from_slice(extra);
    let mut syms: Vec<(&str, u64, u64)> = Vec::new();
    for (n, o, s) in libmicrokit_symbols() {
        syms.push((n, PD_DATA + shift + o, s));
    }
    for n in SETVARS {
        syms.push((n, PD_DATA + shift + sym_offset(n), 8));
    }
    if old_ipc_symbol {
        syms.push(("__sel4_ipc_buffer_obj", PD_IPCBUF, 0));
    }
    syms.retain(|(n, _, _)| !omit.contains(n));
    if let Some((name, value, size)) = tweak {
        for (n, v, z) in syms.iter_mut() {
            if *n == name {
                *v = value.unwrap_or(*v);
                *z = size.unwrap_or(*z);
            }
        }
    }
    elf(machine, 0x20_0000, &segs, &syms)
}

pub fn pd_elf(machine: u16) -> Vec<u8> {
    pd_elf_with(machine, &[], &[])
}

/// Vaddr of `MICROKIT_SYSTEM` in the synthetic initialiser.
pub const INIT_SYSTEM_SYM: u64 = 0x40_1000;

/// An initialiser ELF: text at 0x400000, data at 0x401000 with `MICROKIT_SYSTEM` (16 bytes).
pub fn initialiser_elf(machine: u16, with_symbol: bool) -> Vec<u8> {
    let segs: Vec<Seg> = vec![
        (0x40_0000, PF_R | PF_X, vec![0x11; 0x800], 0x800),
        (0x40_1000, PF_R | PF_W, vec![0; 0x20], 0x3000),
    ];
    let syms: Vec<(&str, u64, u64)> = if with_symbol {
        vec![("MICROKIT_SYSTEM", INIT_SYSTEM_SYM, 16)]
    } else {
        vec![]
    };
    elf(machine, 0x40_0000, &segs, &syms)
}

/// A kernel ELF with a `KERNEL_PAYLOAD: [u64; 2]` in its data.
pub fn kernel_elf(machine: u16) -> Vec<u8> {
    let segs: Vec<Seg> = vec![
        (
            0xffff_0000_4020_0000,
            PF_R | PF_X,
            vec![0x22; 0x1000],
            0x1000,
        ),
        (0xffff_0000_4020_1000, PF_R | PF_W, vec![0; 0x40], 0x2000),
    ];
    let mut e = elf(
        machine,
        0x4020_0000,
        &segs,
        &[("KERNEL_PAYLOAD", 0xffff_0000_4020_1000, 16)],
    );
    // Physical addresses of the kernel segments.
    for (i, pa) in [0x4020_0000u64, 0x4020_1000].iter().enumerate() {
        let p = 64 + 56 * i;
        e[p + 24..p + 32].copy_from_slice(&pa.to_le_bytes());
    }
    e
}

/// A fresh temporary directory for one test.
pub fn tmpdir(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("microkit-tool-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Path of an SDF fixture.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sdf/tests/fixtures")
        .join(name)
}

/// Program image names referenced by the fixtures.
pub const PROGRAMS: &[&str] = &[
    "loader.elf",
    "producer.elf",
    "consumer.elf",
    "logger.elf",
    "monitor.elf",
    "worker.elf",
    "helper.elf",
    "crasher.elf",
    "observer.elf",
    "kid.elf",
    "uart.elf",
    "app.elf",
    "app.debug.elf",
    "drv.elf",
    "server.elf",
    "client.elf",
    "peer.elf",
    "full.elf",
    "full.sym.elf",
];

/// Writes every PD ELF of the fixtures, plus initialiser and kernel, into `dir`.
pub fn populate(dir: &Path, machine: u16) {
    for p in PROGRAMS {
        std::fs::write(dir.join(p), pd_elf(machine)).expect("write pd");
    }
    std::fs::write(dir.join("initialiser.elf"), initialiser_elf(machine, true)).expect("write");
    std::fs::write(dir.join("kernel.elf"), kernel_elf(machine)).expect("write");
}

pub fn microkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_microkit"))
        .args(args)
        .env_remove("MICROKIT_SDK")
        .output()
        .expect("run microkit")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Runs the tool on `system` for `board` with the synthetic SDK pieces in `dir`.
pub fn run_tool(system: &Path, board: &str, dir: &Path, extra: &[&str]) -> Output {
    let s = |p: PathBuf| p.to_str().expect("utf8").to_string();
    let mut args = vec![
        s(system.to_path_buf()),
        "--board".into(),
        board.into(),
        "-o".into(),
        s(dir.join("loader.img")),
        "-r".into(),
        s(dir.join("report.txt")),
        "--search-path".into(),
        s(dir.to_path_buf()),
    ];
    if !extra.contains(&"--initialiser") {
        args.push("--initialiser".into());
        args.push(s(dir.join("initialiser.elf")));
    }
    if board != "x86_64_generic" && !extra.contains(&"--kernel") {
        args.push("--kernel".into());
        args.push(s(dir.join("kernel.elf")));
    }
    if !extra.contains(&"--config") {
        args.push("--config".into());
        args.push("debug".into());
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    microkit(&refs)
}
