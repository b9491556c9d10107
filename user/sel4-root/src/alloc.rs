//! Allocators for the root task: free CSpace slots from the boot info's empty region, and
//! untyped memory with the kernel's retype placement rules (objects aligned to their size,
//! the watermark moving past the last object).

use sel4_abi::bootinfo::MAX_BOOTINFO_UNTYPED_CAPS;
use sel4_abi::{BootInfo, SlotRegion};

use crate::bootinfo::{region_bytes, untypeds};

/// Why an allocation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocError {
    /// Fewer than `wanted` free slots are left.
    SlotsExhausted {
        /// Slots asked for.
        wanted: u64,
    },
    /// No RAM untyped has room for `count` objects of 2^`obj_bits` bytes.
    NoUntypedFits {
        /// log2 of the object size.
        obj_bits: u32,
        /// Number of objects.
        count: u64,
    },
}

impl core::fmt::Display for AllocError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AllocError::SlotsExhausted { wanted } => {
                write!(f, "out of CSpace slots ({wanted} wanted)")
            }
            AllocError::NoUntypedFits { obj_bits, count } => {
                write!(f, "no untyped fits {count} objects of 2^{obj_bits} bytes")
            }
        }
    }
}

/// Hands out slots of one region in increasing order.
#[derive(Clone, Copy, Debug)]
pub struct SlotAlloc {
    next: u64,
    end: u64,
}

impl SlotAlloc {
    /// Allocator over `region` (usually the boot info's empty region).
    pub fn new(region: SlotRegion) -> Self {
        SlotAlloc {
            next: region.start,
            end: region.end.max(region.start),
        }
    }
    /// One free slot.
    pub fn alloc(&mut self) -> Result<u64, AllocError> {
        self.alloc_range(1)
    }
    /// `n` consecutive free slots (n ≥ 1); returns the first.
    pub fn alloc_range(&mut self, n: u64) -> Result<u64, AllocError> {
        if n == 0 || self.end - self.next < n {
            return Err(AllocError::SlotsExhausted { wanted: n });
        }
        let first = self.next;
        self.next += n;
        Ok(first)
    }
    /// Slots left.
    pub fn remaining(&self) -> u64 {
        self.end - self.next
    }
}

/// One RAM untyped the allocator knows.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    slot: u64,
    paddr: u64,
    size_bits: u8,
    used: u64,
}

/// Where a retype goes: the untyped to invoke and the address of the first object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The untyped cap's slot.
    pub untyped: u64,
    /// Physical address of the first object.
    pub paddr: u64,
    /// log2 of the untyped's size.
    pub untyped_size_bits: u8,
}

/// Chooses an untyped for each retype and tracks each one's watermark, exactly as the
/// kernel places objects (valid while this allocator is the only one retyping them).
#[derive(Clone, Debug)]
pub struct UntypedAlloc {
    entries: [Entry; MAX_BOOTINFO_UNTYPED_CAPS],
    n: usize,
}

/// `x` rounded up to a multiple of 2^`bits` (None on overflow).
fn align_up(x: u64, bits: u32) -> Option<u64> {
    let mask = 1u64.checked_shl(bits)?.wrapping_sub(1);
    Some(x.checked_add(mask)? & !mask)
}

impl UntypedAlloc {
    /// Allocator over the RAM (non-device) untypeds of `bi`.
    pub fn new(bi: &BootInfo) -> Self {
        let mut a = UntypedAlloc {
            entries: [Entry::default(); MAX_BOOTINFO_UNTYPED_CAPS],
            n: 0,
        };
        for (slot, d) in untypeds(bi).filter(|(_, d)| d.is_device == 0) {
            a.entries[a.n] = Entry {
                slot,
                paddr: d.paddr,
                size_bits: d.size_bits,
                used: 0,
            };
            a.n += 1;
        }
        a
    }

    /// Reserves `count` objects of 2^`obj_bits` bytes in the smallest RAM untyped that has
    /// room (ties: boot-info order), so large untypeds stay whole.
    pub fn alloc(&mut self, obj_bits: u32, count: u64) -> Result<Placement, AllocError> {
        let err = AllocError::NoUntypedFits { obj_bits, count };
        let need = 1u64
            .checked_shl(obj_bits)
            .and_then(|s| s.checked_mul(count))
            .ok_or(err)?;
        let mut best: Option<(usize, u64)> = None;
        for (i, e) in self.entries[..self.n].iter().enumerate() {
            let Some(start) = align_up(e.used, obj_bits) else {
                continue;
            };
            let Some(end) = start.checked_add(need) else {
                continue;
            };
            if count == 0 || end > region_bytes(e.size_bits) {
                continue;
            }
            if best.is_none_or(|(b, _)| e.size_bits < self.entries[b].size_bits) {
                best = Some((i, start));
            }
        }
        let (i, start) = best.ok_or(err)?;
        let e = &mut self.entries[i];
        e.used = start + need;
        Ok(Placement {
            untyped: e.slot,
            paddr: e.paddr + start,
            untyped_size_bits: e.size_bits,
        })
    }

