//! PD program images the loader would get wrong are rejected by the `microkit` tool with the
//! shared ELF check (`boot_image::elf::check_program`, also used by `mkimage`): overlapping
//! segments, file bytes past the end of the file, a file size above the memory size,
//! segments outside user space or wrapping around, an entry point outside every executable
//! segment. Each error names the PD, its ELF and where the PD is declared in the `.system`
//! file (file:line:col, like the tool's other errors); no image is written. The hostile ELFs
//! are built here byte by byte.

mod common;

use std::path::Path;

use common::*;

const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

/// One PD, declared at line 3, column 3.
const SYSTEM: &str = r#"<system>
  <memory_region name="buf" size="0x1000" />
  <protection_domain name="pd">
    <program_image path="pd.elf" />
    <map mr="buf" vaddr="0x1000_0000" />
  </protection_domain>
</system>"#;

/// Program-header field `field` (byte offset) of segment `i` in a `common::elf` file.
fn ph(i: usize, field: usize) -> usize {
    64 + 56 * i + field
}

fn set(f: &mut [u8], at: usize, v: u64) {
    f[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Runs the tool with `elf` as the PD's program on `board`; checks it fails with the PD's
/// location, name and ELF path followed by `want`, and writes no image.
fn rejected(name: &str, machine: u16, board: &str, elf: &[u8], want: &str) {
    let dir = tmpdir(&format!("elf-check-{name}"));
    populate(&dir, machine);
    std::fs::write(dir.join("pd.elf"), elf).expect("write");
    let sys = dir.join("sys.system");
    std::fs::write(&sys, SYSTEM).expect("write");
    let o = run_tool(&sys, board, &dir, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{name}: accepted; stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let head = format!(
        "{}:3:3: error: PD 'pd': '{}': ",
        sys.display(),
        dir.join("pd.elf").display()
    );
    assert!(
        err.starts_with(&head),
        "{name}: want the prefix {head:?} in: {err}"
    );
    assert!(err.contains(want), "{name}: missing {want:?} in: {err}");
    assert!(
        !Path::new(&dir.join("loader.img")).exists(),
        "no image on error"
    );
}

#[test]
fn the_good_pd_builds() {
    let dir = tmpdir("elf-check-good");
    populate(&dir, EM_AARCH64);
    std::fs::write(dir.join("pd.elf"), pd_elf(EM_AARCH64)).expect("write");
    let sys = dir.join("sys.system");
    std::fs::write(&sys, SYSTEM).expect("write");
    let o = run_tool(&sys, "qemu_virt_aarch64", &dir, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn overlapping_segments() {
    // A segment inside the text segment [0x200000, 0x201800).
    let elf = pd_elf_with(EM_AARCH64, &[], &[(0x20_1000, PF_R, vec![1; 16], 0x10)]);
    rejected(
        "overlap",
        EM_AARCH64,
        "qemu_virt_aarch64",
        &elf,
        "segments 0 [0x200000, 0x201800) and 2 [0x201000, 0x201010) overlap",
    );
}

#[test]
fn file_bytes_past_the_end_of_the_file() {
    let mut elf = pd_elf(EM_AARCH64);
    let past = elf.len() as u64;
    set(&mut elf, ph(1, 8), past);
    rejected(
        "offset",
        EM_AARCH64,
        "qemu_virt_aarch64",
        &elf,
        &format!(
            "segment 1: file bytes at offset {past:#x} (0x400 bytes) lie past the end of the file"
        ),
    );
    let mut elf = pd_elf(EM_RISCV);
    set(&mut elf, ph(0, 32), 0x10_0000);
    set(&mut elf, ph(0, 40), 0x10_0000);
    rejected(
        "filesz",
        EM_RISCV,
        "qemu_virt_riscv64",
        &elf,
        "segment 0: file bytes at offset",
    );
}

#[test]
fn file_size_above_memory_size() {
    let mut elf = pd_elf(EM_X86_64);
    set(&mut elf, ph(1, 40), 0x10);
    rejected(
        "memsz",
        EM_X86_64,
        "x86_64_generic",
        &elf,
        "segment 1: file size 0x400 exceeds its memory size 0x10",
    );
}

#[test]
fn segments_outside_user_space_or_wrapping() {
    let elf = pd_elf_with(
        EM_AARCH64,
        &[],
        &[(0xffff_0000_0000_0000, PF_R, vec![1; 16], 0x1000)],
    );
    rejected(
        "kernel-half",
        EM_AARCH64,
        "qemu_virt_aarch64",
        &elf,
        "segment 2: [0xffff000000000000, 0xffff000000001000) lies outside user space (which ends at 0x800000000000)",
    );
    let elf = pd_elf_with(
        EM_X86_64,
        &[],
        &[(0x7fff_ffff_f000, PF_R | PF_W, vec![1; 16], 0x2000)],
    );
    rejected(
        "x86-top",
        EM_X86_64,
        "x86_64_generic",
        &elf,
        "lies outside user space (which ends at 0x7ffffffff000)",
    );
    let elf = pd_elf_with(EM_AARCH64, &[], &[(u64::MAX - 0xfff, PF_R, vec![], 0x2000)]);
    rejected(
        "wrap",
        EM_AARCH64,
        "qemu_virt_aarch64",
        &elf,
        "segment 2: address 0xfffffffffffff000 + size 0x2000 overflows",
    );
}

#[test]
fn entry_point_outside_every_executable_segment() {
    let mut elf = pd_elf(EM_AARCH64);
    set(&mut elf, 24, PD_DATA);
    rejected(
        "entry",
        EM_AARCH64,
        "qemu_virt_aarch64",
        &elf,
        &format!("entry point {PD_DATA:#x} is not in an executable segment"),
    );
}

#[test]
fn not_an_elf_file_and_a_missing_symbol_name_the_pd_location_too() {
    rejected(
        "junk",
        EM_AARCH64,
        "qemu_virt_aarch64",
        b"junk",
        "invalid ELF: not an ELF file",
    );
    rejected(
        "symbol",
        EM_AARCH64,
        "qemu_virt_aarch64",
        &pd_elf_with(EM_AARCH64, &["microkit_name"], &[]),
        "symbol 'microkit_name' not found",
    );
}

#[test]
fn every_board_checks_programs_against_the_kernels_user_space() {
    // The tool's user top per board and the shared check's per machine are one fact.
    for b in microkit_tool::board::BOARDS {
        let m = microkit_tool::program::machine(b.arch);
        assert_eq!(
            boot_image::elf::user_top(m),
            Some(b.user_top),
            "board {}",
            b.name
        );
    }
}
