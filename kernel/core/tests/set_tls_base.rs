//! `seL4_SetTLSBase` (syscall -33 in the MCS numbering): on x86_64, where seL4's default
//! configuration has SET_TLS_BASE_SELF, it sets the caller's TLS base (FS base) from the cap
//! register and returns; elsewhere it is an unknown syscall (sel4test's x86_64 driver issues
//! it before anything else).

use kernel_core::kernel::Kernel;
use kernel_core::object::ThreadState;
use kernel_core::sim::harness::boot_sim;
use kernel_core::sim::SimMachine;
use kernel_hal::{Reg, UserContext};
use sel4_abi::{Arch, Syscall};

fn set_tls_base(k: &mut Kernel<SimMachine>, v: u64) {
    let mut ctx = k.current_context();
    ctx.set(Reg::SyscallNo, Syscall::SetTLSBase.number() as u64);
    ctx.set(Reg::Cap, v);
    ctx.trap_syscall();
    k.set_current_context(&ctx);
    k.handle_syscall();
}

#[test]
fn x86_64_set_tls_base_sets_the_callers_tls_register() {
    let mut k = boot_sim(Arch::X86_64);
    let root = k.cur_thread;
    set_tls_base(&mut k, 0x7000_1234_5000);
    assert_eq!(k.cur_thread, root);
    assert_eq!(k.get_reg(root, Reg::TlsBase), 0x7000_1234_5000);
    assert_eq!(k.thread_state(root), ThreadState::Running);
}

#[test]
fn aarch64_has_no_set_tls_base_syscall() {
    let mut k = boot_sim(Arch::Aarch64);
    let root = k.cur_thread;
    set_tls_base(&mut k, 0x1234);
    // An unknown syscall: the root task has no fault handler, so it stops.
    assert_eq!(k.thread_state(root), ThreadState::Inactive);
    assert_ne!(k.get_reg(root, Reg::TlsBase), 0x1234);
}
