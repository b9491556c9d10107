//! `sel4-x86_64`: an x86_64 root task written directly against the seL4 (MCS) API.
//!
//! It reads its boot info and prints the untyped list, takes an I/O port cap for COM1
//! (IOPortControl_Issue on slot 7, ports 0x3F8–0x3FF) and writes a line to the UART itself
//! (X86IOPortIn8 polls the line status, X86IOPortOut8 sends), retypes objects for two threads
//! in one CSpace, and starts them: a client Calls a server three times over a badged
//! endpoint, then signals a notification bound to the server, which ends the server's
//! endpoint receive; the server then reads an
//! unmapped address and the root task catches the VMFault on the fault endpoint.
#![no_std]
#![no_main]

use sel4_abi::{FaultType, ObjectKind};
use sel4_root::error::{expect_eq, RootError};
use sel4_root::root::{Root, Sel4, CNODE, COM1, TCB};
use sel4_root::rt::{read_word, ThreadIpc};
use sel4_root::{bootinfo, println, Steps};
use sel4_sys::message::cnode_cap_data;
use sel4_sys::{ops, syscall, CapRights, MessageInfo, ARCH};

/// Shared child CSpace (2^4 slots, guard 60 bits).
const CHILD_CNODE_BITS: u64 = 4;
const SERVER_EP: u64 = 1; // endpoint, Read
const SERVER_REPLY: u64 = 2; // reply object
const CLIENT_EP: u64 = 4; // endpoint, Write + Grant, badge CLIENT_BADGE
const CLIENT_NTFN: u64 = 5; // notification, Write, badge NTFN_BADGE
const CLIENT_PARK: u64 = 6; // a notification nobody signals, Read

const CLIENT_BADGE: u64 = 0xc1;
const NTFN_BADGE: u64 = 0x7;
const SERVER_FAULT_BADGE: u64 = 0xfa;
const CLIENT_FAULT_BADGE: u64 = 0xfb;
const SERVER_PRIO: u64 = 200;
const CLIENT_PRIO: u64 = 150;
const SERVER_BASE: u64 = 0x1000_0000;
const CLIENT_BASE: u64 = 0x1001_0000;
const FAULT_ADDR: u64 = 0xdead_0000;
const ROUNDS: u64 = 3;



/// Reports failed steps as `sel4-x86_64: FAILED <step>: <error>`.
const STEPS: Steps = Steps("sel4-x86_64");

