//! Positive fixtures: every element and attribute, and realistic example systems parsed into
//! the expected structure.

mod common;

use sdf::*;

fn ok(name: &str, arch: &str) -> SystemDescription {
    let path = common::fixtures().join("ok").join(name);
    common::parse_file(&path, arch).unwrap_or_else(|e| panic!("{name} on {arch}: {e}"))
}

fn pd<'a>(sys: &'a SystemDescription, name: &str) -> &'a ProtectionDomain {
    &sys.protection_domains[sys.pd_index(name).unwrap_or_else(|| panic!("no PD {name}"))]
}

#[test]
fn every_positive_fixture_parses_on_its_architectures() {
    for path in common::system_files(&common::fixtures().join("ok")) {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let arches: &[&str] = if name.contains("x86") {
            &["x86_64"]
        } else if name.contains("arm") {
            &["aarch64"]
        } else {
            &["aarch64", "riscv64"]
        };
        for arch in arches {
            if let Err(e) = common::parse_file(&path, arch) {
                panic!("{name} on {arch}: {e}");
            }
        }
    }
}

#[test]
fn hello_has_three_pds_a_ring_of_channels_and_a_shared_buffer() {
    let sys = ok("hello.system", "aarch64");
    let names: Vec<&str> = sys
        .protection_domains
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["producer", "consumer", "logger"]);
    let producer = pd(&sys, "producer");
    assert_eq!(
        (producer.priority, producer.budget, producer.period),
        (100, 500, 2000)
    );
    let consumer = pd(&sys, "consumer");
    assert_eq!(
        (consumer.budget, consumer.period),
        (BUDGET_DEFAULT, BUDGET_DEFAULT)
    );
    assert_eq!(consumer.stack_size, PD_DEFAULT_STACK_SIZE);
    assert!(!consumer.passive && consumer.fpu && consumer.parent.is_none());
    assert_eq!(pd(&sys, "logger").stack_size, 0x4000);
    assert_eq!(pd(&sys, "logger").priority, 50);

    let mr = sys.memory_region("ring_buf").expect("ring_buf");
    assert_eq!(
        (mr.size, mr.page_size, mr.page_count(), mr.phys_addr),
        (0x4000, 0x1000, 4, None)
    );
    assert!(!mr.page_size_explicit);
    let m = &producer.maps[0];
    assert_eq!(
        (m.mr.as_str(), m.vaddr, m.perms.to_string(), m.cached),
        ("ring_buf", 0x4000_0000, "rw-".into(), true)
    );
    assert_eq!(
        consumer.maps[0].perms,
        Perms {
            read: true,
            write: false,
            execute: false
        }
    );
    assert_eq!(
        producer
            .setvars
            .iter()
            .map(|s| (s.symbol.as_str(), s.kind.clone()))
            .collect::<Vec<_>>(),
        [
            ("ring_vaddr", SetVarKind::Vaddr { vaddr: 0x4000_0000 }),
            (
                "ring_size",
                SetVarKind::Size {
                    mr: "ring_buf".into()
                }
            )
        ]
    );

    assert_eq!(sys.channels.len(), 3);
    let c = &sys.channels[2];
    assert_eq!(
        (c.end_a.pd, c.end_a.id, c.end_a.notify, c.end_a.pp),
        (2, 1, true, false)
    );
    assert_eq!((c.end_b.pd, c.end_b.id, c.end_b.notify), (0, 1, false));
    assert!(sys.warnings.is_empty(), "{:?}", sys.warnings);
}

#[test]
fn passive_server_is_called_by_lower_priority_clients() {
    let sys = ok("passive_server.system", "riscv64");
    let server = pd(&sys, "server");
    assert!(server.passive);
    assert_eq!(server.priority, 200);
    let ch = &sys.channels[0];
    assert!(ch.end_a.pp && !ch.end_b.pp);
    assert_eq!(sys.protection_domains[ch.end_a.pd].name, "client_a");
    let ch = &sys.channels[1];
    assert!(ch.end_b.pp && !ch.end_b.notify);
    assert_eq!(sys.protection_domains[ch.end_b.pd].name, "client_b");
}

