//! Boot-info checks and queries: the untyped list, RAM total, slot regions.

use sel4_abi::bootinfo::MAX_BOOTINFO_UNTYPED_CAPS;
use sel4_abi::{BootInfo, SlotRegion, UntypedDesc};

/// A boot info that a root task cannot work with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BootInfoError {
    /// A slot region has end < start, or lies outside the root CNode.
    BadRegion {
        /// Which region.
        which: &'static str,
        /// Its start.
        start: u64,
        /// Its end (exclusive).
        end: u64,
    },
    /// More untypeds than `untypedList` can describe.
    TooManyUntypeds(u64),
    /// No SchedControl cap (MCS kernels give one per node).
    NoSchedControl,
    /// The boot info names no free slots.
    NoEmptySlots,
}

impl core::fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BootInfoError::BadRegion { which, start, end } => {
                write!(f, "bad {which} slot region {start:#x}..{end:#x}")
            }
            BootInfoError::TooManyUntypeds(n) => {
                write!(f, "{n} untypeds (at most {MAX_BOOTINFO_UNTYPED_CAPS})")
            }
            BootInfoError::NoSchedControl => write!(f, "no SchedControl cap"),
            BootInfoError::NoEmptySlots => write!(f, "no empty slots"),
        }
    }
}

/// Number of slots in `r` (0 for an inverted region).
pub fn region_len(r: SlotRegion) -> u64 {
    r.end.saturating_sub(r.start)
}

/// Checks the regions a root task relies on: every region well-formed and inside the root
/// CNode, at most 230 untypeds, a SchedControl cap and some empty slots.
pub fn check(bi: &BootInfo) -> Result<(), BootInfoError> {
    let slots = 1u64
        .checked_shl(bi.init_thread_cnode_size_bits as u32)
        .unwrap_or(u64::MAX);
    let regions = [
        ("empty", bi.empty),
        ("untyped", bi.untyped),
        ("schedcontrol", bi.schedcontrol),
        ("userImageFrames", bi.user_image_frames),
        ("userImagePaging", bi.user_image_paging),
    ];
    for (which, r) in regions {
        if r.end < r.start || r.end > slots {
            return Err(BootInfoError::BadRegion {
                which,
                start: r.start,
                end: r.end,
            });
        }
    }
    if region_len(bi.untyped) > MAX_BOOTINFO_UNTYPED_CAPS as u64 {
        return Err(BootInfoError::TooManyUntypeds(region_len(bi.untyped)));
    }
    if region_len(bi.schedcontrol) == 0 {
        return Err(BootInfoError::NoSchedControl);
    }
    if region_len(bi.empty) == 0 {
        return Err(BootInfoError::NoEmptySlots);
    }
    Ok(())
}

/// The untyped caps as (slot, description), in boot-info order.
pub fn untypeds(bi: &BootInfo) -> impl Iterator<Item = (u64, UntypedDesc)> + '_ {
    let n = (region_len(bi.untyped) as usize).min(MAX_BOOTINFO_UNTYPED_CAPS);
    bi.untyped_list[..n]
        .iter()
        .enumerate()
        .map(move |(i, d)| (bi.untyped.start + i as u64, *d))
}

/// Number of untyped caps.
pub fn untyped_count(bi: &BootInfo) -> u64 {
    untypeds(bi).count() as u64
}

/// Number of device untypeds.
pub fn device_untyped_count(bi: &BootInfo) -> u64 {
    untypeds(bi).filter(|(_, d)| d.is_device != 0).count() as u64
}

/// Bytes of a region of `size_bits` (saturating at `u64::MAX`).
pub fn region_bytes(size_bits: u8) -> u64 {
    1u64.checked_shl(size_bits as u32).unwrap_or(u64::MAX)
}

/// Total bytes of RAM (non-device) untypeds.
pub fn ram_bytes(bi: &BootInfo) -> u64 {
    untypeds(bi)
        .filter(|(_, d)| d.is_device == 0)
        .fold(0u64, |acc, (_, d)| {
            acc.saturating_add(region_bytes(d.size_bits))
        })
}

/// Extra-boot-info chunk id of the flattened device tree (`SEL4_BOOTINFO_HEADER_FDT`).
pub const EXTRA_FDT: u64 = 6;

/// The chunks of extra boot info `extra`: (id, the chunk with its 16-byte header), in order.
/// Stops at a chunk whose length is shorter than its header or runs past the end.
pub fn extra_chunks(extra: &[u8]) -> impl Iterator<Item = (u64, &[u8])> + '_ {
    let word = |b: &[u8], o: usize| {
        b.get(o..o + 8)
            .map(|w| u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]))
    };
    let mut rest = extra;
    core::iter::from_fn(move || {
        let id = word(rest, 0)?;
        let len = usize::try_from(word(rest, 8)?).ok()?;
        if len < 16 || len > rest.len() {
            return None;
        }
        let (chunk, tail) = rest.split_at(len);
        rest = tail;
        Some((id, chunk))
    })
}

