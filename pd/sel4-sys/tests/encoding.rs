//! Host tests: MessageInfo words and MR layouts of the encoders, cross-checked against seL4's
//! generated label tables and method layouts when `../shared/reference/sel4-data` exists.

use sel4_sys::abi::{arch_label_number, object_type, Arch, ArchLabel, Label, ObjectKind};
use sel4_sys::invocation as inv;
use sel4_sys::message::{cnode_cap_data, CapRights, MessageInfo};
use sel4_sys::IpcBuffer;

#[test]
fn message_info_bits() {
    let m = MessageInfo::new(0x12345, 0b101, 2, 17);
    assert_eq!(m.0, (0x12345 << 12) | (0b101 << 9) | (2 << 7) | 17);
    assert_eq!((m.label(), m.caps_unwrapped(), m.extra_caps(), m.length()), (0x12345, 5, 2, 17));
    // Truncation like libsel4's bitfield setters.
    assert_eq!(MessageInfo::new(0, 0, 7, 200).length(), 200 & 0x7f);
    assert_eq!(MessageInfo::new(0, 0, 7, 0).extra_caps(), 3);
}

#[test]
fn rights_and_capdata() {
    assert_eq!(CapRights::new(false, false, true, true), CapRights::READ_WRITE);
    assert_eq!(CapRights::new(true, true, true, true).0, 0xf);
    assert_eq!(CapRights::new(false, true, false, false).0, 4);
    assert_eq!(cnode_cap_data(0, 52), 52);
    assert_eq!(cnode_cap_data(3, 2), (3 << 6) | 2);
}

#[test]
fn ipc_buffer_offsets() {
    let b = core::mem::MaybeUninit::<IpcBuffer>::uninit();
    let base = b.as_ptr() as usize;
    let off = |p: *const u8| p as usize - base;
    // SAFETY-free: addr_of! on an uninit place only computes addresses.
    let p = b.as_ptr();
    unsafe {
        assert_eq!(off(core::ptr::addr_of!((*p).tag).cast()), 0);
        assert_eq!(off(core::ptr::addr_of!((*p).msg).cast()), 8);
        assert_eq!(off(core::ptr::addr_of!((*p).user_data).cast()), 968);
        assert_eq!(off(core::ptr::addr_of!((*p).caps_or_badges).cast()), 976);
        assert_eq!(off(core::ptr::addr_of!((*p).receive_cnode).cast()), 1000);
        assert_eq!(off(core::ptr::addr_of!((*p).receive_index).cast()), 1008);
        assert_eq!(off(core::ptr::addr_of!((*p).receive_depth).cast()), 1016);
    }
    assert_eq!(core::mem::size_of::<IpcBuffer>(), 1024);
    assert_eq!(core::mem::align_of::<IpcBuffer>(), 1024);
}

#[test]
fn retype_layout() {
    let i = inv::untyped_retype(9, 12, 2, 0, 0, 100, 4);
    assert_eq!(i.info(), MessageInfo::new(1, 0, 1, 6));
    assert_eq!(i.args(), &[9, 12, 0, 0, 100, 4]);
    assert_eq!(&i.caps[..i.ncaps], &[2]);
}

#[test]
fn cnode_layouts() {
    let r = CapRights::ALL;
    let m = inv::cnode_mint(10, 64, 2, 20, 64, r, 0x8000_0000_0000_0003);
    assert_eq!(m.info(), MessageInfo::new(22, 0, 1, 6));
    assert_eq!(m.args(), &[10, 64, 20, 64, 0xf, 0x8000_0000_0000_0003]);
    let c = inv::cnode_copy(1, 64, 2, 3, 64, CapRights::READ);
    assert_eq!((c.label, c.args()), (21, &[1, 64, 3, 64, 2][..]));
    let mv = inv::cnode_move(1, 64, 2, 3, 64);
    assert_eq!((mv.label, mv.len, mv.ncaps), (23, 4, 1));
    let mu = inv::cnode_mutate(1, 64, 2, 3, 64, 77);
    assert_eq!((mu.label, mu.args()), (24, &[1, 64, 3, 64, 77][..]));
    let ro = inv::cnode_rotate(1, 64, 5, 2, 3, 64, 6, 4, 7, 64);
    assert_eq!(ro.info(), MessageInfo::new(25, 0, 2, 8));
    assert_eq!(ro.args(), &[1, 64, 5, 3, 64, 6, 7, 64]);
    assert_eq!(&ro.caps[..2], &[2, 4]);
    assert_eq!(inv::cnode_delete(9, 64).info(), MessageInfo::new(19, 0, 0, 2));
    assert_eq!(inv::cnode_revoke(9, 64).info(), MessageInfo::new(18, 0, 0, 2));
}

