//! `bootinfo`: a root task that reads its `seL4_BootInfo` and uses its caps through real seL4
//! invocations: prints the slot regions, the untyped count and sizes (checked against the
//! RAM size in the DTB from the extra bootinfo), retypes an endpoint into the first empty
//! slot with `seL4_Untyped_Retype`, copies it with `seL4_CNode_Copy`, checks both with
//! `seL4_DebugCapIdentify`, and checks that copying onto an occupied slot fails with
//! `seL4_DeleteFirst`. Every mismatch prints a `bootinfo: ERROR` line.
#![no_std]
#![no_main]

use boot_image::fdt::Fdt;
use sel4_abi::bootinfo::slots;
use sel4_abi::{object_type_number, Arch, BootInfo, Label, ObjectKind};
use user_rt::uprintln;

mod sel4;

use sel4::cap_identify;

/// DebugCapIdentify tag of an endpoint cap.
const TAG_ENDPOINT: u64 = 4;
/// Extra-bootinfo chunk id of the DTB.
const BOOTINFO_HEADER_FDT: u64 = 6;
/// `seL4_DeleteFirst`.
const ERR_DELETE_FIRST: u64 = 8;

/// A name for the DebugCapIdentify tags this task expects.
fn tag_name(tag: u64) -> &'static str {
    match tag {
        TAG_ENDPOINT => " (endpoint)",
        _ => "",
    }
}

/// Print an error line (the boot test fails on it).
macro_rules! fail {
    ($($arg:tt)*) => {{
        uprintln!("bootinfo: ERROR: {}", format_args!($($arg)*));
    }};
}

/// Entered from `user_rt`'s `_start` with x0 = bootinfo address.
#[no_mangle]
pub extern "C" fn user_main(bootinfo_addr: u64) -> ! {
    // SAFETY: the kernel maps the bootinfo page (a `seL4_BootInfo`, plain integers) at
    // this address for the root task, and nothing writes it.
    let bi: BootInfo = unsafe { core::ptr::read_volatile(bootinfo_addr as *const BootInfo) };
    match sel4::Root::new(bootinfo_addr) {
        Some(root) => run(bootinfo_addr, &bi, &root),
        None => fail!("no RAM untyped of 1 MiB or more"),
    }
    uprintln!("bootinfo: done");
    loop {
        user_rt::sys::yield_now();
    }
}

