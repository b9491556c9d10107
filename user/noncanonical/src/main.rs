//! `noncanonical`: x86_64 boot test root task. A child thread with a fault handler (this
//! task, on a badged fault endpoint) is given registers no x86_64 CPU can resume with, and
//! every time its handler must hear of it as seL4 arranges:
//!
//! 1. `TCB_WriteRegisters` with a non-canonical RIP: the kernel makes it 0 (seL4's
//!    `sanitiseRegister`), so the child takes a VMFault at address 0 (instruction fetch)
//!    and `TCB_ReadRegisters` reports RIP 0.
//! 2. `TCB_WriteRegisters` with a good RIP and a non-canonical RSP: the RSP is kept; the
//!    child's first push faults in user mode (#SS on hardware, #GP under QEMU), a
//!    UserException whose FaultIP is the push and whose stack pointer is the bad RSP.
//! 3. A reply to that UserException with a non-canonical FaultIP: resumed at 0, the child
//!    takes a VMFault at 0 again.
//!
//! Each step prints one line; anything unexpected prints `noncanonical: FAILED <step>: …`.
//! A kernel that parked the thread instead would leave this task waiting for a fault
//! forever (the boot test's timeout).
#![no_std]
#![no_main]

use sel4_abi::fault::{user_exception, vm_fault};
use sel4_abi::{FaultType, ObjectKind};
use sel4_root::error::{expect_eq, RootError};
use sel4_root::println;
use sel4_root::root::{Root, Sel4, CNODE, TCB, VSPACE};
use sel4_sys::{ops, syscall, CapRights, MessageInfo, ARCH};

#[cfg(not(target_arch = "x86_64"))]
compile_error!("noncanonical tests x86_64's canonical-address rule");

// The child's code for step 2: a push (the first stack access), then an undefined
// instruction it never reaches.
core::arch::global_asm!(
    ".section .text.noncanonical_push, \"ax\"",
    ".global noncanonical_push",
    "noncanonical_push:",
    "    push rax",
    "    ud2",
);

extern "C" {
    fn noncanonical_push();
}

/// The lowest non-canonical address (bit 47 set, bits 63..48 clear).
const NON_CANONICAL: u64 = 0x0000_8000_0000_0000;
/// A non-canonical stack pointer whose push target (8 bytes below) is non-canonical too.
const BAD_RSP: u64 = NON_CANONICAL + 0x1000;
/// Where the child's stack and IPC buffer go.
const CHILD_BASE: u64 = 0x1000_0000;
/// Child priority (below the root's, so the root runs until it waits for a fault).
const CHILD_PRIO: u64 = 100;
/// Badge of the child's fault-endpoint cap.
const FAULT_BADGE: u64 = 0xfa;
/// SC budget and period (µs).
const BUDGET_US: u64 = 5000;
/// RFLAGS for the child: IF and bit 1.
const RFLAGS: u64 = 0x202;

fn halt() -> ! {
    syscall::debug_halt();
    loop {
        syscall::yield_now();
    }
}

fn fail(step: &str, e: RootError) -> ! {
    println!("noncanonical: FAILED {}: {}", step, e);
    halt()
}

/// The value of `r`, or FAILED `step` and halt.
fn step<T>(name: &str, r: Result<T, RootError>) -> T {
    r.unwrap_or_else(|e| fail(name, e))
}

/// FAILED `name` unless `got == want`.
fn check(name: &'static str, got: u64, want: u64) {
    step(name, expect_eq(name, got, want));
}

/// Check a fault message just received on the fault endpoint: its label and badge.
fn check_fault(name: &'static str, info: MessageInfo, badge: u64, kind: FaultType) {
    check(name, info.label(), kind as u64);
    check(name, badge, FAULT_BADGE);
}

