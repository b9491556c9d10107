//! Round trip, validation and robustness of the spec encoding.

use microkit_spec::*;
use proptest::prelude::*;

fn sample() -> (Spec, Vec<u8>) {
    let data = b"\x7fELF hello segment bytes".to_vec();
    let obj = |name: &str, kind| Object { name: name.into(), kind };
    let objects = vec![
        obj("tcb_client", ObjectKind::Tcb),
        obj("cnode_client", ObjectKind::CNode { radix: 9 }),
        obj("vspace_client", ObjectKind::VSpace),
        obj("ipc_client", ObjectKind::Frame { size_bits: 12, paddr: None, fill: vec![] }),
        obj("elf_client_0", ObjectKind::Frame { size_bits: 12, paddr: None, fill: vec![Fill { frame_offset: 16, data_offset: 0, len: data.len() as u64 }] }),
        obj("sc_client", ObjectKind::SchedContext { size_bits: 8, budget: 1000, period: 1000, extra_refills: 0, badge: 0x100 }),
        obj("ntfn_client", ObjectKind::Notification),
        obj("ep_monitor", ObjectKind::Endpoint),
        obj("uart", ObjectKind::Frame { size_bits: 12, paddr: Some(0x900_0000), fill: vec![] }),
        obj("irq_33", ObjectKind::Irq { source: IrqSource::Plain { irq: 33, trigger: Trigger::Level }, notification: Some((6, 1 << 3)) }),
        obj("irq_x86", ObjectKind::Irq { source: IrqSource::IoApic { ioapic: 0, pin: 4, level: 0, polarity: 0, vector: 4 }, notification: None }),
        obj("msi", ObjectKind::Irq { source: IrqSource::Msi { bus: 0, dev: 3, func: 0, handle: 0, vector: 5 }, notification: None }),
        obj("com1", ObjectKind::IoPort { first: 0x3f8, last: 0x3ff }),
        obj("reply", ObjectKind::Reply),
        obj("mr_buf_0", ObjectKind::Frame { size_bits: 12, paddr: None, fill: vec![] }),
        obj("mr_buf_1", ObjectKind::Frame { size_bits: 12, paddr: None, fill: vec![] }),
        obj("smc", ObjectKind::ArmSmc),
    ];
    let spec = Spec {
        arch: Arch::Aarch64,
        objects,
        caps: vec![
            CapSlot { cnode: 1, slot: 1, cap: Cap { object: 6, rights: rights::ALL, badge: 0 } },
            CapSlot { cnode: 1, slot: 2, cap: Cap { object: 7, rights: rights::ALL, badge: 1 } },
            CapSlot { cnode: 1, slot: 138 + 3, cap: Cap { object: 9, rights: 0, badge: 0 } },
        ],
        mappings: vec![
            Mapping { vspace: 2, vaddr: 0x20_0000, frame: 4, read: true, write: false, execute: true, cached: true },
            Mapping { vspace: 2, vaddr: 0x30_0000, frame: 8, read: true, write: true, execute: false, cached: false },
        ],
        pds: vec![Pd {
            name: "client".into(),
            tcb: 0,
            cspace: 1,
            cspace_guard_size: 55,
            vspace: 2,
            ipc_buffer: (0x40_0000, 3),
            sc: Some(5),
            bound_notification: Some(6),
            fault_ep: Some((7, 1)),
            priority: 100,
            mcp: 100,
            entry: 0x20_0010,
            sp: 0x7f_ffff_f000,
            passive: false,
            domain: 3,
            cpu: 2,
        }],
        start_order: vec![0],
        fault_ep: Some(7),
        bootinfo_fills: vec![BootInfoFill { id: 6, frames: vec![4, 8] }],
        untyped_handoff: Some(UntypedHandoff { cnode: 1, first_slot: 1, cptr: 1 << 58, frames: vec![8] }),
        io_spaces: vec![IoSpace { name: "nic".into(), bus: 0, dev: 3, func: 0, domain_id: 1 }],
        io_mappings: vec![IoMapping { io_space: 0, iovaddr: 0x10_0000, frame: 8, read: false, write: true }],
        paddr_vars: vec![PaddrVar { first: 14, count: 2, frame: 4, offset: 0x40 }],
        domain_schedule: Some(DomainSchedule { entries: vec![(3, 1000), (0, 500), (0, 0)], shift: 2, start: 1 }),
        vms: vec![Vm {
            name: "guest".into(),
            pd: 0,
            priority: 99,
            budget: 500,
            period: 1000,
            vcpus: vec![VmVcpu { id: 0, cpu: 0 }, VmVcpu { id: 61, cpu: 1 }],
            mappings: vec![
                VmMapping { gpa: 0x4000_0000, frame: 4, read: true, write: true, execute: true, cached: true },
                VmMapping { gpa: 0x900_0000, frame: 8, read: true, write: true, execute: false, cached: false },
            ],
        }],
    };
    (spec, data)
}

