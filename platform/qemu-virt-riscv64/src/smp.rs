//! Multicore phase 1 on QEMU riscv64 `virt` (`docs/smp.md`; only with the `smp` feature):
//! the boot hart starts `CONFIG_MAX_NUM_NODES - 1` secondary harts with SBI HSM
//! `hart_start`, one at a time, and waits until each has come up; each prints its bring-up
//! line on the debug console holding the big kernel lock and then idles (phase 1 gives
//! secondaries no threads). The boot hart then takes the big kernel lock for the rest of its
//! boot and releases it on its first return to user mode, as seL4's boot core does.

use arch_riscv64::smp::{self, MAX_CORES};
use arch_riscv64::{csr, kprintln, sbi, trap};
use boot_image::fdt::Fdt;
use kernel_hal::smp::{with_kernel_lock, BIG_KERNEL_LOCK};

/// `time` ticks to wait for a started hart before giving up (at QEMU's 10 MHz timebase,
/// about 10 s of guest time: a hart that is not up by then never will be, and a clear panic
/// beats a silent hang).
const BRING_UP_TICKS: u64 = 100_000_000;

/// Bring up cores 1..`nodes` (`nodes` = CONFIG_MAX_NUM_NODES) on the harts the device tree
/// lists besides `boot_hart`. A machine with fewer harts than `nodes` is a boot failure (run
/// QEMU with `-smp <nodes>`), as is a hart SBI does not start.
pub fn start_secondaries(nodes: u64, boot_hart: u64, dtb: Option<&[u8]>) {
    if nodes > 1 {
        bring_up(nodes as usize, boot_hart, dtb);
    }
    BIG_KERNEL_LOCK.lock();
}

fn bring_up(nodes: usize, boot_hart: u64, dtb: Option<&[u8]>) {
    assert!(
        nodes <= MAX_CORES,
        "CONFIG_MAX_NUM_NODES={nodes} is above {MAX_CORES}"
    );
    let Some(fdt) = dtb.and_then(|b| Fdt::parse(b).ok()) else {
        panic!("CONFIG_MAX_NUM_NODES={nodes}: no device tree to find the harts in");
    };
    let mut harts = [0u64; MAX_CORES];
    let found = fdt.cpu_ids(&mut harts).unwrap_or(0);
    if found < nodes {
        panic!("CONFIG_MAX_NUM_NODES={nodes} but the machine has {found} harts (run QEMU with -smp {nodes})");
    }
    if !sbi::probe_extension(sbi::EID_HSM) {
        panic!("CONFIG_MAX_NUM_NODES={nodes}: the SBI firmware has no HSM extension to start harts with");
    }
    smp::prepare();
    let mut index = 1;
    for &hart in harts[..found.min(MAX_CORES)]
        .iter()
        .filter(|&&h| h != boot_hart)
    {
        if index == nodes {
            break;
        }
        if let Err(e) = smp::start_hart(index, hart) {
            panic!("SBI HSM hart_start of core {index} (hart {hart}) failed: {e}");
        }
        let start = csr::read_time();
        while !smp::is_online(index) {
            if csr::read_time().wrapping_sub(start) > BRING_UP_TICKS {
                panic!("core {index} (hart {hart}) did not come up");
            }
            core::hint::spin_loop();
        }
        index += 1;
    }
    kprintln!(
        "kernel: {} cores up (SBI HSM hart_start; boot hart {}); big kernel lock on every kernel entry; threads run on core 0",
        nodes,
        boot_hart
    );
}

/// A secondary hart's first Rust code (from `riscv64_secondary_entry`: Sv39 on with the
/// kernel's root table, own stack, interrupts off). Installs the kernel's trap vector,
/// reports in under the big kernel lock and idles.
#[no_mangle]
extern "C" fn kernel_secondary_main(core: u64, hart: u64) -> ! {
    trap::init();
    with_kernel_lock(|| {
        kprintln!(
            "kernel: core {} up: hart {}, S-mode, own stack, kernel page tables and trap vector; idle",
            smp::current_core(),
            hart
        );
        smp::set_online(core as usize);
    });
    loop {
        // Phase 1: no thread runs here and no interrupt is enabled here (`docs/smp.md`).
        csr::wfi();
    }
}
