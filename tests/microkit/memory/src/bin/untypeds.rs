//! Untyped-handoff test PD: lists the untypeds the initialiser handed over, checks each cap
//! is an untyped, retypes a notification and a frame from them into the untyped CNode (as
//! Microkit's handoff example does), then uses both: a badged copy signals the notification,
//! and the frame is mapped, written and read back.
#![no_std]
#![no_main]

use sel4_microkit::regions::{Region, Untypeds};
use sel4_microkit::sel4_sys::abi::{object_type, ObjectKind, ARCH};
use sel4_microkit::sel4_sys::invocation::default_vm_attributes;
use sel4_microkit::sel4_sys::{ops, syscall, CapRights};
use sel4_microkit::{debug_println, protection_domain, setvar, Channel, Handler};

/// Slot of the PD's VSpace cap (libmicrokit's layout).
const VSPACE_CAP: u64 = 3;
/// `seL4_DebugCapIdentify` tag of an untyped cap.
const UNTYPED_TAG: u64 = 2;
/// log2 slots of the untyped CNode (depth for CNode operations on it).
const UNTYPED_CNODE_BITS: u8 = 9;
/// Badge of the notification copy.
const BADGE: u64 = 0x5a;

struct Idle;

impl Handler for Idle {
    fn notified(&mut self, channel: Channel) {
        debug_println!("untypeds: unexpected notification on channel {}", channel.index());
    }
}

fn init() -> Idle {
    let vaddr = setvar!(untypeds_vaddr);
    // SAFETY: the SDF maps the description region (one page) read-write at `untypeds_vaddr`.
    let u = Untypeds::new(unsafe { Region::new(vaddr, 4096) });
    let slots = u.slots();
    let (mut ram, mut device, mut ram_bytes, mut real) = (0, 0, 0u64, 0);
    for s in slots.clone() {
        let Some(d) = u.desc(s) else { continue };
        if d.is_device {
            device += 1;
        } else {
            ram += 1;
            ram_bytes += 1u64 << d.size_bits;
        }
        if syscall::debug_cap_identify(u.cap(s)) == UNTYPED_TAG {
            real += 1;
        }
    }
    debug_println!(
        "untypeds: cnode cptr {:#x}, slots {}..{}: {ram} RAM ({} KiB), {device} device",
        u.cnode_cptr(),
        slots.start,
        slots.end,
        ram_bytes / 1024
    );
    for s in slots.clone().take(4) {
        if let Some(d) = u.desc(s) {
            let kind = if d.is_device { "device" } else { "RAM" };
            debug_println!("untypeds: slot {s}: paddr {:#x}, 2^{} bytes, {kind}", d.paddr, d.size_bits);
        }
    }
    let total = slots.end - slots.start;
    if total > 0 && real == total {
        debug_println!("untypeds: all {total} caps are untyped caps");
    } else {
        debug_println!("untypeds: FAILED: {real} of {total} caps are untyped caps");
    }

    // A notification in slot `end` of the untyped CNode, from the first RAM untyped with room.
    let (end, root) = (slots.end, u.cnode_cptr());
    let ntfn_type = object_type(ARCH, ObjectKind::Notification).unwrap_or(0);
    let from = slots.clone().find(|s| {
        u.desc(*s).is_some_and(|d| !d.is_device && d.size_bits >= 12)
            && ops::untyped_retype(u.cap(*s), ntfn_type, 0, root, 0, 0, end, 1).is_ok()
    });
    let Some(from) = from else {
        debug_println!("untypeds: FAILED: no untyped could be retyped");
        return Idle;
    };
    debug_println!("untypeds: retyped a notification from slot {from} into slot {end}");
    let minted = ops::cnode_mint(root, end + 1, UNTYPED_CNODE_BITS, root, end, UNTYPED_CNODE_BITS, CapRights::ALL, BADGE);
    if let Err(e) = minted {
        debug_println!("untypeds: FAILED: mint of the badged copy: {e:?}");
        return Idle;
    }
    syscall::signal(u.cap(end + 1));
    let (_, badge) = syscall::nb_wait(u.cap(end));
    debug_println!("untypeds: poll on the new notification gives badge {badge:#x}");

    // A 4 KiB frame in slot end + 2, mapped next to the description region (same page table).
    let frame_type = object_type(ARCH, ObjectKind::Frame { size_bits: 12 }).unwrap_or(0);
    let frame_from = slots.clone().find(|s| {
        u.desc(*s).is_some_and(|d| !d.is_device && d.size_bits >= 12)
            && ops::untyped_retype(u.cap(*s), frame_type, 12, root, 0, 0, end + 2, 1).is_ok()
    });
    let Some(_) = frame_from else {
        debug_println!("untypeds: FAILED: no frame could be retyped");
        return Idle;
    };
    let at = vaddr + 0x10_0000;
    if let Err(e) = ops::page_map(u.cap(end + 2), VSPACE_CAP, at, CapRights::READ_WRITE, default_vm_attributes(ARCH)) {
        debug_println!("untypeds: FAILED: map of the new frame: {e:?}");
        return Idle;
    }
    let p = at as usize as *mut u64;
    // SAFETY: the frame was just mapped read-write at `at`; nothing else uses that address.
    let back = unsafe {
        p.add(17).write_volatile(0x1234_5678_9abc_def0);
        p.add(17).read_volatile()
    };
    debug_println!("untypeds: new frame mapped at {at:#x} reads back {back:#x}");
    Idle
}

protection_domain!(init);
