//! `seL4_ARM_SMC_Call` on the simulator: the root task's SMC cap, badges restricting the
//! function id, seL4's error codes, and x0..x7 travelling through MR0..MR7 both ways.

mod common;
use common::*;
use kernel_core::sim::{SIM_PSCI_VERSION, SIM_PSCI_VERSION_FN};
use sel4_abi::ArchLabel;

fn smc_label() -> u64 {
    sel4_abi::arch_label_number(Arch::Aarch64, ArchLabel::SmcCall).unwrap()
}

fn smc(k: &mut K, cap: u64, args: &[u64]) -> Reply {
    call(k, cap, smc_label(), args, &[])
}

#[test]
fn root_smc_cap_forwards_all_eight_registers() {
    let mut k = boot();
    assert_eq!(cap_at(&k, slots::SMC), Cap::Smc { badge: 0 });
    let args = [SIM_PSCI_VERSION_FN, 10, 20, 30, 40, 50, 60, 70];
    let r = smc(&mut k, slots::SMC, &args);
    assert_eq!(
        r,
        Reply {
            label: 0,
            mrs: vec![SIM_PSCI_VERSION, 11, 22, 33, 44, 55, 66, 77]
        }
    );
    assert_eq!(k.machine.smc_calls, vec![args]);
    // Any function id goes through an unbadged cap; the monitor's answer is passed back.
    let r = smc(&mut k, slots::SMC, &[0xC200_0001, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(r.mrs[0], kernel_hal::SMCCC_NOT_SUPPORTED);
    assert_eq!(k.machine.smc_calls.len(), 2);
}

#[test]
fn smc_decode_errors_make_no_call() {
    let mut k = boot();
    // Fewer than eight message words.
    err(
        &smc(&mut k, slots::SMC, &[SIM_PSCI_VERSION_FN, 0, 0, 0, 0, 0, 0]),
        Error::TruncatedMessage,
        &[],
    );
    // Another label on an SMC cap.
    let other = sel4_abi::arch_label_number(Arch::Aarch64, ArchLabel::PageMap).unwrap();
    err(
        &call(&mut k, slots::SMC, other, &[0; 8], &[]),
        Error::IllegalOperation,
        &[],
    );
    // The SMC label on a cap that is not an SMC cap.
    err(
        &smc(&mut k, slots::IRQ_CONTROL, &[SIM_PSCI_VERSION_FN, 0, 0, 0, 0, 0, 0, 0]),
        Error::IllegalOperation,
        &[],
    );
    assert!(k.machine.smc_calls.is_empty());
}

#[test]
fn badge_restricts_the_function_id() {
    let mut k = boot();
    let e = empty(&k);
    ok(&mint(&mut k, e, slots::SMC, 0xf, SIM_PSCI_VERSION_FN));
    assert_eq!(
        cap_at(&k, e),
        Cap::Smc {
            badge: SIM_PSCI_VERSION_FN
        }
    );
    // The badged function id is allowed ...
    let r = smc(&mut k, e, &[SIM_PSCI_VERSION_FN, 1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(r.label, 0);
    assert_eq!(r.mrs[0], SIM_PSCI_VERSION);
    // ... any other is IllegalOperation, and the monitor is not called.
    err(
        &smc(&mut k, e, &[0x8400_0008, 0, 0, 0, 0, 0, 0, 0]),
        Error::IllegalOperation,
        &[],
    );
    assert_eq!(k.machine.smc_calls.len(), 1);
    // A badged SMC cap cannot be re-badged (seL4 updateCapData), but can be copied.
    err(
        &mint(&mut k, e + 1, e, 0xf, 0x8400_0008),
        Error::IllegalOperation,
        &[],
    );
    ok(&copy(&mut k, e + 1, e, 0xf));
    assert_eq!(cap_at(&k, e + 1), cap_at(&k, e));
    // Revoking the original removes the badged copies (they are its children).
    ok(&revoke(&mut k, slots::SMC));
    assert_eq!(cap_at(&k, e), Cap::Null);
    assert_eq!(cap_at(&k, e + 1), Cap::Null);
    assert_eq!(cap_at(&k, slots::SMC), Cap::Smc { badge: 0 });
}

#[test]
fn only_aarch64_root_tasks_get_an_smc_cap() {
    for arch in [Arch::Riscv64, Arch::X86_64] {
        let mut k = boot_sim(arch);
        let root = match k.cspace_root(k.cur_thread) {
            Cap::CNode { ptr, .. } => ptr,
            _ => unreachable!(),
        };
        assert_eq!(get_cap(&k.machine, Slot::at(root, slots::SMC)), Cap::Null);
        let r = call(&mut k, slots::SMC, 43, &[SIM_PSCI_VERSION_FN, 0, 0, 0, 0, 0, 0, 0], &[]);
        assert_eq!(r.label, Error::InvalidCapability as u64);
        assert!(k.machine.smc_calls.is_empty());
    }
}
