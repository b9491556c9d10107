//! x86_64 root task that reads its `seL4_BootInfo` and uses its caps through real seL4
//! invocations: prints the empty slot range, the untyped count and total bytes, retypes an
//! endpoint into the first empty slot (`seL4_Untyped_Retype`), copies it
//! (`seL4_CNode_Copy`), checks both with `seL4_DebugCapIdentify`, then issues itself an
//! IOPort cap for COM1 (`seL4_X86_IOPortControl_Issue`, 0x3F8–0x3FF) and writes one line
//! straight to the UART with `seL4_X86_IOPort_In8/Out8`. Error paths are checked too (a
//! copy onto an occupied slot, an overlapping issue, a port outside the cap). Every
//! mismatch prints a `bootinfo: ERROR` line.
#![no_std]
#![no_main]

use hello_x86_64::{call, cap_identify, println, yield_now};
use sel4_abi::bootinfo::slots;
use sel4_abi::message::ipc_buffer;
use sel4_abi::{
    arch_label_number, object_type_number, Arch, ArchLabel, BootInfo, Label, MessageInfo,
    ObjectKind,
};

/// DebugCapIdentify tag of an endpoint cap.
const TAG_ENDPOINT: u64 = 4;
/// `seL4_DeleteFirst`.
const ERR_DELETE_FIRST: u64 = 8;
/// `seL4_RevokeFirst`.
const ERR_REVOKE_FIRST: u64 = 9;
/// `seL4_IllegalOperation`.
const ERR_ILLEGAL_OPERATION: u64 = 3;
/// COM1.
const COM1: u64 = 0x3f8;
/// Last port of COM1's register block.
const COM1_LAST: u64 = 0x3ff;

/// Print an error line (the boot test fails on it).
macro_rules! fail {
    ($($arg:tt)*) => {{
        println!("bootinfo: ERROR: {}", format_args!($($arg)*));
    }};
}

/// Write word `offset` (bytes) of the IPC buffer at `buf`.
fn ipc_write(buf: u64, offset: u64, v: u64) {
    // SAFETY: `buf` is the IPC buffer the kernel mapped read-write for this task (from the
    // bootinfo); offsets are within its 1024 bytes.
    unsafe { core::ptr::write_volatile((buf + offset) as *mut u64, v) }
}

/// The x86_64 number of arch label `l`.
fn arch_label(l: ArchLabel) -> u64 {
    arch_label_number(Arch::X86_64, l).unwrap_or(u64::MAX)
}

/// Invoke `cap` with `label`, `len` message words (MR0..MR3 given) and `extra` extra caps
/// already in the IPC buffer; returns (error label, MR0).
fn invoke(cap: u64, label: u64, extra: u64, len: u64, mr: [u64; 4]) -> (u64, u64) {
    let (info, m) = call(cap, MessageInfo::new(label, 0, extra, len).to_word(), mr);
    (MessageInfo::from_word(info).label, m[0])
}

/// Entered from `_start` with rdi = bootinfo address.
#[no_mangle]
extern "C" fn user_main(bootinfo_addr: u64) -> ! {
    // SAFETY: the kernel maps the bootinfo page (a `seL4_BootInfo`, plain integers) at
    // this address for the root task, and nothing writes it.
    let bi: BootInfo = unsafe { core::ptr::read_volatile(bootinfo_addr as *const BootInfo) };
    run(bootinfo_addr, &bi);
    println!("bootinfo: done");
    loop {
        yield_now();
    }
}

