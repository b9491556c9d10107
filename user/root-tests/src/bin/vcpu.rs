//! `vcpu` (aarch64 hypervisor kernel only, `docs/hyp.md`): a thread with a VCPU runs its code
//! at EL1 as a guest, and what it cannot do itself reaches its fault handler.
//!
//! The root task maps one frame at IPA [`GUEST_IPA`] of a fresh (stage-2) VSpace, writes a
//! few AArch64 instructions into it, creates a VCPU, sets its TPIDR_EL1, binds it to a new
//! thread whose fault endpoint the root listens on, and starts the thread at the frame in
//! EL1h. The guest reads TPIDR_EL1 (the VCPU's value), writes a new one, then:
//! 1. `smc #0`, trapped by HCR_EL2.TSC: a VCPUFault whose MR0 is the HSR (EC 0x17); the
//!    root reads the guest's registers (x0 = 42, x3 = the VCPU's TPIDR_EL1), reads the
//!    VCPU's TPIDR_EL1 (the guest's new value, saved on the trap), moves the PC past the
//!    `smc` and replies;
//! 2. a load from an IPA with nothing mapped: a VMFault at that IPA; again moved on;
//! 3. `hvc #0` with x7 = 0: a guest's `hvc` is a system call, so an UnknownSyscall fault
//!    (number 0) with x0 = 42 and the SPSR of EL1h; moved on again;
//! 4. the guest enables its virtual GIC CPU interface (the GICV frame from the device
//!    untyped, mapped at [`GICV_IPA`]) and unmasks IRQs: the virtual IRQ the root injected
//!    with `ARMVCPUInjectIRQ` before the start is taken at the guest's EL1 vector (VBAR_EL1
//!    set through `ARMVCPUWriteReg`), which reads GICV_IAR and makes `smc #1`;
//! 5. moved on, it enables its virtual timer with a passed deadline: a VPPIEvent (IRQ 27),
//!    which the root acknowledges with `ARMVCPUAckVPPI`.
#![no_std]
#![no_main]

use root_tests::stop;
use sel4_abi::bootinfo::slots;
use sel4_abi::fault::FaultType;
use sel4_abi::ObjectKind;
use sel4_root::println;
use sel4_root::root::{Root, Sel4, CNODE, TCB};
use sel4_sys::invocation as inv;
use sel4_sys::syscall::{recv, reply_recv};
use sel4_sys::{get_mr, CapRights, MessageInfo, ARCH};

/// Where the guest's code frame is in its IPA space.
const GUEST_IPA: u64 = 0x4000_0000;
/// Where the root maps the same frame to write the code.
const ROOT_WINDOW: u64 = 0x3000_0000;
/// An IPA with nothing mapped (the guest's load from it faults).
const HOLE_IPA: u64 = 0x1234_0000;
/// `seL4_VCPUReg_TPIDR_EL1`.
const VCPU_TPIDR_EL1: u64 = 15;
/// What the root puts in the VCPU's TPIDR_EL1 before the guest starts.
const TPIDR_BEFORE: u64 = 0x5eed;
/// What the guest writes there.
const TPIDR_GUEST: u64 = 0xbeef;
/// EL1h with D, A, I, F masked.
const SPSR_EL1H: u64 = 0x3c5;

/// The guest's code (A64 encodings).
const GUEST_CODE: [u32; 15] = [
    0xd280_0540, // mov  x0, #42
    0xd538_d083, // mrs  x3, tpidr_el1
    0xd297_dde4, // mov  x4, #0xbeef
    0xd518_d084, // msr  tpidr_el1, x4
    0xd400_0003, // smc  #0            (IPA + 0x10)
    0xd2a2_4681, // mov  x1, #0x12340000
    0xf940_0022, // ldr  x2, [x1]      (IPA + 0x18)
    0xd400_0002, // hvc  #0            (IPA + 0x1c)
    0xd2a1_0021, // mov  x1, #0x08010000 (GICV_IPA)
    0x5280_0022, // mov  w2, #1
    0xb900_0022, // str  w2, [x1]      GICV_CTLR: group 0 on
    0x5280_1f02, // mov  w2, #0xf8
    0xb900_0422, // str  w2, [x1, #4]  GICV_PMR: let every priority through
    0xd503_42ff, // msr  daifclr, #2   unmask IRQs: the injected one is taken at once
    0x1400_0000, // b    .
];

