//! Boot-image writer: the kernel ELF plus a payload in one ELF that QEMU loads with `-kernel`.
//!
//! The output is the kernel file unchanged except for (1) the payload table
//! (`boot_image::payload`) appended at a 4 KiB-aligned file offset, (2) a new program-header
//! table at the end of the file: the kernel's headers plus one `PT_LOAD` placing the payload
//! at the first 4 KiB-aligned physical address after the kernel's highest segment, and
//! (3) the kernel's `KERNEL_PAYLOAD` symbol patched to `[payload paddr, payload len]`.
#![forbid(unsafe_code)]

use boot_image::elf::{
    check_program, user_top, Elf, ElfError, ProgramError, EHDR_SIZE, PF_R, PHDR_SIZE, PT_LOAD,
};
use boot_image::payload::{header_len, DESCRIPTOR_SYMBOL, MAX_FILES, PAYLOAD_ALIGN, PAYLOAD_MAGIC};
use std::fmt;

/// Why an image cannot be built.
#[derive(Debug, PartialEq, Eq)]
pub enum ImageError {
    /// The kernel is not a usable ELF file.
    Kernel(ElfError),
    /// The kernel has no `PT_LOAD` segment.
    NoLoadSegment,
    /// The kernel is for a machine (`e_machine`) without a known user address space.
    UnknownMachine(u16),
    /// The kernel lacks the payload descriptor symbol (or it is too small).
    NoDescriptor,
    /// The descriptor symbol has no file bytes (e.g. it landed in `.bss`).
    DescriptorNotInFile,
    /// No payload file, or more than the payload table holds.
    FileCount(usize),
    /// A payload file is not a user program for the kernel's machine that loads as its
    /// headers say (index, reason; see [`boot_image::elf::check_program`]).
    BadPayloadFile(usize, ProgramError),
    /// Too many program headers for the ELF header's 16-bit count.
    TooManySegments,
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::Kernel(e) => write!(f, "kernel: {e}"),
            ImageError::NoLoadSegment => write!(f, "kernel: no loadable segment"),
            ImageError::UnknownMachine(m) => {
                write!(f, "kernel: machine {m} has no known user address space")
            }
            ImageError::NoDescriptor => {
                write!(f, "kernel: no `{DESCRIPTOR_SYMBOL}: [u64; 2]` symbol")
            }
            ImageError::DescriptorNotInFile => {
                write!(
                    f,
                    "kernel: `{DESCRIPTOR_SYMBOL}` has no file bytes (must be in .data)"
                )
            }
            ImageError::FileCount(n) => write!(f, "need 1..={MAX_FILES} payload files, got {n}"),
            ImageError::BadPayloadFile(i, e) => write!(f, "payload file {i}: {e}"),
            ImageError::TooManySegments => write!(f, "too many program headers"),
        }
    }
}

impl std::error::Error for ImageError {}

/// The message for `e`, prefixed with the file it is about: the kernel's path for a kernel
/// error, the payload file's (`files[i]`) for a payload error, none for a count error.
pub fn error_message(e: &ImageError, kernel: &str, files: &[String]) -> String {
    match e {
        ImageError::FileCount(_) => e.to_string(),
        ImageError::BadPayloadFile(i, why) => match files.get(*i) {
            Some(path) => format!("{path}: {why}"),
            None => e.to_string(),
        },
        _ => format!("{kernel}: {e}"),
    }
}

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