#[test]
fn round_trip() {
    let (spec, data) = sample();
    let blob = encode(&spec, &data);
    assert_eq!(&blob[..8], &MAGIC);
    let (back, d) = decode(&blob).expect("decode");
    assert_eq!(back, spec);
    assert_eq!(d, &data[..]);
}

#[test]
fn empty_round_trip() {
    let spec = Spec { arch: Arch::X86_64, objects: vec![], caps: vec![], mappings: vec![], pds: vec![], start_order: vec![], fault_ep: None, bootinfo_fills: vec![], untyped_handoff: None, io_spaces: vec![], io_mappings: vec![], paddr_vars: vec![], domain_schedule: None, vms: vec![] };
    let blob = encode(&spec, &[]);
    assert_eq!(decode(&blob).unwrap().0, spec);
}

#[test]
fn rejects_bad_header() {
    let (spec, data) = sample();
    let mut blob = encode(&spec, &data);
    assert_eq!(decode(&blob[..4]), Err(DecodeError::BadMagic));
    blob[8] = 9;
    assert_eq!(decode(&blob), Err(DecodeError::UnsupportedVersion(9)));
}

#[test]
fn rejects_truncation_and_trailing() {
    let (spec, data) = sample();
    let blob = encode(&spec, &data);
    for cut in [13, 40, 100, blob.len() - 1] {
        assert!(decode(&blob[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert_eq!(decode(&longer), Err(DecodeError::TrailingBytes));
}

#[test]
fn rejects_bad_references() {
    let (mut spec, data) = sample();
    spec.caps[0].cnode = 0; // a TCB, not a CNode
    assert_eq!(decode(&encode(&spec, &data)).unwrap_err(), DecodeError::BadReference("cap cnode", 0));
    let (mut spec, data) = sample();
    spec.caps[0].slot = 512;
    assert!(matches!(decode(&encode(&spec, &data)), Err(DecodeError::OutOfRange("cap slot", 512))));
    let (mut spec, data) = sample();
    spec.mappings[0].frame = 99;
    assert!(matches!(decode(&encode(&spec, &data)), Err(DecodeError::BadReference(..))));
    let (mut spec, data) = sample();
    spec.mappings[0].vaddr += 8;
    assert!(matches!(decode(&encode(&spec, &data)), Err(DecodeError::OutOfRange("mapping vaddr", _))));
    let (mut spec, data) = sample();
    spec.start_order = vec![1];
    assert!(decode(&encode(&spec, &data)).is_err());
    let (mut spec, data) = sample();
    spec.pds[0].priority = 255;
    assert!(decode(&encode(&spec, &data)).is_err());
}

#[test]
fn rejects_bad_paddr_vars() {
    let bad = |f: fn(&mut PaddrVar)| {
        let (mut spec, data) = sample();
        f(&mut spec.paddr_vars[0]);
        decode(&encode(&spec, &data)).unwrap_err()
    };
    // The variable must lie inside its frame.
    assert_eq!(bad(|v| v.offset = 4096 - 4), DecodeError::OutOfRange("paddr var offset", 4092));
    assert_eq!(bad(|v| v.offset = u64::MAX), DecodeError::OutOfRange("paddr var offset", u64::MAX));
    // The holder must be a frame; the region frames must exist, be unfixed and of one size.
    assert_eq!(bad(|v| v.frame = 0), DecodeError::BadReference("paddr var frame", 0));
    assert_eq!(bad(|v| v.first = 8), DecodeError::BadReference("paddr var region", 8));
    assert_eq!(bad(|v| v.count = 3), DecodeError::BadReference("paddr var region", 16));
    assert_eq!(bad(|v| v.count = 0), DecodeError::OutOfRange("paddr var region frames", 0));
    assert_eq!(bad(|v| v.first = 13), DecodeError::BadReference("paddr var region", 13));
    // Two runs that overlap without being equal cannot both be contiguous.
    let (mut spec, data) = sample();
    spec.paddr_vars.push(PaddrVar { first: 15, count: 1, frame: 4, offset: 0 });
    assert!(matches!(decode(&encode(&spec, &data)), Err(DecodeError::OutOfRange("paddr var regions overlap", _))));
    // The same run named twice is fine.
    let (mut spec, data) = sample();
    spec.paddr_vars.push(PaddrVar { first: 14, count: 2, frame: 4, offset: 0 });
    assert!(decode(&encode(&spec, &data)).is_ok());
}

#[test]
fn rejects_bad_bootinfo_fill_and_untyped_handoff() {
    let (mut spec, data) = sample();
    spec.bootinfo_fills[0].frames.push(0); // a TCB
    assert_eq!(decode(&encode(&spec, &data)).unwrap_err(), DecodeError::BadReference("bootinfo fill frame", 0));
    let (mut spec, data) = sample();
    if let Some(h) = spec.untyped_handoff.as_mut() {
        h.cnode = 4; // a frame
    }
    assert_eq!(decode(&encode(&spec, &data)).unwrap_err(), DecodeError::BadReference("untyped handoff cnode", 4));
    let (mut spec, data) = sample();
    if let Some(h) = spec.untyped_handoff.as_mut() {
        h.first_slot = 512;
    }
    assert_eq!(decode(&encode(&spec, &data)).unwrap_err(), DecodeError::OutOfRange("untyped handoff first slot", 512));
    let (mut spec, data) = sample();
    if let Some(h) = spec.untyped_handoff.as_mut() {
        h.frames = vec![];
    }
    assert!(decode(&encode(&spec, &data)).is_err());
    let (mut spec, data) = sample();
    if let Some(h) = spec.untyped_handoff.as_mut() {
        h.frames = vec![2];
    }
    assert_eq!(decode(&encode(&spec, &data)).unwrap_err(), DecodeError::BadReference("untyped handoff frame", 2));
}

#[test]
fn rejects_bad_io_spaces_and_mappings() {
    let bad = |f: fn(&mut Spec)| {
        let (mut spec, data) = sample();
        f(&mut spec);
        decode(&encode(&spec, &data)).unwrap_err()
    };
    assert_eq!(bad(|s| s.io_mappings[0].io_space = 1), DecodeError::BadReference("io mapping space", 1));
    assert_eq!(bad(|s| s.io_mappings[0].frame = 0), DecodeError::BadReference("io mapping frame", 0));
    assert_eq!(bad(|s| s.io_mappings[0].iovaddr = 1 << 39), DecodeError::OutOfRange("io mapping address", 1 << 39));
    assert_eq!(bad(|s| s.io_mappings[0].iovaddr = 0x800), DecodeError::OutOfRange("io mapping address", 0x800));
    assert_eq!(bad(|s| s.io_mappings[0].write = false), DecodeError::OutOfRange("io mapping rights", 0));
    assert_eq!(bad(|s| s.io_spaces[0].domain_id = 0), DecodeError::OutOfRange("io space domain id", 0));
    assert_eq!(bad(|s| s.io_spaces[0].dev = 32), DecodeError::OutOfRange("io space pci device", 0x100));
    assert!(matches!(
        bad(|s| s.io_spaces.push(IoSpace { name: "again".into(), bus: 0, dev: 3, func: 0, domain_id: 2 })),
        DecodeError::OutOfRange("io space used twice", _)
    ));
    assert!(matches!(
        bad(|s| s.io_spaces.push(IoSpace { name: "same domain".into(), bus: 0, dev: 4, func: 0, domain_id: 1 })),
        DecodeError::OutOfRange("io space used twice", _)
    ));
}

#[test]
fn rejects_fill_outside_data_or_frame() {
    let (mut spec, data) = sample();
    if let ObjectKind::Frame { fill, .. } = &mut spec.objects[4].kind {
        fill[0].len = data.len() as u64 + 1;
    }
    assert!(matches!(decode(&encode(&spec, &data)), Err(DecodeError::OutOfRange("fill", _))));
    let (mut spec, data) = sample();
    if let ObjectKind::Frame { fill, .. } = &mut spec.objects[4].kind {
        fill[0].frame_offset = 4096 - 4;
    }
    assert!(decode(&encode(&spec, &data)).is_err());
    let (mut spec, data) = sample();
    if let ObjectKind::Frame { fill, .. } = &mut spec.objects[4].kind {
        fill[0].data_offset = u64::MAX;
    }
    assert!(decode(&encode(&spec, &data)).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes never panic the decoder.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode(&bytes);
    }

    /// Arbitrary bytes after a valid header never panic either.
    #[test]
    fn random_body_never_panics(body in proptest::collection::vec(any::<u8>(), 0..512), arch in 0u8..3) {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.push(arch);
        bytes.extend_from_slice(&body);
        let _ = decode(&bytes);
    }

    /// Corrupting bytes of a valid blob never panics, and an unchanged blob decodes.
    #[test]
    fn mutated_blob_never_panics(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let (spec, data) = sample();
        let mut blob = encode(&spec, &data);
        for (at, v) in edits {
            let i = at % blob.len();
            blob[i] = v;
        }
        let _ = decode(&blob);
    }
}

#[test]
fn bad_domain_schedules_are_rejected() {
    let (spec, data) = sample();
    let mut bad = |f: &dyn Fn(&mut Spec)| {
        let mut s = spec.clone();
        f(&mut s);
        assert!(matches!(decode(&encode(&s, &data)), Err(DecodeError::OutOfRange(..))), "{:?}", s.domain_schedule);
    };
    bad(&|s| s.pds[0].domain = 16);
    // Start at an end marker, start past the end, too long for the kernel's 256 entries.
    bad(&|s| s.domain_schedule.as_mut().unwrap().start = 2);
    bad(&|s| s.domain_schedule.as_mut().unwrap().start = 3);
    bad(&|s| s.domain_schedule.as_mut().unwrap().shift = 253);
    // A zero duration with a non-zero domain is not an end marker.
    bad(&|s| s.domain_schedule.as_mut().unwrap().entries[2] = (1, 0));
    bad(&|s| s.domain_schedule.as_mut().unwrap().entries[0] = (16, 10));
}

#[test]
fn pd_cpu_round_trips_and_is_bounded() {
    // Every core the kernel may have survives the round trip.
    for cpu in [0u8, 1, 3, 15] {
        let (mut spec, data) = sample();
        spec.pds[0].cpu = cpu;
        assert_eq!(decode(&encode(&spec, &data)).unwrap().0.pds[0].cpu, cpu);
    }
    // Beyond the largest kernel configuration (16 cores) is refused at decode.
    let (mut spec, data) = sample();
    spec.pds[0].cpu = 16;
    assert_eq!(decode(&encode(&spec, &data)).unwrap_err(), DecodeError::OutOfRange("pd cpu", 16));
}

/// Virtual machines round-trip (the sample has one) and every rule of `validate` holds: a
/// known managing PD with one VM, priority and budget/period, vCPUs present, unique and in
/// Microkit's id range, frames at aligned, distinct guest-physical addresses.
#[test]
fn bad_vms_are_rejected() {
    let (spec, data) = sample();
    assert_eq!(decode(&encode(&spec, &data)).expect("decode").0.vms, spec.vms);
    type Case = (&'static str, fn(&mut Vm), DecodeError);
    let bad: Vec<Case> = vec![
        ("unknown pd", |v| v.pd = 1, DecodeError::BadReference("vm pd", 1)),
        ("priority", |v| v.priority = 255, DecodeError::OutOfRange("vm priority", 255)),
        ("budget > period", |v| v.budget = 1001, DecodeError::OutOfRange("vm budget", 1001)),
        ("zero budget", |v| v.budget = 0, DecodeError::OutOfRange("vm budget", 0)),
        ("no vcpu", |v| v.vcpus.clear(), DecodeError::OutOfRange("vm vcpus", 0)),
        ("vcpu id", |v| v.vcpus[1].id = 62, DecodeError::OutOfRange("vcpu id", 62)),
        ("duplicate vcpu", |v| v.vcpus[1].id = 0, DecodeError::OutOfRange("vcpu id", 0)),
        ("not a frame", |v| v.mappings[0].frame = 0, DecodeError::BadReference("vm frame", 0)),
        ("no such object", |v| v.mappings[0].frame = 999, DecodeError::BadReference("vm frame", 999)),
        ("unaligned", |v| v.mappings[0].gpa = 0x4000_0800, DecodeError::OutOfRange("vm guest address", 0x4000_0800)),
        ("mapped twice", |v| v.mappings[1].gpa = 0x4000_0000, DecodeError::OutOfRange("vm guest address", 0x4000_0000)),
    ];
    for (what, edit, want) in bad {
        let mut s = spec.clone();
        edit(&mut s.vms[0]);
        assert_eq!(validate(&s, data.len() as u64), Err(want.clone()), "{what}");
        assert_eq!(decode(&encode(&s, &data)).map(|_| ()), Err(want), "{what} (decode)");
    }
    let mut two = spec.clone();
    let mut other = two.vms[0].clone();
    other.name = "second".into();
    two.vms.push(other);
    assert_eq!(validate(&two, data.len() as u64), Err(DecodeError::OutOfRange("vms of one pd", 0)));
    // Rights bits beyond the four defined ones are refused.
    let blob = encode(&spec, &data);
    let mut tampered = blob.clone();
    let at = blob.windows(13).rposition(|w| w[..8] == 0x900_0000u64.to_le_bytes() && w[8..12] == 8u32.to_le_bytes()).expect("mapping bytes");
    tampered[at + 12] |= 0x10;
    assert_eq!(decode(&tampered).map(|_| ()), Err(DecodeError::BadTag("vm mapping rights", 0x13)));
}
