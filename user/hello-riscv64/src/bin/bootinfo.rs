//! Root task that reads `seL4_BootInfo` and makes its first invocations: prints the slot
//! regions, the untyped count and bytes, checks the untyped list and the extra bootinfo (the
//! DTB chunk), then retypes an endpoint (`seL4_Untyped_Retype`), copies it
//! (`seL4_CNode_Copy`), checks the error replies for occupied and empty slots, and maps a
//! fresh frame through two fresh page tables into its own VSpace.
#![no_std]
#![no_main]

use hello_riscv64::ipc::Ipc;
use hello_riscv64::syscalls::{debug_cap_identify, yield_now};
use hello_riscv64::{entry, println};
use sel4_abi::bootinfo::{cap_tag, slots, BootInfo};
use sel4_abi::object::{object_type_number, ObjectKind};
use sel4_abi::{arch_label_number, Arch, ArchLabel, Label};

entry!(main);

/// Where the test maps its frame: root index 4 (a GiB with no tables yet), so both a
/// level-1 and a level-2 page table are needed.
const MAP_VADDR: u64 = 0x1_0000_0000;

fn check(ok: bool, what: &str) {
    if !ok {
        println!("bootinfo: ERROR: {}", what);
    }
}

fn main(bootinfo: usize) -> ! {
    // SAFETY: the kernel maps the bootinfo page (and the extra bootinfo after it) at the
    // address it passes in a0; BootInfo is repr(C) in seL4's layout and fits in the page.
    // The kernel does not change it afterwards, so a shared reference is sound.
    let bi: &BootInfo = unsafe { &*(bootinfo as *const BootInfo) };
    println!(
        "bootinfo: at {:#x}, IPC buffer {:#x}, node {} of {}, root CNode {} bits, extra {} bytes",
        bootinfo,
        bi.ipc_buffer,
        bi.node_id,
        bi.num_nodes,
        bi.init_thread_cnode_size_bits,
        bi.extra_len
    );
    println!(
        "bootinfo: slots: paging [{}, {}), extra pages [{}, {}), schedcontrol [{}, {}), image frames [{}, {}), untyped [{}, {})",
        bi.user_image_paging.start,
        bi.user_image_paging.end,
        bi.extra_bi_pages.start,
        bi.extra_bi_pages.end,
        bi.schedcontrol.start,
        bi.schedcontrol.end,
        bi.user_image_frames.start,
        bi.user_image_frames.end,
        bi.untyped.start,
        bi.untyped.end
    );
    println!(
        "bootinfo: empty slots [{}, {})",
        bi.empty.start, bi.empty.end
    );

    // The untyped list.
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    let list = &bi.untyped_list[..n.min(bi.untyped_list.len())];
    let (mut ram, mut dev, mut ram_n) = (0u64, 0u64, 0usize);
    let mut consistent = n <= bi.untyped_list.len();
    for (i, u) in list.iter().enumerate() {
        let size = 1u64 << u.size_bits.min(63);
        if u.is_device != 0 {
            dev += size;
        } else {
            ram += size;
            ram_n += 1;
        }
        consistent &= (4..=38).contains(&u.size_bits) && u.paddr & (size - 1) == 0;
        consistent &= u.is_device <= 1;
        for v in &list[..i] {
            let vs = 1u64 << v.size_bits.min(63);
            consistent &= u.paddr + size <= v.paddr || v.paddr + vs <= u.paddr;
        }
        consistent &= debug_cap_identify(bi.untyped.start + i as u64) == cap_tag::UNTYPED;
    }
    println!(
        "bootinfo: {} untypeds ({} RAM, {} device): RAM {} bytes, device {:#x} bytes, total {:#x} bytes",
        n,
        ram_n,
        n - ram_n,
        ram,
        dev,
        ram + dev
    );
    check(consistent, "untyped list inconsistent");
    check(bi.ipc_buffer + 4096 == bootinfo as u64, "the bootinfo page does not follow the IPC buffer");
    check(bi.ipc_buffer & 0xfff == 0 && bi.ipc_buffer > 0x40_0000, "IPC buffer not a page after the image");
    check(bi.node_id == 0 && bi.num_nodes == 1, "node id / count");
    check(
        bi.empty.start == bi.untyped.end,
        "empty region does not follow the untypeds",
    );
    check(
        bi.empty.end == 1 << bi.init_thread_cnode_size_bits,
        "empty region does not end at the CNode end",
    );
    check(
        debug_cap_identify(bi.empty.start) == cap_tag::NULL,
        "first empty slot is not empty",
    );
    check(
        debug_cap_identify(bi.empty.end - 1) == cap_tag::NULL,
        "last empty slot is not empty",
    );
    check(
        debug_cap_identify(slots::INIT_THREAD_TCB) == cap_tag::THREAD,
        "slot 1 is not the TCB",
    );
    check(
        debug_cap_identify(slots::INIT_THREAD_CNODE) == cap_tag::CNODE,
        "slot 2 is not the CNode",
    );
    check(
        debug_cap_identify(slots::INIT_THREAD_SC) == cap_tag::SCHED_CONTEXT,
        "slot 14 is not the SC",
    );
    check(
        debug_cap_identify(bi.schedcontrol.start) == cap_tag::SCHED_CONTROL,
        "schedcontrol slot is not SchedControl",
    );
    if consistent {
        println!("bootinfo: untyped list consistent (aligned, disjoint, caps are untyped)");
    }

    // Extra bootinfo: one FDT chunk {id 6, len} followed by the DTB.
    if bi.extra_len >= 24 {
        let base = bootinfo as u64 + 4096;
        // SAFETY: extra_len bytes of extra bootinfo are mapped right after the bootinfo page.
        let (id, len, magic) = unsafe {
            (
                core::ptr::read_volatile(base as *const u64),
                core::ptr::read_volatile((base + 8) as *const u64),
                core::ptr::read_volatile((base + 16) as *const u32),
            )
        };
        println!(
            "bootinfo: extra bootinfo chunk id {} ({} bytes), DTB magic {:#x}",
            id,
            len,
            u32::from_be(magic)
        );
        // seL4 hands over the DTB packed: its totalsize is the chunk's length less the
        // header, and the strings block (the last) ends it.
        // SAFETY: the header words lie inside the chunk, within the mapped extra bootinfo.
        let be32 = |o: u64| u32::from_be(unsafe { core::ptr::read_volatile((base + 16 + o) as *const u32) }) as u64;
        let (total, strings_end) = (be32(4), be32(12) + be32(32));
        if total == len - 16 && total == strings_end && len <= bi.extra_len {
            println!("bootinfo: DTB is packed: totalsize {} = chunk length - 16 = end of its strings", total);
        } else {
            println!("bootinfo: ERROR: DTB not packed: totalsize {}, chunk length {}, strings end at {}", total, len, strings_end);
        }
    }

    let ipc = Ipc(bi.ipc_buffer);
    let cnode = slots::INIT_THREAD_CNODE;
    let retype = Label::UntypedRetype as u64;
    let copy = Label::CNodeCopy as u64;
    let ty = |k| object_type_number(Arch::Riscv64, k).unwrap_or(u64::MAX);
    // The first RAM untyped of at least 64 KiB.
    let Some(ut) = list
        .iter()
        .position(|u| u.is_device == 0 && u.size_bits >= 16)
        .map(|i| bi.untyped.start + i as u64)
    else {
        println!("bootinfo: ERROR: no RAM untyped of 64 KiB");
        halt()
    };
    let e = bi.empty.start;

    // seL4_Untyped_Retype(ut, Endpoint, 0, root, 0, 0, e, 1).
    let (err, _) = ipc.invoke(
        ut,
        retype,
        &[ty(ObjectKind::Endpoint), 0, 0, 0, e, 1],
        &[cnode],
    );
    println!(
        "retype: Untyped_Retype(endpoint) from slot {} into slot {}: error {}, cap tag {}",
        ut,
        e,
        err,
        debug_cap_identify(e)
    );
    let (err, _) = ipc.invoke(
        ut,
        retype,
        &[ty(ObjectKind::Endpoint), 0, 0, 0, e, 1],
        &[cnode],
    );
    println!("retype: into the occupied slot {}: error {}", e, err);

    // seL4_CNode_Copy(root, e + 1, 64, root, e, 64, all rights).
    let (err, _) = ipc.invoke(cnode, copy, &[e + 1, 64, e, 64, 0xf], &[cnode]);
    println!(
        "copy: CNode_Copy slot {} -> slot {}: error {}, cap tag {}",
        e,
        e + 1,
        err,
        debug_cap_identify(e + 1)
    );
    let (err, _) = ipc.invoke(cnode, copy, &[e + 1, 64, e, 64, 0xf], &[cnode]);
    println!("copy: onto the occupied slot {}: error {}", e + 1, err);
    let (err, mr0) = ipc.invoke(cnode, copy, &[e + 2, 64, e + 9, 64, 0xf], &[cnode]);
    println!(
        "copy: from the empty slot {}: error {} (source {})",
        e + 9,
        err,
        mr0
    );

    // A frame mapped through two new page tables into the root task's own VSpace.
    let (f, pt1, pt2) = (e + 2, e + 3, e + 4);
    let label = |l| arch_label_number(Arch::Riscv64, l).unwrap_or(0);
    let (e1, _) = ipc.invoke(
        ut,
        retype,
        &[ty(ObjectKind::Frame { size_bits: 12 }), 0, 0, 0, f, 1],
        &[cnode],
    );
    let (e2, _) = ipc.invoke(
        ut,
        retype,
        &[ty(ObjectKind::PageTable), 0, 0, 0, pt1, 2],
        &[cnode],
    );
    let vspace = slots::INIT_THREAD_VSPACE;
    let (e3, _) = ipc.invoke(f, label(ArchLabel::PageMap), &[MAP_VADDR, 3, 0], &[vspace]);
    let (e4, _) = ipc.invoke(
        pt1,
        label(ArchLabel::PageTableMap),
        &[MAP_VADDR, 0],
        &[vspace],
    );
    let (e5, _) = ipc.invoke(
        pt2,
        label(ArchLabel::PageTableMap),
        &[MAP_VADDR, 0],
        &[vspace],
    );
    let (e6, _) = ipc.invoke(f, label(ArchLabel::PageMap), &[MAP_VADDR, 3, 0], &[vspace]);
    let (e7, paddr) = ipc.invoke(f, label(ArchLabel::PageGetAddress), &[], &[]);
    println!(
        "vspace: retype frame {} tables {}, map before tables {} (FailedLookup), table maps {} {}, frame map {}, frame paddr {:#x} ({})",
        e1, e2, e3, e4, e5, e6, paddr, e7
    );
    if e6 == 0 {
        let p = MAP_VADDR as *mut u64;
        // SAFETY: the frame was just mapped read-write at MAP_VADDR (the kernel said so).
        let v = unsafe {
            core::ptr::write_volatile(p, 0x5e14_0000_cafe);
            core::ptr::read_volatile(p)
        };
        println!("vspace: wrote and read back {:#x} at {:#x}", v, MAP_VADDR);
    }
    println!("bootinfo: done");
    halt()
}

fn halt() -> ! {
    loop {
        yield_now();
    }
}
