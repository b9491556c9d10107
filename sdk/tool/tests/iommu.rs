//! IO mappings end to end through the tool: the spec's IO spaces and IO page mappings share
//! the frames the PDs map, survive the encoding, and the report lists them.

mod common;

use common::*;
use microkit_spec::{IoSpace, ObjectKind};
use microkit_tool::args::Config;
use microkit_tool::{board, layout, spec, system};

fn build(fixture_name: &str) -> (spec::Built, sdf::SystemDescription) {
    let dir = tmpdir(&format!("iommu-{}", fixture_name.replace('/', "_")));
    populate(&dir, EM_X86_64);
    let b = board::find("x86_64_generic").expect("board");
    let path = fixture(fixture_name);
    let sys = system::load(&path, b, std::slice::from_ref(&dir)).expect("valid system");
    let lay = layout::compute(&sys, b, Config::Debug);
    let dirs = system::search_dirs(&path, std::slice::from_ref(&dir));
    let built = spec::build(&sys, &lay, b, Config::Debug, &dirs).expect("spec builds");
    (built, sys)
}

#[test]
fn io_spaces_and_page_mappings_use_the_region_frames() {
    let (b, _) = build("ok/iommu_x86.system");
    let s = &b.spec;
    assert_eq!(
        s.io_spaces,
        [
            IoSpace {
                name: "nic".into(),
                bus: 0,
                dev: 3,
                func: 0,
                domain_id: 5
            },
            IoSpace {
                name: "disk".into(),
                bus: 0,
                dev: 0x1f,
                func: 2,
                domain_id: 1
            },
            IoSpace {
                name: "pcidev 00:04.0".into(),
                bus: 0,
                dev: 4,
                func: 0,
                domain_id: 2
            },
        ]
    );
    // nic: dma (2 pages) + shared (1) + big (512) + ring (4); disk: shared; 00:04.0: ring.
    let per_space: Vec<usize> = (0..3)
        .map(|i| s.io_mappings.iter().filter(|m| m.io_space == i).count())
        .collect();
    assert_eq!(per_space, [519, 1, 4]);
    let name = |id: u32| s.objects[id as usize].name.as_str();
    let io = |space: u32, iova: u64| {
        s.io_mappings
            .iter()
            .find(|m| m.io_space == space && m.iovaddr == iova)
            .unwrap_or_else(|| panic!("no IO mapping at {iova:#x} in space {space}"))
    };
    let m = io(0, 0x1000);
    assert_eq!((name(m.frame), m.read, m.write), ("mr_dma_1", true, true));
    let m = io(0, 0x10_0000);
    assert_eq!(
        (name(m.frame), m.read, m.write),
        ("mr_shared_0", false, true)
    );
    assert_eq!(name(io(0, 0x7f_ffff_f000).frame), "mr_big_511");
    let m = io(0, 0x20_3000);
    assert_eq!((name(m.frame), m.read, m.write), ("mr_ring_3", true, false));
    assert_eq!(name(io(2, 0xb000).frame), "mr_ring_3");
    // The device sees the same frame the driver PD maps (and its fixed physical address).
    let drv_vspace = s.pds[0].vspace;
    let cpu = s
        .mappings
        .iter()
        .find(|c| c.vspace == drv_vspace && c.vaddr == 0x2010_3000)
        .expect("driver maps ring page 3");
    assert_eq!(cpu.frame, io(2, 0xb000).frame);
    assert!(matches!(
        s.objects[cpu.frame as usize].kind,
        ObjectKind::Frame {
            size_bits: 12,
            paddr: Some(0x5000_3000),
            ..
        }
    ));
    // Every IO mapping survives the encoding the initialiser decodes.
    let blob = microkit_spec::encode(&b.spec, &b.data);
    let (back, _) = microkit_spec::decode(&blob).expect("decodes");
    assert_eq!(back.io_mappings, b.spec.io_mappings);
    assert_eq!(back.io_spaces, b.spec.io_spaces);
}

#[test]
fn systems_without_io_mappings_have_none_in_the_spec() {
    let (b, _) = build("ok/all_attributes_x86.system");
    assert!(b.spec.io_spaces.is_empty() && b.spec.io_mappings.is_empty());
}

#[test]
fn report_lists_io_spaces_and_says_enforcement_is_decided_at_boot() {
    let dir = tmpdir("iommu-report");
    populate(&dir, EM_X86_64);
    let o = run_tool(&fixture("ok/iommu_x86.system"), "x86_64_generic", &dir, &[]);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    let text = std::fs::read_to_string(dir.join("report.txt")).expect("report");
    for want in [
        "## IOMMU (3 io address spaces, 524 IO page mappings)",
        "NOT enforced",
        "### 'nic': PCI device 00:03.0 (requester id 0x0018), domain id 5",
        "### 'disk': PCI device 00:1f.2 (requester id 0x00fa), domain id 1 (chosen by the tool)",
        "  iova 0x0000100000..0x0000101000 -w 'shared'",
        "  iova 0x0000008000..0x000000c000 rw 'ring' paddr 0x50000000 (declared in PD 'drv')",
    ] {
        assert!(text.contains(want), "missing `{want}` in:\n{text}");
    }
}

#[test]
fn io_mappings_are_rejected_on_boards_without_an_iommu() {
    let dir = tmpdir("iommu-arm");
    populate(&dir, EM_AARCH64);
    let o = run_tool(
        &fixture("ok/iommu_x86.system"),
        "qemu_virt_aarch64",
        &dir,
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "iommu_x86.system:10:5: error: <io_address_space> needs a kernel with IOMMU support"
        ),
        "{}",
        stderr(&o)
    );
}
