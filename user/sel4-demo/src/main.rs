//! `sel4-demo`: the root task of the kernel-core boot test. Every step prints one line; any
//! unexpected result prints `sel4-demo: FAILED <step>: <error>` and halts.
//!
//! Steps: boot info; retype a TCB, two endpoints (IPC and fault), a notification, a reply
//! object, a scheduling context, a CNode (the child's CSpace) and stack/IPC-buffer frames;
//! three deliberate errors (retype into an occupied slot → DeleteFirst, retype with an
//! unknown object type → InvalidArgument, Mint of a badged cap → IllegalOperation); SchedControl_ConfigureFlags; badged caps minted into the child's CNode
//! and a badged fault-endpoint cap; frames mapped (page tables created on demand); the child
//! configured in its own CSpace (Configure, SetSpace, SetSchedParams with the fault endpoint,
//! SetIPCBuffer) and started with WriteRegisters(resume). The child Calls with two extra caps
//! (a notification cap, transferred, and its own endpoint cap, unwrapped to its badge), the
//! root checks badge, extraCaps, capsUnwrapped and that the received cap works, replies with
//! ReplyRecv(6 × 7) on the endpoint, and the child's signal on the notification bound to the
//! root TCB ends that receive with the notification badge; then the child
//! reads an unmapped address and the root receives the VMFault on the fault endpoint.
//!
//! Finally seL4's restart PC (FaultIP) against the resume PC (NextIP): the faulted child is
//! started afresh with WriteRegisters(resume) and makes an unknown syscall, whose FaultIP
//! must be the syscall instruction; a reply with that FaultIP makes it execute the syscall
//! again, a reply with FaultIP past it resumes it after the syscall; it then blocks in a
//! Call, where ReadRegisters must report the syscall instruction as its PC, and a
//! WriteRegisters(resume) must make it run from the written PC.
//!
//! Last, the extra boot info: the chunks seL4 gives on the architecture (device tree on
//! AArch64 and RISC-V; ACPI RSDP and TSC frequency on x86_64, with the firmware tables and
//! the BIOS area reachable through device untypeds).
#![no_std]
#![no_main]

use sel4_abi::bootinfo::{extra_id, x86_mmap};
use sel4_abi::{fault, Arch, Error, FaultType, ObjectKind};
use sel4_root::error::{expect_eq, expect_error, ErrorName, RootError};
use sel4_root::root::{Root, Sel4, CNODE, TCB, VSPACE};
use sel4_root::rt::{read_bytes, read_word, text_range, ThreadIpc};
use sel4_root::{bootinfo, println, Steps};
use sel4_sys::arch::SYSCALL_INSTRUCTION;
use sel4_sys::message::cnode_cap_data;
use sel4_sys::{ipc_buffer, ops, syscall, CapRights, MessageInfo, ARCH};

/// log2 of the child CNode's slot count.
const CHILD_CNODE_BITS: u64 = 4;
/// Guard size that makes the child's CNode resolve a whole 64-bit CPtr.
const CHILD_GUARD_BITS: u64 = 64 - CHILD_CNODE_BITS;
/// Child CSpace: badged endpoint (Write + Grant) it Calls on.
const CHILD_EP: u64 = 1;
/// Child CSpace: badged notification (Write) it signals.
const CHILD_NTFN: u64 = 2;
/// Child CSpace: another badged notification cap, granted to the root in the Call.
const CHILD_NTFN_GRANT: u64 = 3;
/// Badges.
const EP_BADGE: u64 = 0x61;
const NTFN_BADGE: u64 = 0x4;
const GRANT_BADGE: u64 = 0x20;
const FAULT_BADGE: u64 = 0xfa;
const SC_BADGE: u64 = 0x5c;
/// Label of the child's request.
const REQUEST_LABEL: u64 = 0x77;
/// Where the child's stack (4 pages), a guard page and its IPC buffer go.
const CHILD_BASE: u64 = 0x1000_0000;
const CHILD_STACK_PAGES: u64 = 4;
/// The address the child reads to fault (mapped nowhere).
const FAULT_ADDR: u64 = 0xdead_0000;
/// An object type number no architecture has.
const BAD_OBJECT_TYPE: u64 = 200;
/// A syscall number seL4 does not have (raises an UnknownSyscall fault).
const UNKNOWN_SYSCALL: u64 = 0x5e14;
/// Label of the child's Call after it resumed past the unknown syscall.
const RESUMED_LABEL: u64 = 0x78;
/// Child priority (below the root task's 255, so the root runs until it blocks).
const CHILD_PRIO: u64 = 100;
/// SC budget and period (µs): round-robin.
const BUDGET_US: u64 = 5000;