fn run(bi_addr: u64, bi: &BootInfo, root: &sel4::Root) {
    uprintln!(
        "bootinfo: at {:#x}, IPC buffer {:#x}, node {} of {}, CNode size bits {}",
        bi_addr,
        bi.ipc_buffer,
        bi.node_id,
        bi.num_nodes,
        bi.init_thread_cnode_size_bits
    );
    uprintln!(
        "bootinfo: slots: image frames {}..{}, paging {}..{}, extra BI {}..{}, schedcontrol {}..{}, untyped {}..{}, empty {}..{}",
        bi.user_image_frames.start,
        bi.user_image_frames.end,
        bi.user_image_paging.start,
        bi.user_image_paging.end,
        bi.extra_bi_pages.start,
        bi.extra_bi_pages.end,
        bi.schedcontrol.start,
        bi.schedcontrol.end,
        bi.untyped.start,
        bi.untyped.end,
        bi.empty.start,
        bi.empty.end
    );
    // seL4's order on ARM: initial caps, paging, extra bootinfo frames, schedcontrol, image
    // frames, untypeds, then the empty region.
    let order = [
        (slots::NUM_INITIAL_CAPS, bi.user_image_paging.start),
        (bi.user_image_paging.end, bi.extra_bi_pages.start),
        (bi.extra_bi_pages.end, bi.schedcontrol.start),
        (bi.schedcontrol.end, bi.user_image_frames.start),
        (bi.user_image_frames.end, bi.untyped.start),
        (bi.untyped.end, bi.empty.start),
    ];
    if order.iter().all(|(a, b)| a == b) && bi.schedcontrol.end == bi.schedcontrol.start + 1 {
        uprintln!("bootinfo: slot regions follow seL4's order with no gaps; one schedcontrol cap");
    } else {
        fail!("slot regions out of order or with gaps");
    }
    if bi.empty.end != 1 << bi.init_thread_cnode_size_bits || bi.empty.start >= bi.empty.end {
        fail!("empty slot region does not end at the CNode size");
    }
    if bi.ipc_buffer + 4096 != bi_addr {
        fail!("bootinfo page is not right after the IPC buffer page");
    }

    // Untypeds.
    let n = (bi.untyped.end - bi.untyped.start) as usize;
    if n == 0 || n > bi.untyped_list.len() {
        fail!("untyped count {} out of range", n);
        return;
    }
    let (mut ram, mut dev, mut ram_caps) = (0u64, 0u64, 0usize);
    for d in &bi.untyped_list[..n] {
        if d.is_device != 0 {
            dev += 1 << d.size_bits;
        } else {
            ram += 1 << d.size_bits;
            ram_caps += 1;
        }
    }
    uprintln!(
        "bootinfo: untyped: {} caps ({} RAM, {} device), {:#x} bytes RAM, {:#x} bytes device",
        n,
        ram_caps,
        n - ram_caps,
        ram,
        dev
    );

    // Extra bootinfo: the DTB chunk, and the RAM size it reports.
    let extra = bi_addr + 4096;
    if bi.extra_len >= 16 {
        // SAFETY: the kernel maps `extra_len` bytes of extra bootinfo right after the
        // bootinfo page; the two header words are inside it.
        let (id, len) = unsafe {
            (
                core::ptr::read_volatile(extra as *const u64),
                core::ptr::read_volatile((extra + 8) as *const u64),
            )
        };
        uprintln!(
            "bootinfo: extra bootinfo: first chunk id {} ({} of {} bytes)",
            id,
            len,
            bi.extra_len
        );
        if id == BOOTINFO_HEADER_FDT && len >= 16 && len <= bi.extra_len {
            // SAFETY: as above; the chunk lies within the mapped extra bootinfo.
            let dtb = unsafe { core::slice::from_raw_parts((extra + 16) as *const u8, (len - 16) as usize) };
            // seL4 hands over the DTB packed: its totalsize is the chunk's length less the
            // header, and the strings block (the last) ends it.
            let be32 = |o: usize| dtb.get(o..o + 4).map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64);
            let (total, strings_end) = (be32(4), be32(12) + be32(32));
            if total == len - 16 && total == strings_end {
                uprintln!("bootinfo: DTB is packed: totalsize {} = chunk length - 16 = end of its strings", total);
            } else {
                fail!("DTB not packed: totalsize {}, chunk length {}, strings end at {}", total, len, strings_end);
            }
            match Fdt::parse(dtb).ok().and_then(|f| f.memory().ok().flatten()) {
                Some((base, size)) => {
                    uprintln!("bootinfo: DTB memory {:#x}..{:#x}", base, base + size);
                    // The kernel keeps its image, the DTB, the boot payload and its own boot
                    // objects; everything else must be RAM untyped.
                    if ram > size || ram + (24 << 20) < size {
                        fail!("RAM untyped {:#x} bytes does not match RAM size {:#x}", ram, size);
                    } else {
                        uprintln!("bootinfo: RAM untyped covers the DTB's RAM less at most 24 MiB");
                    }
                }
                None => fail!("no memory node in the DTB from the extra bootinfo"),
            }
        } else {
            fail!("first extra bootinfo chunk is not an FDT");
        }
    } else {
        fail!("no extra bootinfo");
    }

    // Retype one endpoint from the first RAM untyped into the first empty slot.
    let Some(i) = bi.untyped_list[..n].iter().position(|d| d.is_device == 0 && d.size_bits >= 4) else {
        fail!("no RAM untyped");
        return;
    };
    let ut = bi.untyped.start + i as u64;
    let dest = bi.empty.start;
    let ep_type = object_type_number(Arch::Aarch64, ObjectKind::Endpoint).unwrap_or(u64::MAX);
    let r = root.call(
        ut,
        Label::UntypedRetype as u64,
        &[ep_type, 0, 0, 0, dest, 1],
        &[slots::INIT_THREAD_CNODE],
    );
    uprintln!(
        "bootinfo: retype: error {} (Untyped_Retype of untyped slot {} into an endpoint at slot {})",
        r.error,
        ut,
        dest
    );
    let tag = cap_identify(dest);
    uprintln!("bootinfo: retype: new cap tag {}{} in slot {}", tag, tag_name(tag), dest);
    if r.error != 0 || tag != TAG_ENDPOINT {
        fail!("retype failed");
    }

    // Copy it into the next empty slot.
    let copy = dest + 1;
    let copy_args = [copy, 64, dest, 64, 0xf]; // rights: all
    let r = root.call(
        slots::INIT_THREAD_CNODE,
        Label::CNodeCopy as u64,
        &copy_args,
        &[slots::INIT_THREAD_CNODE],
    );
    let tag = cap_identify(copy);
    uprintln!(
        "bootinfo: copy: error {}, cap tag {}{} in slot {} (CNode_Copy from slot {})",
        r.error,
        tag,
        tag_name(tag),
        copy,
        dest
    );
    if r.error != 0 || tag != TAG_ENDPOINT {
        fail!("copy failed");
    }

    // Copying onto an occupied slot must fail with DeleteFirst.
    let r = root.call(
        slots::INIT_THREAD_CNODE,
        Label::CNodeCopy as u64,
        &copy_args,
        &[slots::INIT_THREAD_CNODE],
    );
    uprintln!(
        "bootinfo: copy onto an occupied slot: error {}{} (slot {})",
        r.error,
        if r.error == ERR_DELETE_FIRST { " (DeleteFirst)" } else { "" },
        copy
    );
    if r.error != ERR_DELETE_FIRST {
        fail!("copy onto an occupied slot did not fail with DeleteFirst");
    }
}