/// The payload table holding `files`, each starting on a 4 KiB boundary.
pub fn build_payload(files: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![0u8; header_len(files.len())];
    out[0..8].copy_from_slice(&PAYLOAD_MAGIC.to_le_bytes());
    out[8..16].copy_from_slice(&(files.len() as u64).to_le_bytes());
    for (i, f) in files.iter().enumerate() {
        out.resize(align_up(out.len() as u64, PAYLOAD_ALIGN) as usize, 0);
        let off = out.len() as u64;
        out[16 + 16 * i..24 + 16 * i].copy_from_slice(&off.to_le_bytes());
        out[24 + 16 * i..32 + 16 * i].copy_from_slice(&(f.len() as u64).to_le_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// Where the image tool put the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Physical address of the payload.
    pub paddr: u64,
    /// Payload length in bytes.
    pub len: u64,
}

/// Build the boot image from the kernel ELF bytes and the payload files (each a user program
/// for the kernel's machine, checked with [`boot_image::elf::check_program`]: segments inside
/// the file and user space, not overlapping, entry in an executable segment). Returns the
/// image and where the payload goes.
pub fn build_image(kernel: &[u8], files: &[&[u8]]) -> Result<(Vec<u8>, Placement), ImageError> {
    if files.is_empty() || files.len() as u64 > MAX_FILES {
        return Err(ImageError::FileCount(files.len()));
    }
    let k = Elf::parse(kernel).map_err(ImageError::Kernel)?;
    let top = user_top(k.machine).ok_or(ImageError::UnknownMachine(k.machine))?;
    for (i, f) in files.iter().enumerate() {
        let bad = |e| ImageError::BadPayloadFile(i, e);
        let e = Elf::parse(f).map_err(|e| bad(ProgramError::Elf(e)))?;
        check_program(&e, k.machine, top).map_err(bad)?;
    }
    let mut phdrs = Vec::new();
    let mut top = 0u64;
    for i in 0..k.segment_count() {
        let s = k.segment(i).map_err(ImageError::Kernel)?;
        if s.kind == PT_LOAD {
            top = top.max(s.paddr + s.memsz);
        }
        let off = k_phoff(kernel) + i * PHDR_SIZE;
        phdrs.push(kernel[off..off + PHDR_SIZE].to_vec());
    }
    if top == 0 {
        return Err(ImageError::NoLoadSegment);
    }
    let (sym, size) = k
        .symbol(DESCRIPTOR_SYMBOL)
        .map_err(|_| ImageError::NoDescriptor)?;
    if size < 16 {
        return Err(ImageError::NoDescriptor);
    }
    let desc_off = k
        .vaddr_to_offset(sym)
        .ok_or(ImageError::DescriptorNotInFile)? as usize;
    if k.vaddr_to_offset(sym + 15) != Some(desc_off as u64 + 15) {
        return Err(ImageError::DescriptorNotInFile);
    }

    let payload = build_payload(files);
    let place = Placement {
        paddr: align_up(top, PAYLOAD_ALIGN),
        len: payload.len() as u64,
    };

    let mut out = kernel.to_vec();
    out[desc_off..desc_off + 8].copy_from_slice(&place.paddr.to_le_bytes());
    out[desc_off + 8..desc_off + 16].copy_from_slice(&place.len.to_le_bytes());
    out.resize(align_up(out.len() as u64, PAYLOAD_ALIGN) as usize, 0);
    let payload_off = out.len() as u64;
    out.extend_from_slice(&payload);

    let mut ph = vec![0u8; PHDR_SIZE];
    ph[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
    ph[4..8].copy_from_slice(&PF_R.to_le_bytes());
    ph[8..16].copy_from_slice(&payload_off.to_le_bytes());
    ph[16..24].copy_from_slice(&place.paddr.to_le_bytes());
    ph[24..32].copy_from_slice(&place.paddr.to_le_bytes());
    ph[32..40].copy_from_slice(&place.len.to_le_bytes());
    ph[40..48].copy_from_slice(&place.len.to_le_bytes());
    ph[48..56].copy_from_slice(&PAYLOAD_ALIGN.to_le_bytes());
    phdrs.push(ph);
    let count = u16::try_from(phdrs.len()).map_err(|_| ImageError::TooManySegments)?;

    out.resize(align_up(out.len() as u64, 8) as usize, 0);
    let phoff = out.len() as u64;
    for p in &phdrs {
        out.extend_from_slice(p);
    }
    out[32..40].copy_from_slice(&phoff.to_le_bytes());
    out[56..58].copy_from_slice(&count.to_le_bytes());
    debug_assert!(out.len() >= EHDR_SIZE);
    Ok((out, place))
}

/// `e_phoff` of an already validated ELF.
fn k_phoff(kernel: &[u8]) -> usize {
    let mut a = [0u8; 8];
    a.copy_from_slice(&kernel[32..40]);
    u64::from_le_bytes(a) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use boot_image::elf::{EM_AARCH64, SHDR_SIZE};
    use boot_image::payload::Payload;

    /// A fake kernel: one PT_LOAD at vaddr 0xffff0000_40080000 / paddr 0x40080000 with 0x40
    /// file bytes and memsz 0x3000, a symtab with KERNEL_PAYLOAD at +0x20 (size 16).
    fn fake_kernel(with_symbol: bool) -> Vec<u8> {
        let va = 0xFFFF_0000_4008_0000u64;
        let pa = 0x4008_0000u64;
        let data_off = 0x100u64;
        let mut f = vec![0u8; 0x100];
        f[0..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        f[18..20].copy_from_slice(&EM_AARCH64.to_le_bytes());
        f[24..32].copy_from_slice(&pa.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        f[56..58].copy_from_slice(&1u16.to_le_bytes());
        f[58..60].copy_from_slice(&(SHDR_SIZE as u16).to_le_bytes());
        let p = 64;
        f[p..p + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
        f[p + 8..p + 16].copy_from_slice(&data_off.to_le_bytes());
        f[p + 16..p + 24].copy_from_slice(&va.to_le_bytes());
        f[p + 24..p + 32].copy_from_slice(&pa.to_le_bytes());
        f[p + 32..p + 40].copy_from_slice(&0x40u64.to_le_bytes());
        f[p + 40..p + 48].copy_from_slice(&0x3000u64.to_le_bytes());
        f.extend_from_slice(&[0x11u8; 0x40]); // segment bytes at 0x100
                                              // strtab at 0x140
        let strtab_off = f.len() as u64;
        let strtab = b"\0KERNEL_PAYLOAD\0";
        f.extend_from_slice(strtab);
        // symtab: null symbol + one symbol
        let symtab_off = f.len() as u64;
        f.extend_from_slice(&[0u8; 24]);
        let mut sym = [0u8; 24];
        sym[0..4].copy_from_slice(&(if with_symbol { 1u32 } else { 0 }).to_le_bytes());
        sym[8..16].copy_from_slice(&(va + 0x20).to_le_bytes());
        sym[16..24].copy_from_slice(&16u64.to_le_bytes());
        f.extend_from_slice(&sym);
        // section headers: null, symtab (link 2), strtab
        let shoff = f.len() as u64;
        f.extend_from_slice(&[0u8; SHDR_SIZE]);
        let mut sh = [0u8; SHDR_SIZE];
        sh[4..8].copy_from_slice(&2u32.to_le_bytes());
        sh[24..32].copy_from_slice(&symtab_off.to_le_bytes());
        sh[32..40].copy_from_slice(&48u64.to_le_bytes());
        sh[40..44].copy_from_slice(&2u32.to_le_bytes());
        f.extend_from_slice(&sh);
        let mut sh = [0u8; SHDR_SIZE];
        sh[4..8].copy_from_slice(&3u32.to_le_bytes());
        sh[24..32].copy_from_slice(&strtab_off.to_le_bytes());
        sh[32..40].copy_from_slice(&(strtab.len() as u64).to_le_bytes());
        f.extend_from_slice(&sh);
        f[40..48].copy_from_slice(&shoff.to_le_bytes());
        f[60..62].copy_from_slice(&3u16.to_le_bytes());
        f
    }

    /// An aarch64 program entered at `entry` with segments (flags, vaddr, file bytes, memsz),
    /// whose file bytes follow the program headers in order.
    fn task_with(entry: u64, segs: &[(u32, u64, usize, u64)]) -> Vec<u8> {
        let mut f = vec![0u8; 64 + PHDR_SIZE * segs.len()];
        f[0..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        f[16..18].copy_from_slice(&2u16.to_le_bytes());
        f[18..20].copy_from_slice(&EM_AARCH64.to_le_bytes());
        f[24..32].copy_from_slice(&entry.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        f[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
        for (i, &(flags, vaddr, filesz, memsz)) in segs.iter().enumerate() {
            let off = f.len() as u64;
            f.resize(f.len() + filesz, 0x5a);
            let p = 64 + PHDR_SIZE * i;
            f[p..p + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
            f[p + 4..p + 8].copy_from_slice(&flags.to_le_bytes());
            f[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
            f[p + 16..p + 24].copy_from_slice(&vaddr.to_le_bytes());
            f[p + 24..p + 32].copy_from_slice(&vaddr.to_le_bytes());
            f[p + 32..p + 40].copy_from_slice(&(filesz as u64).to_le_bytes());
            f[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
        }
        f
    }

    const RX: u32 = PF_R | 1;
    const RW: u32 = PF_R | 2;

    /// A minimal aarch64 program usable as a payload file: text and data.
    fn task() -> Vec<u8> {
        task_with(
            0x40_0000,
            &[(RX, 0x40_0000, 0x40, 0x1000), (RW, 0x40_1000, 0x10, 0x1000)],
        )
    }

    /// Set the u64 at `at` (a program-header field of [`task_with`]'s output).
    fn set(f: &mut [u8], at: usize, v: u64) {
        f[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    /// Offset of program header `i`'s field at `field` in [`task_with`]'s output.
    fn ph(i: usize, field: usize) -> usize {
        64 + PHDR_SIZE * i + field
    }

    /// `build_image` of the fake kernel with `t` as payload file 1 (after a good one).
    fn payload_error(t: &[u8]) -> ImageError {
        let good = task();
        build_image(&fake_kernel(true), &[&good, t]).unwrap_err()
    }

    #[test]
    fn overlapping_payload_segments_are_rejected() {
        let t = task_with(
            0x40_0000,
            &[(RX, 0x40_0000, 0x40, 0x1000), (RW, 0x40_0800, 0x10, 0x1000)],
        );
        assert_eq!(
            payload_error(&t),
            ImageError::BadPayloadFile(
                1,
                ProgramError::Overlap {
                    first: 0,
                    first_range: (0x40_0000, 0x40_1000),
                    second: 1,
                    second_range: (0x40_0800, 0x40_1800),
                }
            )
        );
    }

    #[test]
    fn payload_bytes_past_the_end_of_the_file_are_rejected() {
        let mut t = task();
        let len = t.len() as u64;
        set(&mut t, ph(1, 8), len + 0x1000); // p_offset beyond the file
        assert_eq!(
            payload_error(&t),
            ImageError::BadPayloadFile(
                1,
                ProgramError::PastEndOfFile {
                    index: 1,
                    offset: len + 0x1000,
                    filesz: 0x10,
                    file_len: len,
                }
            )
        );
        let mut t = task();
        set(&mut t, ph(0, 32), 0x1000); // p_filesz beyond the file (memsz 0x1000)
        assert!(matches!(
            payload_error(&t),
            ImageError::BadPayloadFile(1, ProgramError::PastEndOfFile { index: 0, .. })
        ));
    }

    #[test]
    fn payload_file_size_above_memory_size_is_rejected() {
        let mut t = task();
        set(&mut t, ph(1, 40), 4); // memsz 4 < filesz 0x10
        assert_eq!(
            payload_error(&t),
            ImageError::BadPayloadFile(
                1,
                ProgramError::FileSizeExceedsMemSize {
                    index: 1,
                    filesz: 0x10,
                    memsz: 4,
                }
            )
        );
    }

    #[test]
    fn payload_segments_outside_user_space_or_wrapping_are_rejected() {
        // The kernel is aarch64: user space ends at 2^47.
        let t = task_with(
            0xffff_0000_0040_0000,
            &[(RX, 0xffff_0000_0040_0000, 0x40, 0x1000)],
        );
        assert!(matches!(
            payload_error(&t),
            ImageError::BadPayloadFile(
                1,
                ProgramError::OutsideUserSpace {
                    index: 0,
                    user_top: 0x8000_0000_0000,
                    ..
                }
            )
        ));
        let mut t = task();
        set(&mut t, ph(1, 16), u64::MAX - 0x10); // vaddr + memsz wraps
        assert!(matches!(
            payload_error(&t),
            ImageError::BadPayloadFile(1, ProgramError::AddressOverflow { index: 1, .. })
        ));
    }

    #[test]
    fn payload_entry_outside_every_executable_segment_is_rejected() {
        let t = task_with(
            0x40_1000,
            &[(RX, 0x40_0000, 0x40, 0x1000), (RW, 0x40_1000, 0x10, 0x1000)],
        );
        assert_eq!(
            payload_error(&t),
            ImageError::BadPayloadFile(1, ProgramError::EntryNotExecutable { entry: 0x40_1000 })
        );
    }

    #[test]
    fn errors_name_the_file_they_are_about() {
        let files = ["init.elf".to_string(), "task.elf".to_string()];
        let t = task_with(0x40_1000, &[(RX, 0x40_0000, 0x40, 0x1000)]);
        let e = payload_error(&t);
        let m = error_message(&e, "kernel.elf", &files);
        assert!(m.starts_with("task.elf: "), "{m}");
        assert!(!m.contains("kernel.elf"), "{m}");
        assert!(m.contains("entry point 0x401000"), "{m}");
        let e = build_image(b"nope", &[&task()]).unwrap_err();
        let m = error_message(&e, "kernel.elf", &files);
        assert!(m.starts_with("kernel.elf: "), "{m}");
        let e = build_image(&fake_kernel(true), &[]).unwrap_err();
        assert_eq!(error_message(&e, "kernel.elf", &[]), e.to_string());
    }

    #[test]
    fn image_has_payload_segment_and_patched_descriptor() {
        let k = fake_kernel(true);
        let t = task();
        let (img, place) = build_image(&k, &[&t]).unwrap();
        assert_eq!(
            place.paddr, 0x4008_3000,
            "first 4 KiB boundary after paddr+memsz"
        );
        let e = Elf::parse(&img).unwrap();
        assert_eq!(e.segment_count(), 2);
        let segs: Vec<_> = e.load_segments().collect::<Result<_, _>>().unwrap();
        assert_eq!(segs[0].paddr, 0x4008_0000, "kernel segment kept");
        let p = segs[1];
        assert_eq!((p.paddr, p.filesz, p.flags), (place.paddr, place.len, PF_R));
        assert_eq!(p.offset % 4096, 0);
        let payload = Payload::parse(e.segment_data(&p).unwrap()).unwrap();
        assert_eq!(payload.file(0).unwrap(), &t[..]);
        // The descriptor in the kernel's data now says where the payload is.
        let d = 0x100 + 0x20;
        assert_eq!(
            u64::from_le_bytes(img[d..d + 8].try_into().unwrap()),
            place.paddr
        );
        assert_eq!(
            u64::from_le_bytes(img[d + 8..d + 16].try_into().unwrap()),
            place.len
        );
        // Everything else of the kernel's bytes is unchanged.
        assert_eq!(&img[64..0x120], &k[64..0x120]);
        assert_eq!(
            e.symbol(DESCRIPTOR_SYMBOL).unwrap().0,
            0xFFFF_0000_4008_0020
        );
    }

    #[test]
    fn errors() {
        let k = fake_kernel(true);
        let t = task();
        assert_eq!(build_image(&k, &[]).unwrap_err(), ImageError::FileCount(0));
        assert_eq!(
            build_image(b"nope", &[&t]).unwrap_err(),
            ImageError::Kernel(ElfError::NotElf)
        );
        assert_eq!(
            build_image(&fake_kernel(false), &[&t]).unwrap_err(),
            ImageError::NoDescriptor
        );
        assert!(matches!(
            build_image(&k, &[b"x"]).unwrap_err(),
            ImageError::BadPayloadFile(0, _)
        ));
        let mut other = task();
        other[18..20].copy_from_slice(&62u16.to_le_bytes());
        assert_eq!(
            build_image(&k, &[&other]).unwrap_err(),
            ImageError::BadPayloadFile(
                0,
                ProgramError::WrongMachine {
                    found: 62,
                    expected: EM_AARCH64,
                }
            )
        );
        // Truncated kernels never panic.
        for n in 0..k.len() {
            let _ = build_image(&k[..n], &[&t]);
        }
    }
}
