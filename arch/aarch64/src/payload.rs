//! The boot payload descriptor the image tool patches into the kernel, and the extent of
//! the kernel image in physical memory.

use crate::layout::virt_to_phys;
use kernel_hal::{PAddr, PhysMem};

/// `[payload paddr, payload length]`, patched in the kernel ELF by the image tool (see
/// `boot_image::payload`). Kept in `.data` so that it has file bytes to patch.
#[no_mangle]
#[used]
#[link_section = ".data.kernel_payload"]
pub static KERNEL_PAYLOAD: [u64; 2] = [0; 2];

extern "C" {
    /// End of the kernel image including `.bss` and the boot stack (from the linker script).
    static __kernel_end: u8;
}

/// The payload's physical address and length (length 0: none).
pub fn descriptor() -> (PAddr, u64) {
    // SAFETY: KERNEL_PAYLOAD is a valid, aligned static; the volatile read stops the
    // compiler from folding in the all-zero initialiser the tool overwrites in the file.
    let d = unsafe { core::ptr::read_volatile(&raw const KERNEL_PAYLOAD) };
    (d[0], d[1])
}

/// The payload bytes, if the image has a payload inside the window of `mem`.
pub fn bytes<M: PhysMem>(mem: &M) -> Option<&'static [u8]> {
    let (pa, len) = descriptor();
    if len == 0 {
        return None;
    }
    let len = usize::try_from(len).ok()?;
    let p = mem.window(pa, len)?;
    // SAFETY: the window maps the payload's physical range; the payload is never written
    // (the frame allocator starts after it), so a shared 'static slice is sound.
    Some(unsafe { core::slice::from_raw_parts(p as *const u8, len) })
}

/// Physical address of the end of the kernel image (page-aligned up).
pub fn kernel_end_paddr() -> PAddr {
    let end = virt_to_phys(&raw const __kernel_end as u64);
    end.div_ceil(4096) * 4096
}
