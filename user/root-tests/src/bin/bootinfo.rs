//! `bootinfo`: a root task that reads its `seL4_BootInfo` and uses its caps through real seL4
//! invocations, on every architecture:
//!
//! * the slot regions (in seL4's order, no gaps, one SchedControl cap, the empty region up to
//!   the CNode's end), the IPC buffer and boot-info pages, the initial caps' kinds
//!   (`seL4_DebugCapIdentify`);
//! * the untyped list (aligned, disjoint, every cap an untyped) and its RAM and device bytes;
//! * the extra boot info: on the device-tree boards, the DTB chunk (packed, as seL4 hands it
//!   over) and its memory node against the RAM untypeds; on x86_64, the multiboot memory map
//!   chunk (seL4's fixed-size layout) against the RAM untypeds;
//! * `Untyped_Retype` of an endpoint into the first empty slot, `CNode_Copy` of it, and the
//!   errors for an occupied destination (DeleteFirst) and an empty source (FailedLookup);
//! * a frame mapped where no page table exists yet: Page_Map fails with FailedLookup, the two
//!   missing tables are created, and the frame is written and read back;
//! * on x86_64, an IOPort cap for COM1 (`X86IOPortControl_Issue`), an overlapping issue
//!   (RevokeFirst), a port outside the cap (IllegalOperation), and a line written straight to
//!   the UART with `X86IOPort_In8/Out8`.
//!
//! Every mismatch prints a `bootinfo: ERROR` line (the boot tests fail on it).
#![no_std]
#![no_main]

use boot_image::fdt::Fdt;
use root_tests::stop;
use sel4_abi::bootinfo::{cap_tag, extra_id, slots, x86_mmap};
use sel4_abi::{Arch, BootInfo, Error, ObjectKind};
use sel4_root::bootinfo::{extra_chunks, region_bytes, untypeds, EXTRA_FDT};
use sel4_root::error::RootError;
use sel4_root::println;
use sel4_root::root::{Root, Sel4, CNODE, DEPTH, PAGE, VSPACE};
use sel4_sys::invocation::{self as inv, default_vm_attributes};
use sel4_sys::syscall::debug_cap_identify;
use sel4_sys::{CapRights, ARCH};

/// Where the frame is mapped: 4 GiB, in a region no page table covers yet, so two paging
/// levels are missing on every architecture.
const MAP_VADDR: u64 = 0x1_0000_0000;
/// Page tables a map at [`MAP_VADDR`] has to create.
const MAP_TABLES: u32 = 2;
/// What is written there.
const MAP_WORD: u64 = 0x5e14_0000_cafe;
/// The kernel keeps its image, the DTB, the boot payload and its boot objects out of the RAM
/// untypeds; no more than this.
const KERNEL_KEEPS_AT_MOST: u64 = 24 << 20;

macro_rules! fail {
    ($($arg:tt)*) => {
        println!("bootinfo: ERROR: {}", format_args!($($arg)*))
    };
}

fn check(ok: bool, what: &str) {
    if !ok {
        fail!("{}", what);
    }
}

/// `Name (number)` of an invocation's outcome: 0 for success.
fn error_number(r: &Result<(), RootError>) -> u64 {
    match r {
        Ok(()) => 0,
        Err(RootError::Kernel { error, .. }) => *error as u64,
        Err(_) => u64::MAX,
    }
}

/// Entered from sel4-root's `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(addr: u64) -> ! {
    let bi = sel4_root::rt::boot_info(addr);
    slots_and_caps(addr, bi);
    let ram = untyped_list(bi);
    extra(addr, bi, ram);
    match Root::new(bi, ARCH, Sel4) {
        Ok(mut root) => {
            retype_and_copy(&mut root);
            map_frame(&mut root);
            if ARCH == Arch::X86_64 {
                ioport(&mut root);
            }
        }
        Err(e) => fail!("boot info: {}", e),
    }
    println!("bootinfo: done");
    stop()
}

