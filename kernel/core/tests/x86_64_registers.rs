//! x86_64 register sanitising through the kernel core: every way user space can set another
//! thread's registers (`TCB_WriteRegisters`, `TCB_CopyRegisters`, a fault reply) leaves the
//! thread resumable, as seL4 does. The core runs here with the real x86_64 register file
//! (`arch_x86_64::X86Context`).
//!
//! seL4's rules (x86_64 `sanitiseRegister`): an instruction pointer (FaultIP or NextIP) that
//! is not canonical becomes 0, and so does a non-canonical FS or GS base; FLAGS keeps only
//! its low 12 bits, with bit 1 and IF set and bits 3, 5 and TF clear. RSP is stored as
//! written: a bad stack pointer faults in user mode, where the fault handler hears of it.

mod threads;
use arch_x86_64::context::{slot, word};
use arch_x86_64::X86Context;
use kernel_core::kernel::UserFault;
use threads::*;

type X86Env = Env<X86Context>;

/// Lowest non-canonical address (bit 47 set, bits 63..48 clear).
const NON_CANONICAL: u64 = 0x0000_8000_0000_0000;
/// A canonical address in the upper half (the kernel's): kept, it faults in user mode.
const UPPER_HALF: u64 = 0xffff_8000_0000_1000;

fn inv(e: &mut X86Env, cap: u64, l: Label, mrs: &[u64], caps: &[u64]) -> Reply {
    e.as_root(|k| call(k, cap, l as u64, mrs, caps))
}

/// `TCB_WriteRegisters(t, resume = false, words...)` (seL4_UserContext order).
fn write_registers(e: &mut X86Env, t: &Th, words: &[u64]) {
    let mut mrs = vec![0, words.len() as u64];
    mrs.extend_from_slice(words);
    ok(&inv(e, t.cap, Label::TCBWriteRegisters, &mrs, &[]));
}

/// `TCB_ReadRegisters(t, suspend = false, count)`.
fn read_registers(e: &mut X86Env, t: &Th, count: u64) -> Vec<u64> {
    let r = inv(e, t.cap, Label::TCBReadRegisters, &[0, count], &[]);
    ok(&r);
    r.mrs
}

fn saved(e: &X86Env, t: &Th) -> X86Context {
    e.k.context(t.ptr)
}

#[test]
fn write_registers_makes_a_non_canonical_ip_zero_and_keeps_a_bad_stack_pointer() {
    let mut e = X86Env::boot(Arch::X86_64);
    let t = e.thread(100, true);
    ok(&inv(&mut e, t.cap, Label::TCBSuspend, &[], &[]));
    write_registers(&mut e, &t, &[NON_CANONICAL, NON_CANONICAL + 0x1000, 0x202]);
    let c = saved(&e, &t);
    assert_eq!(c.regs[slot::RIP], 0, "NextIP: non-canonical becomes 0");
    assert_eq!(c.get(Reg::FaultIp), 0, "FaultIP: non-canonical becomes 0");
    assert_eq!(
        c.regs[slot::RSP],
        NON_CANONICAL + 0x1000,
        "RSP is stored as written (it faults in user mode)"
    );
    assert_eq!(
        read_registers(&mut e, &t, 2),
        [0, NON_CANONICAL + 0x1000],
        "ReadRegisters reports what the thread will run with"
    );
    // Every non-canonical value, not only the lowest; canonical ones are kept.
    for (ip, want) in [
        (0xffff_7fff_ffff_ffff, 0),
        (0x1234_5678_9abc_def0, 0),
        (UPPER_HALF, UPPER_HALF),
        (0x7fff_ffff_f000, 0x7fff_ffff_f000),
    ] {
        write_registers(&mut e, &t, &[ip]);
        assert_eq!(saved(&e, &t).regs[slot::RIP], want, "rip {ip:#x}");
        assert_eq!(saved(&e, &t).get(Reg::FaultIp), want, "fault ip {ip:#x}");
    }
    e.check();
}

#[test]
fn write_registers_sanitises_flags_and_the_segment_bases_as_sel4_does() {
    let mut e = X86Env::boot(Arch::X86_64);
    let t = e.thread(100, true);
    ok(&inv(&mut e, t.cap, Label::TCBSuspend, &[], &[]));
    let mut words = [0u64; word::COUNT];
    words[word::RIP] = 0x40_1000;
    words[word::RSP] = 0x7000_0000;
    words[word::RFLAGS] = u64::MAX;
    words[word::FS_BASE] = NON_CANONICAL;
    words[word::GS_BASE] = 0xfff0_0000_0000_0000;
    write_registers(&mut e, &t, &words);
    let back = read_registers(&mut e, &t, word::COUNT as u64);
    // Low 12 bits only, bit 1 and IF set, bits 3 and 5 and TF (bit 8) clear.
    assert_eq!(back[word::RFLAGS], 0xed7);
    assert_eq!(back[word::FS_BASE], 0);
    assert_eq!(back[word::GS_BASE], 0);
    words[word::RFLAGS] = 0;
    words[word::FS_BASE] = UPPER_HALF;
    write_registers(&mut e, &t, &words);
    let back = read_registers(&mut e, &t, word::COUNT as u64);
    assert_eq!(back[word::RFLAGS], 0x202, "bit 1 and IF are forced on");
    assert_eq!(back[word::FS_BASE], UPPER_HALF, "a canonical base is kept");
    e.check();
}