/// The first chunk with id `id` in extra boot info `extra` (header included), if present.
pub fn extra_chunk(extra: &[u8], id: u64) -> Option<&[u8]> {
    extra_chunks(extra).find(|(i, _)| *i == id).map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BootInfo {
        let mut bi = BootInfo {
            num_nodes: 1,
            init_thread_cnode_size_bits: 12,
            empty: SlotRegion {
                start: 0x80,
                end: 0x1000,
            },
            schedcontrol: SlotRegion {
                start: 0x20,
                end: 0x21,
            },
            untyped: SlotRegion {
                start: 0x30,
                end: 0x34,
            },
            ..BootInfo::default()
        };
        bi.untyped_list[0] = UntypedDesc {
            paddr: 0x4000_0000,
            size_bits: 20,
            is_device: 0,
            padding: [0; 6],
        };
        bi.untyped_list[1] = UntypedDesc {
            paddr: 0x0900_0000,
            size_bits: 12,
            is_device: 1,
            padding: [0; 6],
        };
        bi.untyped_list[2] = UntypedDesc {
            paddr: 0x4010_0000,
            size_bits: 16,
            is_device: 0,
            padding: [0; 6],
        };
        bi.untyped_list[3] = UntypedDesc {
            paddr: 0x4020_0000,
            size_bits: 4,
            is_device: 0,
            padding: [0; 6],
        };
        // Past the region: must be ignored.
        bi.untyped_list[4] = UntypedDesc {
            paddr: 0x5000_0000,
            size_bits: 30,
            is_device: 0,
            padding: [0; 6],
        };
        bi
    }

    #[test]
    fn counts_and_ram() {
        let bi = sample();
        assert_eq!(check(&bi), Ok(()));
        assert_eq!(untyped_count(&bi), 4);
        assert_eq!(device_untyped_count(&bi), 1);
        assert_eq!(ram_bytes(&bi), (1 << 20) + (1 << 16) + 16);
        let slots: [u64; 4] = core::array::from_fn(|i| untypeds(&bi).nth(i).unwrap().0);
        assert_eq!(slots, [0x30, 0x31, 0x32, 0x33]);
    }

    #[test]
    fn parses_from_bytes() {
        let bi = sample();
        let mut bytes = [0u8; BootInfo::SIZE];
        bi.to_bytes(&mut bytes);
        let back = BootInfo::from_bytes(&bytes);
        assert_eq!(ram_bytes(&back), ram_bytes(&bi));
        assert_eq!(untyped_count(&back), 4);
    }

    #[test]
    fn rejects_bad_regions() {
        let mut bi = sample();
        bi.empty = SlotRegion {
            start: 0x90,
            end: 0x80,
        };
        assert!(matches!(
            check(&bi),
            Err(BootInfoError::BadRegion { which: "empty", .. })
        ));
        let mut bi = sample();
        bi.empty = SlotRegion {
            start: 0x80,
            end: 0x2000,
        };
        assert!(matches!(
            check(&bi),
            Err(BootInfoError::BadRegion { which: "empty", .. })
        ));
        let mut bi = sample();
        bi.untyped = SlotRegion {
            start: 0x10,
            end: 0x10 + 231,
        };
        assert_eq!(check(&bi), Err(BootInfoError::TooManyUntypeds(231)));
        let mut bi = sample();
        bi.schedcontrol = SlotRegion {
            start: 0x20,
            end: 0x20,
        };
        assert_eq!(check(&bi), Err(BootInfoError::NoSchedControl));
        let mut bi = sample();
        bi.empty = SlotRegion {
            start: 0x80,
            end: 0x80,
        };
        assert_eq!(check(&bi), Err(BootInfoError::NoEmptySlots));
    }

    #[test]
    fn huge_size_bits_saturate() {
        let mut bi = sample();
        bi.untyped_list[0].size_bits = 64;
        bi.untyped_list[2].size_bits = 63;
        assert_eq!(ram_bytes(&bi), u64::MAX);
    }

    #[test]
    fn extra_chunks_in_order_and_bounded() {
        let mut b = [0u8; 48];
        b[0] = 6;
        b[8] = 24;
        b[16..24].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        b[24] = 9;
        b[32] = 16;
        let mut it = extra_chunks(&b);
        assert_eq!(it.next().map(|(id, c)| (id, &c[16..])), Some((6, &[1u8, 2, 3, 4, 5, 6, 7, 8][..])));
        assert_eq!(it.next().map(|(id, c)| (id, c.len())), Some((9, 16)));
        assert_eq!(it.next(), None);
        drop(it);
        assert_eq!(extra_chunk(&b, 9).map(|c| c.len()), Some(16));
        assert_eq!(extra_chunk(&b, 6).map(|c| c.len()), Some(24));
        assert_eq!(extra_chunk(&b, 5), None);
        // A length past the end, or shorter than the header, ends the walk.
        b[8] = 200;
        assert_eq!(extra_chunks(&b).count(), 0);
        b[8] = 8;
        assert_eq!(extra_chunks(&b).count(), 0);
        assert_eq!(extra_chunks(&[]).count(), 0);
    }
}
