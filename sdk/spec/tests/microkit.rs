//! The Microkit conventions of `microkit::build`, checked on the hello system's shape.

use microkit_spec::layout as L;
use microkit_spec::microkit::*;
use microkit_spec::*;

fn pd(name: &str, priority: u8, passive: bool) -> PdInput {
    PdInput {
        name: name.into(),
        priority,
        budget: 1000,
        period: 1000,
        passive,
        cpu: 0,
        stack_size: 0x2000,
        entry: 0x20_0000,
        ipc_buffer_vaddr: 0x20_9000,
        segments: vec![
            SegmentInput { vaddr: 0x20_0000, mem_size: 0x1800, data: vec![0xaa; 0x1800], read: true, write: false, execute: true },
            SegmentInput { vaddr: 0x20_4010, mem_size: 0x100, data: vec![0xbb; 0x20], read: true, write: true, execute: false },
        ],
        maps: vec![],
        irqs: vec![],
        ioports: vec![],
        smc: false,
        parent: None,
    }
}

fn hello() -> SystemInput {
    let mut client = pd("client", 100, false);
    client.maps.push(MapInput { region: 0, vaddr: 0x400_0000, read: true, write: true, execute: false, cached: true });
    let mut driver = pd("driver", 150, false);
    driver.maps.push(MapInput { region: 1, vaddr: 0x500_0000, read: true, write: true, execute: false, cached: false });
    driver.irqs.push(IrqInput { id: 0, source: IrqSource::Plain { irq: 34, trigger: Trigger::Level } });
    SystemInput {
        arch: Arch::Aarch64,
        pds: vec![pd("server", 200, true), driver, client],
        regions: vec![
            RegionInput { name: "shared".into(), size: 0x1000, page_bits: 12, paddr: None, bootinfo: None, receive_untypeds: false },
            RegionInput { name: "rtc".into(), size: 0x1000, page_bits: 12, paddr: Some(0x901_0000), bootinfo: None, receive_untypeds: false },
        ],
        channels: vec![ChannelInput {
            a: EndInput { pd: 2, id: 0, notify: true, pp: true },
            b: EndInput { pd: 0, id: 0, notify: true, pp: false },
        }],
    }
}

fn cap_at<'s>(spec: &'s Spec, pd: usize, slot: u64) -> Option<(&'s Object, Cap)> {
    let cnode = spec.pds[pd].cspace;
    spec.caps.iter().find(|c| c.cnode == cnode && c.slot == slot).map(|c| (&spec.objects[c.cap.object as usize], c.cap))
}

#[test]
fn slots_and_badges_follow_libmicrokit() {
    let (spec, data) = build(&hello()).unwrap();
    // Server (index 0) is a PPC target: endpoint in slot 1; passive: monitor EP in slot 5.
    let (o, _) = cap_at(&spec, 0, L::INPUT_CAP).unwrap();
    assert_eq!(o.kind, ObjectKind::Endpoint);
    let (o, c) = cap_at(&spec, 0, L::MONITOR_EP_CAP).unwrap();
    assert_eq!((o.name.as_str(), c.badge), ("ep_monitor", 1));
    // Client (index 2) has no endpoint: its notification is the input cap.
    assert_eq!(cap_at(&spec, 2, L::INPUT_CAP).unwrap().0.kind, ObjectKind::Notification);
    // Fault EP: the monitor's, badge index + 1.
    let (o, c) = cap_at(&spec, 2, L::FAULT_EP_CAP).unwrap();
    assert_eq!((o.name.as_str(), c.badge), ("ep_monitor", 3));
    assert_eq!(spec.pds[2].fault_ep.unwrap().1, 3);
    // Client -> server PPC: endpoint of the server, badge PPC | server's id.
    let (o, c) = cap_at(&spec, 2, L::BASE_ENDPOINT_CAP).unwrap();
    assert_eq!((o.name.as_str(), c.badge), ("ep_server", L::PPC_BADGE));
    // Notifications both ways, badge 1 << the receiver's channel id.
    let (o, c) = cap_at(&spec, 2, L::BASE_OUTPUT_NOTIFICATION_CAP).unwrap();
    assert_eq!((o.name.as_str(), c.badge), ("ntfn_server", 1));
    assert_eq!(cap_at(&spec, 0, L::BASE_OUTPUT_NOTIFICATION_CAP).unwrap().0.name, "ntfn_client");
    // The server must not be able to PPC the client.
    assert!(cap_at(&spec, 0, L::BASE_ENDPOINT_CAP).is_none());
    // Driver IRQ: handler in slot 138, bound to its notification with badge 1 << 0.
    let (o, _) = cap_at(&spec, 1, L::BASE_IRQ_CAP).unwrap();
    let ntfn = spec.pds[1].bound_notification.unwrap();
    assert_eq!(o.kind, ObjectKind::Irq { source: IrqSource::Plain { irq: 34, trigger: Trigger::Level }, notification: Some((ntfn, 1)) });
    // Device frame at its fixed address, mapped uncached.
    let rtc = spec.objects.iter().position(|o| o.name == "mr_rtc_0").unwrap() as u32;
    assert!(matches!(spec.objects[rtc as usize].kind, ObjectKind::Frame { paddr: Some(0x901_0000), .. }));
    assert!(spec.mappings.iter().any(|m| m.frame == rtc && m.vaddr == 0x500_0000 && !m.cached));
    // SC badge 0x100 + index, guard 55, stack at the top.
    let sc = spec.pds[1].sc.unwrap();
    assert!(matches!(spec.objects[sc as usize].kind, ObjectKind::SchedContext { badge: 0x101, .. }));
    assert_eq!(spec.pds[0].cspace_guard_size, 55);
    assert_eq!(spec.pds[0].sp, stack_top(Arch::Aarch64));
    // Started by priority: server (200), driver (150), client (100).
    assert_eq!(spec.start_order, vec![0, 1, 2]);
    // Round trip through the encoding.
    let blob = encode(&spec, &data);
    let (back, d) = decode(&blob).unwrap();
    assert_eq!(back, spec);
    assert_eq!(d, &data[..]);
}