#[test]
fn uart_driver_has_device_memory_irq_and_setvars() {
    let sys = ok("uart_driver.system", "aarch64");
    let uart = pd(&sys, "uart");
    assert_eq!(uart.irqs.len(), 1);
    assert_eq!(uart.irqs[0].id, 5);
    assert_eq!(
        uart.irqs[0].source,
        IrqSource::Line {
            irq: 33,
            trigger: Trigger::Level
        }
    );
    assert!(!uart.maps[0].cached);
    let kinds: Vec<_> = uart
        .setvars
        .iter()
        .map(|s| (s.symbol.as_str(), s.kind.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("uart_base", SetVarKind::Vaddr { vaddr: 0x200_0000 }),
            ("tx_vaddr", SetVarKind::Vaddr { vaddr: 0x4000_0000 }),
            ("uart_irq_ch", SetVarKind::Id { id: 5 }),
            (
                "uart_paddr",
                SetVarKind::PhysAddr {
                    mr: "uart_regs".into()
                }
            ),
        ]
    );
    // A 2 MiB region mapped only at 2 MiB-aligned addresses gets 2 MiB pages.
    let tx = sys.memory_region("tx_buf").expect("tx_buf");
    assert_eq!((tx.page_size, tx.page_count()), (0x20_0000, 1));
    assert_eq!(
        sys.memory_region("uart_regs").and_then(|m| m.phys_addr),
        Some(0x0900_0000)
    );
    assert_eq!(
        pd(&sys, "app").program_image_for_symbols.as_deref(),
        Some("app.debug.elf")
    );
}

#[test]
fn child_pds_are_flattened_depth_first_with_parents() {
    let sys = ok("children.system", "aarch64");
    let order: Vec<(&str, Option<usize>, Option<u64>)> = sys
        .protection_domains
        .iter()
        .map(|p| (p.name.as_str(), p.parent, p.child_id))
        .collect();
    assert_eq!(
        order,
        [
            ("monitor", None, None),
            ("worker", Some(0), Some(1)),
            ("helper", Some(1), Some(0)),
            ("crasher", Some(0), Some(2)),
            ("observer", None, None),
        ]
    );
    assert_eq!(
        pd(&sys, "monitor").setvars[0].kind,
        SetVarKind::Id { id: 1 }
    );
    // Channels may name nested children.
    assert_eq!(sys.channels[0].end_b.pd, 2);
}

#[test]
fn templates_are_child_pds_without_a_program_image() {
    let sys = ok("template.system", "aarch64");
    let order: Vec<(&str, Option<usize>, Option<u64>, bool)> = sys
        .protection_domains
        .iter()
        .map(|p| (p.name.as_str(), p.parent, p.child_id, p.template))
        .collect();
    assert_eq!(
        order,
        [
            ("loader", None, None, false),
            ("blank", Some(0), Some(3), true),
            ("spare", Some(0), Some(4), true),
        ]
    );
    let blank = pd(&sys, "blank");
    assert_eq!(blank.program_image, "");
    assert_eq!((blank.priority, blank.budget, blank.period, blank.stack_size), (100, 500, 1000, 0x2000));
    assert!(blank.setvars.is_empty() && !blank.passive);
    let maps: Vec<(&str, u64, String, bool)> = blank
        .maps
        .iter()
        .map(|m| (m.mr.as_str(), m.vaddr, m.perms.to_string(), m.cached))
        .collect();
    assert_eq!(
        maps,
        [
            ("code", 0x40_0000, "r-x".to_string(), true),
            ("scratch", 0x50_0000, "rw-".to_string(), false),
        ]
    );
    // The parent may learn the template's id; a template may be a channel end.
    assert!(pd(&sys, "loader")
        .setvars
        .iter()
        .any(|s| s.symbol == "blank_id" && s.kind == SetVarKind::Id { id: 3 }));
    assert_eq!(sys.channels[0].end_b.pd, 1);
    // Defaults like any PD.
    let spare = pd(&sys, "spare");
    assert_eq!((spare.priority, spare.maps.len(), spare.template), (0, 0, true));
}