#[test]
fn tcb_layouts() {
    let c = inv::tcb_configure(2, 52, 3, 0, 0x1000, 10);
    assert_eq!(c.info(), MessageInfo::new(5, 0, 3, 3));
    assert_eq!(c.args(), &[52, 0, 0x1000]);
    assert_eq!(&c.caps, &[2, 3, 10]);
    let s = inv::tcb_set_sched_params(1, 254, 100, 14, 5);
    assert_eq!(s.info(), MessageInfo::new(8, 0, 3, 2));
    assert_eq!((s.args(), s.caps), (&[254, 100][..], [1, 14, 5]));
    let sp = inv::tcb_set_space(5, 2, 0, 3, 0);
    assert_eq!((sp.label, sp.args(), sp.caps), (11, &[0, 0][..], [5, 2, 3]));
    assert_eq!(inv::tcb_set_ipc_buffer(0x2000, 7).info(), MessageInfo::new(10, 0, 1, 1));
    assert_eq!(inv::tcb_set_priority(1, 9).info(), MessageInfo::new(6, 0, 1, 1));
    assert_eq!(inv::tcb_resume().info(), MessageInfo::new(13, 0, 0, 0));
    assert_eq!(inv::tcb_suspend().info(), MessageInfo::new(12, 0, 0, 0));
    assert_eq!(inv::tcb_bind_notification(4).info(), MessageInfo::new(14, 0, 1, 0));
    assert_eq!(inv::tcb_set_tls_base(0x55).info(), MessageInfo::new(16, 0, 0, 1));
    let w = inv::tcb_write_registers(true, 0, &[0x200000, 0x7000]);
    assert_eq!(w.info(), MessageInfo::new(3, 0, 0, 4));
    assert_eq!(w.args(), &[1, 2, 0x200000, 0x7000]);
    let r = inv::tcb_read_registers(false, 3, 36);
    assert_eq!((r.label, r.args()), (2, &[3 << 8, 36][..]));
}

#[test]
fn sched_and_irq_layouts() {
    let s = inv::sched_control_configure_flags(40, 1000, 2000, 0, 0x101, 0);
    assert_eq!(s.info(), MessageInfo::new(33, 0, 1, 5));
    assert_eq!(s.args(), &[1000, 2000, 0, 0x101, 0]);
    assert_eq!(inv::sched_context_bind(3).info(), MessageInfo::new(34, 0, 1, 0));
    assert_eq!(inv::sched_context_unbind().info(), MessageInfo::new(35, 0, 0, 0));
    assert_eq!(inv::sched_context_unbind_object(3).info(), MessageInfo::new(36, 0, 1, 0));
    let g = inv::irq_control_get(33, 2, 50, 64);
    assert_eq!((g.info(), g.args()), (MessageInfo::new(26, 0, 1, 3), &[33, 50, 64][..]));
    assert_eq!(inv::irq_handler_ack().info(), MessageInfo::new(27, 0, 0, 0));
    assert_eq!(inv::irq_handler_set_notification(5).info(), MessageInfo::new(28, 0, 1, 0));
    assert_eq!(inv::irq_handler_clear().info(), MessageInfo::new(29, 0, 0, 0));
    let t = inv::irq_control_get_trigger(Arch::Aarch64, 27, true, 2, 60, 64).unwrap();
    assert_eq!((t.label, t.args()), (55, &[27, 1, 60, 64][..]));
    assert_eq!(inv::irq_control_get_trigger(Arch::Riscv64, 10, false, 2, 60, 64).unwrap().label, 46);
    assert!(inv::irq_control_get_trigger(Arch::X86_64, 1, false, 2, 3, 64).is_err());
    let io = inv::irq_control_get_ioapic(Arch::X86_64, 2, 61, 64, 0, 4, 0, 0, 4).unwrap();
    assert_eq!((io.info(), io.args()), (MessageInfo::new(60, 0, 1, 7), &[61, 64, 0, 4, 0, 0, 4][..]));
}

