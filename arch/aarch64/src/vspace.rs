//! Building user address spaces through [`PageTableFormat`] and [`PhysMem`].
//!
//! Page tables live in physical frames and are edited through the kernel window, so this
//! code is generic over the arch's entry format and runs unchanged against a fake physical
//! memory in host tests.

use kernel_hal::{MapAttrs, MapRights, PAddr, PageTableFormat, PhysMem, VAddr};

/// Size of a small page / page-table frame.
pub const PAGE_SIZE: u64 = 4096;

/// A source of free 4 KiB physical frames.
pub trait FrameAllocator {
    /// A free, 4 KiB-aligned frame (contents unspecified), or `None` when memory is exhausted.
    fn alloc_frame(&mut self) -> Option<PAddr>;
}

/// Why a mapping could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The frame allocator ran dry.
    OutOfMemory,
    /// A physical address is outside the kernel window.
    NotInWindow,
    /// The virtual page is already mapped (or covered by a larger leaf).
    AlreadyMapped,
    /// An address is not page-aligned.
    Misaligned,
    /// The virtual address is at or above the user top.
    NotUserAddress,
}

/// Read entry `index` of the table at `table`.
pub fn read_entry<M: PhysMem>(mem: &M, table: PAddr, index: usize) -> Result<u64, MapError> {
    let p = mem
        .window(table + 8 * index as u64, 8)
        .ok_or(MapError::NotInWindow)?;
    // SAFETY: `window` returned a kernel-virtual pointer valid for 8 bytes; `table` is
    // page-aligned, so the entry is 8-byte aligned. Volatile: the MMU reads these tables.
    Ok(unsafe { core::ptr::read_volatile(p as *const u64) })
}

/// Write entry `index` of the table at `table`.
pub fn write_entry<M: PhysMem>(
    mem: &M,
    table: PAddr,
    index: usize,
    v: u64,
) -> Result<(), MapError> {
    let p = mem
        .window(table + 8 * index as u64, 8)
        .ok_or(MapError::NotInWindow)?;
    // SAFETY: as in `read_entry`; the table frame belongs to the address space being built
    // and nothing else holds a Rust reference into it.
    unsafe { core::ptr::write_volatile(p as *mut u64, v) };
    Ok(())
}

/// Fill the 4 KiB frame at `frame` with zeros.
pub fn zero_frame<M: PhysMem>(mem: &M, frame: PAddr) -> Result<(), MapError> {
    let p = mem
        .window(frame, PAGE_SIZE as usize)
        .ok_or(MapError::NotInWindow)?;
    // SAFETY: `window` returned a pointer valid for the whole frame, which the caller owns.
    unsafe { core::ptr::write_bytes(p, 0, PAGE_SIZE as usize) };
    Ok(())
}

/// Copy `data` into physical memory at `paddr`.
pub fn write_phys<M: PhysMem>(mem: &M, paddr: PAddr, data: &[u8]) -> Result<(), MapError> {
    let p = mem.window(paddr, data.len()).ok_or(MapError::NotInWindow)?;
    // SAFETY: `window` returned a pointer valid for `data.len()` bytes of a frame the caller
    // owns; a kernel frame never overlaps the (boot payload) source slice.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
    Ok(())
}

/// Allocate and zero a frame.
pub fn alloc_zeroed<M: PhysMem, A: FrameAllocator>(
    mem: &M,
    alloc: &mut A,
) -> Result<PAddr, MapError> {
    let f = alloc.alloc_frame().ok_or(MapError::OutOfMemory)?;
    zero_frame(mem, f)?;
    Ok(f)
}

/// A new, empty root table.
pub fn new_root<M: PhysMem, A: FrameAllocator>(mem: &M, alloc: &mut A) -> Result<PAddr, MapError> {
    alloc_zeroed(mem, alloc)
}

/// Map the 4 KiB `frame` at user address `vaddr` in the address space rooted at `root`,
/// allocating intermediate tables as needed.
pub fn map_page<F: PageTableFormat, M: PhysMem, A: FrameAllocator>(
    mem: &M,
    alloc: &mut A,
    root: PAddr,
    vaddr: VAddr,
    frame: PAddr,
    rights: MapRights,
    attrs: MapAttrs,
) -> Result<(), MapError> {
    if !vaddr.is_multiple_of(PAGE_SIZE) || !frame.is_multiple_of(PAGE_SIZE) {
        return Err(MapError::Misaligned);
    }
    if vaddr >= F::USER_TOP {
        return Err(MapError::NotUserAddress);
    }
    let leaf_level = F::LEVELS - 1;
    let mut table = root;
    for level in 0..leaf_level {
        let i = F::index(vaddr, level);
        let e = read_entry(mem, table, i)?;
        table = if !F::is_valid(e) {
            let t = alloc_zeroed(mem, alloc)?;
            write_entry(mem, table, i, F::table_entry(t, level))?;
            t
        } else if F::is_table(e, level) {
            F::entry_paddr(e)
        } else {
            return Err(MapError::AlreadyMapped);
        };
    }
    let i = F::index(vaddr, leaf_level);
    if F::is_valid(read_entry(mem, table, i)?) {
        return Err(MapError::AlreadyMapped);
    }
    write_entry(
        mem,
        table,
        i,
        F::leaf_entry(frame, leaf_level, rights, attrs),
    )
}

