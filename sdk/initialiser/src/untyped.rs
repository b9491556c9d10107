//! Untyped allocator mirroring the kernel's placement rule (`sel4-abi.md` §8: the next object
//! goes at `alignUp(watermark, objSize)`), so fixed-address frames can be placed exactly by
//! first retyping padding untypeds.

use alloc::vec::Vec;

/// One untyped cap of the root task and how much of it is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Untyped {
    /// Root CNode slot of the cap.
    pub slot: u64,
    /// Physical base.
    pub paddr: u64,
    /// log2 size.
    pub size_bits: u8,
    /// Device memory.
    pub is_device: bool,
    /// Bytes from the base up to the watermark.
    pub used: u64,
}

/// Where to retype an object: in untyped `index`, after retyping `pads` (log2 sizes of
/// `Untyped` objects to create first, in order) to move the watermark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Index into the allocator's list.
    pub index: usize,
    /// Root CNode slot of that untyped.
    pub slot: u64,
    /// Padding untypeds to create first (log2 sizes).
    pub pads: Vec<u8>,
    /// Physical address the object will have.
    pub paddr: u64,
}

/// Why an allocation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocError {
    /// No untyped has room for an object of this size.
    OutOfMemory(u8),
    /// No untyped covers this physical address (or it is already used).
    NoUntypedAt(u64),
}

impl core::fmt::Display for AllocError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AllocError::OutOfMemory(bits) => write!(f, "no untyped has room for 2^{bits} bytes"),
            AllocError::NoUntypedAt(p) => write!(f, "no free untyped covers physical address {p:#x}"),
        }
    }
}

/// The allocator over the boot-info untyped list.
#[derive(Clone, Debug, Default)]
pub struct Allocator {
    /// The untypeds.
    pub untypeds: Vec<Untyped>,
}

const fn align_up(v: u64, bits: u8) -> Option<u64> {
    let m = (1u64 << bits) - 1;
    match v.checked_add(m) {
        Some(x) => Some(x & !m),
        None => None,
    }
}

impl Allocator {
    /// Adds an untyped cap.
    pub fn add(&mut self, slot: u64, paddr: u64, size_bits: u8, is_device: bool) {
        self.untypeds.push(Untyped { slot, paddr, size_bits, is_device, used: 0 });
    }

    /// Total free bytes of RAM untypeds.
    pub fn free_ram(&self) -> u64 {
        self.untypeds.iter().filter(|u| !u.is_device).map(|u| (1u64 << u.size_bits).saturating_sub(u.used)).sum()
    }

    /// Allocates a RAM object of 2^`size_bits` bytes: best fit (the smallest untyped that has room).
    pub fn alloc(&mut self, size_bits: u8) -> Result<Placement, AllocError> {
        if size_bits >= 64 {
            return Err(AllocError::OutOfMemory(size_bits));
        }
        let mut best: Option<(usize, u64)> = None;
        for (i, u) in self.untypeds.iter().enumerate() {
            if u.is_device || u.size_bits < size_bits || u.size_bits >= 64 {
                continue;
            }
            let Some(at) = align_up(u.used, size_bits) else { continue };
            let fits = at.checked_add(1 << size_bits).is_some_and(|end| end <= 1u64 << u.size_bits);
            if fits && best.is_none_or(|(b, _)| self.untypeds[b].size_bits > u.size_bits) {
                best = Some((i, at));
            }
        }
        let (i, at) = best.ok_or(AllocError::OutOfMemory(size_bits))?;
        let u = &mut self.untypeds[i];
        u.used = at + (1 << size_bits);
        Ok(Placement { index: i, slot: u.slot, pads: Vec::new(), paddr: u.paddr + at })
    }

    /// Allocates `count` RAM objects of 2^`size_bits` bytes back to back (physically
    /// contiguous, in order) in one untyped, best fit; the placement is the first one's. The
    /// caller retypes them one after the other from that untyped.
    pub fn alloc_run(&mut self, size_bits: u8, count: u64) -> Result<Placement, AllocError> {
        let total = (count.max(1)).checked_shl(size_bits as u32).filter(|t| size_bits < 64 && t >> size_bits == count.max(1));
        let Some(total) = total else { return Err(AllocError::OutOfMemory(size_bits)) };
        let mut best: Option<(usize, u64)> = None;
        for (i, u) in self.untypeds.iter().enumerate() {
            if u.is_device || u.size_bits < size_bits || u.size_bits >= 64 {
                continue;
            }
            let Some(at) = align_up(u.used, size_bits) else { continue };
            let fits = at.checked_add(total).is_some_and(|end| end <= 1u64 << u.size_bits);
            if fits && best.is_none_or(|(b, _)| self.untypeds[b].size_bits > u.size_bits) {
                best = Some((i, at));
            }
        }
        let (i, at) = best.ok_or(AllocError::OutOfMemory(size_bits))?;
        let u = &mut self.untypeds[i];
        u.used = at + total;
        Ok(Placement { index: i, slot: u.slot, pads: Vec::new(), paddr: u.paddr + at })
    }