/// Whether the instruction at `addr` is this architecture's syscall instruction.
fn is_syscall_instruction(addr: u64) -> bool {
    read_bytes::<4>(addr).starts_with(SYSCALL_INSTRUCTION)
}

/// FAILED `what` unless `pc` is in the program text at a syscall instruction.
fn expect_syscall_instruction(what: &'static str, pc: u64) {
    let (lo, hi) = text_range();
    if pc < lo || pc >= hi || !is_syscall_instruction(pc) {
        STEPS.fail(
            what,
            RootError::Unexpected {
                what: "pc is not a syscall instruction",
                got: pc,
                want: 0,
            },
        );
    }
}

/// Check a received UnknownSyscall fault from the child and return its FaultIP.
fn unknown_syscall_fault(info: MessageInfo, badge: u64) -> u64 {
    STEPS.step(
        "unknown syscall label",
        expect_eq(
            "fault label",
            info.label(),
            FaultType::UnknownSyscall as u64,
        ),
    );
    STEPS.step(
        "unknown syscall badge",
        expect_eq("fault badge", badge, FAULT_BADGE),
    );
    STEPS.step(
        "unknown syscall length",
        expect_eq(
            "fault length",
            info.length(),
            fault::unknown_syscall_length(ARCH) as u64,
        ),
    );
    STEPS.step(
        "unknown syscall number",
        expect_eq(
            "syscall number",
            sel4_sys::get_mr(fault::unknown_syscall_syscall_index(ARCH)),
            UNKNOWN_SYSCALL,
        ),
    );
    let ip = sel4_sys::get_mr(fault::unknown_syscall_fault_ip_index(ARCH));
    expect_syscall_instruction("unknown syscall FaultIP", ip);
    ip
}


/// Reports failed steps as `sel4-demo: FAILED <step>: <error>`.
const STEPS: Steps = Steps("sel4-demo");