/// The guest's EL1 vector table (VBAR_EL1), 2 KiB aligned.
const VECTORS: u64 = 0x800;
/// Its IRQ entry (current EL with SP_ELx: +0x280): acknowledge, report through `smc #1`.
const IRQ_ENTRY: [u32; 6] = [
    0xb940_0c25, // ldr  w5, [x1, #0xc] GICV_IAR: the interrupt taken
    0xd400_0023, // smc  #1
    0xd51b_e35f, // msr  cntv_cval_el0, xzr   the virtual timer's deadline has passed …
    0xd280_0028, // mov  x8, #1
    0xd51b_e328, // msr  cntv_ctl_el0, x8     … so enabling it fires it (IRQ 27)
    0x1400_0000, // b    .
];
/// Where the guest sees the GICV frame (its GIC CPU interface).
const GICV_IPA: u64 = 0x0801_0000;
/// The GICv2 virtual CPU interface QEMU `virt` has with `virtualization=on`.
const GICV_PADDR: u64 = 0x0804_0000;
/// `seL4_VCPUReg_VBAR`.
const VCPU_VBAR: u64 = 14;
/// The virtual interrupt injected into list register 0.
const VIRQ: u16 = 27;

fn fail(what: &str, e: impl core::fmt::Display) -> ! {
    println!("vcpu: ERROR: {}: {}", what, e);
    stop()
}

/// Entered from sel4-root's `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(bootinfo: u64) -> ! {
    let bi = sel4_root::rt::boot_info(bootinfo);
    let mut root = match Root::new(bi, ARCH, Sel4) {
        Ok(r) => r,
        Err(e) => fail("boot info", e),
    };
    let (ep, reply, tcb) = match setup(&mut root, bi) {
        Ok(x) => x,
        Err(e) => fail("setting up the guest", e),
    };
    let (info, _) = recv(ep, reply);
    let hsr = get_mr(0);
    if info.label() != FaultType::VcpuFault as u64 || info.length() != 1 || hsr >> 26 != 0x17 {
        fail_fault("the smc", info, hsr);
    }
    let regs = read_regs(&mut root, tcb);
    let tpidr_now = match inv::vcpu_read_reg(ARCH, VCPU_TPIDR_EL1) {
        Ok(read) => match root.invoke(vcpu_cap(), &read) {
            Ok(_) => get_mr(0),
            Err(e) => fail("VCPU ReadRegs", e),
        },
        Err(_) => fail("VCPU ReadRegs", "no such method"),
    };
    if regs[3] != 42 || regs[6] != TPIDR_BEFORE || tpidr_now != TPIDR_GUEST {
        println!(
            "vcpu: ERROR: after the smc: x0 {} (want 42), x3 {:#x} (want {:#x}), VCPU TPIDR_EL1 {:#x} (want {:#x})",
            regs[3], regs[6], TPIDR_BEFORE, tpidr_now, TPIDR_GUEST
        );
        stop()
    }
    println!(
        "vcpu: guest smc -> VCPUFault (label {}) HSR {:#x} (EC 0x17) at pc {:#x}; guest x0 = {}, x3 = {:#x} (TPIDR_EL1 loaded from the VCPU); VCPU TPIDR_EL1 now {:#x} (saved from the guest)",
        info.label(),
        hsr,
        regs[0],
        regs[3],
        regs[6],
        tpidr_now
    );
    step_over(&mut root, tcb, regs[0]);
    let (info, _) = reply_recv(ep, MessageInfo::new(0, 0, 0, 0), reply);
    if info.label() != FaultType::VmFault as u64 {
        fail_fault("the load from the hole", info, get_mr(0));
    }
    let (ip, addr) = (get_mr(0), get_mr(1));
    if addr != HOLE_IPA || ip != GUEST_IPA + 0x18 {
        fail_fault("the load from the hole (address or pc)", info, addr);
    }
    println!(
        "vcpu: guest load from an unmapped IPA -> VMFault (label {}) at IPA {:#x}, pc {:#x}",
        info.label(),
        addr,
        ip
    );
    step_over(&mut root, tcb, ip);
    let (info, _) = reply_recv(ep, MessageInfo::new(0, 0, 0, 0), reply);
    if info.label() != FaultType::UnknownSyscall as u64 {
        fail_fault("the hvc", info, get_mr(0));
    }
    let hvc_pc = get_mr(8);
    println!(
        "vcpu: guest hvc #0 -> UnknownSyscall (label {}) number {}, x0 = {}, pc {:#x}, spsr {:#x}",
        info.label(),
        get_mr(12),
        get_mr(0),
        hvc_pc,
        get_mr(11)
    );
    step_over(&mut root, tcb, hvc_pc);
    let (info, _) = reply_recv(ep, MessageInfo::new(0, 0, 0, 0), reply);
    let hsr = get_mr(0);
    if info.label() != FaultType::VcpuFault as u64 || hsr != 0x5e00_0001 {
        fail_fault("the smc #1 of the guest's IRQ vector", info, hsr);
    }
    let regs = read_regs(&mut root, tcb);
    println!(
        "vcpu: guest enabled its GICV interface, took the injected virtual IRQ at its EL1 vector (pc {:#x}) and acknowledged IRQ {} (GICV_IAR)",
        regs[0],
        regs[8]
    );
    step_over(&mut root, tcb, regs[0]);
    let (info, _) = reply_recv(ep, MessageInfo::new(0, 0, 0, 0), reply);
    if info.label() != FaultType::VppiEvent as u64 || info.length() != 1 || get_mr(0) != 27 {
        fail_fault("the guest's virtual timer", info, get_mr(0));
    }
    println!(
        "vcpu: guest's virtual timer fired -> VPPIEvent (label {}) IRQ {}",
        info.label(),
        get_mr(0)
    );
    match inv::vcpu_ack_vppi(ARCH, 27).map(|ack| root.invoke(vcpu_cap(), &ack)) {
        Ok(Ok(_)) => println!("vcpu: AckVPPI(27) accepted"),
        _ => fail("AckVPPI(27)", "refused"),
    }
    println!("vcpu: done");
    stop()
}

