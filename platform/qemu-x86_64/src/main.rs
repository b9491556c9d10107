//! The x86_64 kernel for QEMU q35/pc, booted by multiboot 1 (`-kernel`, initial task as
//! the first module via `-initrd`).
//!
//! Until the arch-independent kernel core is wired in, this binary runs a **bring-up
//! path** (module [`bringup`]): one initial thread, `seL4_DebugPutChar`, `seL4_Yield`,
//! `seL4_DebugHalt`, user faults reported and the thread suspended, the timer reported.
#![no_std]
#![no_main]

mod board;
mod bringup;
mod loader;

use arch_x86_64::layout::KERNEL_VBASE;
use arch_x86_64::{kprintln, mm, multiboot, serial, tables, trap};

/// Read physical memory below 1 GiB through the image mapping (valid in both the boot
/// and the final page tables).
fn read_low(paddr: u64, buf: &mut [u8]) -> bool {
    let end = match paddr.checked_add(buf.len() as u64) {
        Some(e) => e,
        None => return false,
    };
    if end > board::LOW_ALIAS_LIMIT {
        return false;
    }
    // SAFETY: physical 0..1 GiB is mapped read/write at KERNEL_VBASE; the range was
    // checked above and the multiboot structures are not written concurrently.
    unsafe {
        core::ptr::copy_nonoverlapping(
            (KERNEL_VBASE + paddr) as *const u8,
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    true
}

/// Called by the boot stub in long mode, on the init stack, with interrupts off.
#[no_mangle]
extern "C" fn kernel_entry_x86_64(magic: u32, info: u32) -> ! {
    serial::init();
    kprintln!(
        "x86_64 kernel: booting (multiboot magic {:#x}, info at {:#x})",
        magic,
        info
    );
    let bi = match multiboot::parse(magic, info as u64, &read_low) {
        Ok(bi) => bi,
        Err(e) => panic!("bad multiboot information: {:?}", e),
    };
    let covered = mm::init(&bi);
    kprintln!(
        "x86_64 kernel: {} RAM regions, kernel window {} MiB at {:#x}, image ends at {:#x}",
        bi.num_ram,
        covered >> 20,
        arch_x86_64::layout::PPTR_BASE,
        mm::kernel_end_paddr()
    );
    tables::init();
    arch_x86_64::cpu::enable_user_fpu();
    trap::install(bringup::handle);
    let tsc = arch_x86_64::irq::calibrate_tsc();
    let lapic = arch_x86_64::lapic::init();
    arch_x86_64::irq::init();
    kprintln!(
        "x86_64 kernel: GDT/TSS/IDT, syscall MSRs, PIC and PIT ({} Hz) ready, TSC {} MHz, LAPIC timer {} counts/ms",
        arch_x86_64::irq::TICK_HZ,
        tsc,
        lapic
    );
    bringup::arm_demo_deadline();

    let mut frames = mm::FrameAlloc::new(loader::reserved_end(&bi));
    let next = match loader::load_image(&bi, &mut frames)
        .and_then(|img| loader::build_vspace(&img, &mut frames))
    {
        Ok((root, ctx)) => bringup::start_thread(root, ctx),
        Err(e) => panic!("cannot load the initial task: {}", e),
    };
    // SAFETY: still on the init stack, tables are loaded, and the context comes from
    // `bringup::start_thread`, which satisfies the hook contract.
    unsafe { trap::start(next) }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    kprintln!("KERNEL PANIC: {}", info);
    arch_x86_64::exit::halt(1)
}