fn slots_and_caps(addr: u64, bi: &BootInfo) {
    println!(
        "bootinfo: at {:#x}, IPC buffer {:#x}, node {} of {}, CNode size bits {}, extra bootinfo {} bytes",
        addr, bi.ipc_buffer, bi.node_id, bi.num_nodes, bi.init_thread_cnode_size_bits, bi.extra_len
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
    println!("bootinfo: empty slots [{}, {})", bi.empty.start, bi.empty.end);
    // seL4's order: initial caps, paging, extra boot-info frames, schedcontrol, image
    // frames, untypeds, then the empty region.
    let order = [
        (slots::NUM_INITIAL_CAPS, bi.user_image_paging.start),
        (bi.user_image_paging.end, bi.extra_bi_pages.start),
        (bi.extra_bi_pages.end, bi.schedcontrol.start),
        (bi.schedcontrol.end, bi.user_image_frames.start),
        (bi.user_image_frames.end, bi.untyped.start),
        (bi.untyped.end, bi.empty.start),
    ];
    // One SchedControl cap per node (CONFIG_MAX_NUM_NODES), as seL4 gives.
    if order.iter().all(|(a, b)| a == b) && bi.schedcontrol.end == bi.schedcontrol.start + bi.num_nodes {
        if bi.num_nodes == 1 {
            println!("bootinfo: slot regions follow seL4's order with no gaps; one schedcontrol cap");
        } else {
            println!(
                "bootinfo: slot regions follow seL4's order with no gaps; {} schedcontrol caps, one per node",
                bi.num_nodes
            );
        }
    } else {
        fail!("slot regions out of order or with gaps");
    }
    check(
        bi.empty.end == 1 << bi.init_thread_cnode_size_bits && bi.empty.start + 8 <= bi.empty.end,
        "empty slot region does not end at the CNode size",
    );
    check(bi.ipc_buffer + PAGE == addr, "the boot-info page does not follow the IPC buffer page");
    check(bi.node_id == 0 && bi.num_nodes >= 1, "node id / count");
    let caps = [
        (slots::INIT_THREAD_TCB, cap_tag::THREAD, "slot 1 is not the TCB"),
        (slots::INIT_THREAD_CNODE, cap_tag::CNODE, "slot 2 is not the CNode"),
        (slots::INIT_THREAD_SC, cap_tag::SCHED_CONTEXT, "slot 14 is not the SC"),
        (bi.schedcontrol.start, cap_tag::SCHED_CONTROL, "the schedcontrol slot is not SchedControl"),
        (bi.empty.start, cap_tag::NULL, "the first empty slot is not empty"),
        (bi.empty.end - 1, cap_tag::NULL, "the last empty slot is not empty"),
    ];
    for (slot, tag, what) in caps {
        check(debug_cap_identify(slot) == tag, what);
    }
    for slot in bi.schedcontrol.start..bi.schedcontrol.end {
        check(debug_cap_identify(slot) == cap_tag::SCHED_CONTROL, "a schedcontrol slot is not SchedControl");
    }
    if ARCH == Arch::X86_64 {
        check(debug_cap_identify(slots::IO_PORT_CONTROL) != cap_tag::NULL, "no IOPortControl cap in slot 7");
    }
}

/// Checks and prints the untyped list; returns the RAM untyped bytes.
fn untyped_list(bi: &BootInfo) -> u64 {
    let (mut ram, mut dev, mut n, mut ram_n) = (0u64, 0u64, 0u64, 0u64);
    let mut consistent = true;
    for (slot, u) in untypeds(bi) {
        let size = region_bytes(u.size_bits);
        n += 1;
        if u.is_device != 0 {
            dev += size;
        } else {
            ram += size;
            ram_n += 1;
        }
        consistent &= (4..=47).contains(&u.size_bits) && u.paddr & (size - 1) == 0 && u.is_device <= 1;
        consistent &= untypeds(bi)
            .take_while(|(s, _)| *s < slot)
            .all(|(_, v)| u.paddr + size <= v.paddr || v.paddr + region_bytes(v.size_bits) <= u.paddr);
        consistent &= debug_cap_identify(slot) == cap_tag::UNTYPED;
    }
    println!(
        "bootinfo: untyped: {} caps ({} RAM, {} device), {:#x} bytes RAM, {:#x} bytes device, {:#x} bytes in all",
        n,
        ram_n,
        n - ram_n,
        ram,
        dev,
        ram + dev
    );
    check(n == bi.untyped.end - bi.untyped.start && ram_n > 0, "untyped count");
    if consistent {
        println!("bootinfo: untyped list consistent (aligned, disjoint, caps are untyped)");
    } else {
        fail!("untyped list inconsistent");
    }
    ram
}

/// The extra boot info; on the device-tree boards its DTB chunk.
fn extra(addr: u64, bi: &BootInfo, ram: u64) {
    let extra = sel4_root::rt::extra_boot_info(addr, bi);
    let mut dtb = None;
    let mut total = 0;
    for (id, chunk) in extra_chunks(extra) {
        println!("bootinfo: extra bootinfo: chunk id {} ({} bytes)", id, chunk.len());
        total += chunk.len();
        if id == EXTRA_FDT {
            dtb = Some(&chunk[16..]);
        }
        if id == extra_id::X86_MBMMAP {
            memory_map(chunk, ram);
        }
    }
    check(total == extra.len(), "the extra boot info chunks do not fill extraLen");
    let Some(dtb) = dtb else {
        check(ARCH == Arch::X86_64, "no DTB chunk in the extra boot info");
        return;
    };
    // seL4 hands over the DTB packed: its totalsize is the chunk's payload, and the strings
    // block (the last) ends it.
    let be32 = |o: usize| dtb.get(o..o + 4).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64);
    let (total, strings_end) = (be32(4), be32(12) + be32(32));
    if total == dtb.len() as u64 && total == strings_end {
        println!("bootinfo: DTB is packed: totalsize {} = chunk length - 16 = end of its strings", total);
    } else {
        fail!("DTB not packed: totalsize {}, payload {}, strings end at {}", total, dtb.len(), strings_end);
    }
    match Fdt::parse(dtb).ok().and_then(|f| f.memory().ok().flatten()) {
        Some((base, size)) => {
            println!("bootinfo: DTB memory {:#x}..{:#x}", base, base + size);
            if ram > size || ram + KERNEL_KEEPS_AT_MOST < size {
                fail!("RAM untyped {:#x} bytes does not match RAM size {:#x}", ram, size);
            } else {
                println!("bootinfo: RAM untyped covers the DTB's RAM less at most 24 MiB");
            }
        }
        None => fail!("no memory node in the DTB from the extra boot info"),
    }
}