/// The physical address `vaddr` translates to in the address space rooted at `root`.
pub fn translate<F: PageTableFormat, M: PhysMem>(
    mem: &M,
    root: PAddr,
    vaddr: VAddr,
) -> Option<PAddr> {
    let mut table = root;
    for level in 0..F::LEVELS {
        let e = read_entry(mem, table, F::index(vaddr, level)).ok()?;
        if !F::is_valid(e) {
            return None;
        }
        if F::is_table(e, level) {
            table = F::entry_paddr(e);
            continue;
        }
        let bits = F::leaf_size_bits(level)?;
        return Some(F::entry_paddr(e) + (vaddr & ((1u64 << bits) - 1)));
    }
    None
}

#[cfg(test)]
pub(crate) mod fake {
    //! A fake physical memory for host tests: `pages` frames starting at `base`.
    use super::*;
    use core::cell::UnsafeCell;

    /// Fake RAM backed by a heap buffer.
    pub struct FakeMem {
        pub base: PAddr,
        buf: UnsafeCell<Vec<u8>>,
    }

    impl FakeMem {
        pub fn new(base: PAddr, pages: usize) -> Self {
            FakeMem {
                base,
                buf: UnsafeCell::new(vec![0xAAu8; pages * 4096]),
            }
        }
        pub fn len(&self) -> u64 {
            // SAFETY: test-only; no outstanding mutable borrow while reading the length.
            unsafe { (*self.buf.get()).len() as u64 }
        }
        pub fn read(&self, pa: PAddr, len: usize) -> Vec<u8> {
            let p = self.window(pa, len).unwrap();
            // SAFETY: `window` bounds-checked the range.
            unsafe { core::slice::from_raw_parts(p, len).to_vec() }
        }
    }

    impl PhysMem for FakeMem {
        fn window(&self, paddr: PAddr, len: usize) -> Option<*mut u8> {
            let off = paddr.checked_sub(self.base)?;
            if off.checked_add(len as u64)? > self.len() {
                return None;
            }
            // SAFETY: the offset is inside the buffer (checked above).
            Some(unsafe { (*self.buf.get()).as_mut_ptr().add(off as usize) })
        }
    }

    /// Bump allocator over a FakeMem.
    pub struct Bump {
        pub next: PAddr,
        pub end: PAddr,
    }

    impl FrameAllocator for Bump {
        fn alloc_frame(&mut self) -> Option<PAddr> {
            if self.next >= self.end {
                return None;
            }
            let f = self.next;
            self.next += 4096;
            Some(f)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::*;
    use super::*;
    use crate::pte::Aarch64PageTable as F;

    const RW: MapRights = MapRights {
        read: true,
        write: true,
        execute: false,
    };
    const WB: MapAttrs = MapAttrs { cacheable: true };

    #[test]
    fn map_and_translate() {
        let mem = FakeMem::new(0x4000_0000, 16);
        let mut a = Bump {
            next: 0x4000_0000,
            end: 0x4001_0000,
        };
        let root = new_root(&mem, &mut a).unwrap();
        map_page::<F, _, _>(&mem, &mut a, root, 0x40_0000, 0x4000_F000, RW, WB).unwrap();
        assert_eq!(a.next, 0x4000_4000, "root + 3 intermediate tables");
        map_page::<F, _, _>(&mem, &mut a, root, 0x40_1000, 0x4000_E000, RW, WB).unwrap();
        assert_eq!(a.next, 0x4000_4000, "tables are shared");
        assert_eq!(translate::<F, _>(&mem, root, 0x40_0123), Some(0x4000_F123));
        assert_eq!(translate::<F, _>(&mem, root, 0x40_1FFF), Some(0x4000_EFFF));
        assert_eq!(translate::<F, _>(&mem, root, 0x40_2000), None);
        assert_eq!(
            map_page::<F, _, _>(&mem, &mut a, root, 0x40_0000, 0x4000_D000, RW, WB),
            Err(MapError::AlreadyMapped)
        );
        assert_eq!(
            map_page::<F, _, _>(&mem, &mut a, root, 0x40_0800, 0x4000_D000, RW, WB),
            Err(MapError::Misaligned)
        );
        assert_eq!(
            map_page::<F, _, _>(&mem, &mut a, root, 0x8000_0000_0000, 0x4000_D000, RW, WB),
            Err(MapError::NotUserAddress)
        );
    }

    #[test]
    fn out_of_memory_is_an_error() {
        let mem = FakeMem::new(0x4000_0000, 2);
        let mut a = Bump {
            next: 0x4000_0000,
            end: 0x4000_2000,
        };
        let root = new_root(&mem, &mut a).unwrap();
        assert_eq!(
            map_page::<F, _, _>(&mem, &mut a, root, 0x40_0000, 0x4000_1000, RW, WB),
            Err(MapError::OutOfMemory)
        );
    }
}