/// Entered from `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(bootinfo_addr: u64) -> ! {
    println!("noncanonical: start");
    let bi = sel4_root::rt::boot_info(bootinfo_addr);
    let mut root = step("bootinfo", Root::new(bi, ARCH, Sel4));

    // A child in this task's CSpace and VSpace, with a badged fault endpoint.
    let tcb = step("retype tcb", root.retype(ObjectKind::Tcb, 0, 1));
    let fault_ep = step("retype endpoint", root.retype(ObjectKind::Endpoint, 0, 1));
    let reply = step("retype reply", root.retype(ObjectKind::Reply, 0, 1));
    let sc = step(
        "retype sched context",
        root.retype(ObjectKind::SchedContext, 8, 1),
    );
    step(
        "sched control configure",
        ops::sched_control_configure_flags(root.sched_control, sc, BUDGET_US, BUDGET_US, 0, 0, 0)
            .map_err(RootError::from),
    );
    let fault_cap = step("alloc slot", root.slots.alloc().map_err(RootError::from));
    let write_grant = CapRights::new(false, true, false, true);
    step(
        "mint fault endpoint",
        root.mint(CNODE, fault_cap, 64, fault_ep, write_grant, FAULT_BADGE),
    );
    let mem = step("map child memory", root.thread_memory(CHILD_BASE, 1));
    step(
        "tcb configure",
        ops::tcb_configure(tcb, CNODE, 0, VSPACE, 0, mem.ipc_vaddr, mem.ipc_frame)
            .map_err(RootError::from),
    );
    step(
        "tcb set sched params",
        ops::tcb_set_sched_params(tcb, TCB, CHILD_PRIO, CHILD_PRIO, sc, fault_cap)
            .map_err(RootError::from),
    );
    let stack = mem.stack_top - 8;
    println!("noncanonical: child configured with a fault endpoint");

    // 1. A non-canonical RIP written with TCB_WriteRegisters.
    step(
        "write rip",
        ops::tcb_write_registers(tcb, true, 0, &[NON_CANONICAL, stack, RFLAGS])
            .map_err(RootError::from),
    );
    let (info, badge) = syscall::recv(fault_ep, reply);
    check_fault("bad rip: fault", info, badge, FaultType::VmFault);
    let (ip, addr, prefetch) = (
        sel4_sys::get_mr(vm_fault::IP),
        sel4_sys::get_mr(vm_fault::ADDR),
        sel4_sys::get_mr(vm_fault::PREFETCH_FAULT),
    );
    println!(
        "noncanonical: bad rip {:#x}: handler got VMFault ip {:#x} addr {:#x} prefetch {}",
        NON_CANONICAL, ip, addr, prefetch
    );
    check("bad rip: fault ip", ip, 0);
    check("bad rip: fault addr", addr, 0);
    check("bad rip: instruction fetch", prefetch, 1);
    let mut regs = [0u64; 2];
    step(
        "read registers",
        ops::tcb_read_registers(tcb, false, 0, &mut regs).map_err(RootError::from),
    );
    check("bad rip: ReadRegisters rip", regs[0], 0);
    println!("noncanonical: ReadRegisters: rip {:#x}", regs[0]);

    // 2. A good RIP and a non-canonical RSP: the first push faults in user mode.
    let push = noncanonical_push as *const () as u64;
    step(
        "write rsp",
        ops::tcb_write_registers(tcb, true, 0, &[push, BAD_RSP, RFLAGS]).map_err(RootError::from),
    );
    let (info, badge) = syscall::recv(fault_ep, reply);
    check_fault("bad rsp: fault", info, badge, FaultType::UserException);
    let number = sel4_sys::get_mr(user_exception::number_index(ARCH));
    let (fault_ip, sp) = (
        sel4_sys::get_mr(user_exception::FAULT_IP),
        sel4_sys::get_mr(user_exception::SP),
    );
    println!(
        "noncanonical: bad rsp {:#x}: handler got UserException at the push, stack {:#x}, vector {}",
        BAD_RSP, sp, number
    );
    check("bad rsp: fault ip", fault_ip, push);
    check("bad rsp: stack", sp, BAD_RSP);
    // #SS (12) on hardware; QEMU raises #GP (13) for a non-canonical stack access.
    if number != 12 && number != 13 {
        fail(
            "bad rsp: vector",
            RootError::Unexpected {
                what: "exception vector (want #SS 12 or #GP 13)",
                got: number,
                want: 12,
            },
        );
    }

    // 3. A reply to that fault with a non-canonical FaultIP (and a good stack).
    sel4_sys::set_mr(user_exception::FAULT_IP, NON_CANONICAL | 0x1234);
    sel4_sys::set_mr(user_exception::SP, stack);
    sel4_sys::set_mr(2, RFLAGS);
    let (info, badge) = syscall::reply_recv(fault_ep, MessageInfo::new(0, 0, 0, 3), reply);
    check_fault("reply with bad ip: fault", info, badge, FaultType::VmFault);
    let (ip, addr) = (
        sel4_sys::get_mr(vm_fault::IP),
        sel4_sys::get_mr(vm_fault::ADDR),
    );
    println!(
        "noncanonical: fault reply with ip {:#x}: handler got VMFault ip {:#x} addr {:#x}",
        NON_CANONICAL | 0x1234,
        ip,
        addr
    );
    check("reply with bad ip: fault ip", ip, 0);
    check("reply with bad ip: fault addr", addr, 0);

    println!("noncanonical: all steps passed");
    halt()
}