/// The x86 multiboot memory map chunk: seL4's fixed size, whole 24-byte entries, and RAM
/// entries that cover the RAM untypeds.
fn memory_map(chunk: &[u8], ram: u64) {
    let u32_at = |o: usize| chunk.get(o..o + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let u64_at = |o: usize| u64::from(u32_at(o)) | u64::from(u32_at(o + 4)) << 32;
    if chunk.len() != x86_mmap::CHUNK_BYTES {
        fail!("memory map chunk is {} bytes, seL4's is {}", chunk.len(), x86_mmap::CHUNK_BYTES);
        return;
    }
    let len = u32_at(x86_mmap::LENGTH_OFFSET) as usize;
    if len == 0 || len % x86_mmap::ENTRY_BYTES != 0 || len > x86_mmap::ENTRIES_BYTES {
        fail!("memory map length {} is not a whole number of entries", len);
        return;
    }
    let (mut map_ram, mut n_ram) = (0u64, 0);
    for e in (x86_mmap::ENTRIES_OFFSET..x86_mmap::ENTRIES_OFFSET + len).step_by(x86_mmap::ENTRY_BYTES) {
        let (base, size, ty) = (u64_at(e + 4), u64_at(e + 12), u32_at(e + 20));
        println!("bootinfo: multiboot memory map: {:#x}..{:#x} type {}", base, base.saturating_add(size), ty);
        check(u32_at(e) == 20, "memory map entry size field is not 20");
        if ty == x86_mmap::RAM_TYPE {
            map_ram = map_ram.saturating_add(size);
            n_ram += 1;
        }
    }
    println!(
        "bootinfo: multiboot memory map: {} entries, {} RAM, {:#x} bytes of RAM",
        len / x86_mmap::ENTRY_BYTES,
        n_ram,
        map_ram
    );
    if ram > 0 && ram <= map_ram {
        println!("bootinfo: RAM untypeds lie within the memory map's RAM");
    } else {
        fail!("RAM untyped {:#x} bytes, memory map RAM {:#x} bytes", ram, map_ram);
    }
}

fn retype_and_copy(root: &mut Root<Sel4>) {
    // The first empty slot (nothing is allocated before this step).
    let r = root.retype(ObjectKind::Endpoint, 0, 1);
    let e = *r.as_ref().unwrap_or(&0);
    let tag = debug_cap_identify(e);
    let r = r.map(|_| ());
    println!("bootinfo: retype: endpoint into slot {}: error {}, cap tag {}", e, error_number(&r), tag);
    check(r.is_ok() && tag == cap_tag::ENDPOINT, "retype failed");
    let r = root.retype_into(ObjectKind::Endpoint, e);
    println!("bootinfo: retype: into the occupied slot {}: error {}", e, error_number(&r));
    check(error_number(&r) == Error::DeleteFirst as u64, "retype into an occupied slot must be DeleteFirst");

    let copy = |root: &mut Root<Sel4>, dest: u64, src: u64| {
        root.invoke(CNODE, &inv::cnode_copy(dest, DEPTH, CNODE, src, DEPTH, CapRights::ALL)).map(|_| ())
    };
    let dest = root.slots.alloc().unwrap_or(0);
    let r = copy(root, dest, e);
    let tag = debug_cap_identify(dest);
    println!("bootinfo: copy: slot {} -> slot {}: error {}, cap tag {}", e, dest, error_number(&r), tag);
    check(r.is_ok() && tag == cap_tag::ENDPOINT, "copy failed");
    let r = copy(root, dest, e);
    println!(
        "bootinfo: copy: onto the occupied slot {}: error {}{}",
        dest,
        error_number(&r),
        if error_number(&r) == Error::DeleteFirst as u64 { " (DeleteFirst)" } else { "" }
    );
    check(error_number(&r) == Error::DeleteFirst as u64, "copy onto an occupied slot must be DeleteFirst");
    let empty = dest + 8;
    let r = copy(root, dest + 1, empty);
    let source = match r {
        Err(RootError::Kernel { mr0, .. }) => mr0,
        _ => u64::MAX,
    };
    println!("bootinfo: copy: from the empty slot {}: error {} (source {})", empty, error_number(&r), source);
    check(
        error_number(&r) == Error::FailedLookup as u64 && source == 1,
        "copy from an empty slot must be FailedLookup (source)",
    );
}

fn map_frame(root: &mut Root<Sel4>) {
    let frame = match root.retype(ObjectKind::Frame { size_bits: 12 }, 0, 1) {
        Ok(f) => f,
        Err(e) => return fail!("retype of a frame: {}", e),
    };
    let arch = root.arch;
    let first = match inv::page_map(arch, VSPACE, MAP_VADDR, CapRights::READ_WRITE, default_vm_attributes(arch)) {
        Ok(i) => root.invoke(frame, &i).map(|_| ()),
        Err(_) => Err(RootError::NoSuchMethod),
    };
    let before = root.tables_created;
    let mapped = root.map_frame(frame, MAP_VADDR, CapRights::READ_WRITE);
    let tables = root.tables_created - before;
    let paddr = inv::page_get_address(arch)
        .ok()
        .and_then(|i| root.invoke(frame, &i).ok())
        .map(|_| sel4_sys::get_mr(0));
    println!(
        "bootinfo: vspace: Page_Map before the tables: error {}; {} page tables created; frame map error {}; frame paddr {:#x}",
        error_number(&first),
        tables,
        error_number(&mapped),
        paddr.unwrap_or(0)
    );
    check(error_number(&first) == Error::FailedLookup as u64, "Page_Map without page tables must be FailedLookup");
    check(mapped.is_ok() && tables == MAP_TABLES, "mapping the frame did not create the two missing page tables");
    check(paddr.is_some_and(|p| p != 0 && p % PAGE == 0), "Page_GetAddress");
    if mapped.is_ok() {
        let v = sel4_root::rt::write_read_word(MAP_VADDR, MAP_WORD);
        println!("bootinfo: vspace: wrote and read back {:#x} at {:#x}", v, MAP_VADDR);
        check(v == MAP_WORD, "the word read back differs");
    }
}

fn ioport(root: &mut Root<Sel4>) {
    let port = match root.issue_com1() {
        Ok(p) => p,
        Err(e) => return fail!("IOPortControl_Issue: {}", e),
    };
    let (first, last) = sel4_root::root::COM1;
    println!(
        "bootinfo: ioport: IOPortControl_Issue {:#x}..{:#x} into slot {}: cap tag {}",
        first,
        last,
        port,
        debug_cap_identify(port)
    );
    let again = root.slots.alloc().unwrap_or(0);
    let r = inv::ioport_control_issue(ARCH, first as u64 + 4, first as u64 + 4, CNODE, again, DEPTH)
        .map_err(|_| RootError::NoSuchMethod)
        .and_then(|i| root.invoke(slots::IO_PORT_CONTROL, &i).map(|_| ()));
    println!("bootinfo: ioport: issuing an already issued port again: error {}", error_number(&r));
    check(error_number(&r) == Error::RevokeFirst as u64, "overlapping IOPortControl_Issue must be RevokeFirst");
    let r = inv::ioport_out(ARCH, 8, first - 1, b'!' as u32)
        .map_err(|_| RootError::NoSuchMethod)
        .and_then(|i| root.invoke(port, &i).map(|_| ()));
    println!("bootinfo: ioport: Out8 to port {:#x} outside the cap: error {}", first - 1, error_number(&r));
    check(error_number(&r) == Error::IllegalOperation as u64, "Out8 outside the IOPort cap must be IllegalOperation");
    if let Err(e) = root.com1_write(port, "bootinfo: ioport: this line went straight to COM1 through X86IOPortOut8\r\n") {
        fail!("IOPort In8/Out8: {}", e);
    }
}