/// Entered from `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(bootinfo_addr: u64) -> ! {
    println!("sel4-demo: start ({})", ARCH.name());
    let bi = sel4_root::rt::boot_info(bootinfo_addr);

    // 1. Boot info.
    let mut root = STEPS.step("bootinfo", Root::new(bi, ARCH, Sel4));
    println!(
        "sel4-demo: bootinfo: nodes {}, empty slots {:#x}..{:#x}, untypeds {} ({} device), ram bytes {:#x}",
        bi.num_nodes,
        bi.empty.start,
        bi.empty.end,
        bootinfo::untyped_count(bi),
        bootinfo::device_untyped_count(bi),
        bootinfo::ram_bytes(bi)
    );
    for (i, (slot, d)) in bootinfo::untypeds(bi).take(4).enumerate() {
        println!(
            "sel4-demo: untyped {}: slot {:#x} paddr {:#x} size_bits {} device {}",
            i, slot, d.paddr, d.size_bits, d.is_device
        );
    }
    STEPS.step("bootinfo", expect_eq("numNodes", bi.num_nodes, 1));

    // 2. Objects.
    let tcb = STEPS.step("retype tcb", root.retype(ObjectKind::Tcb, 0, 1));
    let ep = STEPS.step("retype endpoints", root.retype(ObjectKind::Endpoint, 0, 2));
    let fault_ep = ep + 1;
    let ntfn = STEPS.step(
        "retype notification",
        root.retype(ObjectKind::Notification, 0, 1),
    );
    let reply = STEPS.step("retype reply", root.retype(ObjectKind::Reply, 0, 1));
    let sc = STEPS.step(
        "retype sched context",
        root.retype(ObjectKind::SchedContext, 8, 1),
    );
    let child_cnode = STEPS.step(
        "retype cnode",
        root.retype(ObjectKind::CNode, CHILD_CNODE_BITS, 1),
    );
    println!(
        "sel4-demo: retype ok: tcb, 2 endpoints, notification, reply, sched context, cnode ({} slots)",
        1u64 << CHILD_CNODE_BITS
    );

    // 3. Deliberate error: retype into an occupied slot.
    STEPS.step(
        "retype into occupied slot",
        expect_error(
            root.retype_into(ObjectKind::Notification, tcb),
            Error::DeleteFirst,
        ),
    );
    println!(
        "sel4-demo: retype into occupied slot: {} as expected",
        ErrorName(Error::DeleteFirst)
    );
    let spare_ut = bi.untyped.start;
    let scratch = STEPS.step("alloc slot", root.slots.alloc().map_err(RootError::from));
    STEPS.step(
        "retype with a bad object type",
        expect_error(
            ops::untyped_retype(spare_ut, BAD_OBJECT_TYPE, 0, CNODE, 0, 0, scratch, 1)
                .map_err(RootError::from),
            Error::InvalidArgument,
        ),
    );
    println!(
        "sel4-demo: retype with object type {}: {} as expected",
        BAD_OBJECT_TYPE,
        ErrorName(Error::InvalidArgument)
    );

    // 4. Scheduling context.
    STEPS.step(
        "sched control configure",
        ops::sched_control_configure_flags(
            root.sched_control,
            sc,
            BUDGET_US,
            BUDGET_US,
            0,
            SC_BADGE,
            0,
        )
        .map_err(RootError::from),
    );
    println!(
        "sel4-demo: sched context configured: budget {} us, period {} us",
        BUDGET_US, BUDGET_US
    );

    // 5. Caps: badged endpoint (Write + Grant) and notifications into the child's CNode, a
    //    badged fault-endpoint cap for the TCB.
    let write_grant = CapRights::new(false, true, false, true);
    let depth = CHILD_CNODE_BITS as u8;
    STEPS.step(
        "mint endpoint",
        root.mint(child_cnode, CHILD_EP, depth, ep, write_grant, EP_BADGE),
    );
    STEPS.step(
        "mint notification",
        root.mint(
            child_cnode,
            CHILD_NTFN,
            depth,
            ntfn,
            CapRights::WRITE,
            NTFN_BADGE,
        ),
    );
    STEPS.step(
        "mint granted notification",
        root.mint(
            child_cnode,
            CHILD_NTFN_GRANT,
            depth,
            ntfn,
            CapRights::WRITE,
            GRANT_BADGE,
        ),
    );
    let fault_cap = STEPS.step("alloc slot", root.slots.alloc().map_err(RootError::from));
    STEPS.step(
        "mint fault endpoint",
        root.mint(CNODE, fault_cap, 64, fault_ep, write_grant, FAULT_BADGE),
    );
    println!(
        "sel4-demo: caps minted: endpoint badge {:#x}, notification badges {:#x} {:#x}, fault endpoint badge {:#x}",
        EP_BADGE, NTFN_BADGE, GRANT_BADGE, FAULT_BADGE
    );

    // 6. Deliberate error: Mint of an already badged cap.
    let spare = STEPS.step("alloc slot", root.slots.alloc().map_err(RootError::from));
    STEPS.step(
        "mint badged cap",
        expect_error(
            ops::cnode_mint(
                CNODE,
                spare,
                64,
                child_cnode,
                CHILD_EP,
                depth,
                CapRights::ALL,
                0x99,
            )
            .map_err(RootError::from),
            Error::IllegalOperation,
        ),
    );
    println!(
        "sel4-demo: mint of a badged cap: {} as expected",
        ErrorName(Error::IllegalOperation)
    );

    // 7. Child stack and IPC buffer frames, mapped in the root VSpace.
    let mem = STEPS.step(
        "map child memory",
        root.thread_memory(CHILD_BASE, CHILD_STACK_PAGES),
    );
    println!(
        "sel4-demo: child memory mapped: stack {:#x}..{:#x}, ipc buffer {:#x} ({} page tables created)",
        CHILD_BASE, mem.stack_top, mem.ipc_vaddr, root.tables_created
    );

    // 8. Child thread in its own CSpace, sharing the root VSpace.
    let cspace_data = cnode_cap_data(0, CHILD_GUARD_BITS);
    STEPS.step(
        "tcb configure",
        root.configure_thread(tcb, child_cnode, cspace_data, &mem),
    );
    STEPS.step(
        "tcb set space",
        ops::tcb_set_space(tcb, fault_cap, child_cnode, cspace_data, VSPACE, 0)
            .map_err(RootError::from),
    );
    STEPS.step(
        "tcb set sched params",
        ops::tcb_set_sched_params(tcb, TCB, CHILD_PRIO, CHILD_PRIO, sc, fault_cap)
            .map_err(RootError::from),
    );
    STEPS.step(
        "tcb set ipc buffer",
        ops::tcb_set_ipc_buffer(tcb, mem.ipc_vaddr, mem.ipc_frame).map_err(RootError::from),
    );
    println!(
        "sel4-demo: child configured: cspace {} slots, priority {}, fault endpoint set",
        1u64 << CHILD_CNODE_BITS,
        CHILD_PRIO
    );
    STEPS.step(
        "start child",
        root.start_thread(tcb, child_main, mem.stack_top, mem.ipc_vaddr),
    );
    println!("sel4-demo: child started");

    // Bind the notification to the root TCB (a signal then also ends an endpoint Recv).
    STEPS.step(
        "bind notification",
        ops::tcb_bind_notification(TCB, ntfn).map_err(RootError::from),
    );
    println!("sel4-demo: notification bound to the root TCB");

    // 9. The child's Call: badge, extra caps, unwrapped endpoint cap, transferred cap.
    let recv_slot = spare;
    ipc_buffer::set_receive_slot(CNODE, recv_slot, 64);
    let (info, badge) = syscall::recv(ep, reply);
    let (a, b) = (sel4_sys::get_mr(0), sel4_sys::get_mr(1));
    let unwrapped = ipc_buffer::get_cap(1);
    println!(
        "sel4-demo: call received: badge {:#x}, label {:#x}, length {}, extraCaps {}, capsUnwrapped {:#x}, unwrapped badge {:#x}, args {} {}",
        badge,
        info.label(),
        info.length(),
        info.extra_caps(),
        info.caps_unwrapped(),
        unwrapped,
        a,
        b
    );
    STEPS.step("call badge", expect_eq("badge", badge, EP_BADGE));
    STEPS.step(
        "call label",
        expect_eq("label", info.label(), REQUEST_LABEL),
    );
    STEPS.step("call length", expect_eq("length", info.length(), 2));
    STEPS.step(
        "call extraCaps",
        expect_eq("extraCaps", info.extra_caps(), 2),
    );
    STEPS.step(
        "call capsUnwrapped",
        expect_eq("capsUnwrapped", info.caps_unwrapped(), 0b10),
    );
    STEPS.step(
        "call unwrapped badge",
        expect_eq("caps_or_badges[1]", unwrapped, EP_BADGE),
    );
    // The transferred cap is a notification cap with badge GRANT_BADGE: signal through it.
    syscall::signal(recv_slot);
    let (_, polled) = syscall::nb_wait(ntfn);
    STEPS.step(
        "granted cap",
        expect_eq("badge seen through the granted cap", polled, GRANT_BADGE),
    );
    println!(
        "sel4-demo: granted cap works: signal through it delivered badge {:#x}",
        polled
    );

    // 10. Reply with the answer and wait again on the endpoint: the child's signal on the
    //     notification bound to this thread ends that wait with the notification word.
    let answer = a.wrapping_mul(b);
    println!("sel4-demo: replying {}", answer);
    sel4_sys::set_mr(0, answer);
    let (_, word) = syscall::reply_recv(ep, MessageInfo::new(0, 0, 0, 1), reply);
    println!("sel4-demo: notification received: badge {:#x}", word);
    STEPS.step(
        "notification",
        expect_eq("notification badge", word, NTFN_BADGE),
    );

    // 11. The child's fault.
    let (info, badge) = syscall::recv(fault_ep, reply);
    let (ip, addr, prefetch) = (
        sel4_sys::get_mr(0),
        sel4_sys::get_mr(1),
        sel4_sys::get_mr(2),
    );
    println!(
        "sel4-demo: fault received: label {} (VMFault {}), badge {:#x}, addr {:#x}, ip {:#x}, prefetch {}",
        info.label(),
        FaultType::VmFault as u64,
        badge,
        addr,
        ip,
        prefetch
    );
    STEPS.step(
        "fault label",
        expect_eq("fault label", info.label(), FaultType::VmFault as u64),
    );
    STEPS.step("fault badge", expect_eq("fault badge", badge, FAULT_BADGE));
    STEPS.step("fault addr", expect_eq("fault address", addr, FAULT_ADDR));
    STEPS.step("fault prefetch", expect_eq("prefetch flag", prefetch, 0));
    let (lo, hi) = text_range();
    if ip < lo || ip >= hi {
        STEPS.fail(
            "fault ip",
            RootError::Unexpected {
                what: "fault ip outside the program text",
                got: ip,
                want: lo,
            },
        );
    }
    println!("sel4-demo: fault ip is in the program text");

    // 12. Restart PCs. The child waits for the reply to its VM fault: start it afresh at
    //     `child_restarted` (WriteRegisters with resume); it makes an unknown syscall.
    STEPS.step(
        "restart child",
        root.start_thread(tcb, child_restarted, mem.stack_top, mem.ipc_vaddr),
    );
    let (info, badge) = syscall::recv(fault_ep, reply);
    let fault_ip = unknown_syscall_fault(info, badge);
    println!("sel4-demo: unknown syscall fault: FaultIP is the syscall instruction");
    // Reply with the message unchanged: the child executes the syscall again.
    let len = fault::unknown_syscall_length(ARCH) as u64;
    let (info, badge) = syscall::reply_recv(fault_ep, MessageInfo::new(0, 0, 0, len), reply);
    let again = unknown_syscall_fault(info, badge);
    STEPS.step(
        "syscall re-executed",
        expect_eq("FaultIP of the re-executed syscall", again, fault_ip),
    );
    println!("sel4-demo: reply with FaultIP unchanged: the syscall ran again");
    // Reply with FaultIP past the instruction: the child continues after it, and Calls.
    sel4_sys::set_mr(
        fault::unknown_syscall_fault_ip_index(ARCH),
        fault_ip + SYSCALL_INSTRUCTION.len() as u64,
    );
    let (info, badge) = syscall::reply_recv(ep, MessageInfo::new(0, 0, 0, len), reply);
    STEPS.step("resumed call badge", expect_eq("badge", badge, EP_BADGE));
    STEPS.step(
        "resumed call label",
        expect_eq("label", info.label(), RESUMED_LABEL),
    );
    println!("sel4-demo: reply with FaultIP past the syscall: the child went on after it");
    // The child is blocked in its Call: ReadRegisters reports that syscall instruction.
    let mut pc = [0u64; 1];
    STEPS.step(
        "read registers",
        ops::tcb_read_registers(tcb, false, 0, &mut pc).map_err(RootError::from),
    );
    expect_syscall_instruction("ReadRegisters pc of a thread blocked in a Call", pc[0]);
    println!(
        "sel4-demo: ReadRegisters of the child blocked in a Call: pc is the syscall instruction"
    );
    // WriteRegisters(resume) while it is blocked in the Call: it runs from the written pc.
    STEPS.step(
        "rewrite child",
        root.start_thread(tcb, child_rewritten, mem.stack_top, mem.ipc_vaddr),
    );
    let (_, word) = syscall::recv(ep, reply);
    STEPS.step(
        "rewritten child signal",
        expect_eq("notification badge", word, NTFN_BADGE),
    );
    println!(
        "sel4-demo: WriteRegisters of the child blocked in a Call: it ran from the written pc"
    );

    // 13. The kernel's configuration: a plain image runs with seL4's defaults, so
    //     CONFIG_NUM_DOMAINS is 1: DomainSet_Set accepts domain 0 only.
    let domain_cap = sel4_abi::bootinfo::slots::DOMAIN;
    STEPS.step(
        "domain beyond CONFIG_NUM_DOMAINS",
        expect_error(
            ops::domain_set_set(domain_cap, 1, tcb).map_err(RootError::from),
            Error::InvalidArgument,
        ),
    );
    STEPS.step(
        "domain 0",
        ops::domain_set_set(domain_cap, 0, tcb).map_err(RootError::from),
    );
    println!(
        "sel4-demo: CONFIG_NUM_DOMAINS is 1: DomainSet_Set(1) {} as expected, DomainSet_Set(0) ok",
        ErrorName(Error::InvalidArgument)
    );

    // 14. The extra boot info (the page after the boot info): seL4's chunks, each a header
    //     {id, length including the header}.
    let detail = STEPS.step(
        "extra bootinfo",
        check_extra_bootinfo(bi, sel4_root::rt::extra_boot_info(bootinfo_addr, bi)),
    );
    println!("sel4-demo: extra bootinfo as seL4 gives it: {}", detail);

    println!("sel4-demo: all steps passed");
    sel4_root::halt()
}