#[test]
fn segments_become_filled_pages() {
    let (spec, data) = build(&hello()).unwrap();
    let vs = spec.pds[0].vspace;
    let page = |va: u64| {
        let m = spec.mappings.iter().find(|m| m.vspace == vs && m.vaddr == va).expect("mapped");
        (m, &spec.objects[m.frame as usize])
    };
    // Text: two pages, the second only half filled; executable, not writable.
    let (m, f) = page(0x20_0000);
    assert!(m.execute && !m.write);
    let ObjectKind::Frame { fill, .. } = &f.kind else { panic!() };
    assert_eq!((fill[0].frame_offset, fill[0].len), (0, 0x1000));
    let (_, f) = page(0x20_1000);
    let ObjectKind::Frame { fill, .. } = &f.kind else { panic!() };
    assert_eq!(fill[0].len, 0x800);
    // Data at an unaligned vaddr: one page with 0x20 bytes at offset 0x10.
    let (m, f) = page(0x20_4000);
    assert!(m.write && !m.execute);
    let ObjectKind::Frame { fill, .. } = &f.kind else { panic!() };
    assert_eq!((fill[0].frame_offset, fill[0].len), (0x10, 0x20));
    assert!(data[fill[0].data_offset as usize..][..0x20].iter().all(|b| *b == 0xbb));
    // IPC buffer and both stack pages mapped.
    assert!(spec.mappings.iter().any(|m| m.vspace == vs && m.vaddr == 0x20_9000));
    let top = stack_top(Arch::Aarch64);
    assert!(spec.mappings.iter().any(|m| m.vspace == vs && m.vaddr == top - 0x1000));
    assert!(spec.mappings.iter().any(|m| m.vspace == vs && m.vaddr == top - 0x2000));
}

#[test]
fn children_and_errors() {
    let mut sys = hello();
    let mut child = pd("child", 50, false);
    child.parent = Some((0, 3));
    sys.pds.push(child);
    let (spec, _) = build(&sys).unwrap();
    assert_eq!(spec.start_order, vec![0, 1, 2, 3]);
    // The parent holds the child's TCB at 202 + 3; the child faults to the parent's endpoint.
    assert_eq!(cap_at(&spec, 0, L::BASE_TCB_CAP + 3).unwrap().0.name, "tcb_child");
    let (o, c) = cap_at(&spec, 3, L::FAULT_EP_CAP).unwrap();
    assert_eq!((o.name.as_str(), c.badge), ("ep_server", L::FAULT_BADGE | 3));

    let mut bad = hello();
    bad.channels[0].b.pp = true; // a PPC the other way gives the client an endpoint too
    assert!(build(&bad).is_ok());
    let mut bad = hello();
    bad.pds[0].budget = 5000;
    assert!(matches!(build(&bad), Err(BuildError::Invalid(..))));
    let mut bad = hello();
    bad.pds[2].maps[0].region = 9;
    assert_eq!(build(&bad), Err(BuildError::BadIndex("map region", 9)));
    let mut bad = hello();
    bad.regions[0].size = 0x1800;
    assert!(build(&bad).is_err());
}