    /// Allocates a frame of 2^`size_bits` bytes at exactly `paddr` (device or RAM untyped).
    pub fn alloc_at(&mut self, paddr: u64, size_bits: u8) -> Result<Placement, AllocError> {
        if size_bits >= 64 || paddr & ((1u64 << size_bits) - 1) != 0 {
            return Err(AllocError::NoUntypedAt(paddr));
        }
        let i = self
            .untypeds
            .iter()
            .position(|u| {
                u.size_bits < 64
                    && paddr >= u.paddr
                    && (paddr - u.paddr).checked_add(1 << size_bits).is_some_and(|end| end <= 1u64 << u.size_bits)
                    && paddr - u.paddr >= u.used
            })
            .ok_or(AllocError::NoUntypedAt(paddr))?;
        let u = &mut self.untypeds[i];
        let offset = paddr - u.paddr;
        let mut pads = Vec::new();
        let mut used = u.used;
        while used < offset {
            // Largest block aligned at `used` that does not pass `offset` (≥ 16 bytes).
            let align = if used == 0 { 63 } else { used.trailing_zeros() as u8 };
            let room = 63 - (offset - used).leading_zeros() as u8;
            let k = align.min(room).max(4);
            pads.push(k);
            used += 1 << k;
        }
        u.used = offset + (1 << size_bits);
        Ok(Placement { index: i, slot: u.slot, pads, paddr })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_fit_and_alignment() {
        let mut a = Allocator::default();
        a.add(10, 0x4000_0000, 20, false);
        a.add(11, 0x5000_0000, 14, false);
        a.add(12, 0x900_0000, 12, true);
        // 4 KiB goes to the smallest RAM untyped that fits.
        let p = a.alloc(12).unwrap();
        assert_eq!((p.slot, p.paddr), (11, 0x5000_0000));
        // A 16-byte endpoint then goes there too, after the frame.
        let e = a.alloc(4).unwrap();
        assert_eq!((e.slot, e.paddr), (11, 0x5000_1000));
        // A 4 KiB frame next: aligned up past the endpoint.
        let f = a.alloc(12).unwrap();
        assert_eq!(f.paddr, 0x5000_2000);
        // 64 KiB does not fit in the 16 KiB untyped any more.
        let big = a.alloc(16).unwrap();
        assert_eq!(big.slot, 10);
        assert_eq!(a.alloc(30), Err(AllocError::OutOfMemory(30)));
        assert_eq!(a.alloc(200), Err(AllocError::OutOfMemory(200)));
    }

    #[test]
    fn fixed_address_with_padding() {
        let mut a = Allocator::default();
        a.add(20, 0x900_0000, 24, true);
        let p = a.alloc_at(0x901_0000, 12).unwrap();
        assert_eq!(p.slot, 20);
        // Pads must cover exactly 0x10000 bytes, each aligned at its own start.
        let mut at = 0u64;
        for k in &p.pads {
            assert_eq!(at % (1 << k), 0);
            at += 1 << k;
        }
        assert_eq!(at, 0x1_0000);
        assert_eq!(a.untypeds[0].used, 0x1_1000);
        // The same address again is taken; a later one works; an earlier one does not.
        assert_eq!(a.alloc_at(0x901_0000, 12), Err(AllocError::NoUntypedAt(0x901_0000)));
        let q = a.alloc_at(0x901_3000, 12).unwrap();
        assert_eq!(q.pads.iter().map(|k| 1u64 << k).sum::<u64>(), 0x2000);
        assert!(a.alloc_at(0x800_0000, 12).is_err());
        assert!(a.alloc_at(0x901_4001, 12).is_err());
        // Device memory is never handed out for ordinary objects.
        assert_eq!(a.alloc(12), Err(AllocError::OutOfMemory(12)));
    }

    #[test]
    fn runs_are_contiguous_and_best_fit() {
        let mut a = Allocator::default();
        a.add(1, 0x4000_0000, 16, false);
        a.add(2, 0x5000_0000, 22, false);
        a.add(3, 0x900_0000, 24, true);
        a.alloc(4).unwrap();
        // 8 pages fit in the 64 KiB untyped after the 16-byte object, aligned to a page.
        let r = a.alloc_run(12, 8).unwrap();
        assert_eq!((r.slot, r.paddr), (1, 0x4000_1000));
        assert_eq!(a.untypeds[0].used, 0x9000);
        // 8 more do not fit there any more (7 pages left): the larger RAM untyped, never device.
        let r = a.alloc_run(12, 8).unwrap();
        assert_eq!((r.slot, r.paddr), (2, 0x5000_0000));
        assert_eq!(a.untypeds[1].used, 0x8000);
        // A run of 2 MiB pages is aligned to 2 MiB.
        let r = a.alloc_run(21, 1).unwrap();
        assert_eq!(r.paddr, 0x5020_0000);
        assert_eq!(a.alloc_run(21, 4), Err(AllocError::OutOfMemory(21)));
        assert_eq!(a.alloc_run(12, u64::MAX), Err(AllocError::OutOfMemory(12)));
        assert_eq!(a.alloc_run(64, 1), Err(AllocError::OutOfMemory(64)));
    }

    #[test]
    fn pads_from_unaligned_watermark() {
        let mut a = Allocator::default();
        a.add(1, 0x1000_0000, 20, false);
        a.alloc(4).unwrap();
        let p = a.alloc_at(0x1000_4000, 12).unwrap();
        let mut at = 16u64;
        for k in &p.pads {
            assert_eq!(at % (1 << k), 0, "pad {k} misaligned at {at:#x}");
            at += 1 << k;
        }
        assert_eq!(at, 0x4000);
    }
}
