//! `seL4_BootInfo` (MCS layout, `sel4-abi.md` §7), read from the boot-info page by offset.

/// A half-open range of CNode slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SlotRegion {
    /// First slot.
    pub start: u64,
    /// One past the last slot.
    pub end: u64,
}

/// One `seL4_UntypedDesc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UntypedDesc {
    /// Physical address.
    pub paddr: u64,
    /// log2 size in bytes.
    pub size_bits: u8,
    /// Device memory (frames/untypeds only).
    pub is_device: bool,
}

/// Size of the boot-info page.
pub const BOOTINFO_SIZE: usize = 4096;
/// Maximum untyped descriptors (`CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS`).
pub const MAX_UNTYPED: usize = 230;

/// Parsed boot info.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootInfo<'a> {
    raw: &'a [u8],
}

/// Why the boot-info page could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootInfoError {
    /// Fewer than 4096 bytes.
    TooShort,
    /// The untyped region holds more entries than the list.
    TooManyUntypeds(u64),
}

impl<'a> BootInfo<'a> {
    /// Wraps the boot-info page (at least 4096 bytes).
    pub fn new(raw: &'a [u8]) -> Result<Self, BootInfoError> {
        if raw.len() < BOOTINFO_SIZE {
            return Err(BootInfoError::TooShort);
        }
        let b = BootInfo { raw };
        let n = b.untyped().end.saturating_sub(b.untyped().start);
        if n > MAX_UNTYPED as u64 {
            return Err(BootInfoError::TooManyUntypeds(n));
        }
        Ok(b)
    }
    fn word(&self, off: usize) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.raw[off..off + 8]);
        u64::from_le_bytes(a)
    }
    fn region(&self, off: usize) -> SlotRegion {
        SlotRegion { start: self.word(off), end: self.word(off + 8) }
    }
    /// Length of the extra boot info after this page.
    pub fn extra_len(&self) -> u64 {
        self.word(0)
    }
    /// Levels of IOMMU page tables (`numIOPTLevels`); 0 when the kernel has no IOMMU support.
    pub fn num_iopt_levels(&self) -> u64 {
        self.word(24)
    }
    /// Vaddr of the root task's IPC buffer.
    pub fn ipc_buffer(&self) -> u64 {
        self.word(32)
    }
    /// Free slots of the root CNode.
    pub fn empty(&self) -> SlotRegion {
        self.region(40)
    }
    /// Frame caps of the root task image.
    pub fn user_image_frames(&self) -> SlotRegion {
        self.region(72)
    }
    /// log2 slots of the root CNode.
    pub fn cnode_size_bits(&self) -> u64 {
        self.word(136)
    }
    /// SchedControl caps, one per node (MCS).
    pub fn sched_control(&self) -> SlotRegion {
        self.region(152)
    }
    /// Untyped caps.
    pub fn untyped(&self) -> SlotRegion {
        self.region(168)
    }
    /// Descriptor of untyped `i` (slot `untyped().start + i`).
    pub fn untyped_desc(&self, i: usize) -> Option<UntypedDesc> {
        let n = (self.untyped().end.saturating_sub(self.untyped().start)) as usize;
        if i >= n {
            return None;
        }
        let off = 184 + 16 * i;
        Some(UntypedDesc { paddr: self.word(off), size_bits: self.raw[off + 8], is_device: self.raw[off + 9] != 0 })
    }
}

/// The chunk with `seL4_BootInfoHeader` id `id` in the extra boot information (header
/// included, `len` bytes as the header says), if present and within `extra`.
pub fn extra_chunk(extra: &[u8], id: u64) -> Option<&[u8]> {
    let mut at = 0usize;
    while at.checked_add(16)? <= extra.len() {
        let word = |o: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&extra[o..o + 8]);
            u64::from_le_bytes(a)
        };
        let (cid, len) = (word(at), word(at + 8));
        let len = usize::try_from(len).ok()?;
        if len < 16 {
            return None;
        }
        let end = at.checked_add(len)?;
        if cid == id {
            return extra.get(at..end);
        }
        at = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_extra_chunks() {
        let mut extra = alloc::vec::Vec::new();
        for (id, payload) in [(0u64, &[0u8; 8][..]), (5, &[100, 0, 0, 0, 0, 0, 0, 0][..]), (6, &[0xd0, 0x0d, 0xfe, 0xed][..])] {
            extra.extend_from_slice(&id.to_le_bytes());
            extra.extend_from_slice(&(16 + payload.len() as u64).to_le_bytes());
            extra.extend_from_slice(payload);
        }
        let tsc = extra_chunk(&extra, 5).unwrap();
        assert_eq!((tsc.len(), tsc[16]), (24, 100));
        assert_eq!(&extra_chunk(&extra, 6).unwrap()[16..], &[0xd0, 0x0d, 0xfe, 0xed]);
        assert_eq!(extra_chunk(&extra, 3), None);
        // A chunk running past the end, or a header shorter than itself, ends the walk.
        assert_eq!(extra_chunk(&extra[..extra.len() - 1], 6), None);
        let mut bad = extra.clone();
        bad[8..16].copy_from_slice(&4u64.to_le_bytes());
        assert_eq!(extra_chunk(&bad, 5), None);
        assert_eq!(extra_chunk(&[], 6), None);
    }

    #[test]
    fn parses_offsets() {
        let mut page = [0u8; 4096];
        let put = |p: &mut [u8; 4096], off: usize, v: u64| p[off..off + 8].copy_from_slice(&v.to_le_bytes());
        put(&mut page, 32, 0x50_0000);
        put(&mut page, 40, 100);
        put(&mut page, 48, 4096);
        put(&mut page, 136, 12);
        put(&mut page, 152, 20);
        put(&mut page, 160, 21);
        put(&mut page, 168, 30);
        put(&mut page, 176, 32);
        put(&mut page, 184, 0x4000_0000);
        page[192] = 27;
        put(&mut page, 200, 0x900_0000);
        page[208] = 12;
        page[209] = 1;
        let b = BootInfo::new(&page).unwrap();
        assert_eq!(b.ipc_buffer(), 0x50_0000);
        assert_eq!(b.num_iopt_levels(), 0);
        assert_eq!(b.empty(), SlotRegion { start: 100, end: 4096 });
        assert_eq!(b.sched_control().start, 20);
        assert_eq!(b.untyped_desc(0), Some(UntypedDesc { paddr: 0x4000_0000, size_bits: 27, is_device: false }));
        assert_eq!(b.untyped_desc(1), Some(UntypedDesc { paddr: 0x900_0000, size_bits: 12, is_device: true }));
        assert_eq!(b.untyped_desc(2), None);
        put(&mut page, 24, 3);
        assert_eq!(BootInfo::new(&page).unwrap().num_iopt_levels(), 3);
        put(&mut page, 176, 30 + 231);
        assert_eq!(BootInfo::new(&page), Err(BootInfoError::TooManyUntypeds(231)));
        assert_eq!(BootInfo::new(&page[..100]), Err(BootInfoError::TooShort));
    }
}
