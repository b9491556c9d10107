//! Multicore phase 1 on QEMU q35 (`docs/smp.md`; only with the `smp` feature): the BSP starts
//! `CONFIG_MAX_NUM_NODES - 1` application processors with INIT-SIPI-SIPI, one at a time, and
//! waits until each has come up; each prints its bring-up line on the debug console holding
//! the big kernel lock and then halts with interrupts off (phase 1 gives APs no threads).
//!
//! The APs' local APIC IDs are taken to be 0..N-1 without the BSP's, as QEMU numbers them for
//! `-smp N` without a topology; reading them from the ACPI MADT is left for phase 2.

use arch_x86_64::smp::{self, MAX_CORES};
use arch_x86_64::{irq, kprintln, lapic};
use kernel_hal::smp::with_kernel_lock;

/// Microseconds to wait for a started AP before giving up (a clear panic beats a hang).
const BRING_UP_US: u64 = 5_000_000;

/// Busy-wait `us` microseconds on the calibrated TSC.
fn wait_us(us: u64) {
    let start = irq::now_us();
    while irq::now_us().wrapping_sub(start) < us {
        core::hint::spin_loop();
    }
}

/// Bring up cores 1..`nodes` (`nodes` = CONFIG_MAX_NUM_NODES).
pub fn start_secondaries(nodes: u64, tsc_mhz: u64) {
    smp::register_boot_core();
    if nodes <= 1 {
        return;
    }
    let nodes = nodes as usize;
    assert!(
        nodes <= MAX_CORES,
        "CONFIG_MAX_NUM_NODES={nodes} is above {MAX_CORES}"
    );
    if tsc_mhz == 0 {
        panic!(
            "CONFIG_MAX_NUM_NODES={nodes}: no calibrated TSC to time the INIT-SIPI-SIPI sequence"
        );
    }
    let bsp = lapic::id();
    smp::prepare();
    let mut ids = (0..MAX_CORES as u32).filter(|&id| id != bsp);
    for index in 1..nodes {
        let Some(apic_id) = ids.next() else { break };
        smp::start_ap(index, apic_id, &wait_us);
        let start = irq::now_us();
        while !smp::is_online(index) {
            if irq::now_us().wrapping_sub(start) > BRING_UP_US {
                panic!("core {index} (local APIC ID {apic_id}) did not come up (run QEMU with -smp {nodes})");
            }
            core::hint::spin_loop();
        }
    }
    kprintln!(
        "kernel: {} cores up (INIT-SIPI-SIPI, trampoline at {:#x}; BSP APIC ID {}); big kernel lock on every kernel entry; threads run on core 0",
        nodes,
        smp::TRAMPOLINE_PADDR,
        bsp
    );
}

/// An AP's first Rust code (from `x86_ap_high_entry`: long mode with the kernel's page
/// tables, GDT and IDT, own stack, interrupts off). Reports in under the big kernel lock and
/// halts.
#[no_mangle]
extern "C" fn kernel_secondary_main(core: u64) -> ! {
    with_kernel_lock(|| {
        kprintln!(
            "kernel: core {} up: local APIC ID {}, long mode, own stack, kernel page tables, GDT and IDT; idle",
            smp::current_core(),
            lapic::id()
        );
        smp::set_online(core as usize);
    });
    loop {
        // Phase 1: no thread runs here and interrupts stay off (`docs/smp.md`).
        // SAFETY: `hlt` with interrupts off only stops this core.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}