#[test]
fn all_arm_attributes_are_recorded() {
    let sys = ok("all_attributes_arm.system", "aarch64");
    let full = pd(&sys, "full");
    assert_eq!(
        (
            full.priority,
            full.budget,
            full.period,
            full.stack_size,
            full.cpu
        ),
        (254, 100, 200, 0x10000, 0)
    );
    assert!(!full.passive && !full.smc && !full.fpu);
    assert_eq!(full.program_image, "full.elf");
    assert_eq!(full.maps.len(), 5);
    assert_eq!(full.maps[1].perms.to_string(), "r-x");
    assert_eq!(full.maps[3].perms.to_string(), "rwx");
    assert_eq!(full.maps[4].perms.to_string(), "--x");
    assert_eq!(
        full.irqs[1].source,
        IrqSource::Line {
            irq: 41,
            trigger: Trigger::Edge
        }
    );
    let vm = full.virtual_machine.as_ref().expect("vm");
    assert_eq!(
        (vm.name.as_str(), vm.priority, vm.budget, vm.period),
        ("guest", 50, 200, 400)
    );
    assert_eq!(vm.vcpus, [Vcpu { id: 0, cpu: 0 }, Vcpu { id: 1, cpu: 0 }]);
    let kid = pd(&sys, "kid");
    assert_eq!(
        (kid.child_id, kid.parent, kid.passive, kid.stack_size),
        (Some(61), Some(0), true, 0x2000)
    );
    // Prefill without size: 4096-byte fake file rounds to one page; with size: kept.
    assert_eq!(
        sys.memory_region("filled")
            .map(|m| (m.size, m.prefill_path.clone())),
        Some((0x1000, Some("data.bin".into())))
    );
    assert_eq!(
        sys.memory_region("filled_sized").map(|m| m.size),
        Some(0x2000)
    );
    // Explicit page sizes stay; the 4 MiB region gets 2 MiB pages as it is mapped 2 MiB-aligned.
    assert_eq!(
        sys.memory_region("big").map(|m| m.page_size),
        Some(0x20_0000)
    );
    assert_eq!(sys.memory_region("dev").map(|m| m.page_size), Some(0x1000));
    assert!(full.setvars.iter().any(|s| s.symbol == "filled_len"
        && s.kind
            == SetVarKind::PrefillSize {
                mr: "filled".into()
            }));
    let ch = &sys.channels[0];
    assert_eq!(
        (ch.end_a.id, ch.end_a.pp, ch.end_b.notify, ch.end_b.pp),
        (61, true, false, false)
    );
}

#[test]
fn all_x86_attributes_are_recorded() {
    let sys = ok("all_attributes_x86.system", "x86_64");
    let drv = pd(&sys, "drv");
    assert_eq!(
        drv.irqs.iter().map(|i| i.source).collect::<Vec<_>>(),
        [
            IrqSource::IoApic {
                ioapic: 0,
                pin: 4,
                trigger: Trigger::Edge,
                polarity: Polarity::Low,
                vector: 5
            },
            IrqSource::IoApic {
                ioapic: 0,
                pin: 2,
                trigger: Trigger::Level,
                polarity: Polarity::High,
                vector: 6
            },
            IrqSource::Msi {
                bus: 0,
                device: 3,
                function: 0,
                handle: 0,
                vector: 7
            },
            IrqSource::Msi {
                bus: 255,
                device: 31,
                function: 7,
                handle: 1,
                vector: 107
            },
        ]
    );
    assert_eq!(
        drv.ioports
            .iter()
            .map(|p| (p.id, p.addr, p.size))
            .collect::<Vec<_>>(),
        [(0, 0x3f8, 8), (61, 0xfff8, 8)]
    );
}

#[test]
fn smc_is_accepted_when_the_kernel_forwards_it() {
    let mut cfg = TargetConfig::for_arch(Arch::Aarch64);
    cfg.arm_smc = true;
    let text = r#"<system><protection_domain name="s" smc="true"><program_image path="s" /></protection_domain></system>"#;
    let sys = parse("smc.system", text, &cfg).expect("smc accepted");
    assert!(sys.protection_domains[0].smc);
}

#[test]
fn numbers_accept_hex_decimal_and_underscores() {
    assert_eq!(parse_number("0x1_000"), Ok(0x1000));
    assert_eq!(parse_number("4_096"), Ok(4096));
    // Exactly Microkit's `sdf_parse_number`: underscores dropped first (even inside "0x"),
    // lowercase 0x only, one leading '+', no spaces.
    assert_eq!(parse_number("0_x1_0"), Ok(16));
    assert_eq!(parse_number("+42"), Ok(42));
    assert_eq!(parse_number("0x+ff"), Ok(255));
    assert!(parse_number("0XfF").is_err());
    assert!(parse_number(" 5").is_err());
    assert!(parse_number("5 ").is_err());
    assert!(parse_number("-1").is_err());
    assert!(parse_number("0x").is_err());
    assert!(parse_number("_").is_err());
    assert!(parse_number("++1").is_err());
    assert!(parse_number("18446744073709551616").is_err());
    // Attributes Microkit reads with `str::parse` (ids, IRQ numbers, I/O port sizes): plain
    // decimal.
    assert_eq!(sdf::parse_decimal("+7"), Ok(7));
    assert_eq!(sdf::parse_decimal("61"), Ok(61));
    assert!(sdf::parse_decimal("0x1").is_err());
    assert!(sdf::parse_decimal("1_0").is_err());
    assert_eq!(parse_number("18446744073709551615"), Ok(u64::MAX));
    assert!(parse_number("18446744073709551616").is_err());
    assert!(parse_number("0x").is_err());
    // Rust's `u64::from_str_radix`, which Microkit uses, takes one leading '+'.
    assert_eq!(parse_number("0x+5"), Ok(5));
}

