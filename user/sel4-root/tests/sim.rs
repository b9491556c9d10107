//! The root-task library's kernel-facing code (retype placement, error paths, Mint, mapping
//! with page-table creation) run against the kernel core's host simulator, for each arch.
//! This is the host half of sel4-demo's steps 2–7; thread, IPC and scheduling steps need
//! the TCB/SC invocations, which the core does not decode yet.

use kernel_core::cap::Cap;
use kernel_core::mdb::get_cap;
use kernel_core::object::Slot;
use kernel_core::sim::harness::{boot_sim, bootinfo, call, translate};
use kernel_core::sim::SimMachine;
use kernel_core::Kernel;
use sel4_abi::{Arch, Error, ObjectKind};
use sel4_root::error::{expect_error, RootError};
use sel4_root::root::{Invoker, Root, CNODE};
use sel4_sys::invocation::{self as inv, Invocation};
use sel4_sys::ops::InvokeError;
use sel4_sys::{CapRights, MessageInfo};

/// Invocations performed by the simulated kernel as the root task.
struct SimInvoker {
    k: Kernel<SimMachine>,
    last: Vec<u64>,
}

impl Invoker for SimInvoker {
    fn invoke(&mut self, cap: u64, i: &Invocation) -> Result<MessageInfo, InvokeError> {
        let r = call(&mut self.k, cap, i.label, i.args(), &i.caps[..i.ncaps]);
        self.last = r.mrs.clone();
        match sel4_sys::abi::error_from_label(r.label) {
            Ok(()) => Ok(MessageInfo::new(0, 0, 0, r.mrs.len() as u64)),
            Err(Some(error)) => Err(InvokeError::Kernel {
                error,
                mr0: r.mrs.first().copied().unwrap_or(0),
            }),
            Err(None) => Err(InvokeError::UnknownLabel(r.label)),
        }
    }
    fn mr(&self, i: usize) -> u64 {
        self.last.get(i).copied().unwrap_or(0)
    }
}

fn cap_at(k: &Kernel<SimMachine>, slot: u64) -> Cap {
    let Cap::CNode { ptr, .. } = k.cspace_root(k.cur_thread) else {
        panic!("no root CNode")
    };
    get_cap(&k.machine, Slot::at(ptr, slot))
}

/// Address of the object a cap names.
fn object_addr(c: Cap) -> Option<u64> {
    match c {
        Cap::Endpoint { ptr, .. }
        | Cap::Notification { ptr, .. }
        | Cap::Reply { ptr, .. }
        | Cap::CNode { ptr, .. }
        | Cap::Thread { ptr }
        | Cap::SchedContext { ptr, .. } => Some(ptr),
        Cap::Frame { paddr, .. } | Cap::PageTable { paddr, .. } => Some(paddr),
        _ => None,
    }
}

/// Retypes with `root` and checks each object is where the allocator said it would be.
fn retype_checked(
    root: &mut Root<SimInvoker>,
    kind: ObjectKind,
    bits: u64,
    n: u64,
    obj_bytes: u64,
) -> u64 {
    let slot = root
        .retype(kind, bits, n)
        .unwrap_or_else(|e| panic!("retype {kind:?}: {e}"));
    let p = root.last_placement.expect("placement");
    for i in 0..n {
        let addr = object_addr(cap_at(&root.invoker.k, slot + i)).expect("object cap");
        let want = p.paddr + i * obj_bytes;
        // A TCB cap may point into its object (seL4 points past the CNode part).
        assert!(
            addr >= want && addr < want + obj_bytes,
            "{kind:?} #{i}: object at {addr:#x}, predicted {want:#x}"
        );
    }
    slot
}

