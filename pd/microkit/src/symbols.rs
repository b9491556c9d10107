//! Variables the `microkit` tool patches into the PD's ELF (`microkit_name`, `microkit_passive`,
//! `microkit_irqs`, `microkit_notifications`, `microkit_pps`, `microkit_ioports`; names and
//! types from libmicrokit's `main.c` and `microkit.h`, the set the tool writes from
//! `tool/microkit/src` in seL4/microkit). They live in `.data` so the ELF file holds bytes the
//! tool can overwrite, and are read with volatile loads so their link-time zeroes are never
//! constant-folded.

use microkit_layout::PD_NAME_LENGTH;

/// `char microkit_name[64]`.
#[no_mangle]
#[used]
#[link_section = ".data"]
static mut microkit_name: [u8; PD_NAME_LENGTH] = [0; PD_NAME_LENGTH];

/// `bool microkit_passive` (a byte: 0 or 1).
#[no_mangle]
#[used]
#[link_section = ".data"]
static mut microkit_passive: u8 = 0;

/// `seL4_Word microkit_irqs`.
#[no_mangle]
#[used]
#[link_section = ".data"]
static mut microkit_irqs: u64 = 0;

/// `seL4_Word microkit_notifications`.
#[no_mangle]
#[used]
#[link_section = ".data"]
static mut microkit_notifications: u64 = 0;

/// `seL4_Word microkit_pps`.
#[no_mangle]
#[used]
#[link_section = ".data"]
static mut microkit_pps: u64 = 0;

/// `seL4_Word microkit_ioports`.
#[no_mangle]
#[used]
#[link_section = ".data"]
static mut microkit_ioports: u64 = 0;

/// Reads a patched word.
fn word(p: *const u64) -> u64 {
    // SAFETY: `p` points to one of the statics above, which are only written by the tool before
    // the image is loaded, never at run time.
    unsafe { p.read_volatile() }
}

/// This PD's name as bytes (up to the first NUL).
pub fn pd_name_bytes() -> &'static [u8] {
    let p = core::ptr::addr_of!(microkit_name);
    // SAFETY: the array is never written at run time (see `word`), so a shared slice is sound;
    // one volatile read first stops the compiler from assuming its link-time contents.
    let all: &'static [u8; PD_NAME_LENGTH] = unsafe {
        let _ = (p as *const u8).read_volatile();
        &*p
    };
    let n = all.iter().position(|b| *b == 0).unwrap_or(PD_NAME_LENGTH);
    &all[..n]
}

/// This PD's name (`"?"` if the patched bytes are not UTF-8).
pub fn pd_name() -> &'static str {
    core::str::from_utf8(pd_name_bytes()).unwrap_or("?")
}

/// Whether this PD is passive.
pub fn pd_is_passive() -> bool {
    // SAFETY: as in `word`.
    unsafe { core::ptr::addr_of!(microkit_passive).read_volatile() != 0 }
}

/// Bit *i* set: channel *i* is an IRQ.
pub fn irqs() -> u64 {
    word(core::ptr::addr_of!(microkit_irqs))
}

/// Bit *i* set: channel *i* may be notified.
pub fn notifications() -> u64 {
    word(core::ptr::addr_of!(microkit_notifications))
}

/// Bit *i* set: channel *i* may be called (PPC).
pub fn pps() -> u64 {
    word(core::ptr::addr_of!(microkit_pps))
}

/// Bit *i* set: I/O port id *i* exists (x86).
pub fn ioports() -> u64 {
    word(core::ptr::addr_of!(microkit_ioports))
}

/// Declares a `#[no_mangle]` word in `.data` that the tool patches (SDF `setvar_vaddr` /
/// `setvar`, like rust-sel4's `memory_region_symbol!`) and evaluates to its value.
///
/// `setvar!(buffer_vaddr)` gives a `u64`; `setvar!(buffer_vaddr: *mut u8)` casts it to a
/// pointer. Each symbol name may be declared once per PD.
#[macro_export]
macro_rules! setvar {
    ($symbol:ident) => {{
        #[no_mangle]
        #[used]
        #[link_section = ".data"]
        static mut $symbol: u64 = 0;
        // SAFETY: the variable is only written by the `microkit` tool before load.
        unsafe { core::ptr::addr_of!($symbol).read_volatile() }
    }};
    ($symbol:ident : $ty:ty) => {
        ($crate::setvar!($symbol) as usize) as $ty
    };
}
