//! SMC probe: in `init`, asks the secure monitor for its PSCI version and features through
//! `arm_smc_call`, then makes an SMC nobody answers; prints each result with the PD's name.
//! A PD with `smc="true"` gets answers (from QEMU's built-in PSCI under
//! `-machine virt,virtualization=on`); one without gets the kernel's error. Used by the
//! SMC test system (`tests/microkit/smc`).
#![no_std]
#![no_main]

use sel4_microkit::{arm_smc_call, debug_println, pd_name, protection_domain, Handler};

/// PSCI_VERSION (SMC32 fast call, standard service).
const PSCI_VERSION: u64 = 0x8400_0000;
/// PSCI_FEATURES: is function id x1 implemented?
const PSCI_FEATURES: u64 = 0x8400_000A;
/// A SiP-service function id QEMU does not implement.
const UNANSWERED: u64 = 0xC200_0001;

struct Probe;

impl Handler for Probe {}

fn init() -> Probe {
    let name = pd_name();
    match arm_smc_call(&[PSCI_VERSION, 0, 0, 0, 0, 0, 0, 0]) {
        Ok(r) => debug_println!(
            "{}: PSCI_VERSION via SMC: x0={:#x} (PSCI {}.{})",
            name,
            r[0],
            (r[0] >> 16) & 0x7fff,
            r[0] & 0xffff
        ),
        Err(e) => {
            debug_println!("{}: SMC refused: {:?}", name, e);
            return Probe;
        }
    }
    if let Ok(r) = arm_smc_call(&[PSCI_FEATURES, PSCI_VERSION, 0, 0, 0, 0, 0, 0]) {
        debug_println!("{}: PSCI_FEATURES(PSCI_VERSION) via SMC: x0={:#x}", name, r[0]);
    }
    if let Ok(r) = arm_smc_call(&[UNANSWERED, 1, 2, 3, 4, 5, 6, 7]) {
        debug_println!("{}: unanswered SMC {:#x}: x0={:#x}", name, UNANSWERED, r[0]);
    }
    Probe
}

protection_domain!(init);