#[test]
fn copy_registers_gives_the_target_a_canonical_ip() {
    let mut e = X86Env::boot(Arch::X86_64);
    let src = e.thread(100, true);
    let dst = e.thread(100, true);
    ok(&inv(&mut e, src.cap, Label::TCBSuspend, &[], &[]));
    ok(&inv(&mut e, dst.cap, Label::TCBSuspend, &[], &[]));
    write_registers(&mut e, &src, &[NON_CANONICAL | 0x40, 0x7000_0000]);
    // Transfer frame and integer registers, no suspend or resume.
    ok(&inv(
        &mut e,
        dst.cap,
        Label::TCBCopyRegisters,
        &[0b1100],
        &[src.cap],
    ));
    let c = saved(&e, &dst);
    assert_eq!(c.regs[slot::RIP], 0);
    assert_eq!(c.get(Reg::FaultIp), 0);
    assert_eq!(c.regs[slot::RSP], 0x7000_0000);
    e.check();
}

/// A thread with a fault endpoint and a handler waiting on it.
fn with_handler(e: &mut X86Env) -> (Th, Th, u64, u64) {
    let fault_ep = e.alloc(ObjectKind::Endpoint, 0);
    let handler = e.thread(250, true);
    let hreply = e.alloc(ObjectKind::Reply, 0);
    let t = e.thread(100, true);
    let f = e.slot();
    ok(&e.as_root(|k| mint(k, f, fault_ep, 0xf, 0xf00)));
    ok(&inv(
        e,
        t.cap,
        Label::TCBSetSchedParams,
        &[100, 100],
        &[ROOT_TCB, t.sc, f],
    ));
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::Recv, fault_ep, hreply, 0, &[], &[])
    });
    (t, handler, fault_ep, hreply)
}

#[test]
fn an_unknown_syscall_reply_with_a_non_canonical_fault_ip_resumes_at_zero() {
    let mut e = X86Env::boot(Arch::X86_64);
    let (t, handler, fault_ep, hreply) = with_handler(&mut e);
    e.as_thread(t.ptr, |k| {
        let mut c = k.current_context();
        c.set(Reg::SyscallNo, (-77i64) as u64);
        let pc = c.get(Reg::Pc);
        c.set(Reg::FaultIp, pc);
        c.set(Reg::Pc, pc + 2);
        k.set_current_context(&c);
        k.handle_syscall();
    });
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    let m = msg(&e.k, handler.ptr);
    assert_eq!(m.info.label, sel4_abi::FaultType::UnknownSyscall as u64);
    let fault_ip = sel4_abi::fault::unknown_syscall_fault_ip_index(Arch::X86_64);
    let mut words = m.mrs.clone();
    words[fault_ip] = NON_CANONICAL;
    words[fault_ip + 1] = NON_CANONICAL; // RSP
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::ReplyRecv, fault_ep, hreply, 0, &words, &[])
    });
    assert!(e.state(t.ptr).is_runnable());
    let c = saved(&e, &t);
    assert_eq!(
        c.regs[slot::RIP],
        0,
        "resumes at 0: a VM fault in user mode"
    );
    assert_eq!(c.get(Reg::FaultIp), 0);
    assert_eq!(c.regs[slot::RSP], NON_CANONICAL, "RSP as replied");
    e.check();
}

#[test]
fn a_user_exception_reply_with_a_non_canonical_ip_resumes_at_zero() {
    let mut e = X86Env::boot(Arch::X86_64);
    let (t, handler, fault_ep, hreply) = with_handler(&mut e);
    e.as_thread(t.ptr, |k| {
        k.handle_user_fault(UserFault::UserException {
            number: 13,
            code: 0,
        })
    });
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    let m = msg(&e.k, handler.ptr);
    assert_eq!(m.info.label, sel4_abi::FaultType::UserException as u64);
    assert_eq!(m.mrs[3], 13, "exception number");
    // Reply FaultIP, RSP, FLAGS.
    let words = [0xffff_0000_0000_0000, 0x7000_0000, u64::MAX];
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::ReplyRecv, fault_ep, hreply, 0, &words, &[])
    });
    assert!(e.state(t.ptr).is_runnable());
    let c = saved(&e, &t);
    assert_eq!(c.regs[slot::RIP], 0);
    assert_eq!(c.get(Reg::FaultIp), 0);
    assert_eq!(c.regs[slot::RFLAGS], 0xed7);
    e.check();
}
