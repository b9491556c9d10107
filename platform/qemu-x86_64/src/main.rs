//! The x86_64 kernel for QEMU q35/pc, booted by multiboot 1 (`-kernel`, initial task as
//! the first module via `-initrd`).
//!
//! After the hardware is set up (long mode, kernel window, GDT/TSS/IDT, syscall MSRs,
//! PIC/PIT, LAPIC timer) the root task is loaded and the kernel core builds its seL4
//! environment ([`root`]); from then on every kernel entry goes through the core
//! ([`entry`]).
#![no_std]
#![no_main]

mod board;
mod entry;
mod loader;
mod root;
#[cfg(feature = "smp")]
mod smp;

use arch_x86_64::layout::KERNEL_VBASE;
use arch_x86_64::machine::X86Machine;
use arch_x86_64::{kprintln, mm, multiboot, serial, tables};

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
    let tsc = arch_x86_64::irq::calibrate_tsc();
    let lapic = arch_x86_64::lapic::init();
    arch_x86_64::irq::init();
    let ioapic_pins = arch_x86_64::ioapic::init();
    kprintln!(
        "x86_64 kernel: I/O APIC with {} inputs (2 and 16 up routed by IRQControl_GetIOAPIC)",
        ioapic_pins
    );
    kprintln!(
        "x86_64 kernel: GDT/TSS/IDT, syscall MSRs, PIC and PIT ({} Hz) ready, TSC {} MHz, LAPIC timer {} counts/ms",
        arch_x86_64::irq::TICK_HZ,
        tsc,
        lapic
    );
    let rsdp = arch_x86_64::firmware::find_rsdp(&read_low);
    match &rsdp {
        Some((at, _)) => kprintln!("x86_64 kernel: ACPI RSDP at {:#x}", at),
        None => kprintln!("x86_64 kernel: no ACPI RSDP found"),
    }
    let kernel = root::boot_core(
        X86Machine::new_const(),
        &bi,
        tsc,
        rsdp.as_ref().map(|r| &r.1),
    );
    #[cfg(feature = "smp")]
    smp::start_secondaries(kernel.config.max_num_nodes, tsc);
    entry::run(kernel)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    kprintln!("KERNEL PANIC: {}", info);
    arch_x86_64::exit::halt(1)
}
