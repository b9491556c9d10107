//! Finding the boot payload (the initial task's ELF) placed after the kernel by the image tool.
//!
//! The image tool (`tools/mkimage`) appends a payload table (see `boot_image::payload`) as a
//! loadable segment and patches [`KERNEL_PAYLOAD`] with its physical address and length.

use arch_riscv64::machine::Riscv64Machine;
use boot_image::payload::{Payload, PayloadError};
use kernel_hal::PhysMem;

/// `[paddr, len]` of the boot payload, patched into the ELF by the image tool (zero if none).
#[no_mangle]
#[used]
#[link_section = ".data.kernel_payload"]
pub static KERNEL_PAYLOAD: [u64; 2] = [0, 0];

/// Why there is no usable payload.
#[derive(Clone, Copy, Debug)]
pub enum FindError {
    /// The image was built without a payload (descriptor still zero).
    Missing,
    /// The descriptor points outside RAM.
    OutsideRam(u64, u64),
    /// The payload table is malformed.
    Bad(PayloadError),
}

impl core::fmt::Display for FindError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FindError::Missing => {
                f.write_str("the image has no boot payload (KERNEL_PAYLOAD not patched)")
            }
            FindError::OutsideRam(pa, len) => {
                write!(f, "payload at {pa:#x} (+{len:#x}) is outside RAM")
            }
            FindError::Bad(e) => write!(f, "malformed payload table: {e:?}"),
        }
    }
}

/// The payload's physical range `[start, end)` as patched in, or `None`.
pub fn range() -> Option<(u64, u64)> {
    // SAFETY: reading our own static; volatile because the image tool patches its value after
    // compilation, so the compiler must not fold the initial zeros.
    let [pa, len] = unsafe { core::ptr::read_volatile(&KERNEL_PAYLOAD) };
    if len == 0 {
        None
    } else {
        Some((pa, pa.saturating_add(len)))
    }
}

/// The payload table, read in place through the kernel window.
pub fn find(m: &Riscv64Machine) -> Result<Payload<'static>, FindError> {
    let (pa, end) = range().ok_or(FindError::Missing)?;
    let len = (end - pa) as usize;
    let p = m
        .window(pa, len)
        .ok_or(FindError::OutsideRam(pa, len as u64))?;
    // SAFETY: the range lies in RAM inside the window; the frame allocator starts above it,
    // so nothing writes these bytes for the kernel's lifetime.
    let bytes = unsafe { core::slice::from_raw_parts(p as *const u8, len) };
    Payload::parse(bytes).map_err(FindError::Bad)
}
