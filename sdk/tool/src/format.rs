//! Image file formats (`--image-type`), as Microkit's tool offers them: `elf` (the packed ELF
//! of [`crate::image::pack`]), `binary` (AArch64, RISC-V: a raw image QEMU's generic loader
//! places at [`AARCH64_LOAD_ADDR`] and starts at its first byte) and `uimage` (RISC-V: a U-Boot
//! legacy image, which QEMU's `-kernel` also loads). Defaults, as Microkit's: `binary` on
//! AArch64, `uimage` on RISC-V, `elf` on x86_64 (where the image is a multiboot module and
//! the only choice).
//!
//! The raw AArch64 image starts with a 64-byte position-independent copy loop of our own
//! (hand-assembled below) and a table, then at offset [`BINARY_DATA_OFFSET`] the flat bytes of
//! every loadable segment of the packed ELF from its lowest physical address. Entered at any
//! exception level with the MMU off (QEMU: EL2 with `virtualization=on`, else EL1), the loop
//! copies the flat bytes to their physical address and branches to the kernel's physical
//! entry point, which drops from EL2 to EL1 itself (`arch/aarch64/src/boot.rs`).

use boot_image::elf::Elf;
use sdf::Arch;

use crate::error::ToolError;

/// The image file formats of Microkit's `--image-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImageType {
    /// A raw binary image.
    Binary,
    /// An ELF file.
    Elf,
    /// A U-Boot legacy image (RISC-V).
    Uimage,
}

impl ImageType {
    /// Name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ImageType::Binary => "binary",
            ImageType::Elf => "elf",
            ImageType::Uimage => "uimage",
        }
    }

    /// Microkit's default for a board of `arch`.
    pub fn default_for(arch: Arch) -> Self {
        match arch {
            Arch::Aarch64 => ImageType::Binary,
            Arch::Riscv64 => ImageType::Uimage,
            Arch::X86_64 => ImageType::Elf,
        }
    }

    /// The requested type, or the default, if `arch` supports it (Microkit: `binary` on
    /// AArch64 and RISC-V, `uimage` on RISC-V only, `elf` everywhere).
    pub fn resolve(requested: Option<Self>, arch: Arch) -> Result<Self, ToolError> {
        let t = requested.unwrap_or(Self::default_for(arch));
        let ok = match t {
            ImageType::Elf => true,
            ImageType::Binary => arch != Arch::X86_64,
            ImageType::Uimage => arch == Arch::Riscv64,
        };
        if ok {
            Ok(t)
        } else {
            Err(ToolError::Args(format!(
                "building the output image as '{}' is unsupported for target architecture '{}'",
                t.name(),
                arch_name(arch)
            )))
        }
    }
}

/// The architecture as Microkit's messages name it.
fn arch_name(arch: Arch) -> &'static str {
    match arch {
        Arch::Aarch64 => "aarch64",
        Arch::Riscv64 => "riscv64",
        Arch::X86_64 => "x86_64",
    }
}

/// Physical address Microkit's manual loads an AArch64 raw image at
/// (`-device loader,file=loader.img,addr=0x70000000,cpu-num=0`).
pub const AARCH64_LOAD_ADDR: u64 = 0x7000_0000;

/// Offset of the flat segment bytes in the AArch64 raw image.
pub const BINARY_DATA_OFFSET: u64 = 0x1000;

/// The copy loop at the start of the AArch64 raw image (A64, little endian). It reads the
/// table that follows it (at byte 0x40): destination, length (a multiple of 8), entry point,
/// data offset from the image start.
///
/// ```text
///  0: adr  x4, table          ; 0x40
///  4: ldr  x1, [x4]           ; destination
///  8: ldr  x2, [x4, #8]       ; length
///  c: ldr  x3, [x4, #16]      ; entry
/// 10: ldr  x5, [x4, #24]      ; data offset
/// 14: adr  x6, 0              ; image start
/// 18: add  x6, x6, x5         ; source
/// 1c: cbz  x2, 30
/// 20: ldr  x7, [x6], #8
/// 24: str  x7, [x1], #8
/// 28: sub  x2, x2, #8
/// 2c: b    1c
/// 30: dsb  sy
/// 34: isb
/// 38: mov  x0, xzr            ; no boot argument (the kernel finds the DTB at RAM start)
/// 3c: br   x3
/// ```
const AARCH64_COPY_LOOP: [u32; 16] = [
    0x1000_0204,
    0xf940_0081,
    0xf940_0482,
    0xf940_0883,
    0xf940_0c85,
    0x10ff_ff66,
    0x8b05_00c6,
    0xb400_00a2,
    0xf840_84c7,
    0xf800_8427,
    0xd100_2042,
    0x17ff_fffc,
    0xd503_3f9f,
    0xd503_3fdf,
    0xaa1f_03e0,
    0xd61f_0060,
];

