//! Finding the device tree QEMU (or a boot loader) left in RAM.

use crate::layout::{phys_to_virt, KERNEL_WINDOW_SIZE};
use boot_image::fdt::{total_size, HEADER_SIZE};

/// Largest DTB accepted (QEMU's `virt` DTB is 1 MiB).
pub const MAX_DTB_SIZE: usize = 2 << 20;

/// The DTB at physical `paddr`, if one is there: the magic matches and its `totalsize` is
/// at most [`MAX_DTB_SIZE`]. `paddr` must be RAM that exists (e.g. the start of RAM).
pub fn dtb_at(paddr: u64) -> Option<&'static [u8]> {
    if paddr.checked_add(MAX_DTB_SIZE as u64)? > KERNEL_WINDOW_SIZE || !paddr.is_multiple_of(8) {
        return None;
    }
    let base = phys_to_virt(paddr) as *const u8;
    // SAFETY: `paddr` is existing RAM inside the kernel window (caller's contract and the
    // check above); the header is plain bytes nobody writes.
    let header = unsafe { core::slice::from_raw_parts(base, HEADER_SIZE) };
    let size = total_size(header)?;
    if !(HEADER_SIZE..=MAX_DTB_SIZE).contains(&size) {
        return None;
    }
    // SAFETY: as above; QEMU loaded `size` bytes of DTB there, which the kernel never
    // writes (the frame allocator starts above the kernel image).
    Some(unsafe { core::slice::from_raw_parts(base, size) })
}
