//! Kernel address-space management: the boot root table, user roots, ASIDs, `satp`.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::csr;
use crate::layout::{phys_to_virt, virt_to_phys, KERNEL_ROOT_FIRST_SLOT};
use crate::sv39::{satp, PTE_A, PTE_D, PTE_G, PTE_R, PTE_V, PTE_W, PTE_X};

extern "C" {
    static __boot_root_pt: [u64; 512];
    // Provided by the kernel's linker script: image start, start of read-only data, start of
    // writable data, image end (all page aligned, kernel-window addresses).
    static __kernel_start: u8;
    static __rodata_start: u8;
    static __data_start: u8;
    static __kernel_end: u8;
}

/// One page-table page.
#[repr(C, align(4096))]
struct Table([u64; 512]);

/// Level-1 table for the 1 GiB of the window that holds the kernel image.
static mut KERNEL_L1: Table = Table([0; 512]);
/// Level-2 table for the 2 MiB of the window that holds the kernel image.
static mut KERNEL_L2: Table = Table([0; 512]);

/// Flags of a kernel (supervisor-only, global) leaf: V, A, D, G plus `perms`.
const fn kernel_leaf(paddr: u64, perms: u64) -> u64 {
    ((paddr >> 12) << 10) | perms | PTE_V | PTE_G | PTE_A | PTE_D
}

/// Why [`protect_kernel_image`] could not split the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtectError {
    /// The kernel image crosses a 2 MiB boundary (only one level-2 table is provided).
    ImageTooLarge,
}

/// Replace the boot window's RWX 1 GiB pages by W^X mappings: kernel text read+execute,
/// read-only data read-only, data/BSS read+write, and the rest of the window read+write
/// without execute. Nothing in the window is user-accessible. Call once at init, before any
/// user root is created (user roots copy these entries).
pub fn protect_kernel_image() -> Result<(), ProtectError> {
    const MB2: u64 = 1 << 21;
    const GB: u64 = 1 << 30;
    let text = virt_to_phys(core::ptr::addr_of!(__kernel_start) as u64);
    let rodata = virt_to_phys(core::ptr::addr_of!(__rodata_start) as u64);
    let data = virt_to_phys(core::ptr::addr_of!(__data_start) as u64);
    let end = virt_to_phys(core::ptr::addr_of!(__kernel_end) as u64);
    let base2m = text & !(MB2 - 1);
    if (end - 1) & !(MB2 - 1) != base2m {
        return Err(ProtectError::ImageTooLarge);
    }
    let gib = text / GB;
    let l1 = core::ptr::addr_of_mut!(KERNEL_L1) as *mut u64;
    let l2 = core::ptr::addr_of_mut!(KERNEL_L2) as *mut u64;
    for i in 0..512u64 {
        let pa = base2m + i * 4096;
        let perms = if pa >= text && pa < rodata {
            PTE_R | PTE_X
        } else if pa >= rodata && pa < data {
            PTE_R
        } else {
            PTE_R | PTE_W
        };
        // SAFETY: KERNEL_L2 is a static page-table page not yet referenced by any live table.
        unsafe { l2.add(i as usize).write_volatile(kernel_leaf(pa, perms)) };
    }
    let l2_pa = virt_to_phys(l2 as u64);
    for i in 0..512u64 {
        let pa = gib * GB + i * MB2;
        let e = if pa == base2m {
            ((l2_pa >> 12) << 10) | PTE_V
        } else {
            kernel_leaf(pa, PTE_R | PTE_W)
        };
        // SAFETY: as above, for KERNEL_L1.
        unsafe { l1.add(i as usize).write_volatile(e) };
    }
    let l1_pa = virt_to_phys(l1 as u64);
    let root = kernel_root_ptr();
    for g in 0..crate::layout::KERNEL_WINDOW_GIB {
        let e = if g == gib {
            ((l1_pa >> 12) << 10) | PTE_V
        } else {
            kernel_leaf(g * GB, PTE_R | PTE_W)
        };
        // SAFETY: the boot root is live, but the new entry for the kernel's GiB maps the same
        // physical pages at the same addresses (only permissions shrink, and text stays
        // executable), and the others are data-only; the TLB is flushed right after.
        unsafe {
            root.add(KERNEL_ROOT_FIRST_SLOT + g as usize)
                .write_volatile(e)
        };
    }
    csr::sfence_all();
    Ok(())
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
        unsafe {
            core::ptr::write_volatile(
                dst.add(i),
                core::ptr::read_volatile(kernel_root_ptr().add(i)),
            )
        };
    }
}

/// Make the root table at `root` with `asid` the current address space.
pub fn set_vspace(root: u64, asid: u16) {
    let bits = asid_bits();
    let asid = if bits == 0 {
        0
    } else {
        asid & ((1u32 << bits) - 1) as u16
    };
    // SAFETY: `root` is a valid Sv39 root whose upper half holds the kernel window (copied by
    // `copy_kernel_mappings`), so the kernel keeps running after the switch.
    unsafe { csr::write_satp(satp(root, asid)) };
    if bits == 0 {
        csr::sfence_all();
    }
}
