//! Kernel address-space management: the boot root table, user roots, ASIDs, `satp`.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::csr;
use crate::layout::{phys_to_virt, virt_to_phys, KERNEL_ROOT_FIRST_SLOT};
use crate::sv39::satp;

extern "C" {
    static __boot_root_pt: [u64; 512];
}

/// Number of ASID bits the hart implements (found by [`detect_asid_bits`]).
static ASID_BITS: AtomicU32 = AtomicU32::new(0);

/// Physical address of the kernel's boot root table (the template for user roots).
pub fn kernel_root() -> u64 {
    virt_to_phys(core::ptr::addr_of!(__boot_root_pt) as u64)
}

fn kernel_root_ptr() -> *mut u64 {
    phys_to_virt(kernel_root()) as *mut u64
}

/// Remove the boot identity mapping (slot 2) once the kernel runs in the window.
pub fn drop_identity_map() {
    // SAFETY: the boot root table is a 512-entry table owned by this module; the kernel no
    // longer executes from or refers to identity-mapped addresses.
    unsafe { core::ptr::write_volatile(kernel_root_ptr().add(2), 0) };
    csr::sfence_all();
}

/// Find how many ASID bits `satp` implements (writes ones into the ASID field of the
/// current `satp` and reads them back).
pub fn detect_asid_bits() -> u32 {
    let old = csr::read_satp();
    // SAFETY: same mode and root table, only the ASID field changes; the kernel's mappings are
    // global so they stay valid under any ASID. The old value is restored right away.
    let probed = unsafe {
        csr::write_satp(old | (0xffff << 44));
        let v = csr::read_satp();
        csr::write_satp(old);
        v
    };
    csr::sfence_all();
    let bits = ((probed >> 44) & 0xffff).count_ones();
    ASID_BITS.store(bits, Ordering::Relaxed);
    bits
}

/// The ASID bits found at boot.
pub fn asid_bits() -> u32 {
    ASID_BITS.load(Ordering::Relaxed)
}

/// Copy the kernel window entries (root slots 256..512) into the new user root table at
/// physical `root`, so the kernel stays mapped while that address space is live.
pub fn copy_kernel_mappings(root: u64) {
    let dst = phys_to_virt(root) as *mut u64;
    for i in KERNEL_ROOT_FIRST_SLOT..512 {
        // SAFETY: `root` is a 4 KiB page-table page in RAM reached through the window (the
        // caller's contract via `Machine::init_vspace_root`); `i` < 512.
        unsafe { core::ptr::write_volatile(dst.add(i), core::ptr::read_volatile(kernel_root_ptr().add(i))) };
    }
}

/// Make the root table at `root` with `asid` the current address space.
pub fn set_vspace(root: u64, asid: u16) {
    let bits = asid_bits();
    let asid = if bits == 0 { 0 } else { asid & ((1u32 << bits) - 1) as u16 };
    // SAFETY: `root` is a valid Sv39 root whose upper half holds the kernel window (copied by
    // `copy_kernel_mappings`), so the kernel keeps running after the switch.
    unsafe { csr::write_satp(satp(root, asid)) };
    if bits == 0 {
        csr::sfence_all();
    }
}
