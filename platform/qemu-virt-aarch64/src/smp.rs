//! Multicore on QEMU `virt` (`docs/smp.md`; only with the `smp` feature): the boot
//! core starts `CONFIG_MAX_NUM_NODES - 1` secondary cores with PSCI `CPU_ON`, one at a time,
//! and waits until each has come up; each secondary prints its bring-up line on the debug
//! console holding the big kernel lock, then runs its own scheduler (`entry::secondary_run`).

use arch_aarch64::smp::{self, PsciConduit, MAX_CORES};
use arch_aarch64::timer::counter;
use arch_aarch64::kprintln;
use boot_image::fdt::Fdt;
use kernel_hal::smp::with_kernel_lock;

/// Virtual-counter ticks to wait for a started core before giving up (with the counter at
/// its QEMU frequency, 62.5 MHz, about 8 s of guest time: a core that is not up by then
/// never will be, and a clear panic beats a silent hang).
const BRING_UP_TICKS: u64 = 1 << 29;

/// Bring up cores 1..`nodes` (`nodes` = CONFIG_MAX_NUM_NODES). The cores and the PSCI
/// conduit come from the device tree QEMU passed; a machine with fewer cores than `nodes`
/// is a boot failure (run QEMU with `-smp <nodes>`), as is a core PSCI does not start.
pub fn start_secondaries(nodes: u64, dtb: Option<&[u8]>) {
    smp::register_boot_core();
    if nodes <= 1 {
        return;
    }
    let nodes = nodes as usize;
    assert!(
        nodes <= MAX_CORES,
        "CONFIG_MAX_NUM_NODES={nodes} is above {MAX_CORES}"
    );
    let Some(fdt) = dtb.and_then(|b| Fdt::parse(b).ok()) else {
        panic!("CONFIG_MAX_NUM_NODES={nodes}: no device tree to find the cores in");
    };
    let mut ids = [0u64; MAX_CORES];
    let found = fdt.cpu_ids(&mut ids).unwrap_or(0);
    if found < nodes {
        panic!("CONFIG_MAX_NUM_NODES={nodes} but the machine has {found} cores (run QEMU with -smp {nodes})");
    }
    let conduit = match fdt.psci_method() {
        Ok(Some(m)) => PsciConduit::from_method(m)
            .unwrap_or_else(|| panic!("unknown PSCI method in the device tree")),
        _ => panic!("CONFIG_MAX_NUM_NODES={nodes}: the device tree has no PSCI node"),
    };
    let me = smp::mpidr();
    let mut index = 1;
    for &mpidr in ids[..found.min(MAX_CORES)].iter().filter(|&&m| m != me) {
        if index == nodes {
            break;
        }
        if let Err(e) = smp::start_core(conduit, index, mpidr) {
            panic!(
                "PSCI CPU_ON of core {index} (MPIDR {mpidr:#x}) failed: {}",
                e.0
            );
        }
        let start = counter();
        while !smp::is_online(index) {
            if counter().wrapping_sub(start) > BRING_UP_TICKS {
                panic!("core {index} (MPIDR {mpidr:#x}) did not come up");
            }
            core::hint::spin_loop();
        }
        index += 1;
    }
    kprintln!(
        "kernel: {} cores up (PSCI CPU_ON through {}); big kernel lock on every kernel entry; threads run on every core",
        nodes,
        conduit.name()
    );
}

/// A secondary core's first Rust code (from `aarch64_secondary_entry`: MMU on with the
/// kernel's tables, own stack, kernel vectors, interrupts masked). Reports in under the big
/// kernel lock and idles.
#[no_mangle]
extern "C" fn kernel_secondary_main(core: u64) -> ! {
    with_kernel_lock(|| {
        kprintln!(
            "kernel: core {} up: MPIDR {:#x}, EL1, own stack, kernel page tables and vectors; idle",
            smp::current_core(),
            smp::mpidr()
        );
        smp::set_online(core as usize);
    });
    crate::entry::secondary_run(core as usize)
}
