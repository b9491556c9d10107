//! Kernel page tables: the image mapping in the top 2 GiB and the kernel window over RAM.
//!
//! Final layout (PML4 slots): 256 = kernel window (`PPTR_BASE + paddr` for RAM below
//! [`WINDOW_LIMIT`], 1 GiB pages when the CPU has them, else 2 MiB pages), 511 = physical
//! 0..1 GiB at `KERNEL_VBASE` (the image, its stacks and statics) and, at
//! [`DEVICE_VBASE`], the uncached 2 MiB blocks holding the local APIC and the I/O APIC. The
//! boot identity map is dropped. User VSpace roots copy slots 256..511 ([`kernel_pml4_slot`]).

use crate::cpu;
use crate::layout::{KERNEL_VBASE, PPTR_BASE, WINDOW_LIMIT};
use crate::multiboot::{BootInfo, Range, MAX_REGIONS};
use crate::paging::{PTE_NX, PTE_P, PTE_PCD, PTE_PS, PTE_PWT, PTE_RW};

/// Physical base of the local APIC (IA32_APIC_BASE after reset; QEMU keeps it).
pub const LAPIC_PHYS_DEFAULT: u64 = 0xfee0_0000;
/// Physical base of the first I/O APIC (QEMU's and the usual PC address).
pub const IOAPIC_PHYS: u64 = 0xfec0_0000;
/// Kernel virtual address of the device mappings (PML4 511, PDPT 511): the 2 MiB block
/// holding the local APIC, then the one holding the I/O APIC.
pub const DEVICE_VBASE: u64 = 0xffff_ffff_c000_0000;
use crate::trap::KCell;

#[repr(C, align(4096))]
struct Table([u64; 512]);

const EMPTY: Table = Table([0; 512]);
/// 2 MiB page directories available for the window without 1 GiB pages (16 GiB).
const WINDOW_PDS: usize = 16;

static PML4: KCell<Table> = KCell::new(EMPTY);
static IMAGE_PDPT: KCell<Table> = KCell::new(EMPTY);
static IMAGE_PD: KCell<Table> = KCell::new(EMPTY);
static WINDOW_PDPT: KCell<Table> = KCell::new(EMPTY);
static DEVICE_PD: KCell<Table> = KCell::new(EMPTY);
static WINDOW_PD: KCell<[Table; WINDOW_PDS]> = KCell::new([EMPTY; WINDOW_PDS]);
static RAM: KCell<([Range; MAX_REGIONS], usize)> =
    KCell::new(([Range { start: 0, end: 0 }; MAX_REGIONS], 0));
/// The largest range of `RAM` (where kernel objects almost always are), checked first by
/// [`window`], which runs on every kernel object access, for accesses of at most
/// [`FAST_LEN`] bytes. Its end is at least [`FAST_LEN`] (so that `end - len` cannot wrap
/// there); without such a range it stays [`NO_LARGEST`], which holds no access.
static LARGEST: KCell<Range> = KCell::new(NO_LARGEST);
/// Longest access [`window`] checks against [`LARGEST`] alone (kernel objects are
/// accessed a field or an object at a time; longer accesses take the general check).
const FAST_LEN: u64 = 1 << 20;
/// [`LARGEST`] when no RAM range ends at or above [`FAST_LEN`]: no address is at or above
/// its start and at or below its end minus a length.
const NO_LARGEST: Range = Range {
    start: u64::MAX,
    end: FAST_LEN,
};

extern "C" {
    static __kernel_end: u8;
}

/// Physical address of a kernel-image virtual address.
pub fn image_paddr(v: u64) -> u64 {
    v - KERNEL_VBASE
}

/// Physical end of the kernel image, bss and stacks included.
pub fn kernel_end_paddr() -> u64 {
    image_paddr(core::ptr::addr_of!(__kernel_end) as u64)
}

