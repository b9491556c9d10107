//! One tiny fixture per error message: each `fixtures/err/*.system` file states, in its first
//! line, the architecture, the expected location and the expected message prefix.

mod common;

use std::collections::BTreeSet;

struct Expect {
    arch: String,
    line: u32,
    col: u32,
    message: String,
}

fn header(text: &str) -> Expect {
    let first = text.lines().next().unwrap_or_default();
    let body = first
        .strip_prefix("<!-- ")
        .and_then(|s| s.strip_suffix(" -->"))
        .unwrap_or_else(|| panic!("fixture header missing: {first}"));
    let arch = body
        .strip_prefix("arch=")
        .and_then(|s| s.split_once(' '))
        .expect("arch")
        .0;
    let loc = body
        .split(" loc=")
        .nth(1)
        .and_then(|s| s.split_once(' '))
        .expect("loc")
        .0;
    let message = body.split_once(" error=").expect("error").1;
    let (l, c) = loc.split_once(':').expect("line:col");
    Expect {
        arch: arch.to_string(),
        line: l.parse().expect("line"),
        col: c.parse().expect("col"),
        message: message.to_string(),
    }
}

/// The variant name of an error kind, e.g. `DuplicateId`.
fn variant(kind: &sdf::ErrorKind) -> String {
    let dbg = format!("{kind:?}");
    dbg.split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Checks one fixture: it must fail at the location and with the message its header names.
fn check(name: &str) {
    let path = common::fixtures()
        .join("err")
        .join(format!("{name}.system"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let want = header(&text);
    let file = format!("{name}.system");
    let e = match common::parse_file(&path, &want.arch) {
        Ok(_) => panic!("{file}: parsed without error"),
        Err(e) => e,
    };
    assert_eq!(
        (e.loc.line, e.loc.col),
        (want.line, want.col),
        "{file}: wrong location for `{e}`"
    );
    assert!(
        e.message().starts_with(&want.message),
        "{file}: want `{}`, got `{}`",
        want.message,
        e.message()
    );
    let prefix = format!("{file}:{}:{}: error: ", want.line, want.col);
    assert!(
        e.to_string().starts_with(&prefix),
        "{file}: Display `{e}` does not start with `{prefix}`"
    );
}

/// One `#[test]` per fixture, named after it.
macro_rules! fixtures {
    ($($name:ident)*) => {
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*
        /// Every fixture named above.
        const LISTED: &[&str] = &[$(stringify!($name)),*];
    };
}

fixtures! {
    domain_duplicate_id domain_duplicate_name domain_duration_huge domain_duration_no_unit domain_duration_unit domain_duration_zero domain_end_marker_attr domain_entry_unknown domain_id_range domain_no_schedule domain_old_duplicate_start domain_old_too_many domain_old_zero_length domain_pd_missing domain_pd_unknown domain_pd_without_domains domain_schedule_empty domain_schedule_twice domain_shift_too_far domain_smp domain_start_bad_number domain_start_end_marker domain_start_range domain_too_many domain_twice domain_unknown_child
    ch_bad_element ch_bad_notify ch_bad_pp ch_bidirectional_pp ch_duplicate_id ch_id_clashes_irq ch_id_hex ch_id_not_number ch_setvar_duplicate
    ch_id_range ch_missing_id ch_one_end ch_ppc_equal_priority ch_ppc_priority ch_three_ends ch_unknown_attr
    ch_unknown_pd child_duplicate_id child_duplicate_name child_id_clashes_vcpu child_id_range child_missing_id
    iommu_address_overflow iommu_domain_id_zero iommu_duplicate_device iommu_duplicate_domain_id
    iommu_duplicate_name iommu_empty_name iommu_iovaddr_too_high iommu_large_page iommu_missing_from_config
    iommu_missing_iovaddr iommu_missing_peripheral iommu_on_arm iommu_overlap_same_device
    iommu_pd_iomap_missing_pcidev iommu_pd_iomap_on_riscv iommu_pd_iomap_overlaps_space
    iommu_pd_iomap_too_high iommu_pd_iomap_unknown_attr iommu_peripheral_device_range
    iommu_peripheral_function_range iommu_peripheral_malformed iommu_peripheral_negative_bus
    iommu_peripheral_not_hex iommu_perms_empty iommu_perms_execute iommu_range_too_high iommu_unaligned
    iommu_unknown_attr iommu_unknown_child iommu_unknown_mr
    ioport_beyond_end ioport_duplicate_id ioport_on_arm ioport_overlap ioport_setvar_addr_duplicate ioport_setvar_duplicate
    ioport_zero_size irq_bad_trigger irq_duplicate_id irq_duplicate_number irq_id_negative irq_id_range irq_id_underscore
    irq_ioapic_bad_polarity irq_ioapic_duplicate_pin irq_ioapic_missing_vector irq_ioapic_on_arm
    irq_ioapic_vector_range irq_line_on_x86 irq_missing_id irq_missing_irq_number irq_mixed_form
    irq_msi_bad_pcidev irq_msi_on_riscv irq_msi_pcidev_range irq_no_form irq_setvar_duplicate irq_unknown_attr
    map_bad_cached map_bad_perms map_end_too_high map_missing_mr map_missing_vaddr map_overlap
    map_prefill_setvar_bootinfo map_prefill_setvar_without_prefill map_setvar_duplicate map_setvar_empty map_too_high map_unaligned
    map_unknown_attr map_unknown_mr map_write_only mr_bad_size mr_bootinfo_and_prefill_path mr_bootinfo_unknown mr_duplicate_name mr_missing_name mr_missing_size
    mr_phys_overflow mr_phys_overlap mr_phys_unaligned mr_prefill_empty mr_prefill_empty_sized mr_prefill_too_large mr_prefill_unknown
    mr_size_not_multiple mr_unknown_attr mr_unsupported_page_size mr_zero_size no_pds parent_has_id
    pd_budget_gt_period mr_untypeds_bad_bool mr_untypeds_phys_addr mr_untypeds_prefill_path mr_untypeds_twice
    mr_untypeds_two_pds mr_untypeds_unmapped pd_budget_zero pd_cpu_range pd_duplicate_name
    pd_duplicate_program_image pd_empty_name
    pd_fpu_bad_bool pd_missing_name pd_missing_program_image pd_name_too_long pd_nesting_too_deep
    pd_passive_bad_bool pd_priority_bad_number pd_priority_empty pd_priority_huge pd_priority_negative
    pd_priority_range pd_priority_space pd_priority_uppercase_hex pd_smc_arm_disabled pd_smc_riscv pd_stack_small pd_stack_unaligned pd_too_many
    pd_unknown_attr program_image_missing_path program_image_unknown_attr root_not_system setvar_duplicate
    setvar_missing_region setvar_missing_symbol setvar_unknown_region setvar_x86_needs_paddr system_attr
    template_duplicate_child_id template_map_setvar template_missing_id template_nested template_passive
    template_program_image template_setvar template_top_level
    text_in_pd text_in_system unknown_element_pd unknown_element_system vm_duplicate_name vm_duplicate_vcpu
    vm_map_overlap vm_map_setvar vm_missing_vcpu vm_not_child vm_twice vm_unknown_element vm_vcpu_id_range
    vm_without_hypervisor xml_malformed xml_not_xml
    cnode_duplicate_name cnode_size_bits_range cnode_missing_size_bits cnode_post_capdl_untypeds
    cspace_cap_smc cspace_unknown_cap_type cspace_unknown_element cspace_unknown_attr cspace_cap_bad_attr
    cspace_both_sources cspace_no_source cspace_slot_zero cspace_slot_range cspace_duplicate_slot
    cspace_unknown_pd cspace_unknown_cnode cspace_twice cspace_missing_slot
}

#[test]
fn every_fixture_file_is_listed() {
    let on_disk: Vec<String> = common::system_files(&common::fixtures().join("err"))
        .iter()
        .map(|p| p.file_stem().expect("stem").to_string_lossy().to_string())
        .collect();
    let unlisted: Vec<&String> = on_disk
        .iter()
        .filter(|n| !LISTED.contains(&n.as_str()))
        .collect();
    assert!(unlisted.is_empty(), "fixtures without a test: {unlisted:?}");
    assert_eq!(on_disk.len(), LISTED.len());
}

#[test]
fn every_error_kind_has_a_negative_fixture() {
    let mut seen = BTreeSet::new();
    for path in common::system_files(&common::fixtures().join("err")) {
        let text = std::fs::read_to_string(&path).expect("readable");
        if let Err(e) = common::parse_file(&path, &header(&text).arch) {
            seen.insert(variant(&e.kind));
        }
    }
    // Every variant of `ErrorKind`; keep in step with `src/error.rs`.
    let all = [
        "Xml",
        "RootNotSystem",
        "UnexpectedText",
        "UnknownElement",
        "NotSupported",
        "Domain",
        "UnknownAttribute",
        "MissingAttribute",
        "BadNumber",
        "BadBool",
        "OutOfRange",
        "EmptyName",
        "NameTooLong",
        "BudgetExceedsPeriod",
        "ZeroBudget",
        "StackSizeRange",
        "StackSizeAlign",
        "CpuOutOfRange",
        "SmcUnavailable",
        "DuplicateProgramImage",
        "MissingProgramImage",
        "TemplateProgramImage",
        "TemplateSetvar",
        "BadPerms",
        "WriteOnlyMap",
        "WrongArch",
        "IrqForm",
        "BadTrigger",
        "BadPolarity",
        "BadPciDev",
        "DuplicateSetvar",
        "ChannelEnds",
        "UnknownPd",
        "BidirectionalPp",
        "PpcPriority",
        "DuplicateId",
        "DuplicateChildId",
        "ChildIdClashesVcpu",
        "DuplicateVcpuId",
        "DuplicateIrq",
        "DuplicatePdName",
        "DuplicateMrName",
        "DuplicateVmName",
        "NoProtectionDomains",
        "TooManyPds",
        "UnknownMr",
        "UnalignedVaddr",
        "MapTooHigh",
        "OverlappingMaps",
        "UnsupportedPageSize",
        "SizeNotMultiple",
        "ZeroSize",
        "UnalignedPhysAddr",
        "AddressOverflow",
        "OverlappingPhys",
        "MissingSize",
        "PrefillSize",
        "PrefillTooLarge",
        "PrefillSetvarWithoutPrefill",
        "UnknownBootInfo",
        "ExclusiveAttributes",
        "DuplicateUntypedReceiver",
        "UntypedReceiverMaps",
        "SetvarPaddrNeedsPhysAddr",
        "IoPortZeroSize",
        "IoPortBeyondEnd",
        "IoPortOverlap",
        "DuplicateIoPortId",
        "VmMissingVcpu",
        "DuplicateVm",
        "VmNotChild",
        "NoIommu",
        "BadPeripheralId",
        "DuplicateIoSpaceName",
        "DuplicateDomainId",
        "DuplicateIoDevice",
        "BadIoPerms",
        "IoMapLargePage",
        "UnalignedIova",
        "IoMapTooHigh",
        "OverlappingIoMaps",
        "DuplicateCNodeName",
        "UnknownCNode",
        "UnknownCapType",
        "CapSource",
        "CapSlotRange",
        "DuplicateCapSlot",
        "DuplicateCSpace",
    ];
    let missing: Vec<&str> = all.iter().copied().filter(|v| !seen.contains(*v)).collect();
    assert!(
        missing.is_empty(),
        "error kinds without a negative fixture: {missing:?}"
    );
    let unknown: Vec<&String> = seen.iter().filter(|v| !all.contains(&v.as_str())).collect();
    assert!(
        unknown.is_empty(),
        "list of kinds is out of date: {unknown:?}"
    );
}

#[test]
fn every_domain_error_has_a_negative_fixture() {
    let mut seen = BTreeSet::new();
    for path in common::system_files(&common::fixtures().join("err")) {
        let text = std::fs::read_to_string(&path).expect("readable");
        if let Err(e) = common::parse_file(&path, &header(&text).arch) {
            if let sdf::ErrorKind::Domain(d) = &*e.kind {
                let dbg = format!("{d:?}");
                seen.insert(dbg.split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default().to_string());
            }
        }
    }
    // Every variant of `DomainError`; keep in step with `src/domains.rs`.
    for v in [
        "Smp", "Duplicate", "NoSchedule", "DuplicateName", "DuplicateId", "IdOutOfRange",
        "TooManyDomains", "UnknownDomain", "NoDomains", "BadDuration", "EmptySchedule",
        "StartOutOfRange", "StartAtEndMarker", "ScheduleTooLong",
    ] {
        assert!(seen.contains(v), "no fixture for DomainError::{v}");
    }
}