/// Whether a device untyped covers physical address `paddr`.
fn device_untyped_covers(bi: &sel4_abi::BootInfo, paddr: u64) -> bool {
    bootinfo::untypeds(bi).any(|(_, d)| {
        d.is_device != 0
            && d.paddr <= paddr
            && paddr - d.paddr < bootinfo::region_bytes(d.size_bits)
    })
}

/// Walk the extra boot info `extra` (the `extraLen` bytes after the boot info page) and check
/// what seL4 gives on this architecture: AArch64 and RISC-V the device tree (id 6) packed to
/// its own `totalsize`; x86_64, in seL4's order and packed back to back, the ACPI RSDP (id 3,
/// 36 bytes with a valid checksum, its RSDT and the BIOS area reachable through device
/// untypeds), the multiboot memory map (id 2, seL4's fixed 1220-byte chunk, whose RAM
/// entries cover the RAM untypeds) and the TSC frequency (id 5, a u32 of MHz). Returns a
/// one-line description.
fn check_extra_bootinfo(bi: &sel4_abi::BootInfo, extra: &[u8]) -> Result<&'static str, RootError> {
    let bad = |what: &'static str, got: u64, want: u64| RootError::Unexpected { what, got, want };
    let word = |o: usize| u64::from_le_bytes(extra[o..o + 8].try_into().unwrap_or([0; 8]));
    let u32_at = |o: usize| u32::from_le_bytes(extra[o..o + 4].try_into().unwrap_or([0; 4]));
    let (mut fdt, mut order, mut seen) = (false, [0u64; 3], 0);
    let mut at = 0;
    while at + 16 <= extra.len() {
        let (id, len) = (word(at), word(at + 8));
        if len < 16 || len > (extra.len() - at) as u64 {
            return Err(bad("extra bootinfo chunk length", len, (extra.len() - at) as u64));
        }
        if seen < order.len() {
            order[seen] = id;
        }
        seen += 1;
        let body = at + 16;
        match id {
            extra_id::FDT => {
                let h = &extra[body..body + 8];
                let magic = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
                let total = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as u64;
                expect_eq("FDT magic", magic as u64, 0xd00d_feed)?;
                expect_eq(
                    "FDT chunk length (packed totalsize + header)",
                    len,
                    total + 16,
                )?;
                fdt = true;
            }
            extra_id::X86_ACPI_RSDP => {
                expect_eq("RSDP chunk length", len, 16 + 36)?;
                let r = &extra[body..body + 20];
                expect_eq("RSDP signature", (&r[..8] == b"RSD PTR ") as u64, 1)?;
                let sum = r.iter().fold(0u8, |s, x| s.wrapping_add(*x));
                expect_eq("RSDP checksum", sum as u64, 0)?;
                let rsdt = u32::from_le_bytes([r[16], r[17], r[18], r[19]]) as u64;
                expect_eq(
                    "RSDT in a device untyped",
                    device_untyped_covers(bi, rsdt) as u64,
                    1,
                )?;
                expect_eq(
                    "BIOS area in a device untyped",
                    device_untyped_covers(bi, 0xe_0000) as u64,
                    1,
                )?;
            }
            extra_id::X86_MBMMAP => {
                expect_eq("memory map chunk length", len, x86_mmap::CHUNK_BYTES as u64)?;
                let n = u32_at(at + x86_mmap::LENGTH_OFFSET) as usize;
                if n == 0 || n % x86_mmap::ENTRY_BYTES != 0 || n > x86_mmap::ENTRIES_BYTES {
                    return Err(bad("memory map length", n as u64, x86_mmap::ENTRY_BYTES as u64));
                }
                let mut ram = 0u64;
                for e in (0..n).step_by(x86_mmap::ENTRY_BYTES) {
                    let e = at + x86_mmap::ENTRIES_OFFSET + e;
                    expect_eq("memory map entry size field", u32_at(e) as u64, 20)?;
                    if u32_at(e + 20) == x86_mmap::RAM_TYPE {
                        ram = ram.saturating_add(word(e + 12));
                    }
                }
                let untyped = bootinfo::ram_bytes(bi);
                if untyped == 0 || untyped > ram {
                    return Err(bad("RAM untyped bytes within the map's RAM", untyped, ram));
                }
            }
            extra_id::X86_TSC_FREQ => {
                expect_eq("TSC chunk length", len, 16 + 4)?;
                if u32_at(body) == 0 {
                    return Err(bad("TSC frequency (MHz)", 0, 1));
                }
            }
            _ => {}
        }
        at += len as usize;
    }
    expect_eq("chunks fill extraLen", at as u64, extra.len() as u64)?;
    match ARCH {
        Arch::Aarch64 | Arch::Riscv64 => {
            expect_eq("FDT chunk", fdt as u64, 1)?;
            Ok("the device tree, packed to its size")
        }
        Arch::X86_64 => {
            let want = [extra_id::X86_ACPI_RSDP, extra_id::X86_MBMMAP, extra_id::X86_TSC_FREQ];
            expect_eq("number of x86 chunks", seen as u64, 3)?;
            for (got, want) in order.iter().zip(want) {
                expect_eq("x86 chunk id in seL4's order", *got, want)?;
            }
            Ok("the ACPI RSDP (RSDT and BIOS area in device untypeds), the multiboot memory map (covering the RAM untypeds), the TSC frequency, in seL4's order")
        }
    }
}