/// Build the final kernel page tables from the RAM map in `bi` and switch to them.
/// Returns the number of bytes of RAM the window covers.
///
/// Must run once during boot with interrupts off, while the boot tables are active.
pub fn init(bi: &BootInfo) -> u64 {
    let big = cpu::has_1g_pages();
    let mut covered = 0u64;
    // SAFETY: boot is single-threaded with interrupts off and the CPU does not use these
    // tables until CR3 is loaded below.
    unsafe {
        let pml4 = &mut (*PML4.get()).0;
        let ipdpt = &mut (*IMAGE_PDPT.get()).0;
        let ipd = &mut (*IMAGE_PD.get()).0;
        for (i, e) in ipd.iter_mut().enumerate() {
            *e = ((i as u64) << 21) | PTE_P | PTE_RW | PTE_PS;
        }
        ipdpt[510] = image_paddr(IMAGE_PD.get() as u64) | PTE_P | PTE_RW;
        // Device window: the 2 MiB of physical space holding the local APIC, uncached.
        let dpd = &mut (*DEVICE_PD.get()).0;
        dpd[0] = (LAPIC_PHYS_DEFAULT & !0x1f_ffff)
            | PTE_P
            | PTE_RW
            | PTE_PS
            | PTE_PCD
            | PTE_PWT
            | PTE_NX;
        dpd[1] = (IOAPIC_PHYS & !0x1f_ffff) | PTE_P | PTE_RW | PTE_PS | PTE_PCD | PTE_PWT | PTE_NX;
        ipdpt[511] = image_paddr(DEVICE_PD.get() as u64) | PTE_P | PTE_RW;
        pml4[511] = image_paddr(IMAGE_PDPT.get() as u64) | PTE_P | PTE_RW;

        let wpdpt = &mut (*WINDOW_PDPT.get()).0;
        let wpds = &mut *WINDOW_PD.get();
        let ram = &mut *RAM.get();
        for r in bi.ram.iter().take(bi.num_ram) {
            let end = r.end.min(WINDOW_LIMIT);
            if r.start >= end {
                continue;
            }
            if ram.1 < MAX_REGIONS {
                ram.0[ram.1] = Range {
                    start: r.start,
                    end,
                };
                ram.1 += 1;
            }
            covered += end - r.start;
            let gib_first = r.start >> 30;
            let gib_last = (end - 1) >> 30;
            for g in gib_first..=gib_last {
                let g = g as usize;
                if big {
                    wpdpt[g] = ((g as u64) << 30) | PTE_P | PTE_RW | PTE_PS;
                    continue;
                }
                if g >= WINDOW_PDS {
                    break;
                }
                wpdpt[g] = image_paddr(&wpds[g] as *const Table as u64) | PTE_P | PTE_RW;
                let lo = r.start.max((g as u64) << 30);
                let hi = end.min(((g as u64) + 1) << 30);
                for m in (lo >> 21)..((hi + (1 << 21) - 1) >> 21) {
                    wpds[g].0[(m & 511) as usize] = (m << 21) | PTE_P | PTE_RW | PTE_PS;
                }
            }
        }
        let mut largest = Range { start: 0, end: 0 };
        for r in &ram.0[..ram.1] {
            if r.end - r.start > largest.end - largest.start {
                largest = *r;
            }
        }
        if largest.end > largest.start && largest.end >= FAST_LEN {
            *LARGEST.get() = largest;
        }
        pml4[256] = image_paddr(WINDOW_PDPT.get() as u64) | PTE_P | PTE_RW;
        cpu::set_cr3(image_paddr(PML4.get() as u64));
    }
    covered
}

/// The kernel's PML4 entry `i` (256..=511 are shared with every user VSpace root).
pub fn kernel_pml4_slot(i: usize) -> u64 {
    // SAFETY: after `init` the kernel PML4 is only read.
    unsafe { (*PML4.get()).0[i & 511] }
}

/// Physical address of the kernel's own PML4.
pub fn kernel_pml4_paddr() -> u64 {
    image_paddr(PML4.get() as u64)
}

/// Kernel-virtual pointer to `[paddr, paddr+len)` if the range is RAM inside the window.
/// Always inline: it runs on every kernel object access (a call also costs the caller
/// callee-saved registers).
#[inline(always)]
pub fn window(paddr: u64, len: usize) -> Option<*mut u8> {
    // SAFETY: LARGEST and RAM are written once in `init` and only read afterwards.
    let (largest, ram) = unsafe { (&*LARGEST.get(), &*RAM.get()) };
    let len = len as u64;
    // Two comparisons (`len` is a constant at almost every call): LARGEST ends at or above
    // FAST_LEN, so `end - len` does not wrap, and `paddr <= end - len` also rules out
    // `paddr + len` overflowing.
    let in_largest = len <= FAST_LEN && paddr >= largest.start && paddr <= largest.end - len;
    (in_largest || ram.0[..ram.1].iter().any(|r| r.contains(paddr, len)))
        .then(|| (PPTR_BASE + paddr) as *mut u8)
}

/// A bump allocator of 4 KiB frames from one RAM range (boot and bring-up use only).
#[derive(Clone, Copy, Debug)]
pub struct FrameAlloc {
    next: u64,
    end: u64,
}

impl FrameAlloc {
    /// Frames from the largest window-covered RAM range above every address in `avoid_below`.
    pub fn new(avoid_below: u64) -> Self {
        // SAFETY: RAM is only read after `init`.
        let ram = unsafe { &*RAM.get() };
        let mut best = FrameAlloc { next: 0, end: 0 };
        for r in &ram.0[..ram.1] {
            let s = (r.start.max(avoid_below) + 0xfff) & !0xfff;
            let e = r.end & !0xfff;
            if e > s && e - s > best.end - best.next {
                best = FrameAlloc { next: s, end: e };
            }
        }
        best
    }

    /// The next frame [`FrameAlloc::alloc`] would hand out: everything from the allocator's
    /// first frame up to here has been handed out (a copy taken before allocating gives the
    /// start).
    pub fn next_free(&self) -> u64 {
        self.next
    }

    /// A zeroed 4 KiB frame, or `None` when the range is used up.
    pub fn alloc(&mut self) -> Option<u64> {
        if self.next >= self.end {
            return None;
        }
        let p = self.next;
        self.next += 4096;
        let ptr = window(p, 4096)?;
        // SAFETY: the frame is RAM in the window, handed out once, not used by anything else.
        unsafe { core::ptr::write_bytes(ptr, 0, 4096) };
        Some(p)
    }
}