#[test]
fn unused_memory_region_is_a_warning_not_an_error() {
    let text = "<system>\n<memory_region name=\"lonely\" size=\"0x1000\" />\n<protection_domain name=\"p\"><program_image path=\"p\" /></protection_domain>\n</system>";
    let sys = parse("w.system", text, &TargetConfig::for_arch(Arch::Riscv64)).expect("parses");
    assert_eq!(
        sys.warnings,
        ["w.system:2:1: warning: memory region 'lonely' is never mapped"]
    );
}

#[test]
fn prefill_without_size_needs_a_sizer() {
    let text = r#"<system><memory_region name="m" prefill_path="d.bin" /><protection_domain name="p"><program_image path="p" /><map mr="m" vaddr="0x1000" /></protection_domain></system>"#;
    let err =
        parse("p.system", text, &TargetConfig::for_arch(Arch::Aarch64)).expect_err("no sizer");
    assert!(matches!(*err.kind, ErrorKind::PrefillSize { .. }), "{err}");
    let sys = parse_with_prefill(
        "p.system",
        text,
        &TargetConfig::for_arch(Arch::Aarch64),
        &|_| Ok(0x1001),
    )
    .expect("sized");
    assert_eq!(sys.memory_regions[0].size, 0x2000);
}

#[test]
fn iommu_spaces_from_both_forms_with_domain_ids_and_rights() {
    let sys = ok("iommu_x86.system", "x86_64");
    assert!(sys.warnings.is_empty(), "{:?}", sys.warnings);
    let spaces: Vec<(&str, String, u64, bool, usize)> = sys
        .io_address_spaces
        .iter()
        .map(|s| {
            (
                s.name.as_str(),
                s.device.to_string(),
                s.domain_id,
                s.domain_id_explicit,
                s.maps.len(),
            )
        })
        .collect();
    assert_eq!(
        spaces,
        [
            ("nic", "00:03.0".to_string(), 5, true, 4),
            ("disk", "00:1f.2".to_string(), 1, false, 1),
            ("pcidev 00:04.0", "00:04.0".to_string(), 2, false, 1),
        ]
    );
    let nic = &sys.io_address_spaces[0];
    let maps: Vec<(&str, u64, bool, bool, Option<usize>)> = nic
        .maps
        .iter()
        .map(|m| (m.mr.as_str(), m.iovaddr, m.read, m.write, m.pd))
        .collect();
    let drv = sys.pd_index("drv");
    assert_eq!(
        maps,
        [
            ("dma", 0, true, true, None),
            ("shared", 0x10_0000, false, true, None),
            ("big", 0x7f_ffe0_0000, true, false, None),
            ("ring", 0x20_0000, true, false, drv),
        ]
    );
    assert_eq!(nic.device.requester_id(), 0x18);
    assert_eq!(sys.io_address_spaces[2].maps[0].pd, drv);
    // A region a device may DMA into keeps 4 KiB pages even when 2 MiB would fit.
    assert_eq!(sys.memory_region("big").map(|m| m.page_size), Some(0x1000));
}

#[test]
fn systems_without_iommu_elements_have_no_io_spaces() {
    for (name, arch) in [
        ("hello.system", "aarch64"),
        ("all_attributes_x86.system", "x86_64"),
    ] {
        assert!(ok(name, arch).io_address_spaces.is_empty(), "{name}");
    }
}