/// Largest flat image we write (the loadable span of the packed ELF).
const MAX_FLAT: u64 = 512 << 20;

/// The loadable bytes of an ELF laid out flat from its lowest physical address, as
/// `objcopy -O binary` would: (base physical address, bytes, entry point). Bytes between and
/// after segments' file bytes are zero; zero-filled tails (`.bss`) are not included.
pub fn flat(what: &str, elf: &[u8]) -> Result<(u64, Vec<u8>, u64), ToolError> {
    let e = Elf::parse(elf).map_err(|err| ToolError::Image(format!("{what}: {err}")))?;
    let mut segs = Vec::new();
    for s in e.load_segments() {
        let s = s.map_err(|err| ToolError::Image(format!("{what}: {err}")))?;
        if s.filesz > 0 {
            let data = e
                .segment_data(&s)
                .map_err(|err| ToolError::Image(format!("{what}: {err}")))?;
            segs.push((s.paddr, data));
        }
    }
    let base = segs
        .iter()
        .map(|s| s.0)
        .min()
        .ok_or_else(|| ToolError::Image(format!("{what}: no loadable bytes")))?;
    let end = segs
        .iter()
        .map(|s| s.0.saturating_add(s.1.len() as u64))
        .max()
        .unwrap_or(base);
    if end - base > MAX_FLAT {
        return Err(ToolError::Image(format!(
            "{what}: loadable span [{base:#x}, {end:#x}) is too large for a flat image"
        )));
    }
    let mut out = vec![0u8; (end - base) as usize];
    for (paddr, data) in segs {
        let o = (paddr - base) as usize;
        out[o..o + data.len()].copy_from_slice(data);
    }
    Ok((base, out, e.entry))
}

/// The AArch64 raw image of a packed ELF (see the module docs).
pub fn aarch64_binary(packed: &[u8]) -> Result<Vec<u8>, ToolError> {
    let (base, mut bytes, entry) = flat("image", packed)?;
    bytes.resize(bytes.len().next_multiple_of(8), 0);
    let len = bytes.len() as u64;
    let image_end = AARCH64_LOAD_ADDR + BINARY_DATA_OFFSET + len;
    if base < image_end && AARCH64_LOAD_ADDR < base + len {
        return Err(ToolError::Image(format!(
            "the system at [{base:#x}, {:#x}) would overlap its own raw image at [{AARCH64_LOAD_ADDR:#x}, {image_end:#x})",
            base + len
        )));
    }
    let mut out = Vec::with_capacity((BINARY_DATA_OFFSET + len) as usize);
    for w in AARCH64_COPY_LOOP {
        out.extend_from_slice(&w.to_le_bytes());
    }
    for w in [base, len, entry, BINARY_DATA_OFFSET] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.resize(BINARY_DATA_OFFSET as usize, 0);
    out.extend_from_slice(&bytes);
    Ok(out)
}

/// The RISC-V raw image of a packed ELF: its flat bytes, to be loaded at their lowest physical
/// address (QEMU `-kernel` loads a raw file at the start of the kernel area, 0x8020_0000,
/// where our kernel is linked).
pub fn riscv_binary(packed: &[u8]) -> Result<Vec<u8>, ToolError> {
    Ok(flat("image", packed)?.1)
}

/// CRC-32 (IEEE 802.3, reflected, as U-Boot's image headers use).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

/// U-Boot legacy image header fields we write: OS Linux (what U-Boot and QEMU accept for a
/// kernel image; Microkit says the same), architecture RISC-V, type kernel, no compression.
const IH_MAGIC: u32 = 0x2705_1956;
const IH_OS_LINUX: u8 = 5;
const IH_ARCH_RISCV: u8 = 26;
const IH_TYPE_KERNEL: u8 = 2;
const IH_COMP_NONE: u8 = 0;
/// Bytes of the legacy header.
pub const UIMAGE_HEADER_LEN: usize = 64;