/// The child, started afresh after its fault: an unknown syscall (the root replies twice),
/// then a Call that the root never answers.
extern "C" fn child_restarted(ipc: u64) -> ! {
    println!(
        "sel4-demo child: restarted at a written pc, making unknown syscall {:#x}",
        UNKNOWN_SYSCALL
    );
    let _ = sel4_sys::arch::raw(UNKNOWN_SYSCALL as i64, sel4_sys::arch::Regs::default());
    println!("sel4-demo child: resumed after the unknown syscall");
    let Some(t) = ThreadIpc::new(ipc) else {
        STEPS.fail(
            "child ipc buffer",
            RootError::Unexpected {
                what: "child IPC buffer address",
                got: ipc,
                want: 0,
            },
        )
    };
    let (info, _) = t.call(CHILD_EP, MessageInfo::new(RESUMED_LABEL, 0, 0, 0), [0; 4]);
    STEPS.fail(
        "child call returned",
        RootError::Unexpected {
            what: "a Call the root never answers returned with label",
            got: info.label(),
            want: 0,
        },
    )
}

/// The child once more, started by WriteRegisters while blocked in its Call.
extern "C" fn child_rewritten(ipc: u64) -> ! {
    println!("sel4-demo child: running from the pc written while it was blocked in a Call");
    if let Some(t) = ThreadIpc::new(ipc) {
        t.signal(CHILD_NTFN);
    }
    loop {
        syscall::yield_now();
    }
}

