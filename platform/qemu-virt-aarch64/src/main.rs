//! The kernel for QEMU `virt` (AArch64): memory map and boot glue around the kernel core.
//!
//! After hardware init the root task (the boot payload's first file) is loaded and the
//! kernel core builds its environment ([`root`]); from then on every trap goes through the
//! core ([`entry`]). As in seL4 there is exactly one root task: further payload files are
//! ignored (with a warning).
#![no_std]
#![no_main]
#![deny(clippy::undocumented_unsafe_blocks)]

mod entry;
mod root;
#[cfg(feature = "smp")]
mod smp;

use arch_aarch64::gic::{Gic, GicVersion};
use arch_aarch64::layout::{phys_to_virt, KERNEL_WINDOW_BASE, KERNEL_WINDOW_SIZE};
use arch_aarch64::machine::Aarch64Machine;
use arch_aarch64::{console, dtb, kprintln, payload, timer};
use boot_image::fdt::Fdt;
use boot_image::payload::Payload;

/// The QEMU `virt` memory map (physical addresses).
pub mod memmap {
    /// Start of RAM (QEMU places the DTB here; the kernel is loaded at +2 MiB).
    pub const RAM_START: u64 = 0x4000_0000;
    /// RAM size assumed when the DTB gives none (`-m 1G`); the kernel window covers RAM
    /// up to 4 GiB physical (3 GiB of RAM).
    pub const DEFAULT_RAM_SIZE: u64 = 1 << 30;
    /// PL011 UART.
    pub const UART0: u64 = 0x0900_0000;
    /// GIC distributor (v2 and v3).
    pub const GIC_DIST: u64 = 0x0800_0000;
    /// GICv2 CPU interface.
    pub const GIC_CPU_V2: u64 = 0x0801_0000;
    /// GICv2 hypervisor control interface (GICH; `virtualization=on`, hypervisor build).
    #[cfg(feature = "hyp")]
    pub const GIC_HYP_V2: u64 = 0x0803_0000;
    /// GICv2 virtual CPU interface (GICV; a guest's CPU interface, handed to user space).
    #[cfg(feature = "hyp")]
    pub const GIC_VCPU_V2: u64 = 0x0804_0000;
    /// First GICv3 redistributor (CPU 0).
    pub const GIC_REDIST_V3: u64 = 0x080A_0000;
}

/// Entered from the arch boot code, in the upper half with the MMU on.
#[no_mangle]
extern "C" fn kernel_main(_boot_arg: u64) -> ! {
    console::init(phys_to_virt(memmap::UART0) as usize);
    kprintln!(
        "kernel: aarch64 QEMU virt, entered at EL{}, running at EL{}, MMU on, kernel window at {:#x}",
        arch_aarch64::boot::entry_exception_level(),
        arch_aarch64::trap::KERNEL_EL,
        KERNEL_WINDOW_BASE
    );
    let Some(gic) = Gic::probe(
        phys_to_virt(memmap::GIC_DIST) as usize,
        phys_to_virt(memmap::GIC_CPU_V2) as usize,
        phys_to_virt(memmap::GIC_REDIST_V3) as usize,
    ) else {
        panic!("no GICv2 or GICv3 at {:#x}", memmap::GIC_DIST);
    };
    gic.init();
    let v = match gic.version {
        GicVersion::V2 => 2,
        GicVersion::V3 => 3,
    };
    kprintln!("kernel: GICv{} with {} interrupt lines", v, gic.lines);
    timer::deny_user_access();
    let (ram_start, ram_end) = ram_range();
    let machine = Aarch64Machine::new(gic, ram_start, ram_end);
    let files = match payload::bytes(&machine).map(Payload::parse) {
        Some(Ok(p)) if !p.is_empty() => p,
        Some(Ok(_)) => panic!("boot payload holds no task"),
        Some(Err(e)) => panic!("malformed boot payload: {:?}", e),
        None => panic!("no boot payload (build the image with mkimage)"),
    };
    if files.len() > 1 {
        kprintln!(
            "kernel: warning: boot payload has {} files; only the first is the root task",
            files.len()
        );
    }
    let elf = files
        .file(0)
        .unwrap_or_else(|e| panic!("payload file 0: {:?}", e));
    let kernel = root::boot_core(machine, elf, dtb::dtb_at(memmap::RAM_START));
    #[cfg(feature = "smp")]
    smp::start_secondaries(kernel.config.max_num_nodes, dtb::dtb_at(memmap::RAM_START));
    entry::run(kernel)
}

/// RAM from the DTB QEMU placed at the start of RAM, or the default `-m 1G` range.
fn ram_range() -> (u64, u64) {
    let from_dtb = dtb::dtb_at(memmap::RAM_START)
        .and_then(|b| Fdt::parse(b).ok())
        .and_then(|f| f.memory().ok().flatten())
        .filter(|&(base, size)| base == memmap::RAM_START && size >= 64 << 20);
    match from_dtb {
        Some((base, size)) => {
            let end = (base + size).min(KERNEL_WINDOW_SIZE);
            kprintln!(
                "kernel: RAM {:#x}..{:#x} (from the DTB at {:#x})",
                base,
                end,
                memmap::RAM_START
            );
            (base, end)
        }
        None => {
            let end = memmap::RAM_START + memmap::DEFAULT_RAM_SIZE;
            kprintln!(
                "kernel: RAM {:#x}..{:#x} (no usable DTB; assuming -m 1G)",
                memmap::RAM_START,
                end
            );
            (memmap::RAM_START, end)
        }
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch_aarch64::panic::report(info)
}