#[test]
fn cap_sharing_lists_cnodes_and_extra_caps_in_file_order() {
    for arch in ["aarch64", "riscv64", "x86_64"] {
        let sys = ok("cap_sharing.system", arch);
        let cnodes: Vec<(&str, u8)> = sys
            .cnodes
            .iter()
            .map(|c| (c.name.as_str(), c.size_bits))
            .collect();
        assert_eq!(cnodes, [("mailbox", 6), ("spare", 1)]);
        assert_eq!(sys.cnode_index("spare"), Some(1));
        let caps: Vec<(u64, UserCapKind, &str)> = pd(&sys, "scheduler")
            .cspace
            .iter()
            .map(|u| (u.slot, u.kind, u.target.as_str()))
            .collect();
        assert_eq!(
            caps,
            [
                (1, UserCapKind::Tcb, "worker"),
                (2, UserCapKind::Sc, "worker"),
                (3, UserCapKind::VSpace, "worker"),
                (4, UserCapKind::PdCSpace, "worker"),
                (5, UserCapKind::CNode, "mailbox"),
                (62, UserCapKind::Tcb, "scheduler"),
                (63, UserCapKind::PdCSpace, "scheduler"),
            ]
        );
        assert_eq!(
            pd(&sys, "scheduler").cspace[0].loc,
            Loc { line: 11, col: 13 }
        );
        assert_eq!(pd(&sys, "worker").cspace.len(), 1);
        assert!(pd(&sys, "plain").cspace.is_empty());
        assert_eq!(UserCapKind::CNode.element(), "cap_cspace");
    }
    // Without <cnode> or <cspace> nothing changes.
    let sys = ok("hello.system", "aarch64");
    assert!(sys.cnodes.is_empty());
    assert!(sys.protection_domains.iter().all(|p| p.cspace.is_empty()));
}

#[test]
fn memory_features_prefill_bootinfo_and_untypeds() {
    let sys = ok("memory_features.system", "aarch64");
    let mr = |n: &str| sys.memory_region(n).unwrap_or_else(|| panic!("no region {n}"));
    // Sized from the file (5000 bytes → two pages), or as written.
    assert_eq!(mr("blob").size, 0x2000);
    assert_eq!(mr("blob").prefill_path.as_deref(), Some("size_5000.bin"));
    assert_eq!(mr("padded").size, 0x4000);
    assert_eq!(mr("dtb").prefill_bootinfo, Some(BootInfoKind::Fdt));
    assert_eq!(mr("dtb").size, 0x4000);
    assert!(mr("dtb").prefill_path.is_none() && !mr("dtb").receive_all_untypeds);
    // Untyped receiver without a size: one page.
    assert!(mr("untypeds").receive_all_untypeds);
    assert_eq!(mr("untypeds").size, 0x1000);
    assert!(mr("untypeds").prefill_bootinfo.is_none());
    let a = pd(&sys, "a");
    let kinds: Vec<(&str, &SetVarKind)> = a.setvars.iter().map(|s| (s.symbol.as_str(), &s.kind)).collect();
    assert!(kinds.contains(&("blob_size", &SetVarKind::PrefillSize { mr: "blob".into() })));
    assert!(kinds.contains(&("padded_size", &SetVarKind::PrefillSize { mr: "padded".into() })));
    assert!(kinds.contains(&("padded_region_size", &SetVarKind::Size { mr: "padded".into() })));
    assert!(kinds.contains(&("untypeds_vaddr", &SetVarKind::Vaddr { vaddr: 0x2003_0000 })));
    assert!(pd(&sys, "b").setvars.iter().any(|s| s.kind == SetVarKind::PrefillSize { mr: "blob".into() }));
}

#[test]
fn bootinfo_kinds_map_to_sel4_header_ids() {
    let sys = ok("bootinfo_x86.system", "x86_64");
    let mr = |n: &str| sys.memory_region(n).unwrap_or_else(|| panic!("no region {n}"));
    assert_eq!(mr("tsc").prefill_bootinfo, Some(BootInfoKind::X86TscFreq));
    assert_eq!(mr("tsc").size, 0x1000);
    assert_eq!(mr("mmap").prefill_bootinfo, Some(BootInfoKind::X86Mbmmap));
    assert_eq!(mr("rsdp").prefill_bootinfo.map(BootInfoKind::id), Some(3));
    assert!(mr("untypeds").receive_all_untypeds && !mr("plain").receive_all_untypeds);
    let ids: Vec<(&str, u64)> = BootInfoKind::ALL.iter().map(|(n, k)| (*n, k.id())).collect();
    assert_eq!(
        ids,
        [("x86_vbe", 1), ("x86_mbmmap", 2), ("x86_acpi_rsdp", 3), ("x86_framebuffer", 4), ("x86_tsc_freq", 5), ("fdt", 6)]
    );
    for (n, k) in BootInfoKind::ALL {
        assert_eq!(BootInfoKind::from_name(n), Some(k));
        assert_eq!(k.name(), n);
    }
    assert_eq!(BootInfoKind::from_name("x86_mbmap"), Some(BootInfoKind::X86Mbmmap));
    assert_eq!(BootInfoKind::from_name("bogus"), None);
}