/// Entered from `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(bootinfo_addr: u64) -> ! {
    println!("sel4-x86_64: start");
    let bi = sel4_root::rt::boot_info(bootinfo_addr);
    let mut root = STEPS.step("bootinfo", Root::new(bi, ARCH, Sel4));
    println!(
        "sel4-x86_64: bootinfo: nodes {}, empty slots {:#x}..{:#x}, ram bytes {:#x}",
        bi.num_nodes,
        bi.empty.start,
        bi.empty.end,
        bootinfo::ram_bytes(bi)
    );
    println!(
        "sel4-x86_64: untyped list ({} caps, {} device):",
        bootinfo::untyped_count(bi),
        bootinfo::device_untyped_count(bi)
    );
    for (slot, d) in bootinfo::untypeds(bi) {
        println!(
            "sel4-x86_64:   slot {:#x} paddr {:#014x} size_bits {} {}",
            slot,
            d.paddr,
            d.size_bits,
            if d.is_device != 0 { "device" } else { "ram" }
        );
    }

    // COM1 through an I/O port cap.
    let port = STEPS.step("ioport issue", root.issue_com1());
    println!(
        "sel4-x86_64: I/O port cap for {:#x}..{:#x} issued",
        COM1.0, COM1.1
    );
    STEPS.step(
        "com1 write",
        root.com1_write(
            port,
            "sel4-x86_64: this line went to COM1 through X86IOPortOut8\r\n",
        ),
    );
    let lsr = STEPS.step("com1 lsr", root.port_in8(port, COM1.0 + 5));
    println!("sel4-x86_64: COM1 line status {:#x}", lsr);

    // Objects for two threads.
    let tcbs = STEPS.step("retype tcbs", root.retype(ObjectKind::Tcb, 0, 2));
    let scs = STEPS.step("retype scs", root.retype(ObjectKind::SchedContext, 8, 2));
    let eps = STEPS.step("retype endpoints", root.retype(ObjectKind::Endpoint, 0, 2));
    let (ep, fault_ep) = (eps, eps + 1);
    let ntfns = STEPS.step(
        "retype notifications",
        root.retype(ObjectKind::Notification, 0, 2),
    );
    let (ntfn, park) = (ntfns, ntfns + 1);
    let replies = STEPS.step("retype replies", root.retype(ObjectKind::Reply, 0, 2));
    let (server_reply, root_reply) = (replies, replies + 1);
    let cnode = STEPS.step(
        "retype cnode",
        root.retype(ObjectKind::CNode, CHILD_CNODE_BITS, 1),
    );
    println!("sel4-x86_64: retyped 2 tcbs, 2 sched contexts, 2 endpoints, 2 notifications, 2 replies, 1 cnode");

    let d = CHILD_CNODE_BITS as u8;
    let write_grant = CapRights::new(false, true, false, true);
    STEPS.step(
        "mint",
        root.mint(cnode, SERVER_EP, d, ep, CapRights::READ, 0),
    );
    STEPS.step(
        "mint",
        root.mint(cnode, SERVER_REPLY, d, server_reply, CapRights::ALL, 0),
    );
    STEPS.step(
        "mint",
        root.mint(cnode, CLIENT_EP, d, ep, write_grant, CLIENT_BADGE),
    );
    STEPS.step(
        "mint",
        root.mint(cnode, CLIENT_NTFN, d, ntfn, CapRights::WRITE, NTFN_BADGE),
    );
    STEPS.step(
        "mint",
        root.mint(cnode, CLIENT_PARK, d, park, CapRights::READ, 0),
    );
    let fault_caps = STEPS.step(
        "alloc slots",
        root.slots.alloc_range(2).map_err(RootError::from),
    );
    STEPS.step(
        "mint",
        root.mint(
            CNODE,
            fault_caps,
            64,
            fault_ep,
            write_grant,
            SERVER_FAULT_BADGE,
        ),
    );
    STEPS.step(
        "mint",
        root.mint(
            CNODE,
            fault_caps + 1,
            64,
            fault_ep,
            write_grant,
            CLIENT_FAULT_BADGE,
        ),
    );

    let threads: [(&str, u64, u64, u64, extern "C" fn(u64) -> !); 2] = [
        (
            "server",
            SERVER_BASE,
            SERVER_PRIO,
            SERVER_FAULT_BADGE,
            server_main,
        ),
        (
            "client",
            CLIENT_BASE,
            CLIENT_PRIO,
            CLIENT_FAULT_BADGE,
            client_main,
        ),
    ];
    let cspace_data = cnode_cap_data(0, 64 - CHILD_CNODE_BITS);
    for (i, (name, base, prio, _, entry)) in threads.iter().enumerate() {
        let (tcb, sc, fault_cap) = (tcbs + i as u64, scs + i as u64, fault_caps + i as u64);
        let mem = STEPS.step("thread memory", root.thread_memory(*base, 4));
        if i == 0 {
            // The server's notification: a signal also ends its endpoint receive.
            STEPS.step(
                "bind notification",
                ops::tcb_bind_notification(tcb, ntfn).map_err(RootError::from),
            );
        }
        STEPS.step(
            "sched context",
            ops::sched_control_configure_flags(root.sched_control, sc, 5000, 5000, 0, i as u64, 0)
                .map_err(RootError::from),
        );
        STEPS.step(
            "tcb configure",
            root.configure_thread(tcb, cnode, cspace_data, &mem),
        );
        STEPS.step(
            "tcb sched params",
            ops::tcb_set_sched_params(tcb, TCB, *prio, *prio, sc, fault_cap)
                .map_err(RootError::from),
        );
        STEPS.step(
            "tcb start",
            root.start_thread(tcb, *entry, mem.stack_top, mem.ipc_vaddr),
        );
        println!(
            "sel4-x86_64: started {} (priority {}, stack top {:#x}, ipc buffer {:#x})",
            name, prio, mem.stack_top, mem.ipc_vaddr
        );
    }

    // Catch the server's fault.
    let (info, badge) = syscall::recv(fault_ep, root_reply);
    let (ip, addr) = (sel4_sys::get_mr(0), sel4_sys::get_mr(1));
    println!(
        "sel4-x86_64: caught fault: label {}, badge {:#x}, addr {:#x}, ip {:#x}",
        info.label(),
        badge,
        addr,
        ip
    );
    STEPS.step(
        "fault label",
        expect_eq("fault label", info.label(), FaultType::VmFault as u64),
    );
    STEPS.step(
        "fault badge",
        expect_eq("fault badge", badge, SERVER_FAULT_BADGE),
    );
    STEPS.step("fault addr", expect_eq("fault address", addr, FAULT_ADDR));
    println!("sel4-x86_64: all steps passed");
    sel4_root::halt()
}