fn fail_fault(what: &str, info: MessageInfo, mr0: u64) -> ! {
    println!(
        "vcpu: ERROR: fault handler got label {} length {} MR0 {:#x} for {}",
        info.label(),
        info.length(),
        mr0,
        what
    );
    stop()
}

/// The VCPU's slot (set by [`setup`]).
static VCPU: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

fn vcpu_cap() -> u64 {
    VCPU.load(core::sync::atomic::Ordering::Relaxed)
}

/// The first nine `seL4_UserContext` words of `tcb`: pc, sp, spsr, x0 … x5.
fn read_regs(root: &mut Root<Sel4>, tcb: u64) -> [u64; 9] {
    if let Err(e) = root.invoke(tcb, &inv::tcb_read_registers(false, 0, 9)) {
        fail("TCB ReadRegisters", e)
    }
    core::array::from_fn(get_mr)
}

/// Move the guest's PC from `pc` to the next instruction (the reply resumes it there).
fn step_over(root: &mut Root<Sel4>, tcb: u64, pc: u64) {
    if let Err(e) = root.invoke(tcb, &inv::tcb_write_registers(false, 0, &[pc + 4])) {
        fail("TCB WriteRegisters", e)
    }
}

/// Creates the guest: returns (fault endpoint, reply object, TCB).
fn setup(
    root: &mut Root<Sel4>,
    bi: &sel4_abi::BootInfo,
) -> Result<(u64, u64, u64), sel4_root::error::RootError> {
    use sel4_root::error::RootError::NoSuchMethod;
    let ep = root.retype(ObjectKind::Endpoint, 0, 1)?;
    let reply = root.retype(ObjectKind::Reply, 0, 1)?;
    let vspace = root.retype(ObjectKind::VSpace, 0, 1)?;
    let assign = inv::asid_pool_assign(ARCH, vspace).map_err(|_| NoSuchMethod)?;
    root.invoke(slots::INIT_THREAD_ASID_POOL, &assign)?;
    let frame = root.retype(ObjectKind::Frame { size_bits: 12 }, 0, 1)?;
    root.map_frame(frame, ROOT_WINDOW, CapRights::READ_WRITE)?;
    for (i, w) in GUEST_CODE.iter().enumerate() {
        // SAFETY: ROOT_WINDOW is the 4 KiB frame just mapped read-write in this VSpace, and
        // nothing else refers to it; the code is 36 bytes.
        unsafe { core::ptr::write_volatile((ROOT_WINDOW as *mut u32).add(i), *w) };
    }
    for (i, w) in IRQ_ENTRY.iter().enumerate() {
        let at = (ROOT_WINDOW + VECTORS + 0x280) as *mut u32;
        // SAFETY: as above; the IRQ entry is 12 bytes at offset 0xa80 of the frame.
        unsafe { core::ptr::write_volatile(at.add(i), *w) };
    }
    let copy = root.slots.alloc()?;
    root.invoke(
        CNODE,
        &inv::cnode_copy(copy, 64, CNODE, frame, 64, CapRights::ALL),
    )?;
    root.map_frame_in(vspace, copy, GUEST_IPA, CapRights::READ_WRITE)?;
    // The GICV frame, from the device untyped that starts with it.
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let Some(i) = bi.untyped_list[..n]
        .iter()
        .position(|u| u.paddr == GICV_PADDR && u.is_device == 1)
    else {
        return Err(sel4_root::error::RootError::Unexpected {
            what: "device untyped at the GICV address",
            got: 0,
            want: GICV_PADDR,
        });
    };
    let gicv = root.slots.alloc()?;
    let frame_type = sel4_sys::abi::object_type(ARCH, ObjectKind::Frame { size_bits: 12 });
    let retype = inv::untyped_retype(frame_type.ok_or(NoSuchMethod)?, 0, CNODE, 0, 0, gicv, 1);
    root.invoke(bi.untyped.start + i as u64, &retype)?;
    root.map_frame_in(vspace, gicv, GICV_IPA, CapRights::READ_WRITE)?;
    let tcb = root.retype(ObjectKind::Tcb, 0, 1)?;
    let sc = root.retype(ObjectKind::SchedContext, 8, 1)?;
    root.invoke(tcb, &inv::tcb_configure(CNODE, 0, vspace, 0, 0, 0))?;
    let ctl = root.sched_control;
    root.invoke(
        ctl,
        &inv::sched_control_configure_flags(sc, 5_000, 5_000, 0, 0, 0),
    )?;
    root.invoke(tcb, &inv::tcb_set_sched_params(TCB, 254, 254, sc, ep))?;
    let vcpu = root.retype(ObjectKind::ArmVcpu, 0, 1)?;
    VCPU.store(vcpu, core::sync::atomic::Ordering::Relaxed);
    let bind = inv::vcpu_set_tcb(ARCH, tcb).map_err(|_| NoSuchMethod)?;
    root.invoke(vcpu, &bind)?;
    let set = inv::vcpu_write_reg(ARCH, VCPU_TPIDR_EL1, TPIDR_BEFORE).map_err(|_| NoSuchMethod)?;
    root.invoke(vcpu, &set)?;
    // A virtual interrupt in list register 0 (the guest takes it once it has enabled its
    // GICV interface and unmasked IRQs), and one into a list register that does not exist.
    let vbar =
        inv::vcpu_write_reg(ARCH, VCPU_VBAR, GUEST_IPA + VECTORS).map_err(|_| NoSuchMethod)?;
    root.invoke(vcpu, &vbar)?;
    let lr = inv::vcpu_inject_irq(ARCH, VIRQ, 0, 0, 0).map_err(|_| NoSuchMethod)?;
    root.invoke(vcpu, &lr)?;
    let bad = inv::vcpu_inject_irq(ARCH, VIRQ, 0, 0, 4).map_err(|_| NoSuchMethod)?;
    match root.invoke(vcpu, &bad) {
        Err(sel4_root::error::RootError::Kernel { error, .. }) => {
            println!(
                "vcpu: InjectIRQ into list register 0 accepted, into list register 4: {:?}",
                error
            )
        }
        other => println!(
            "vcpu: ERROR: InjectIRQ into list register 4 gave {:?}",
            other.map(|_| ())
        ),
    }
    // pc, sp, spsr: start at the code in EL1h.
    root.invoke(
        tcb,
        &inv::tcb_write_registers(true, 0, &[GUEST_IPA, 0, SPSR_EL1H]),
    )?;
    Ok((ep, reply, tcb))
}
