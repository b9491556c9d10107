//! Image stage: embeds the encoded system in the initialiser ELF (the contract in
//! `microkit_spec`'s crate docs) and packs the bootable image.
//!
//! * Embedding: the blob from `microkit_spec::encode(spec, data)` goes at the first 4 KiB
//!   boundary of the file after its current end; a new program-header table (the old headers
//!   plus one read-only `PT_LOAD`, vaddr = paddr = first 4 KiB boundary after the highest
//!   loadable byte) is appended and `e_phoff`/`e_phnum` are updated; the initialiser's
//!   `MICROKIT_SYSTEM: [u64; 2]` is patched to `(vaddr, length)`.
//! * aarch64 / riscv64: the image is `mkimage::build_image(kernel, [initialiser])`, one ELF
//!   that QEMU loads with `-kernel` (the initialiser is payload file 0, the root task).
//! * x86_64: the image is the initialiser ELF itself, loaded as the first multiboot module
//!   (QEMU `-initrd`) beside the kernel (`sel4_32.elf`, QEMU `-kernel`), as Microkit
//!   does on x86_64 and as `scripts/build-images.sh` boots x86_64 tasks today.

use boot_image::elf::{Elf, PF_R, PF_W, PF_X, PHDR_SIZE, PT_LOAD};
use microkit_spec::layout::symbols::{KERNEL_CONFIG, SYSTEM};
use microkit_spec::Spec;
use sdf::Arch;

use crate::error::ToolError;

/// Alignment of the system blob in the file and in memory.
pub const BLOB_ALIGN: u64 = 0x1000;

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

/// One loadable segment, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Virtual address.
    pub vaddr: u64,
    /// Physical (load) address.
    pub paddr: u64,
    /// Bytes in the file.
    pub filesz: u64,
    /// Bytes in memory.
    pub memsz: u64,
    /// `rwx` text.
    pub perms: String,
}

/// Where the pieces of the image went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLayout {
    /// Initialiser segments, the system blob's last.
    pub initialiser: Vec<SegmentInfo>,
    /// (vaddr, length) written to `MICROKIT_SYSTEM`.
    pub system: (u64, u64),
    /// Kernel segments (empty on x86_64, where the kernel is not part of the image).
    pub kernel: Vec<SegmentInfo>,
    /// Physical placement of the boot payload holding the initialiser (aarch64, riscv64).
    pub payload: Option<(u64, u64)>,
    /// Size of the image file.
    pub image_size: u64,
    /// What the image file is and how it boots.
    pub kind: &'static str,
    /// The file format written (`--image-type`).
    pub format: crate::format::ImageType,
}

fn img_err(what: &str, m: impl std::fmt::Display) -> ToolError {
    ToolError::Image(format!("{what}: {m}"))
}

fn perms(flags: u32) -> String {
    format!(
        "{}{}{}",
        if flags & PF_R != 0 { "r" } else { "-" },
        if flags & PF_W != 0 { "w" } else { "-" },
        if flags & PF_X != 0 { "x" } else { "-" }
    )
}

/// The loadable segments of an ELF.
pub fn segments(what: &str, bytes: &[u8]) -> Result<Vec<SegmentInfo>, ToolError> {
    let e = Elf::parse(bytes).map_err(|e| img_err(what, e))?;
    e.load_segments()
        .map(|s| {
            s.map(|s| SegmentInfo {
                vaddr: s.vaddr,
                paddr: s.paddr,
                filesz: s.filesz,
                memsz: s.memsz,
                perms: perms(s.flags),
            })
            .map_err(|e| img_err(what, e))
        })
        .collect()
}

/// File offset of the 16 bytes of `MICROKIT_SYSTEM` in an initialiser ELF.
fn system_symbol_offset(e: &Elf<'_>) -> Result<usize, ToolError> {
    let (addr, size) = e.symbol(SYSTEM).map_err(|_| {
        ToolError::Image(format!(
            "initialiser: no `{SYSTEM}: [u64; 2]` symbol (is this the microkit initialiser?)"
        ))
    })?;
    if size < 16 {
        return Err(ToolError::Image(format!(
            "initialiser: `{SYSTEM}` is {size} bytes, expected 16"
        )));
    }
    let off = e.vaddr_to_offset(addr);
    match (off, e.vaddr_to_offset(addr + 15)) {
        (Some(o), Some(l)) if l == o + 15 => Ok(o as usize),
        _ => Err(ToolError::Image(format!(
            "initialiser: `{SYSTEM}` has no file bytes (must be in .data)"
        ))),
    }
}