/// The child thread: runs in the root VSpace on its own stack, with `ipc` its IPC buffer.
extern "C" fn child_main(ipc: u64) -> ! {
    let Some(t) = ThreadIpc::new(ipc) else {
        STEPS.fail(
            "child ipc buffer",
            RootError::Unexpected {
                what: "child IPC buffer address",
                got: ipc,
                want: 0,
            },
        )
    };
    println!("sel4-demo child: running, calling with 6 and 7 and two caps");
    t.set_cap(0, CHILD_NTFN_GRANT);
    t.set_cap(1, CHILD_EP);
    let (info, mrs) = t.call(
        CHILD_EP,
        MessageInfo::new(REQUEST_LABEL, 0, 2, 2),
        [6, 7, 0, 0],
    );
    if info.label() != 0 || info.length() != 1 {
        STEPS.fail(
            "child reply",
            RootError::Unexpected {
                what: "reply label/length",
                got: info.0,
                want: 1,
            },
        );
    }
    println!("sel4-demo child: answer {}", mrs[0]);
    t.signal(CHILD_NTFN);
    println!(
        "sel4-demo child: reading unmapped address {:#x}",
        FAULT_ADDR
    );
    let v = read_word(FAULT_ADDR);
    STEPS.fail(
        "child fault",
        RootError::Unexpected {
            what: "read of an unmapped address returned",
            got: v,
            want: 0,
        },
    )
}