#[test]
fn vspace_layouts() {
    let rw = CapRights::READ_WRITE;
    for (a, map, ptmap, getaddr, mkpool, assign) in [
        (Arch::Aarch64, 46, 44, 52, 53, 54),
        (Arch::Riscv64, 41, 39, 43, 44, 45),
        (Arch::X86_64, 47, 43, 50, 51, 52),
    ] {
        let m = inv::page_map(a, 3, 0x40_0000, rw, 7).unwrap();
        assert_eq!(m.info(), MessageInfo::new(map, 0, 1, 3));
        assert_eq!(m.args(), &[0x40_0000, 3, 7]);
        let p = inv::page_table_map(a, 3, 0x40_0000, 0).unwrap();
        assert_eq!(p.info(), MessageInfo::new(ptmap, 0, 1, 2));
        assert_eq!(inv::page_get_address(a).unwrap().label, getaddr);
        let mp = inv::asid_control_make_pool(a, 30, 2, 31, 64).unwrap();
        assert_eq!((mp.info(), mp.args(), &mp.caps[..2]), (MessageInfo::new(mkpool, 0, 2, 2), &[31, 64][..], &[30, 2][..]));
        assert_eq!(inv::asid_pool_assign(a, 3).unwrap().info(), MessageInfo::new(assign, 0, 1, 0));
    }
    assert_eq!(inv::pdpt_map(Arch::X86_64, 3, 0, 0).unwrap().label, 39);
    assert_eq!(inv::page_directory_map(Arch::X86_64, 3, 0, 0).unwrap().label, 41);
    assert!(inv::pdpt_map(Arch::Aarch64, 3, 0, 0).is_err());
}

#[test]
fn ioport_layouts() {
    let c = inv::ioport_control_issue(Arch::X86_64, 0x3f8, 0x3ff, 2, 70, 64).unwrap();
    assert_eq!((c.info(), c.args()), (MessageInfo::new(53, 0, 1, 4), &[0x3f8, 0x3ff, 70, 64][..]));
    assert_eq!(inv::ioport_in(Arch::X86_64, 8, 0x3f8).unwrap().info(), MessageInfo::new(54, 0, 0, 1));
    assert_eq!(inv::ioport_in(Arch::X86_64, 32, 0x3f8).unwrap().label, 56);
    let o = inv::ioport_out(Arch::X86_64, 16, 0x3f8, 0x41).unwrap();
    assert_eq!((o.info(), o.args()), (MessageInfo::new(58, 0, 0, 2), &[0x3f8, 0x41][..]));
    assert!(inv::ioport_in(Arch::Aarch64, 8, 0).is_err());
    assert!(inv::ioport_in(Arch::X86_64, 12, 0).is_err());
}

#[test]
fn object_types() {
    assert_eq!(object_type(Arch::Aarch64, ObjectKind::Frame { size_bits: 12 }), Some(9));
    assert_eq!(object_type(Arch::Aarch64, ObjectKind::VSpace), Some(8));
    assert_eq!(object_type(Arch::Riscv64, ObjectKind::VSpace), Some(10));
    assert_eq!(object_type(Arch::Riscv64, ObjectKind::Frame { size_bits: 12 }), Some(8));
    assert_eq!(object_type(Arch::X86_64, ObjectKind::Frame { size_bits: 12 }), Some(10));
    assert_eq!(object_type(Arch::X86_64, ObjectKind::X86PageDirectory), Some(13));
    assert_eq!(object_type(Arch::Aarch64, ObjectKind::X86Pdpt), None);
}

// ------------------------------------------------------------------ reference cross-check