#[test]
fn domains_current_form_records_ids_schedule_start_and_shift() {
    let sys = ok("domains.system", "aarch64");
    let d = sys.domains.as_ref().expect("domains");
    let ids: Vec<(&str, u8)> = d.domains.iter().map(|x| (x.name.as_str(), x.id)).collect();
    // Unassigned ids take the smallest free ones (0 and 3 are taken).
    assert_eq!(ids, [("boot", 0), ("red", 3), ("green", 1), ("blue", 2)]);
    use sdf::domains::{Duration, ScheduleEntry};
    assert_eq!(
        d.schedule,
        [
            ScheduleEntry { domain: 0, duration: Duration::Us(500) },
            ScheduleEntry { domain: 3, duration: Duration::Us(2000) },
            ScheduleEntry { domain: 1, duration: Duration::Ticks(1000) },
            ScheduleEntry { domain: 3, duration: Duration::Us(0x100) },
            ScheduleEntry { domain: 0, duration: Duration::EndMarker },
        ]
    );
    assert_eq!((d.start_index, d.index_shift), (1, 4));
    assert_eq!(pd(&sys, "r").domain.as_ref().map(|x| x.id), Some(3));
    assert_eq!(pd(&sys, "child").domain.as_ref().map(|x| x.id), Some(2));
    assert_eq!(pd(&sys, "g").domain.as_ref().map(|x| x.id), Some(1));
    assert_eq!(pd(&sys, "plain").domain.as_ref().map(|x| x.id), Some(1));
}

#[test]
fn domains_old_form_numbers_domains_by_first_appearance() {
    let sys = ok("domains_old_form.system", "riscv64");
    let d = sys.domains.as_ref().expect("domains");
    assert_eq!(d.domains.len(), 2);
    let doms: Vec<(u8, u64)> = d.schedule.iter().map(|e| (e.domain, e.duration.kernel_ticks())).collect();
    assert_eq!(doms, [(0, 1000), (1, 3000), (0, 500)]);
    assert_eq!(d.start_index, 1);
    assert_eq!(pd(&sys, "b").domain.as_ref().map(|x| x.id), Some(1));
}

#[test]
fn systems_without_domains_have_none() {
    let sys = ok("hello.system", "aarch64");
    assert!(sys.domains.is_none());
    assert!(sys.protection_domains.iter().all(|p| p.domain.is_none()));
}

/// Microkit 2.3's `setvar_id` on a channel `<end>` (the channel id, patched in that end's PD)
/// and `setvar_addr` on an x86 `<ioport>` (the first port).
#[test]
fn channel_end_setvar_id_and_ioport_setvar_addr() {
    let text = r#"<system>
    <protection_domain name="a" priority="1">
        <program_image path="a.elf" />
        <ioport id="2" addr="0x3f8" size="8" setvar_id="com1_id" setvar_addr="com1_base" />
    </protection_domain>
    <protection_domain name="b" priority="2">
        <program_image path="b.elf" />
    </protection_domain>
    <channel>
        <end pd="a" id="5" setvar_id="to_b" />
        <end pd="b" id="+7" setvar_id="to_a" />
    </channel>
</system>"#;
    let sys = parse("ch.system", text, &sdf::TargetConfig::for_arch(sdf::Arch::X86_64))
        .expect("valid");
    let a = &sys.protection_domains[0];
    let kinds: Vec<_> = a.setvars.iter().map(|s| (s.symbol.as_str(), &s.kind)).collect();
    assert!(kinds.contains(&("to_b", &SetVarKind::Id { id: 5 })), "{kinds:?}");
    assert!(kinds.contains(&("com1_id", &SetVarKind::Id { id: 2 })), "{kinds:?}");
    assert!(kinds.contains(&("com1_base", &SetVarKind::IoPortAddr { addr: 0x3f8 })), "{kinds:?}");
    let b = &sys.protection_domains[1];
    assert_eq!(b.setvars.len(), 1);
    assert_eq!((b.setvars[0].symbol.as_str(), &b.setvars[0].kind), ("to_a", &SetVarKind::Id { id: 7 }));
    assert_eq!(sys.channels[0].end_a.setvar_id.as_ref().map(|s| s.0.as_str()), Some("to_b"));
}