fn demo_steps(arch: Arch) {
    let k = boot_sim(arch);
    let bi = bootinfo(&k);
    let mut root = Root::new(
        &bi,
        arch,
        SimInvoker {
            k,
            last: Vec::new(),
        },
    )
    .expect("boot info");

    let tcb = retype_checked(&mut root, ObjectKind::Tcb, 0, 1, 1 << 11);
    let ep = retype_checked(&mut root, ObjectKind::Endpoint, 0, 2, 16);
    let ntfn = retype_checked(&mut root, ObjectKind::Notification, 0, 1, 64);
    retype_checked(&mut root, ObjectKind::Reply, 0, 1, 32);
    retype_checked(&mut root, ObjectKind::SchedContext, 8, 1, 256);
    let cnode = retype_checked(&mut root, ObjectKind::CNode, 4, 1, 16 * 32);

    // Error paths of sel4-demo.
    expect_error(
        root.retype_into(ObjectKind::Notification, tcb),
        Error::DeleteFirst,
    )
    .unwrap();
    let scratch = root.slots.alloc().unwrap();
    let bad = root.invoke(
        bi.untyped.start,
        &inv::untyped_retype(200, 0, CNODE, 0, 0, scratch, 1),
    );
    assert_eq!(
        bad,
        Err(RootError::Kernel {
            error: Error::InvalidArgument,
            mr0: 0
        })
    );

    // Badged caps into the child's CNode; a second Mint of a badged cap is refused.
    let write_grant = CapRights::new(false, true, false, true);
    root.mint(cnode, 1, 4, ep, write_grant, 0x61).unwrap();
    root.mint(cnode, 2, 4, ntfn, CapRights::WRITE, 0x4).unwrap();
    let Cap::CNode { ptr: child, .. } = cap_at(&root.invoker.k, cnode) else {
        panic!("cnode")
    };
    let minted = get_cap(&root.invoker.k.machine, Slot::at(child, 1));
    assert!(
        matches!(minted, Cap::Endpoint { badge: 0x61, .. }),
        "{minted:?}"
    );
    let remint = root.invoke(
        CNODE,
        &inv::cnode_mint(scratch, 64, cnode, 1, 4, CapRights::ALL, 0x99),
    );
    assert!(
        matches!(
            remint,
            Err(RootError::Kernel {
                error: Error::IllegalOperation,
                ..
            })
        ),
        "{remint:?}"
    );

    // Stack and IPC buffer mapped at 0x1000_0000 (page tables created as reported missing).
    let mem = root
        .thread_memory(0x1000_0000, 4)
        .unwrap_or_else(|e| panic!("thread memory: {e}"));
    assert!(root.tables_created >= 1, "no page table created");
    let vs = root.invoker.k.current_vspace().expect("root vspace").0;
    for (i, va) in [0x1000_0000u64, 0x1000_1000, 0x1000_2000, 0x1000_3000]
        .iter()
        .enumerate()
    {
        let Some(Cap::Frame { paddr, .. }) =
            Some(cap_at(&root.invoker.k, mem.stack_frames + i as u64))
        else {
            panic!()
        };
        assert_eq!(
            translate(&root.invoker.k, vs, *va),
            Some(paddr),
            "stack page {i}"
        );
    }
    assert_eq!(
        translate(&root.invoker.k, vs, 0x1000_4000),
        None,
        "guard page"
    );
    assert_eq!(mem.ipc_vaddr, 0x1000_5000);
    let Cap::Frame { paddr, .. } = cap_at(&root.invoker.k, mem.ipc_frame) else {
        panic!()
    };
    assert_eq!(
        translate(&root.invoker.k, vs, mem.ipc_vaddr + 8),
        Some(paddr + 8)
    );
    // A second thread's memory next to it reuses the page table.
    let before = root.tables_created;
    root.thread_memory(0x1001_0000, 4).unwrap();
    assert_eq!(root.tables_created, before);
}

#[test]
fn demo_steps_aarch64() {
    demo_steps(Arch::Aarch64);
}

#[test]
fn demo_steps_riscv64() {
    demo_steps(Arch::Riscv64);
}

#[test]
fn demo_steps_x86_64() {
    demo_steps(Arch::X86_64);
}

#[test]
fn com1_through_io_port_caps_x86_64() {
    let k = boot_sim(Arch::X86_64);
    let bi = bootinfo(&k);
    let mut root = Root::new(
        &bi,
        Arch::X86_64,
        SimInvoker {
            k,
            last: Vec::new(),
        },
    )
    .expect("boot info");
    let port = root.issue_com1().unwrap_or_else(|e| panic!("issue: {e}"));
    assert!(matches!(
        cap_at(&root.invoker.k, port),
        Cap::IoPort {
            first: 0x3f8,
            last: 0x3ff
        }
    ));
    // The simulator's port reads return the port's low byte: 0xfd has THRE (0x20) set.
    assert_eq!(root.port_in8(port, 0x3fd).unwrap(), 0xfd);
    root.com1_write(port, "ok\r\n").unwrap();
    let writes = &root.invoker.k.machine.io_writes;
    assert_eq!(
        writes,
        &[
            (0x3f8, 1, b'o' as u32),
            (0x3f8, 1, b'k' as u32),
            (0x3f8, 1, b'\r' as u32),
            (0x3f8, 1, b'\n' as u32)
        ]
    );
    // A port outside the cap's range is refused.
    assert!(root.port_in8(port, 0x60).is_err());
    // Not on other arches.
    let k = boot_sim(Arch::Aarch64);
    let bi = bootinfo(&k);
    let mut root = Root::new(
        &bi,
        Arch::Aarch64,
        SimInvoker {
            k,
            last: Vec::new(),
        },
    )
    .unwrap();
    assert_eq!(root.issue_com1(), Err(RootError::NoSuchMethod));
}