/// Writes the kernel configuration record `words` into the initialiser's
/// `MICROKIT_KERNEL_CONFIG` (32 bytes in `.data`). An initialiser without the symbol (an
/// older build) is left as it is; one whose symbol has no file bytes is an error.
pub fn patch_kernel_config(initialiser: &mut [u8], words: &[u64; 4]) -> Result<(), ToolError> {
    let e = Elf::parse(initialiser).map_err(|e| img_err("initialiser", e))?;
    let Ok((addr, size)) = e.symbol(KERNEL_CONFIG) else {
        return Ok(());
    };
    let off = match (size, e.vaddr_to_offset(addr), e.vaddr_to_offset(addr + 31)) {
        (32.., Some(o), Some(l)) if l == o + 31 => o as usize,
        _ => {
            return Err(ToolError::Image(format!(
                "initialiser: `{KERNEL_CONFIG}` must be 32 bytes with file bytes (in .data)"
            )))
        }
    };
    for (i, w) in words.iter().enumerate() {
        initialiser[off + 8 * i..off + 8 * i + 8].copy_from_slice(&w.to_le_bytes());
    }
    Ok(())
}

/// Appends `blob` to the initialiser ELF as a read-only `PT_LOAD` and patches
/// `MICROKIT_SYSTEM`. Returns the new ELF and `(vaddr, length)` of the blob.
pub fn embed_system(initialiser: &[u8], blob: &[u8]) -> Result<(Vec<u8>, (u64, u64)), ToolError> {
    let e = Elf::parse(initialiser).map_err(|e| img_err("initialiser", e))?;
    let sym_off = system_symbol_offset(&e)?;
    let mut top = 0u64;
    let mut phdrs = Vec::new();
    let phoff = u64::from_le_bytes(initialiser[32..40].try_into().unwrap_or([0; 8])) as usize;
    for i in 0..e.segment_count() {
        let s = e.segment(i).map_err(|e| img_err("initialiser", e))?;
        if s.kind == PT_LOAD {
            top = top.max(s.vaddr + s.memsz);
        }
        let o = phoff + i * PHDR_SIZE;
        let raw = initialiser
            .get(o..o + PHDR_SIZE)
            .ok_or_else(|| img_err("initialiser", "program header outside the file"))?;
        phdrs.push(raw.to_vec());
    }
    if top == 0 {
        return Err(img_err("initialiser", "no loadable segment"));
    }
    let vaddr = align_up(top, BLOB_ALIGN);
    let len = blob.len() as u64;
    let mut out = initialiser.to_vec();
    out[sym_off..sym_off + 8].copy_from_slice(&vaddr.to_le_bytes());
    out[sym_off + 8..sym_off + 16].copy_from_slice(&len.to_le_bytes());
    out.resize(align_up(out.len() as u64, BLOB_ALIGN) as usize, 0);
    let blob_off = out.len() as u64;
    out.extend_from_slice(blob);

    let mut ph = vec![0u8; PHDR_SIZE];
    ph[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
    ph[4..8].copy_from_slice(&PF_R.to_le_bytes());
    ph[8..16].copy_from_slice(&blob_off.to_le_bytes());
    ph[16..24].copy_from_slice(&vaddr.to_le_bytes());
    ph[24..32].copy_from_slice(&vaddr.to_le_bytes());
    ph[32..40].copy_from_slice(&len.to_le_bytes());
    ph[40..48].copy_from_slice(&len.to_le_bytes());
    ph[48..56].copy_from_slice(&BLOB_ALIGN.to_le_bytes());
    phdrs.push(ph);
    let count = u16::try_from(phdrs.len())
        .map_err(|_| img_err("initialiser", "too many program headers"))?;
    out.resize(align_up(out.len() as u64, 8) as usize, 0);
    let new_phoff = out.len() as u64;
    for p in &phdrs {
        out.extend_from_slice(p);
    }
    out[32..40].copy_from_slice(&new_phoff.to_le_bytes());
    out[56..58].copy_from_slice(&count.to_le_bytes());
    Ok((out, (vaddr, len)))
}

/// Reads the system back out of an initialiser ELF made by [`embed_system`] (used to check
/// every image before it is written, and by tests).
pub fn extract_system(initialiser: &[u8]) -> Result<(Spec, Vec<u8>), ToolError> {
    let e = Elf::parse(initialiser).map_err(|e| img_err("initialiser", e))?;
    let off = system_symbol_offset(&e)?;
    let word = |o: usize| u64::from_le_bytes(initialiser[o..o + 8].try_into().unwrap_or([0; 8]));
    let (vaddr, len) = (word(off), word(off + 8));
    if vaddr == 0 || len == 0 {
        return Err(img_err("initialiser", "no system attached"));
    }
    let start = e
        .vaddr_to_offset(vaddr)
        .ok_or_else(|| img_err("initialiser", "system blob not in a loadable segment"))?;
    let blob = initialiser
        .get(start as usize..(start + len) as usize)
        .ok_or_else(|| img_err("initialiser", "system blob outside the file"))?;
    let (spec, data) =
        microkit_spec::decode(blob).map_err(|e| img_err("embedded system", format!("{e:?}")))?;
    Ok((spec, data.to_vec()))
}

/// The boot payload file holding the initialiser in an aarch64/riscv64 image.
pub fn payload_initialiser(image: &[u8]) -> Result<Vec<u8>, ToolError> {
    let e = Elf::parse(image).map_err(|e| img_err("image", e))?;
    let (sym, _) = e
        .symbol(boot_image::payload::DESCRIPTOR_SYMBOL)
        .map_err(|e| img_err("image", e))?;
    let off = e
        .vaddr_to_offset(sym)
        .ok_or_else(|| img_err("image", "payload descriptor not in the file"))?
        as usize;
    let word = |o: usize| -> Result<u64, ToolError> {
        image
            .get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .ok_or_else(|| img_err("image", "truncated"))
    };
    let paddr = word(off)?;
    let seg = e
        .load_segments()
        .flatten()
        .find(|s| s.paddr == paddr)
        .ok_or_else(|| img_err("image", "no payload segment"))?;
    let bytes = e.segment_data(&seg).map_err(|e| img_err("image", e))?;
    let p = boot_image::payload::Payload::parse(bytes)
        .map_err(|e| img_err("image payload", format!("{e:?}")))?;
    Ok(p.file(0)
        .map_err(|e| img_err("image payload", format!("{e:?}")))?
        .to_vec())
}

/// Builds the image bytes for `arch` from the initialiser (with the system embedded) and,
/// on aarch64/riscv64, the kernel.
pub fn pack(
    arch: Arch,
    kernel: Option<&[u8]>,
    initialiser: &[u8],
    system: (u64, u64),
) -> Result<(Vec<u8>, ImageLayout), ToolError> {
    let init_segs = segments("initialiser", initialiser)?;
    match arch {
        Arch::X86_64 => Ok((
            initialiser.to_vec(),
            ImageLayout {
                initialiser: init_segs,
                system,
                kernel: Vec::new(),
                payload: None,
                image_size: initialiser.len() as u64,
                format: crate::format::ImageType::Elf,
                kind: "x86_64: the initialiser ELF with the system embedded; boot it as the first \
                       multiboot module (QEMU -initrd) beside the kernel sel4_32.elf (QEMU -kernel)",
            },
        )),
        Arch::Aarch64 | Arch::Riscv64 => {
            let kernel = kernel.ok_or_else(|| ToolError::Sdk("no kernel for this board".into()))?;
            let (img, place) = mkimage::build_image(kernel, &[initialiser])
                .map_err(|e| img_err("packing the kernel", e))?;
            let kernel_segs = segments("kernel", kernel)?;
            let size = img.len() as u64;
            Ok((
                img,
                ImageLayout {
                    initialiser: init_segs,
                    system,
                    kernel: kernel_segs,
                    payload: Some((place.paddr, place.len)),
                    image_size: size,
                    format: crate::format::ImageType::Elf,
                    kind: "one ELF (kernel + boot payload holding the initialiser, which holds the system); \
                           boot it with QEMU -kernel",
                },
            ))
        }
    }
}
