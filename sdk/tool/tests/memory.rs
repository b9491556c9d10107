//! Memory-region features through the tool: a region sized from its prefill file with the
//! prefill size patched into the PD, a boot-information region, and the untyped handoff (the
//! receiving PD's two-level CSpace), from an SDF file to the encoded spec.

mod common;

use common::*;
use microkit_spec::layout::untypeds as U;
use microkit_spec::ObjectKind;
use microkit_tool::args::Config;
use microkit_tool::{board, layout, spec, system};

const SYSTEM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<system>
    <memory_region name="blob" prefill_path="data.bin" />
    <memory_region name="dtb" prefill_bootinfo="fdt" size="0x2000" />
    <memory_region name="uts" receive_all_untypeds="true" />
    <protection_domain name="producer" priority="10">
        <program_image path="producer.elf" />
        <map mr="blob" vaddr="0x40000000" perms="r" setvar_vaddr="ring_vaddr" setvar_prefill_size="ring_size" />
        <map mr="dtb" vaddr="0x40200000" perms="r" setvar_vaddr="tx_vaddr" />
    </protection_domain>
    <protection_domain name="consumer" priority="5">
        <program_image path="consumer.elf" />
        <map mr="uts" vaddr="0x50000000" setvar_vaddr="ring_vaddr" />
    </protection_domain>
</system>
"#;

fn word(b: &spec::Built, pd: usize, sym: &str) -> u64 {
    let seg = b.programs[pd]
        .segments
        .iter()
        .find(|s| s.vaddr == PD_DATA)
        .expect("data segment");
    let o = sym_offset(sym) as usize;
    u64::from_le_bytes(seg.data[o..o + 8].try_into().expect("8 bytes"))
}

#[test]
fn prefill_bootinfo_and_untyped_handoff_reach_the_spec() {
    let dir = tmpdir("memory-features");
    populate(&dir, EM_AARCH64);
    let blob: Vec<u8> = (0..5000u32).map(|i| (i * 13 % 256) as u8).collect();
    std::fs::write(dir.join("data.bin"), &blob).expect("prefill file");
    let path = dir.join("memory.system");
    std::fs::write(&path, SYSTEM).expect("system file");
    let b = board::find("qemu_virt_aarch64").expect("board");
    let sys = system::load(&path, b, std::slice::from_ref(&dir)).expect("valid system");
    let lay = layout::compute(&sys, b, Config::Debug);
    let dirs = system::search_dirs(&path, std::slice::from_ref(&dir));
    let built = spec::build(&sys, &lay, b, Config::Debug, &dirs).expect("spec builds");
    let s = &built.spec;

    // Sized from the file: 5000 bytes -> two pages, both filled from the blob in order.
    assert_eq!(sys.memory_region("blob").map(|r| r.size), Some(0x2000));
    assert_eq!(word(&built, 0, "ring_size"), 5000);
    assert_eq!(word(&built, 0, "ring_vaddr"), 0x4000_0000);
    let mut filled = Vec::new();
    for k in 0..2 {
        let o = s
            .objects
            .iter()
            .find(|o| o.name == format!("mr_blob_{k}"))
            .expect("frame");
        let ObjectKind::Frame { fill, .. } = &o.kind else {
            panic!("not a frame")
        };
        for f in fill {
            filled.extend_from_slice(
                &built.data[f.data_offset as usize..(f.data_offset + f.len) as usize],
            );
        }
    }
    assert_eq!(filled, blob);
    // The boot-information region: chunk id 6 into both of its frames.
    assert_eq!(s.bootinfo_fills.len(), 1);
    assert_eq!(s.bootinfo_fills[0].id, 6);
    assert_eq!(s.bootinfo_fills[0].frames.len(), 2);
    // The handoff: the consumer's CSpace is the two-level one; the description is its region.
    let h = s.untyped_handoff.as_ref().expect("handoff");
    assert_eq!((h.cptr, h.first_slot), (U::CNODE_CPTR, U::FIRST_SLOT));
    assert_eq!(s.objects[h.frames[0] as usize].name, "mr_uts_0");
    let consumer = s
        .pds
        .iter()
        .find(|p| p.name == "consumer")
        .expect("consumer");
    assert_eq!(consumer.cspace_guard_size, 0);
    assert_eq!(
        s.objects[consumer.cspace as usize].name,
        "cspace_top_consumer"
    );
    let producer = s
        .pds
        .iter()
        .find(|p| p.name == "producer")
        .expect("producer");
    assert_eq!(producer.cspace_guard_size, 55);
    // The encoded blob carries both.
    let enc = microkit_spec::encode(s, &built.data);
    let (back, _) = microkit_spec::decode(&enc).expect("decodes");
    assert_eq!(back.untyped_handoff, s.untyped_handoff);
    assert_eq!(back.bootinfo_fills, s.bootinfo_fills);
}

#[test]
fn missing_prefill_file_and_misused_attributes_are_clear_errors() {
    let dir = tmpdir("memory-errors");
    populate(&dir, EM_AARCH64);
    let b = board::find("qemu_virt_aarch64").expect("board");
    let cases = [
        (SYSTEM.to_string(), "data.bin"),
        (
            SYSTEM.replace(
                "prefill_bootinfo=\"fdt\"",
                "prefill_bootinfo=\"fdt\" prefill_path=\"x.bin\"",
            ),
            "cannot be given together",
        ),
        (
            SYSTEM.replace(
                "<map mr=\"uts\" vaddr=\"0x50000000\" setvar_vaddr=\"ring_vaddr\" />",
                "",
            ),
            "must be mapped exactly once",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        if i == 1 {
            // From here on the prefill file exists; the other rules are checked.
            std::fs::write(dir.join("data.bin"), [1u8; 10]).expect("prefill file");
        }
        let path = dir.join(format!("case{i}.system"));
        std::fs::write(&path, text).expect("system file");
        let e = system::load(&path, b, std::slice::from_ref(&dir))
            .err()
            .map(|e| e.to_string());
        let e = e.unwrap_or_else(|| panic!("case {i} loaded"));
        assert!(e.contains(want), "case {i}: {e}");
        assert!(
            e.contains(&format!("case{i}.system:")),
            "case {i} names the file: {e}"
        );
    }
}
