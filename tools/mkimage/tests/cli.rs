//! The `mkimage` command on hostile payload files built here byte by byte: each is rejected
//! with an error that names the payload file (not the kernel) and says what is wrong, and no
//! image is written.

use std::path::{Path, PathBuf};
use std::process::Command;

const EM_AARCH64: u16 = 183;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const RX: u32 = PF_R | PF_X;
const RW: u32 = PF_R | PF_W;

/// A loadable segment: (flags, vaddr, file bytes, memsz).
type Seg = (u32, u64, Vec<u8>, u64);

/// An ELF64 LE executable for aarch64 with `segs` (file bytes in order after the program
/// headers; paddr = vaddr) and, if `symbol` is given, a symbol table holding it (name,
/// value, size).
fn elf(entry: u64, segs: &[Seg], symbol: Option<(&str, u64, u64)>) -> Vec<u8> {
    let mut f = vec![0u8; 64 + 56 * segs.len()];
    f[0..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
    f[16..18].copy_from_slice(&2u16.to_le_bytes());
    f[18..20].copy_from_slice(&EM_AARCH64.to_le_bytes());
    f[24..32].copy_from_slice(&entry.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
    for (i, (flags, vaddr, data, memsz)) in segs.iter().enumerate() {
        let off = f.len() as u64;
        f.extend_from_slice(data);
        let p = 64 + 56 * i;
        f[p..p + 4].copy_from_slice(&1u32.to_le_bytes());
        f[p + 4..p + 8].copy_from_slice(&flags.to_le_bytes());
        f[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
        f[p + 16..p + 24].copy_from_slice(&vaddr.to_le_bytes());
        f[p + 24..p + 32].copy_from_slice(&vaddr.to_le_bytes());
        f[p + 32..p + 40].copy_from_slice(&(data.len() as u64).to_le_bytes());
        f[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
    }
    if let Some((name, value, size)) = symbol {
        let strtab_off = f.len() as u64;
        let strtab = [b"\0", name.as_bytes(), b"\0"].concat();
        f.extend_from_slice(&strtab);
        let symtab_off = f.len() as u64;
        f.extend_from_slice(&[0u8; 24]);
        let mut s = [0u8; 24];
        s[0..4].copy_from_slice(&1u32.to_le_bytes());
        s[8..16].copy_from_slice(&value.to_le_bytes());
        s[16..24].copy_from_slice(&size.to_le_bytes());
        f.extend_from_slice(&s);
        let shoff = f.len() as u64;
        f.extend_from_slice(&[0u8; 64]);
        let mut sh = [0u8; 64];
        sh[4..8].copy_from_slice(&2u32.to_le_bytes()); // SHT_SYMTAB
        sh[24..32].copy_from_slice(&symtab_off.to_le_bytes());
        sh[32..40].copy_from_slice(&48u64.to_le_bytes());
        sh[40..44].copy_from_slice(&2u32.to_le_bytes()); // link: the string table
        f.extend_from_slice(&sh);
        let mut sh = [0u8; 64];
        sh[4..8].copy_from_slice(&3u32.to_le_bytes()); // SHT_STRTAB
        sh[24..32].copy_from_slice(&strtab_off.to_le_bytes());
        sh[32..40].copy_from_slice(&(strtab.len() as u64).to_le_bytes());
        f.extend_from_slice(&sh);
        f[40..48].copy_from_slice(&shoff.to_le_bytes());
        f[58..60].copy_from_slice(&64u16.to_le_bytes());
        f[60..62].copy_from_slice(&3u16.to_le_bytes());
    }
    f
}

/// A kernel: text, then data holding `KERNEL_PAYLOAD` (16 bytes) and the configuration record.
fn kernel() -> Vec<u8> {
    let mut data = vec![0u8; 0x40];
    data[0x10..0x18].copy_from_slice(b"sel4conf");
    data[0x18..0x20].copy_from_slice(&1u64.to_le_bytes());
    data[0x28..0x30].copy_from_slice(&1u64.to_le_bytes());
    elf(
        0x4008_0000,
        &[
            (RX, 0x4008_0000, vec![0x11; 0x100], 0x1000),
            (RW, 0x4008_1000, data, 0x1000),
        ],
        Some(("KERNEL_PAYLOAD", 0x4008_1000, 16)),
    )
}

/// A good task: text and data.
fn task() -> Vec<u8> {
    elf(
        0x40_0000,
        &[
            (RX, 0x40_0000, vec![0x22; 0x40], 0x1000),
            (RW, 0x40_1000, vec![0x33; 0x10], 0x1000),
        ],
        None,
    )
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mkimage-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Run mkimage on the kernel, a good task and `bad` (as `hostile.elf`); returns (exit
/// code, stderr) and checks that no image was written.
fn mkimage(dir: &Path, bad: &[u8]) -> (Option<i32>, String) {
    let (k, good, hostile, out) = (
        dir.join("kernel.elf"),
        dir.join("good.elf"),
        dir.join("hostile.elf"),
        dir.join("image.elf"),
    );
    std::fs::write(&k, kernel()).expect("write");
    std::fs::write(&good, task()).expect("write");
    std::fs::write(&hostile, bad).expect("write");
    let _ = std::fs::remove_file(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_mkimage"))
        .arg("--kernel")
        .arg(&k)
        .arg("--out")
        .arg(&out)
        .arg(&good)
        .arg(&hostile)
        .output()
        .expect("run mkimage");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    if o.status.success() {
        assert!(out.exists());
    } else {
        assert!(!out.exists(), "no image on error");
    }
    (o.status.code(), err)
}

/// `bad` is rejected; the message names hostile.elf (and not the kernel) and contains `want`.
fn rejected(name: &str, bad: &[u8], want: &str) {
    let dir = tmpdir(name);
    let (code, err) = mkimage(&dir, bad);
    assert_eq!(code, Some(1), "{name}: accepted; stderr: {err}");
    let hostile = dir.join("hostile.elf");
    assert!(
        err.starts_with(&format!("mkimage: {}: ", hostile.display())),
        "{name}: error does not name the payload file: {err}"
    );
    assert!(
        !err.contains("kernel.elf"),
        "{name}: blames the kernel: {err}"
    );
    assert!(err.contains(want), "{name}: missing {want:?} in: {err}");
}

#[test]
fn a_good_image_is_built() {
    let dir = tmpdir("good");
    let (code, err) = mkimage(&dir, &task());
    assert_eq!(code, Some(0), "{err}");
}

/// A payload may hold the configuration record's magic (a root task that compares it, as the
/// Microkit initialiser does; on riscv64 the constant lands in its read-only data): the
/// record is the kernel's, found in the kernel file only.
#[test]
fn a_payload_holding_the_record_magic_is_packed() {
    let dir = tmpdir("magic");
    let mut data = vec![0x33; 0x20];
    data[0x8..0x10].copy_from_slice(b"sel4conf");
    let task = elf(
        0x40_0000,
        &[
            (RX, 0x40_0000, vec![0x22; 0x40], 0x1000),
            (RW, 0x40_1000, data, 0x1000),
        ],
        None,
    );
    let (code, err) = mkimage(&dir, &task);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn overlapping_segments() {
    let bad = elf(
        0x40_0000,
        &[
            (RX, 0x40_0000, vec![0x22; 0x40], 0x1000),
            (RW, 0x40_0f00, vec![0x33; 0x10], 0x1000),
        ],
        None,
    );
    rejected(
        "overlap",
        &bad,
        "segments 0 [0x400000, 0x401000) and 1 [0x400f00, 0x401f00) overlap",
    );
}

#[test]
fn a_file_offset_past_the_end_of_the_file() {
    let mut bad = task();
    let past = bad.len() as u64 + 0x100;
    bad[64 + 56 + 8..64 + 56 + 16].copy_from_slice(&past.to_le_bytes());
    rejected("offset", &bad, "segment 1: file bytes at offset");
}

#[test]
fn a_file_size_past_the_end_of_the_file() {
    let mut bad = task();
    bad[64 + 32..64 + 40].copy_from_slice(&0x1000u64.to_le_bytes());
    rejected("filesz", &bad, "lie past the end of the file");
}

#[test]
fn file_size_above_memory_size() {
    let bad = elf(0x40_0000, &[(RX, 0x40_0000, vec![0x22; 0x40], 0x20)], None);
    rejected("memsz", &bad, "file size 0x40 exceeds its memory size 0x20");
}

#[test]
fn a_segment_outside_user_space() {
    let bad = elf(
        0xffff_0000_0040_0000,
        &[(RX, 0xffff_0000_0040_0000, vec![0x22; 0x40], 0x1000)],
        None,
    );
    rejected("kernel-half", &bad, "lies outside user space");
}

#[test]
fn an_address_that_wraps() {
    let bad = elf(
        0x40_0000,
        &[
            (RX, 0x40_0000, vec![0x22; 0x40], 0x1000),
            (RW, u64::MAX - 0xff, vec![], 0x1000),
        ],
        None,
    );
    rejected("wrap", &bad, "overflows");
}

#[test]
fn an_entry_point_outside_every_executable_segment() {
    let bad = elf(
        0x40_1000,
        &[
            (RX, 0x40_0000, vec![0x22; 0x40], 0x1000),
            (RW, 0x40_1000, vec![0x33; 0x10], 0x1000),
        ],
        None,
    );
    rejected(
        "entry",
        &bad,
        "entry point 0x401000 is not in an executable segment",
    );
}

#[test]
fn a_file_that_is_not_elf() {
    rejected("junk", b"not an elf at all", "not an ELF file");
}