fn run(bi_addr: u64, bi: &BootInfo) {
    println!(
        "bootinfo: at {:#x}, IPC buffer {:#x}, node {} of {}, CNode size bits {}",
        bi_addr, bi.ipc_buffer, bi.node_id, bi.num_nodes, bi.init_thread_cnode_size_bits
    );
    println!(
        "bootinfo: slots: image frames {}..{}, paging {}..{}, schedcontrol {}..{}, untyped {}..{}",
        bi.user_image_frames.start,
        bi.user_image_frames.end,
        bi.user_image_paging.start,
        bi.user_image_paging.end,
        bi.schedcontrol.start,
        bi.schedcontrol.end,
        bi.untyped.start,
        bi.untyped.end
    );
    println!("bootinfo: empty slots {}..{}", bi.empty.start, bi.empty.end);
    if bi.empty.end != 1 << bi.init_thread_cnode_size_bits || bi.empty.start + 8 > bi.empty.end {
        fail!("empty slot region does not end at the CNode size");
    }
    if bi.ipc_buffer + 4096 != bi_addr {
        fail!("bootinfo page is not right after the IPC buffer page");
    }
    if cap_identify(slots::IO_PORT_CONTROL) == 0 {
        fail!("no IOPortControl cap in slot 7");
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
    println!(
        "bootinfo: untyped: {} caps ({} RAM, {} device), {:#x} bytes RAM, {:#x} bytes device, {:#x} bytes in all",
        n,
        ram_caps,
        n - ram_caps,
        ram,
        dev,
        ram + dev
    );

    // Retype one endpoint from the first RAM untyped into the first empty slot.
    let Some(i) = bi.untyped_list[..n]
        .iter()
        .position(|d| d.is_device == 0 && d.size_bits >= 4)
    else {
        fail!("no RAM untyped");
        return;
    };
    let ut = bi.untyped.start + i as u64;
    let dest = bi.empty.start;
    let ep_type = object_type_number(Arch::X86_64, ObjectKind::Endpoint).unwrap_or(u64::MAX);
    let buf = bi.ipc_buffer;
    ipc_write(buf, ipc_buffer::mr_offset(4), dest); // node_offset
    ipc_write(buf, ipc_buffer::mr_offset(5), 1); // num_objects
    ipc_write(buf, ipc_buffer::CAPS_OR_BADGES, slots::INIT_THREAD_CNODE); // root CNode
    let (err, _) = invoke(ut, Label::UntypedRetype as u64, 1, 6, [ep_type, 0, 0, 0]);
    let tag = cap_identify(dest);
    println!(
        "bootinfo: retype: error {}, cap tag {} in slot {} (Untyped_Retype of untyped slot {} into an endpoint)",
        err, tag, dest, ut
    );
    if err != 0 || tag != TAG_ENDPOINT {
        fail!("retype failed");
    }

    // Copy it into the next empty slot.
    let copy = dest + 1;
    ipc_write(buf, ipc_buffer::CAPS_OR_BADGES, slots::INIT_THREAD_CNODE);
    ipc_write(buf, ipc_buffer::mr_offset(4), 0xf); // rights: all
    let (err, _) = invoke(
        slots::INIT_THREAD_CNODE,
        Label::CNodeCopy as u64,
        1,
        5,
        [copy, 64, dest, 64],
    );
    let tag = cap_identify(copy);
    println!(
        "bootinfo: copy: error {}, cap tag {} in slot {} (CNode_Copy from slot {})",
        err, tag, copy, dest
    );
    if err != 0 || tag != TAG_ENDPOINT {
        fail!("copy failed");
    }
    ipc_write(buf, ipc_buffer::CAPS_OR_BADGES, slots::INIT_THREAD_CNODE);
    ipc_write(buf, ipc_buffer::mr_offset(4), 0xf);
    let (err, _) = invoke(
        slots::INIT_THREAD_CNODE,
        Label::CNodeCopy as u64,
        1,
        5,
        [copy, 64, dest, 64],
    );
    println!("bootinfo: copy onto an occupied slot: error {}", err);
    if err != ERR_DELETE_FIRST {
        fail!("copy onto an occupied slot did not fail with DeleteFirst");
    }

    // IOPort: issue COM1's ports into the next empty slot and print a line through them.
    let port_slot = dest + 2;
    let issue = arch_label(ArchLabel::IoPortControlIssue);
    ipc_write(buf, ipc_buffer::CAPS_OR_BADGES, slots::INIT_THREAD_CNODE);
    let (err, _) = invoke(
        slots::IO_PORT_CONTROL,
        issue,
        1,
        4,
        [COM1, COM1_LAST, port_slot, 64],
    );
    let tag = cap_identify(port_slot);
    println!(
        "bootinfo: ioport: IOPortControl_Issue {:#x}..{:#x} into slot {}: error {}, cap tag {}",
        COM1, COM1_LAST, port_slot, err, tag
    );
    if err != 0 || tag == 0 {
        fail!("IOPortControl_Issue failed");
        return;
    }
    ipc_write(buf, ipc_buffer::CAPS_OR_BADGES, slots::INIT_THREAD_CNODE);
    let (err, _) = invoke(
        slots::IO_PORT_CONTROL,
        issue,
        1,
        4,
        [COM1 + 4, COM1 + 4, port_slot + 1, 64],
    );
    println!(
        "bootinfo: ioport: issuing an already issued port again: error {}",
        err
    );
    if err != ERR_REVOKE_FIRST {
        fail!("overlapping IOPortControl_Issue did not fail with RevokeFirst");
    }
    let (err, _) = invoke(
        port_slot,
        arch_label(ArchLabel::IoPortOut8),
        0,
        2,
        [COM1 - 1, b'!' as u64, 0, 0],
    );
    println!(
        "bootinfo: ioport: Out8 to port {:#x} outside the cap: error {}",
        COM1 - 1,
        err
    );
    if err != ERR_ILLEGAL_OPERATION {
        fail!("Out8 outside the IOPort cap did not fail with IllegalOperation");
    }
    let in8 = arch_label(ArchLabel::IoPortIn8);
    let out8 = arch_label(ArchLabel::IoPortOut8);
    let mut errors = 0;
    for &b in b"bootinfo: ioport: this line went straight to COM1 through X86IOPortOut8\r\n" {
        // Wait for the transmitter (line status register, THR empty) through In8.
        for _ in 0..100_000 {
            let (err, lsr) = invoke(port_slot, in8, 0, 1, [COM1 + 5, 0, 0, 0]);
            if err != 0 {
                errors += 1;
                break;
            }
            if lsr & 0x20 != 0 {
                break;
            }
        }
        let (err, _) = invoke(port_slot, out8, 0, 2, [COM1, b as u64, 0, 0]);
        if err != 0 {
            errors += 1;
        }
    }
    if errors != 0 {
        fail!("{} IOPort In8/Out8 invocations failed", errors);
    }
}