/// The RISC-V uImage of a packed ELF: a legacy header (big-endian; load address = the flat
/// bytes' lowest physical address, entry = the ELF entry) followed by the flat bytes.
pub fn riscv_uimage(packed: &[u8]) -> Result<Vec<u8>, ToolError> {
    let (base, bytes, entry) = flat("image", packed)?;
    let as32 = |v: u64, what: &str| {
        u32::try_from(v)
            .map_err(|_| ToolError::Image(format!("uImage: {what} {v:#x} does not fit 32 bits")))
    };
    let load = as32(base, "load address")?;
    let ep = as32(entry, "entry point")?;
    let size = as32(bytes.len() as u64, "size")?;
    let mut h = vec![0u8; UIMAGE_HEADER_LEN];
    h[0..4].copy_from_slice(&IH_MAGIC.to_be_bytes());
    // 4..8 header CRC (below), 8..12 time stamp (0: reproducible builds).
    h[12..16].copy_from_slice(&size.to_be_bytes());
    h[16..20].copy_from_slice(&load.to_be_bytes());
    h[20..24].copy_from_slice(&ep.to_be_bytes());
    h[24..28].copy_from_slice(&crc32(&bytes).to_be_bytes());
    h[28] = IH_OS_LINUX;
    h[29] = IH_ARCH_RISCV;
    h[30] = IH_TYPE_KERNEL;
    h[31] = IH_COMP_NONE;
    let name = b"seL4-compatible Microkit system";
    h[32..32 + name.len()].copy_from_slice(name);
    let hcrc = crc32(&h);
    h[4..8].copy_from_slice(&hcrc.to_be_bytes());
    h.extend_from_slice(&bytes);
    Ok(h)
}

/// Converts the packed ELF `elf` of `arch` into `ty`.
pub fn convert(arch: Arch, ty: ImageType, elf: Vec<u8>) -> Result<Vec<u8>, ToolError> {
    match (ty, arch) {
        (ImageType::Elf, _) => Ok(elf),
        (ImageType::Binary, Arch::Aarch64) => aarch64_binary(&elf),
        (ImageType::Binary, Arch::Riscv64) => riscv_binary(&elf),
        (ImageType::Uimage, Arch::Riscv64) => riscv_uimage(&elf),
        (t, a) => Err(ToolError::Args(format!(
            "building the output image as '{}' is unsupported for target architecture '{}'",
            t.name(),
            arch_name(a)
        ))),
    }
}

/// How to boot an image of type `ty` (for the report); `kernel` is empty on x86_64.
pub fn boot_hint(ty: ImageType, kernel: &[crate::image::SegmentInfo]) -> &'static str {
    match (ty, kernel.is_empty()) {
        (_, true) => {
            "QEMU: -kernel sel4_32.elf -initrd loader.img (sel4.elf and sel4_32.elf are written beside the image)"
        }
        (ImageType::Binary, false) if kernel.iter().any(|s| s.paddr >= 0x8000_0000) => {
            "QEMU (RISC-V): -kernel <image>; QEMU loads a raw file at 0x80200000"
        }
        (ImageType::Binary, false) => {
            "QEMU (AArch64): -device loader,file=<image>,addr=0x70000000,cpu-num=0 (entered at EL2 with virtualization=on, or at EL1)"
        }
        (ImageType::Uimage, false) => "QEMU (RISC-V): -kernel <image>",
        (ImageType::Elf, false) => "QEMU: -kernel <image>",
    }
}

/// File names Microkit's tool writes beside an x86_64 image: the 64-bit kernel ELF and the
/// 32-bit one QEMU's `-kernel` (multiboot) accepts.
pub const X86_KERNEL_COPY: &str = "sel4.elf";
/// See [`X86_KERNEL_COPY`].
pub const X86_KERNEL32_COPY: &str = "sel4_32.elf";

/// Multiboot 1 header magic.
const MULTIBOOT_MAGIC: u32 = 0x1bad_b002;
/// Multiboot flag: the header gives the load addresses (the "a.out kludge").
const MULTIBOOT_AOUT_KLUDGE: u32 = 1 << 16;
/// Where the kernel bytes start in the 32-bit ELF.
const ELF32_DATA_OFFSET: usize = 0x100;