#[test]
fn smc_pd_gets_the_arm_smc_cap_in_slot_7() {
    let mut sys = hello();
    sys.pds[2].smc = true;
    let (spec, _) = build(&sys).unwrap();
    let (o, c) = cap_at(&spec, 2, L::ARM_SMC_CAP).expect("client SMC cap");
    assert_eq!(o.kind, ObjectKind::ArmSmc);
    assert_eq!(c.badge, 0, "unbadged: any function id, as Microkit gives it");
    assert!(cap_at(&spec, 1, L::ARM_SMC_CAP).is_none(), "driver has no smc");
    assert_eq!(spec.objects.iter().filter(|o| o.kind == ObjectKind::ArmSmc).count(), 1);
}

#[test]
fn bootinfo_regions_and_untyped_handoff() {
    use L::untypeds as U;
    let mut sys = hello();
    sys.regions.push(RegionInput { name: "dtb".into(), size: 0x2000, page_bits: 12, paddr: None, bootinfo: Some(6), receive_untypeds: false });
    sys.regions.push(RegionInput { name: "uts".into(), size: 0x1000, page_bits: 12, paddr: None, bootinfo: None, receive_untypeds: true });
    sys.pds[2].maps.push(MapInput { region: 2, vaddr: 0x600_0000, read: true, write: false, execute: false, cached: true });
    sys.pds[2].maps.push(MapInput { region: 3, vaddr: 0x700_0000, read: true, write: true, execute: false, cached: true });
    let (spec, data) = build(&sys).unwrap();
    let (back, _) = decode(&encode(&spec, &data)).unwrap();
    assert_eq!(back, spec);
    // Both pages of the boot-information region, in order.
    assert_eq!(spec.bootinfo_fills.len(), 1);
    let fill = &spec.bootinfo_fills[0];
    assert_eq!(fill.id, 6);
    let names: Vec<&str> = fill.frames.iter().map(|f| spec.objects[*f as usize].name.as_str()).collect();
    assert_eq!(names, ["mr_dtb_0", "mr_dtb_1"]);
    // The client (index 2) gets a two-level CSpace; the others keep the plain one.
    let h = spec.untyped_handoff.as_ref().unwrap();
    assert_eq!((h.first_slot, h.cptr), (U::FIRST_SLOT, 1 << 58));
    assert_eq!(spec.objects[h.frames[0] as usize].name, "mr_uts_0");
    let client = &spec.pds[2];
    assert_eq!(client.cspace_guard_size, 0);
    assert_eq!(spec.objects[client.cspace as usize].kind, ObjectKind::CNode { radix: U::UNTYPED_TOP_BITS as u8 });
    let top = |slot: u64| spec.caps.iter().find(|c| c.cnode == client.cspace && c.slot == slot).map(|c| c.cap);
    let pd_cnode = top(0).unwrap();
    assert_eq!(spec.objects[pd_cnode.object as usize].name, "cnode_client");
    assert_eq!(pd_cnode.badge, 64 - 6 - 9);
    let ucn = top(U::UNTYPED_TOP_SLOT).unwrap();
    assert_eq!((ucn.object, ucn.badge), (h.cnode, 64 - 6 - 9));
    // Slot 0 of the untyped CNode names that CNode itself.
    assert!(spec.caps.iter().any(|c| c.cnode == h.cnode && c.slot == 0 && c.cap.object == h.cnode));
    // The ordinary caps still sit in the client's 512-slot CNode.
    assert!(spec.caps.iter().any(|c| c.cnode == pd_cnode.object && c.slot == L::INPUT_CAP));
    assert_eq!(spec.pds[0].cspace_guard_size, 55);
    // A second receiving region is refused.
    let mut two = sys.clone();
    two.regions[2].receive_untypeds = true;
    assert!(build(&two).is_err());
}
