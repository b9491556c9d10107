//! Readers for the regions the initialiser fills at boot: a `prefill_bootinfo` region (one
//! `seL4_BootInfoHeader` chunk) and the `receive_all_untypeds` description (layout:
//! [`microkit_layout::untypeds`]: the untyped CNode's CPtr, the slot range, then one
//! `seL4_UntypedDesc` per slot of that CNode, indexed by slot).

use microkit_layout::untypeds as U;

/// A region this PD maps, read with volatile loads (the initialiser wrote it before start).
#[derive(Clone, Copy, Debug)]
pub struct Region {
    base: *const u8,
    len: usize,
}

impl Region {
    /// The region mapped at `vaddr` with `len` bytes (from `setvar_vaddr` / the SDF size).
    ///
    /// # Safety
    /// `vaddr..vaddr + len` must be mapped readable in this PD for the life of the program.
    pub const unsafe fn new(vaddr: u64, len: usize) -> Self {
        Region { base: vaddr as usize as *const u8, len }
    }

    /// Length in bytes.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// True for an empty region.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Byte `i`, if inside the region.
    pub fn byte(&self, i: usize) -> Option<u8> {
        if i >= self.len {
            return None;
        }
        // SAFETY: `i < len` and `new`'s caller promised the range is mapped readable.
        Some(unsafe { self.base.add(i).read_volatile() })
    }

    /// Little-endian word at byte offset `off`, if inside the region.
    pub fn word(&self, off: usize) -> Option<u64> {
        let mut v = 0u64;
        for k in 0..8 {
            v |= (self.byte(off.checked_add(k)?)? as u64) << (8 * k);
        }
        Some(v)
    }

    /// Little-endian 32-bit value at byte offset `off`.
    pub fn u32(&self, off: usize) -> Option<u32> {
        let mut v = 0u32;
        for k in 0..4 {
            v |= (self.byte(off.checked_add(k)?)? as u32) << (8 * k);
        }
        Some(v)
    }
}

/// The chunk header at the start of a `prefill_bootinfo` region: `(id, len)`, where `len`
/// counts the 16-byte header too. A chunk the kernel did not provide reads as `(0, 0)`.
pub fn bootinfo_header(r: &Region) -> (u64, u64) {
    (r.word(0).unwrap_or(0), r.word(8).unwrap_or(0))
}

/// One `seL4_UntypedDesc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UntypedDesc {
    /// Physical base.
    pub paddr: u64,
    /// log2 size in bytes.
    pub size_bits: u8,
    /// Device memory.
    pub is_device: bool,
}

/// The `receive_all_untypeds` description.
#[derive(Clone, Copy, Debug)]
pub struct Untypeds(Region);

impl Untypeds {
    /// Reads the description in `r`.
    pub const fn new(r: Region) -> Self {
        Untypeds(r)
    }
    /// CPtr of the untyped CNode: also the `root` to give `seL4_Untyped_Retype` (depth 0).
    pub fn cnode_cptr(&self) -> u64 {
        self.0.word(0).unwrap_or(0)
    }
    /// Slots `start..end` of the untyped CNode that hold untyped caps.
    pub fn slots(&self) -> core::ops::Range<u64> {
        let start = self.0.word(8).unwrap_or(0);
        let end = self.0.word(16).unwrap_or(0).min(U::MAX_DESCS);
        start.min(end)..end
    }
    /// The CPtr of the cap in `slot` of the untyped CNode.
    pub fn cap(&self, slot: u64) -> u64 {
        self.cnode_cptr() + slot
    }
    /// The descriptor of the untyped in `slot`.
    pub fn desc(&self, slot: u64) -> Option<UntypedDesc> {
        if !self.slots().contains(&slot) {
            return None;
        }
        let off = (U::DESC_OFFSET + slot * U::DESC_SIZE) as usize;
        Some(UntypedDesc { paddr: self.0.word(off)?, size_bits: self.0.byte(off + 8)?, is_device: self.0.byte(off + 9)? != 0 })
    }
}
