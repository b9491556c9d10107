//! Boot-time physical frames: a frame-allocator trait and zeroing/copying through
//! [`PhysMem`] (the kernel window), used to load the root task. Page tables are built by the
//! kernel core (`kernel_core::vspace` over [`crate::Aarch64PageTable`]). The code runs
//! unchanged against a fake physical memory in host tests.

use kernel_hal::{PAddr, PhysMem};

/// Size of a small page / page-table frame.
pub const PAGE_SIZE: u64 = 4096;

/// A source of free 4 KiB physical frames.
pub trait FrameAllocator {
    /// A free, 4 KiB-aligned frame (contents unspecified), or `None` when memory is exhausted.
    fn alloc_frame(&mut self) -> Option<PAddr>;
}

/// Why a frame could not be provided or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The frame allocator ran dry.
    OutOfMemory,
    /// A physical address is outside the kernel window.
    NotInWindow,
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

    #[test]
    fn frames_are_zeroed_and_bounded() {
        let mem = FakeMem::new(0x4000_0000, 2);
        let mut a = Bump {
            next: 0x4000_0000,
            end: 0x4000_2000,
        };
        let f = alloc_zeroed(&mem, &mut a).unwrap();
        assert_eq!(mem.read(f, 4096), vec![0u8; 4096]);
        write_phys(&mem, f + 8, b"abc").unwrap();
        assert_eq!(mem.read(f + 8, 3), b"abc");
        alloc_zeroed(&mem, &mut a).unwrap();
        assert_eq!(alloc_zeroed(&mem, &mut a), Err(MapError::OutOfMemory));
        assert_eq!(write_phys(&mem, 0x1000, b"x"), Err(MapError::NotInWindow));
    }
}