fn reference(name: &str) -> Option<String> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/reference/sel4-data/generated").join(name);
    let alt = std::path::Path::new("/work/shared/reference/sel4-data/generated").join(name);
    std::fs::read_to_string(&p).or_else(|_| std::fs::read_to_string(alt)).ok()
}

fn json_label(text: &str, name: &str) -> Option<u64> {
    let key = format!("\"{name}\":");
    let at = text.find(&key)? + key.len();
    let rest = text[at..].trim_start();
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

#[test]
fn labels_match_reference() {
    let generic = [
        (Label::UntypedRetype, "UntypedRetype"),
        (Label::TCBReadRegisters, "TCBReadRegisters"),
        (Label::TCBWriteRegisters, "TCBWriteRegisters"),
        (Label::TCBConfigure, "TCBConfigure"),
        (Label::TCBSetPriority, "TCBSetPriority"),
        (Label::TCBSetSchedParams, "TCBSetSchedParams"),
        (Label::TCBSetIPCBuffer, "TCBSetIPCBuffer"),
        (Label::TCBSetSpace, "TCBSetSpace"),
        (Label::TCBSuspend, "TCBSuspend"),
        (Label::TCBResume, "TCBResume"),
        (Label::TCBBindNotification, "TCBBindNotification"),
        (Label::TCBSetTLSBase, "TCBSetTLSBase"),
        (Label::CNodeRevoke, "CNodeRevoke"),
        (Label::CNodeDelete, "CNodeDelete"),
        (Label::CNodeCopy, "CNodeCopy"),
        (Label::CNodeMint, "CNodeMint"),
        (Label::CNodeMove, "CNodeMove"),
        (Label::CNodeMutate, "CNodeMutate"),
        (Label::CNodeRotate, "CNodeRotate"),
        (Label::IRQIssueIRQHandler, "IRQIssueIRQHandler"),
        (Label::IRQAckIRQ, "IRQAckIRQ"),
        (Label::IRQSetIRQHandler, "IRQSetIRQHandler"),
        (Label::IRQClearIRQHandler, "IRQClearIRQHandler"),
        (Label::SchedControlConfigureFlags, "SchedControlConfigureFlags"),
        (Label::SchedContextBind, "SchedContextBind"),
        (Label::SchedContextUnbind, "SchedContextUnbind"),
        (Label::SchedContextUnbindObject, "SchedContextUnbindObject"),
    ];
    let Some(a64) = reference("invocation_labels_aarch64-mcs.json") else {
        eprintln!("reference data absent; skipping cross-check");
        return;
    };
    for (l, name) in generic {
        assert_eq!(json_label(&a64, name), Some(l as u64), "{name}");
    }
    let arch_names: [(Arch, &str, &[(ArchLabel, &str)]); 3] = [
        (Arch::Aarch64, "invocation_labels_aarch64-mcs.json", &[
            (ArchLabel::PageTableMap, "ARMPageTableMap"), (ArchLabel::PageMap, "ARMPageMap"),
            (ArchLabel::PageUnmap, "ARMPageUnmap"), (ArchLabel::PageGetAddress, "ARMPageGetAddress"),
            (ArchLabel::AsidControlMakePool, "ARMASIDControlMakePool"), (ArchLabel::AsidPoolAssign, "ARMASIDPoolAssign"),
            (ArchLabel::IrqIssueIrqHandlerTrigger, "ARMIRQIssueIRQHandlerTrigger"),
        ]),
        (Arch::Riscv64, "invocation_labels_riscv64-mcs.json", &[
            (ArchLabel::PageTableMap, "RISCVPageTableMap"), (ArchLabel::PageMap, "RISCVPageMap"),
            (ArchLabel::PageUnmap, "RISCVPageUnmap"), (ArchLabel::PageGetAddress, "RISCVPageGetAddress"),
            (ArchLabel::AsidControlMakePool, "RISCVASIDControlMakePool"), (ArchLabel::AsidPoolAssign, "RISCVASIDPoolAssign"),
            (ArchLabel::IrqIssueIrqHandlerTrigger, "RISCVIRQIssueIRQHandlerTrigger"),
        ]),
        (Arch::X86_64, "invocation_labels_x86_64-mcs-iommu.json", &[
            (ArchLabel::PdptMap, "X86PDPTMap"), (ArchLabel::PageDirectoryMap, "X86PageDirectoryMap"),
            (ArchLabel::PageTableMap, "X86PageTableMap"), (ArchLabel::PageMap, "X86PageMap"),
            (ArchLabel::PageUnmap, "X86PageUnmap"), (ArchLabel::PageGetAddress, "X86PageGetAddress"),
            (ArchLabel::AsidControlMakePool, "X86ASIDControlMakePool"), (ArchLabel::AsidPoolAssign, "X86ASIDPoolAssign"),
            (ArchLabel::IoPortControlIssue, "X86IOPortControlIssue"), (ArchLabel::IoPortIn8, "X86IOPortIn8"),
            (ArchLabel::IoPortIn32, "X86IOPortIn32"), (ArchLabel::IoPortOut8, "X86IOPortOut8"),
            (ArchLabel::IoPortOut32, "X86IOPortOut32"),
            (ArchLabel::IrqIssueIrqHandlerIoApic, "X86IRQIssueIRQHandlerIOAPIC"),
        ]),
    ];
    for (arch, file, names) in arch_names {
        let text = reference(file).expect("reference file");
        for (l, name) in names {
            assert_eq!(json_label(&text, name), arch_label_number(arch, *l), "{name}");
        }
    }
}

/// The reference layout lists `len=N` per method; our encoders must send the same length.
#[test]
fn lengths_match_reference_layout() {
    let Some(text) = reference("method_mr_layout_aarch64.txt") else { return };
    let len_of = |method: &str| -> u64 {
        let line = text.lines().find(|l| l.contains(&format!("[{method}]")) && !l.contains("!defined(CONFIG_KERNEL_MCS)")).unwrap();
        let at = line.find("len=").unwrap() + 4;
        line[at..].split_whitespace().next().unwrap().parse().unwrap()
    };
    let rw = CapRights::READ_WRITE;
    let cases: Vec<(&str, inv::Invocation)> = vec![
        ("UntypedRetype", inv::untyped_retype(0, 0, 0, 0, 0, 0, 1)),
        ("TCBConfigure", inv::tcb_configure(0, 0, 0, 0, 0, 0)),
        ("TCBSetSchedParams", inv::tcb_set_sched_params(0, 0, 0, 0, 0)),
        ("TCBSetSpace", inv::tcb_set_space(0, 0, 0, 0, 0)),
        ("TCBSetIPCBuffer", inv::tcb_set_ipc_buffer(0, 0)),
        ("TCBReadRegisters", inv::tcb_read_registers(false, 0, 1)),
        ("CNodeCopy", inv::cnode_copy(0, 0, 0, 0, 0, rw)),
        ("CNodeMint", inv::cnode_mint(0, 0, 0, 0, 0, rw, 0)),
        ("CNodeMove", inv::cnode_move(0, 0, 0, 0, 0)),
        ("CNodeMutate", inv::cnode_mutate(0, 0, 0, 0, 0, 0)),
        ("CNodeRotate", inv::cnode_rotate(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
        ("CNodeDelete", inv::cnode_delete(0, 0)),
        ("IRQIssueIRQHandler", inv::irq_control_get(0, 0, 0, 0)),
        ("SchedControlConfigureFlags", inv::sched_control_configure_flags(0, 0, 0, 0, 0, 0)),
        ("ARMPageMap", inv::page_map(Arch::Aarch64, 0, 0, rw, 0).unwrap()),
        ("ARMPageTableMap", inv::page_table_map(Arch::Aarch64, 0, 0, 0).unwrap()),
        ("ARMASIDControlMakePool", inv::asid_control_make_pool(Arch::Aarch64, 0, 0, 0, 0).unwrap()),
        ("ARMIRQIssueIRQHandlerTrigger", inv::irq_control_get_trigger(Arch::Aarch64, 0, false, 0, 0, 0).unwrap()),
    ];
    for (m, i) in cases {
        assert_eq!(i.len as u64, len_of(m), "{m}");
    }
}