/// The 32-bit ELF of an x86_64 kernel (Microkit's `sel4_32.elf`): one `PT_LOAD` (EM_386)
/// holding the kernel's loadable bytes laid out flat from its lowest physical address, with
/// the entry point of its multiboot header. The kernel's multiboot header uses the address
/// fields (a.out kludge), which QEMU and GRUB follow for an ELF file too, so the 64-bit kernel
/// boots from it unchanged. `kernel` is the 64-bit kernel ELF, or its flat image (the older
/// `kernel32.bin`) loaded at the multiboot header's `load_addr`.
pub fn x86_elf32(kernel: &[u8]) -> Result<Vec<u8>, ToolError> {
    let bad = |m: String| ToolError::Image(format!("x86_64 kernel: {m}"));
    let flat_bytes = match flat("x86_64 kernel", kernel) {
        Ok((_, bytes, _)) => bytes,
        Err(_) if !kernel.starts_with(b"\x7fELF") => kernel.to_vec(),
        Err(e) => return Err(e),
    };
    // The multiboot header: 4-byte aligned in the first 8 KiB.
    let word = |o: usize| u32::from_le_bytes(flat_bytes[o..o + 4].try_into().unwrap_or([0; 4]));
    let limit = flat_bytes.len().min(8192 - ELF32_DATA_OFFSET).saturating_sub(32);
    let at = (0..=limit)
        .step_by(4)
        .find(|&o| {
            word(o) == MULTIBOOT_MAGIC
                && word(o)
                    .wrapping_add(word(o + 4))
                    .wrapping_add(word(o + 8))
                    == 0
        })
        .ok_or_else(|| bad("no multiboot header in its first 8 KiB".into()))?;
    let flags = word(at + 4);
    if flags & MULTIBOOT_AOUT_KLUDGE == 0 {
        return Err(bad("its multiboot header has no load addresses (a.out kludge)".into()));
    }
    let (header_addr, load_addr, load_end, bss_end, entry) = (
        word(at + 12),
        word(at + 16),
        word(at + 20),
        word(at + 24),
        word(at + 28),
    );
    if header_addr.wrapping_sub(load_addr) as usize != at {
        return Err(bad(format!(
            "multiboot header at offset {at:#x} but header_addr - load_addr = {:#x}",
            header_addr.wrapping_sub(load_addr)
        )));
    }
    let filesz = u32::try_from(flat_bytes.len()).map_err(|_| bad("too large".into()))?;
    let memsz = if bss_end > load_addr {
        (bss_end - load_addr).max(filesz)
    } else if load_end > load_addr {
        (load_end - load_addr).max(filesz)
    } else {
        filesz
    };
    let mut f = vec![0u8; ELF32_DATA_OFFSET];
    f[0..4].copy_from_slice(b"\x7fELF");
    f[4] = 1; // ELFCLASS32
    f[5] = 1; // little endian
    f[6] = 1; // EV_CURRENT
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&3u16.to_le_bytes()); // EM_386
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..28].copy_from_slice(&entry.to_le_bytes());
    f[28..32].copy_from_slice(&52u32.to_le_bytes()); // e_phoff
    f[40..42].copy_from_slice(&52u16.to_le_bytes()); // e_ehsize
    f[42..44].copy_from_slice(&32u16.to_le_bytes()); // e_phentsize
    f[44..46].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
    f[46..48].copy_from_slice(&40u16.to_le_bytes()); // e_shentsize
    let ph = 52;
    f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f[ph + 4..ph + 8].copy_from_slice(&(ELF32_DATA_OFFSET as u32).to_le_bytes());
    f[ph + 8..ph + 12].copy_from_slice(&load_addr.to_le_bytes());
    f[ph + 12..ph + 16].copy_from_slice(&load_addr.to_le_bytes());
    f[ph + 16..ph + 20].copy_from_slice(&filesz.to_le_bytes());
    f[ph + 20..ph + 24].copy_from_slice(&memsz.to_le_bytes());
    f[ph + 24..ph + 28].copy_from_slice(&7u32.to_le_bytes()); // RWX
    f[ph + 28..ph + 32].copy_from_slice(&(ELF32_DATA_OFFSET as u32).to_le_bytes());
    f.extend_from_slice(&flat_bytes);
    Ok(f)
}