    /// Bytes used so far in the untyped at `slot` (None if it is not a RAM untyped here).
    pub fn used(&self, slot: u64) -> Option<u64> {
        self.entries[..self.n]
            .iter()
            .find(|e| e.slot == slot)
            .map(|e| e.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sel4_abi::UntypedDesc;

    fn bi(list: &[(u64, u8, u8)]) -> BootInfo {
        let mut bi = BootInfo {
            untyped: SlotRegion {
                start: 0x40,
                end: 0x40 + list.len() as u64,
            },
            ..BootInfo::default()
        };
        for (i, &(paddr, size_bits, dev)) in list.iter().enumerate() {
            bi.untyped_list[i] = UntypedDesc {
                paddr,
                size_bits,
                is_device: dev,
                padding: [0; 6],
            };
        }
        bi
    }

    #[test]
    fn slots_in_order_until_exhausted() {
        let mut s = SlotAlloc::new(SlotRegion { start: 10, end: 14 });
        assert_eq!(s.alloc(), Ok(10));
        assert_eq!(s.alloc_range(2), Ok(11));
        assert_eq!(s.remaining(), 1);
        assert_eq!(
            s.alloc_range(2),
            Err(AllocError::SlotsExhausted { wanted: 2 })
        );
        assert_eq!(s.alloc(), Ok(13));
        assert_eq!(s.alloc(), Err(AllocError::SlotsExhausted { wanted: 1 }));
        assert_eq!(
            s.alloc_range(0),
            Err(AllocError::SlotsExhausted { wanted: 0 })
        );
        let mut inverted = SlotAlloc::new(SlotRegion { start: 5, end: 3 });
        assert!(inverted.alloc().is_err());
    }

    #[test]
    fn places_like_the_kernel_watermark() {
        // One 64 KiB RAM untyped: TCB (2 KiB) at 0, two endpoints (16 B) at 2 KiB, a
        // notification (64 B) aligned to 64, then 4 KiB frames aligned to 4 KiB.
        let mut a = UntypedAlloc::new(&bi(&[(0x8000_0000, 16, 0)]));
        assert_eq!(a.alloc(11, 1).unwrap().paddr, 0x8000_0000);
        assert_eq!(a.alloc(4, 2).unwrap().paddr, 0x8000_0800);
        assert_eq!(a.alloc(6, 1).unwrap().paddr, 0x8000_0840);
        assert_eq!(a.used(0x40), Some(0x880));
        let p = a.alloc(12, 5).unwrap();
        assert_eq!(p.paddr, 0x8000_1000);
        assert_eq!(a.used(0x40), Some(0x6000));
        // 10 pages are left: 11 do not fit, 10 do.
        assert!(a.alloc(12, 11).is_err());
        assert_eq!(a.alloc(12, 10).unwrap().paddr, 0x8000_6000);
        assert_eq!(
            a.alloc(4, 1),
            Err(AllocError::NoUntypedFits {
                obj_bits: 4,
                count: 1
            })
        );
    }

    #[test]
    fn prefers_the_smallest_fitting_ram_untyped() {
        let mut a = UntypedAlloc::new(&bi(&[
            (0x1000_0000, 24, 0),
            (0x0900_0000, 12, 1),
            (0x2000_0000, 12, 0),
            (0x3000_0000, 14, 0),
        ]));
        // A device untyped is never used; the 4 KiB RAM one is the smallest that fits.
        let p = a.alloc(11, 2).unwrap();
        assert_eq!((p.untyped, p.paddr), (0x42, 0x2000_0000));
        // Now full: the next page goes to the 16 KiB one.
        let p = a.alloc(12, 1).unwrap();
        assert_eq!((p.untyped, p.paddr), (0x43, 0x3000_0000));
        // Too big for all but the 16 MiB one.
        let p = a.alloc(20, 2).unwrap();
        assert_eq!((p.untyped, p.paddr), (0x40, 0x1000_0000));
        assert_eq!(a.used(0x41), None);
    }

    #[test]
    fn rejects_overflowing_requests() {
        let mut a = UntypedAlloc::new(&bi(&[(0, 47, 0)]));
        assert!(a.alloc(64, 1).is_err());
        assert!(a.alloc(40, u64::MAX).is_err());
        assert!(a.alloc(12, 0).is_err());
        assert_eq!(a.alloc(46, 2).unwrap().paddr, 0);
    }
}