/// Server: answers ROUNDS requests with the square of MR0 (ReplyRecv on the endpoint); the
/// receive after the last answer is ended by the client's signal on the notification bound to
/// this thread (badge register = notification word). Then it faults on purpose.
extern "C" fn server_main(ipc: u64) -> ! {
    let Some(t) = ThreadIpc::new(ipc) else {
        STEPS.fail(
            "server ipc buffer",
            RootError::Unexpected {
                what: "ipc buffer",
                got: ipc,
                want: 0,
            },
        )
    };
    let (mut info, mut badge, mut mrs) = t.recv(SERVER_EP, SERVER_REPLY);
    for round in 1..=ROUNDS {
        println!(
            "sel4-x86_64 server: request {} from badge {:#x}: label {:#x}, value {}",
            round,
            badge,
            info.label(),
            mrs[0]
        );
        let answer = [mrs[0] * mrs[0], 0, 0, 0];
        (info, badge, mrs) = t.reply_recv(
            SERVER_EP,
            MessageInfo::new(0, 0, 0, 1),
            answer,
            SERVER_REPLY,
        );
    }
    println!("sel4-x86_64 server: notification badge {:#x}", badge);
    println!(
        "sel4-x86_64 server: reading unmapped address {:#x}",
        FAULT_ADDR
    );
    let v = read_word(FAULT_ADDR);
    STEPS.fail(
        "server fault",
        RootError::Unexpected {
            what: "unmapped read returned",
            got: v,
            want: 0,
        },
    )
}

/// Client: Calls the server with 2, 3, 4, prints the answers, signals the notification.
extern "C" fn client_main(ipc: u64) -> ! {
    let Some(t) = ThreadIpc::new(ipc) else {
        STEPS.fail(
            "client ipc buffer",
            RootError::Unexpected {
                what: "ipc buffer",
                got: ipc,
                want: 0,
            },
        )
    };
    for n in 2..2 + ROUNDS {
        let (info, mrs) = t.call(CLIENT_EP, MessageInfo::new(0x51, 0, 0, 1), [n, 0, 0, 0]);
        if info.label() != 0 {
            STEPS.fail(
                "client call",
                RootError::Unexpected {
                    what: "reply label",
                    got: info.label(),
                    want: 0,
                },
            );
        }
        println!("sel4-x86_64 client: {} squared is {}", n, mrs[0]);
    }
    println!("sel4-x86_64 client: signalling");
    t.signal(CLIENT_NTFN);
    t.wait(CLIENT_PARK);
    STEPS.fail(
        "client",
        RootError::Unexpected {
            what: "woken from the park notification",
            got: 1,
            want: 0,
        },
    )
}
