//! The spec and image stages: objects, caps, badges, slots and mappings built for the fixture
//! systems from synthetic PD ELFs; the patched symbols; the encoding round trip; the packed
//! image (the system is decoded back out of it); and every error path exits 1 with a clear
//! message and no panic.

mod common;

use std::path::Path;

use common::*;
use microkit_spec::{layout as L, IrqSource, ObjectKind, Spec};
use microkit_tool::args::Config;
use microkit_tool::{board, image, layout, program, spec, system};

fn build(
    fixture_name: &str,
    board_name: &str,
    machine: u16,
) -> (spec::Built, sdf::SystemDescription) {
    build_cfg(fixture_name, board_name, machine, Config::Debug)
}

fn build_cfg(
    fixture_name: &str,
    board_name: &str,
    machine: u16,
    config: Config,
) -> (spec::Built, sdf::SystemDescription) {
    let dir = tmpdir(&format!("{}-{board_name}", fixture_name.replace('/', "_")));
    populate(&dir, machine);
    std::fs::write(dir.join("data.bin"), [7u8; 100]).expect("prefill");
    let b = board::find(board_name).expect("board");
    let path = fixture(fixture_name);
    let sys = system::load(&path, b, std::slice::from_ref(&dir)).expect("valid system");
    let lay = layout::compute(&sys, b, config);
    let dirs = system::search_dirs(&path, std::slice::from_ref(&dir));
    let built = spec::build(&sys, &lay, b, config, &dirs).expect("spec builds");
    (built, sys)
}

fn obj<'a>(s: &'a Spec, name: &str) -> (u32, &'a ObjectKind) {
    let i = s
        .objects
        .iter()
        .position(|o| o.name == name)
        .unwrap_or_else(|| panic!("no object {name}"));
    (i as u32, &s.objects[i].kind)
}

/// (slot, object name, badge) of every cap in PD `pd`'s CNode, sorted by slot.
fn caps(s: &Spec, pd: &str) -> Vec<(u64, String, u64)> {
    let p = s.pds.iter().find(|p| p.name == pd).expect("pd");
    let mut v: Vec<_> = s
        .caps
        .iter()
        .filter(|c| c.cnode == p.cspace)
        .map(|c| {
            (
                c.slot,
                s.objects[c.cap.object as usize].name.clone(),
                c.cap.badge,
            )
        })
        .collect();
    v.sort();
    v
}

/// (vaddr, frame name, r, w, x, cached) of every mapping in PD `pd`'s VSpace.
fn maps(s: &Spec, pd: &str) -> Vec<(u64, String, bool, bool, bool, bool)> {
    let p = s.pds.iter().find(|p| p.name == pd).expect("pd");
    let mut v: Vec<_> = s
        .mappings
        .iter()
        .filter(|m| m.vspace == p.vspace)
        .map(|m| {
            (
                m.vaddr,
                s.objects[m.frame as usize].name.clone(),
                m.read,
                m.write,
                m.execute,
                m.cached,
            )
        })
        .collect();
    v.sort();
    v
}

/// The patched bytes of symbol `sym` in PD `pd`'s data segment.
fn patched(b: &spec::Built, pd_index: usize, sym: &str, len: usize) -> Vec<u8> {
    let seg = b.programs[pd_index]
        .segments
        .iter()
        .find(|s| s.vaddr == PD_DATA)
        .expect("data segment");
    let o = sym_offset(sym) as usize;
    seg.data[o..o + len].to_vec()
}

fn word(b: &spec::Built, pd_index: usize, sym: &str) -> u64 {
    u64::from_le_bytes(patched(b, pd_index, sym, 8).try_into().expect("8 bytes"))
}

#[test]
fn passive_server_caps_badges_and_slots() {
    let (b, _) = build("ok/passive_server.system", "qemu_virt_aarch64", EM_AARCH64);
    let s = &b.spec;
    // server: endpoint input (PPC target), monitor fault EP badge 1, VSpace, reply, monitor
    // EP (passive) badge 1, notification to client_b (its id 3) on channel 1.
    assert_eq!(
        caps(s, "server"),
        vec![
            (L::INPUT_CAP, "ep_server".into(), 0),
            (L::FAULT_EP_CAP, "ep_monitor".into(), 1),
            (L::VSPACE_CAP, "vspace_server".into(), 0),
            (L::REPLY_CAP, "reply_server".into(), 0),
            (L::MONITOR_EP_CAP, "ep_monitor".into(), 1),
            (10, "ntfn_client_a".into(), 1 << 3),
            (11, "ntfn_client_b".into(), 1 << 3),
        ]
    );
    // client_a: PPC into the server on its channel 3 (server's id 0); notify the server.
    assert_eq!(
        caps(s, "client_a"),
        vec![
            (1, "ntfn_client_a".into(), 0),
            (2, "ep_monitor".into(), 2),
            (3, "vspace_client_a".into(), 0),
            (4, "reply_client_a".into(), 0),
            (10 + 3, "ntfn_server".into(), 1),
            (74 + 3, "ep_server".into(), L::PPC_BADGE),
        ]
    );
    // client_b: PPC only (notify="false"); the server knows the channel as 1.
    assert_eq!(
        caps(s, "client_b"),
        vec![
            (1, "ntfn_client_b".into(), 0),
            (2, "ep_monitor".into(), 3),
            (3, "vspace_client_b".into(), 0),
            (4, "reply_client_b".into(), 0),
            (74 + 3, "ep_server".into(), L::PPC_BADGE | 1),
        ]
    );
    let server = &s.pds[0];
    assert!(server.passive);
    assert_eq!((server.priority, server.mcp), (200, 200));
    assert_eq!(server.entry, 0x20_0000);
    assert_eq!(server.ipc_buffer.0, PD_IPCBUF);
    assert_eq!(server.cspace_guard_size, 64 - 9);
    match obj(s, "sc_server").1 {
        ObjectKind::SchedContext {
            budget,
            period,
            badge,
            ..
        } => {
            assert_eq!((*budget, *period, *badge), (1000, 1000, 0x100))
        }
        k => panic!("{k:?}"),
    }
    // Higher priorities start first: server 200, client_b 20, client_a 10.
    assert_eq!(s.start_order, vec![0, 2, 1]);
    assert_eq!(s.fault_ep, Some(obj(s, "ep_monitor").0));
    // Patched symbols: name (zero-padded), passive, channel masks.
    let mut name = b"server".to_vec();
    name.resize(64, 0);
    assert_eq!(patched(&b, 0, "microkit_name", 64), name);
    assert_eq!(patched(&b, 0, "microkit_passive", 1), vec![1]);
    assert_eq!(word(&b, 0, "microkit_notifications"), 0b11);
    assert_eq!(word(&b, 0, "microkit_pps"), 0);
    assert_eq!(word(&b, 1, "microkit_pps"), 1 << 3);
    assert_eq!(word(&b, 2, "microkit_notifications"), 0);
    // Symbols not patched keep the ELF's bytes.
    assert_eq!(word(&b, 0, "ring_vaddr"), 0xaaaa_aaaa_aaaa_aaaa);
    // aarch64 PDs get no microkit_ioports.
    assert!(!b.programs[0]
        .patched
        .iter()
        .any(|(n, _, _)| n == "microkit_ioports"));
}

#[test]
fn segments_stack_ipc_buffer_and_region_mappings() {
    let (b, _) = build("ok/hello.system", "qemu_virt_aarch64", EM_AARCH64);
    let s = &b.spec;
    let m = maps(s, "producer");
    // Text: 2 pages r-x; data: 2 pages rw- (0x1400 bytes of memory); IPC buffer; ring buffer
    // (4 pages at 0x4000_0000); stack (default size) ending at the stack top.
    let text: Vec<_> = m
        .iter()
        .filter(|x| x.1.starts_with("elf_producer"))
        .collect();
    assert_eq!(text.len(), 4);
    assert_eq!(
        (text[0].0, text[0].2, text[0].3, text[0].4),
        (0x20_0000, true, false, true)
    );
    assert_eq!(
        (text[2].0, text[2].2, text[2].3, text[2].4),
        (PD_DATA, true, true, false)
    );
    assert!(m.contains(&(PD_IPCBUF, "ipcbuf_producer".into(), true, true, false, true)));
    for k in 0..4u64 {
        assert!(m.contains(&(
            0x4000_0000 + k * 0x1000,
            format!("mr_ring_buf_{k}"),
            true,
            true,
            false,
            true
        )));
    }
    let consumer = maps(s, "consumer");
    assert!(consumer.contains(&(
        0x5000_0000,
        "mr_ring_buf_0".into(),
        true,
        false,
        false,
        true
    )));
    let top = microkit_spec::microkit::stack_top(microkit_spec::Arch::Aarch64);
    let stack: Vec<_> = maps(s, "logger")
        .into_iter()
        .filter(|x| x.1.starts_with("stack_"))
        .collect();
    assert_eq!(stack.len(), 4, "logger has stack_size 0x4000");
    assert_eq!(stack.last().map(|x| x.0), Some(top - 0x1000));
    assert_eq!(s.pds[2].sp, top);
    // ELF contents: the first text page is filled from the file.
    let (_, k) = obj(s, "elf_producer_0");
    match k {
        ObjectKind::Frame {
            size_bits: 12,
            paddr: None,
            fill,
        } => {
            assert_eq!(fill.len(), 1);
            let f = fill[0];
            assert_eq!((f.frame_offset, f.len), (0, 0x1000));
            assert_eq!(b.data[f.data_offset as usize + 5], 5);
        }
        k => panic!("{k:?}"),
    }
    // setvars: vaddr and size.
    assert_eq!(word(&b, 0, "ring_vaddr"), 0x4000_0000);
    assert_eq!(word(&b, 0, "ring_size"), 0x4000);
    assert_eq!(word(&b, 1, "ring_vaddr"), 0x5000_0000);
    // SC budget/period.
    match obj(s, "sc_producer").1 {
        ObjectKind::SchedContext { budget, period, .. } => {
            assert_eq!((*budget, *period), (500, 2000))
        }
        k => panic!("{k:?}"),
    }
}

#[test]
fn children_fault_endpoints_and_tcb_caps() {
    let (b, _) = build_cfg(
        "ok/children.system",
        "qemu_virt_riscv64",
        EM_RISCV,
        Config::Benchmark,
    );
    let s = &b.spec;
    let c = caps(s, "monitor");
    assert!(c.contains(&(L::BASE_TCB_CAP + 1, "tcb_worker".into(), 0)));
    assert!(c.contains(&(L::BASE_TCB_CAP + 2, "tcb_crasher".into(), 0)));
    assert!(
        c.contains(&(L::TCB_CAP, "tcb_monitor".into(), 0)),
        "benchmark: own TCB"
    );
    // The PD called "monitor" is a parent, so its input cap is its own endpoint, not the
    // initialiser's monitor endpoint (both are named "ep_monitor").
    let mon = &s.pds[0];
    let input = s
        .caps
        .iter()
        .find(|c| c.cnode == mon.cspace && c.slot == L::INPUT_CAP)
        .expect("input cap");
    assert_eq!(
        s.objects[input.cap.object as usize].kind,
        ObjectKind::Endpoint
    );
    assert_ne!(Some(input.cap.object), s.fault_ep);
    let fault = s
        .caps
        .iter()
        .find(|c| c.cnode == mon.cspace && c.slot == L::FAULT_EP_CAP)
        .expect("fault cap");
    assert_eq!((Some(fault.cap.object), fault.cap.badge), (s.fault_ep, 1));
    // worker's faults go to its parent's endpoint with FAULT_BADGE | 1; helper's to worker.
    let w = caps(s, "worker");
    let wf = s
        .caps
        .iter()
        .find(|c| c.cnode == s.pds[1].cspace && c.slot == L::FAULT_EP_CAP)
        .expect("fault");
    assert_eq!(
        (wf.cap.object, wf.cap.badge),
        (input.cap.object, L::FAULT_BADGE | 1)
    );
    assert!(w.contains(&(L::BASE_TCB_CAP, "tcb_helper".into(), 0)));
    let h = caps(s, "helper");
    assert!(h.contains(&(L::FAULT_EP_CAP, "ep_worker".into(), L::FAULT_BADGE)));
    let o = caps(s, "observer");
    assert!(
        o.contains(&(L::FAULT_EP_CAP, "ep_monitor".into(), 5)),
        "{o:?}"
    );
    assert_eq!(word(&b, 0, "worker_id"), 1);
    assert_eq!(s.arch, microkit_spec::Arch::Riscv64);
    let top = microkit_spec::microkit::stack_top(microkit_spec::Arch::Riscv64);
    assert_eq!(s.pds[0].sp, top);
}

#[test]
fn irqs_device_frames_and_symbols_for_symbols_file() {
    let (b, _) = build("ok/uart_driver.system", "qemu_virt_aarch64", EM_AARCH64);
    let s = &b.spec;
    let (ntfn, _) = obj(s, "ntfn_uart");
    match obj(s, "irq_uart_5").1 {
        ObjectKind::Irq {
            source,
            notification,
        } => {
            assert_eq!(
                *source,
                IrqSource::Plain {
                    irq: 33,
                    trigger: microkit_spec::Trigger::Level
                }
            );
            assert_eq!(*notification, Some((ntfn, 1 << 5)));
        }
        k => panic!("{k:?}"),
    }
    assert!(caps(s, "uart").contains(&(L::BASE_IRQ_CAP + 5, "irq_uart_5".into(), 0)));
    match obj(s, "mr_uart_regs_0").1 {
        ObjectKind::Frame { paddr, .. } => assert_eq!(*paddr, Some(0x0900_0000)),
        k => panic!("{k:?}"),
    }
    // tx_buf is 2 MiB: one large frame.
    match obj(s, "mr_tx_buf_0").1 {
        ObjectKind::Frame {
            size_bits, paddr, ..
        } => assert_eq!((*size_bits, *paddr), (21, None)),
        k => panic!("{k:?}"),
    }
    let m = maps(s, "uart");
    assert!(m.contains(&(
        0x200_0000,
        "mr_uart_regs_0".into(),
        true,
        true,
        false,
        false
    )));
    assert_eq!(word(&b, 0, "uart_base"), 0x200_0000);
    assert_eq!(word(&b, 0, "uart_irq_ch"), 5);
    assert_eq!(word(&b, 0, "uart_paddr"), 0x0900_0000);
    assert_eq!(word(&b, 0, "microkit_irqs"), 1 << 5);
    assert_eq!(word(&b, 1, "microkit_pps"), 1);
}

#[test]
fn x86_ioapic_msi_and_ioports() {
    let (b, _) = build("ok/all_attributes_x86.system", "x86_64_generic", EM_X86_64);
    let s = &b.spec;
    match obj(s, "irq_drv_1").1 {
        ObjectKind::Irq { source, .. } => assert_eq!(
            *source,
            IrqSource::IoApic {
                ioapic: 0,
                pin: 4,
                level: 0,
                polarity: 1,
                vector: 5
            }
        ),
        k => panic!("{k:?}"),
    }
    match obj(s, "irq_drv_4").1 {
        ObjectKind::Irq { source, .. } => assert_eq!(
            *source,
            IrqSource::Msi {
                bus: 255,
                dev: 31,
                func: 7,
                handle: 1,
                vector: 107
            }
        ),
        k => panic!("{k:?}"),
    }
    match obj(s, "ioport_drv_61").1 {
        ObjectKind::IoPort { first, last } => assert_eq!((*first, *last), (0xfff8, 0xffff)),
        k => panic!("{k:?}"),
    }
    let c = caps(s, "drv");
    assert!(c.contains(&(L::BASE_IOPORT_CAP, "ioport_drv_0".into(), 0)));
    assert!(c.contains(&(L::BASE_IOPORT_CAP + 61, "ioport_drv_61".into(), 0)));
    assert_eq!(word(&b, 0, "microkit_ioports"), 1 | (1 << 61));
    assert_eq!(word(&b, 0, "microkit_irqs"), 0b11110);
    assert_eq!(word(&b, 0, "hpet_paddr"), 0xfed0_0000);
    assert_eq!(word(&b, 0, "com1_id"), 0);
    assert_eq!(word(&b, 0, "msi_irq"), 4);
}

#[test]
fn encoding_round_trip_and_embedding() {
    for (f, board_name, m) in [
        ("ok/hello.system", "qemu_virt_aarch64", EM_AARCH64),
        ("ok/children.system", "qemu_virt_riscv64", EM_RISCV),
        ("ok/all_attributes_x86.system", "x86_64_generic", EM_X86_64),
    ] {
        let (b, _) = build(f, board_name, m);
        let blob = microkit_spec::encode(&b.spec, &b.data);
        let (spec, data) = microkit_spec::decode(&blob).expect("decodes");
        assert_eq!(spec, b.spec);
        assert_eq!(data, &b.data[..]);
        let init = initialiser_elf(m, true);
        let (with, (vaddr, len)) = image::embed_system(&init, &blob).expect("embeds");
        // After the initialiser's last byte (0x401000 + 0x3000), page aligned.
        assert_eq!(vaddr, 0x40_4000);
        assert_eq!(len, blob.len() as u64);
        let (spec2, data2) = image::extract_system(&with).expect("extracts");
        assert_eq!(spec2, b.spec);
        assert_eq!(data2, b.data);
        // MICROKIT_SYSTEM holds (vaddr, len); the original segments are unchanged.
        let e = boot_image::elf::Elf::parse(&with).expect("elf");
        let segs: Vec<_> = e.load_segments().collect::<Result<_, _>>().expect("segs");
        assert_eq!(segs.len(), 3);
        assert_eq!(
            (segs[2].vaddr, segs[2].filesz, segs[2].flags),
            (vaddr, len, 4)
        );
        assert_eq!(segs[2].offset % 0x1000, 0);
        let orig = boot_image::elf::Elf::parse(&init).expect("elf");
        let o: Vec<_> = orig
            .load_segments()
            .collect::<Result<_, _>>()
            .expect("segs");
        assert_eq!(&segs[..2], &o[..]);
    }
}

#[test]
fn embedding_errors_are_typed() {
    let blob = [1u8; 10];
    let e = image::embed_system(&initialiser_elf(EM_AARCH64, false), &blob).unwrap_err();
    assert!(e.to_string().contains("MICROKIT_SYSTEM"), "{e}");
    assert!(image::embed_system(b"not an elf", &blob).is_err());
    let init = initialiser_elf(EM_AARCH64, true);
    for n in 0..init.len() {
        let _ = image::embed_system(&init[..n], &blob);
        let _ = image::extract_system(&init[..n]);
    }
    assert!(image::extract_system(&init)
        .unwrap_err()
        .to_string()
        .contains("no system"));
}

fn check_image(board_name: &str, machine: u16) {
    let dir = tmpdir(&format!("pack-{board_name}"));
    populate(&dir, machine);
    let sys = fixture("ok/hello.system");
    // The default format first (Microkit's: binary on AArch64, uimage on RISC-V, elf on
    // x86_64): its loadable bytes are the ELF's, laid out flat.
    let o = run_tool(&sys, board_name, &dir, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let default_img = std::fs::read(dir.join("loader.img")).expect("image");
    let o = run_tool(&sys, board_name, &dir, &["--image-type", "elf"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let img = std::fs::read(dir.join("loader.img")).expect("image");
    match machine {
        EM_AARCH64 => check_aarch64_binary(&default_img, &img),
        EM_RISCV => check_riscv_uimage(&default_img, &img),
        _ => assert_eq!(default_img, img),
    }
    let init = if machine == EM_X86_64 {
        img.clone()
    } else {
        image::payload_initialiser(&img).expect("payload holds the initialiser")
    };
    let (spec, data) = image::extract_system(&init).expect("system in the image");
    // The same spec the library builds.
    let (b, _) = build("ok/hello.system", board_name, machine);
    assert_eq!(spec, b.spec);
    assert_eq!(data, b.data);
    let report = std::fs::read_to_string(dir.join("report.txt")).expect("report");
    for want in [
        "## Objects (",
        "ep_monitor",
        "### producer",
        "slot   2: endpoint 'ep_monitor' rights RWGP badge 0x1",
        "microkit_notifications @ 0x202050 (8 bytes) = 0x1",
        "0x0000000040000000..0x0000000040001000 rw- cached   'mr_ring_buf_0'",
        "## Image",
        "initialiser segments (the last holds the system):",
        "system blob: vaddr [0x404000,",
    ] {
        assert!(report.contains(want), "missing {want:?} in\n{report}");
    }
    if machine != EM_X86_64 {
        assert!(
            report.contains("boot payload (holds the initialiser): paddr [0x40203000,"),
            "{report}"
        );
        assert!(report.contains("kernel segments:"));
    } else {
        assert!(report.contains("multiboot module"));
    }
}

fn le(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The AArch64 raw image: the copy loop, its table (destination, length, entry, data offset)
/// and the ELF's loadable bytes laid out flat from their lowest physical address.
fn check_aarch64_binary(bin: &[u8], elf: &[u8]) {
    use microkit_tool::format;
    let (base, flat, entry) = format::flat("image", elf).expect("flat");
    let e = boot_image::elf::Elf::parse(elf).expect("elf");
    assert_eq!(entry, e.entry);
    // The first instruction is `adr x4, #0x40` and the last of the loop `br x3`.
    assert_eq!(&bin[0..4], &0x1000_0204u32.to_le_bytes());
    assert_eq!(&bin[0x3c..0x40], &0xd61f_0060u32.to_le_bytes());
    assert_eq!(le(bin, 0x40), base);
    let len = le(bin, 0x48) as usize;
    assert_eq!(len, flat.len().next_multiple_of(8));
    assert_eq!(le(bin, 0x50), entry);
    assert_eq!(le(bin, 0x58), format::BINARY_DATA_OFFSET);
    let data = &bin[format::BINARY_DATA_OFFSET as usize..];
    assert_eq!(data.len(), len);
    assert_eq!(&data[..flat.len()], &flat[..]);
    // Every loadable byte is where its physical address says.
    for s in e.load_segments().map(|s| s.expect("segment")) {
        let bytes = e.segment_data(&s).expect("data");
        let o = (s.paddr - base) as usize;
        assert_eq!(&data[o..o + bytes.len()], bytes);
    }
}

/// The RISC-V uImage: U-Boot's legacy header (magic, header and data CRC-32, size, load
/// address = lowest physical address, entry, Linux/RISC-V/kernel/uncompressed) and the flat
/// bytes.
fn check_riscv_uimage(img: &[u8], elf: &[u8]) {
    use microkit_tool::format;
    let (base, flat, entry) = format::flat("image", elf).expect("flat");
    let be = |at: usize| u32::from_be_bytes(img[at..at + 4].try_into().expect("4 bytes"));
    assert_eq!(be(0), 0x2705_1956);
    let mut h = img[..64].to_vec();
    h[4..8].fill(0);
    assert_eq!(be(4), format::crc32(&h));
    assert_eq!(be(12) as usize, flat.len());
    assert_eq!(u64::from(be(16)), base);
    assert_eq!(u64::from(be(20)), entry);
    assert_eq!(be(24), format::crc32(&flat));
    assert_eq!(&img[28..32], &[5, 26, 2, 0]);
    assert_eq!(&img[64..], &flat[..]);
    // CRC-32 check value.
    assert_eq!(format::crc32(b"123456789"), 0xcbf4_3926);
}

/// `--image-type` values a board cannot take are refused as Microkit refuses them.
#[test]
fn image_type_unsupported_for_the_arch() {
    let dir = tmpdir("image-type");
    populate(&dir, EM_AARCH64);
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &["--image-type", "uimage"],
        &["building the output image as 'uimage' is unsupported for target architecture 'aarch64'"],
    );
    let dir = tmpdir("image-type-x86");
    populate(&dir, EM_X86_64);
    expect_error(
        &dir,
        "x86_64_generic",
        None,
        &["--image-type", "binary"],
        &["building the output image as 'binary' is unsupported for target architecture 'x86_64'"],
    );
}

#[test]
fn packs_aarch64_image() {
    check_image("qemu_virt_aarch64", EM_AARCH64);
}

#[test]
fn packs_riscv64_image() {
    check_image("qemu_virt_riscv64", EM_RISCV);
}

#[test]
fn packs_x86_64_module() {
    check_image("x86_64_generic", EM_X86_64);
}

#[test]
fn sdk_dir_layout_is_used() {
    let dir = tmpdir("sdkdir");
    populate(&dir, EM_AARCH64);
    let elf = dir.join("sdk/board/qemu_virt_aarch64/release/elf");
    std::fs::create_dir_all(&elf).expect("mkdir");
    std::fs::copy(dir.join("kernel.elf"), elf.join("sel4.elf")).expect("copy");
    std::fs::copy(dir.join("initialiser.elf"), elf.join("initialiser.elf")).expect("copy");
    let p = |x: &Path| x.to_str().expect("utf8").to_string();
    let args = [
        p(&fixture("ok/hello.system")),
        "--board".into(),
        "qemu_virt_aarch64".into(),
        "--config".into(),
        "release".into(),
        "-o".into(),
        p(&dir.join("img")),
        "-r".into(),
        p(&dir.join("rep")),
        "--search-path".into(),
        p(&dir),
    ];
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_microkit"))
        .args(&refs)
        .env("MICROKIT_SDK", dir.join("sdk"))
        .output()
        .expect("run");
    assert!(o.status.success(), "{}", stderr(&o));
    let rep = std::fs::read_to_string(dir.join("rep")).expect("report");
    assert!(
        rep.contains("board/qemu_virt_aarch64/release/elf/sel4.elf"),
        "{rep}"
    );
    // The debug configuration is not in this SDK: a clear error.
    let mut args2 = refs.clone();
    args2[4] = "debug";
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_microkit"))
        .args(&args2)
        .env("MICROKIT_SDK", dir.join("sdk"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("board/qemu_virt_aarch64/debug/elf"),
        "{}",
        stderr(&o)
    );
}

/// Runs the tool on `system_text` (written to `dir/sys.system`) and expects exit 1 with `want`.
fn expect_error(
    dir: &Path,
    board_name: &str,
    system_text: Option<&str>,
    extra: &[&str],
    want: &[&str],
) {
    let sys = match system_text {
        Some(t) => {
            let p = dir.join("sys.system");
            std::fs::write(&p, t).expect("write");
            p
        }
        None => fixture("ok/hello.system"),
    };
    let _ = std::fs::remove_file(dir.join("loader.img"));
    let o = run_tool(&sys, board_name, dir, extra);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for w in want {
        assert!(err.contains(w), "missing {w:?} in: {err}");
    }
    assert!(!dir.join("loader.img").exists(), "no image on error");
}

const ONE_PD: &str = r#"<system>
  <memory_region name="buf" size="0x1000" />
  <protection_domain name="pd">
    <program_image path="pd.elf" />
    <map mr="buf" vaddr="MAPVADDR" />
  </protection_domain>
</system>"#;

#[test]
fn error_missing_elf() {
    let dir = tmpdir("err-missing");
    populate(&dir, EM_AARCH64);
    std::fs::remove_file(dir.join("producer.elf")).expect("rm");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &[],
        &["PD 'producer'", "producer.elf", "program image not found"],
    );
}

#[test]
fn error_invalid_elf() {
    let dir = tmpdir("err-invalid");
    populate(&dir, EM_AARCH64);
    std::fs::write(dir.join("producer.elf"), b"#!/bin/sh\necho not an elf\n").expect("write");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &[],
        &["PD 'producer'", "invalid ELF: not an ELF file"],
    );
    // Truncated ELF.
    let e = pd_elf(EM_AARCH64);
    std::fs::write(dir.join("producer.elf"), &e[..e.len() / 2]).expect("write");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &[],
        &["PD 'producer'", "invalid ELF"],
    );
    // Wrong architecture.
    std::fs::write(dir.join("producer.elf"), pd_elf(EM_X86_64)).expect("write");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &[],
        &["ELF machine 62 is not 183"],
    );
}

#[test]
fn error_missing_symbol() {
    let dir = tmpdir("err-symbol");
    populate(&dir, EM_AARCH64);
    std::fs::write(
        dir.join("consumer.elf"),
        pd_elf_with(EM_AARCH64, &["microkit_pps"], &[]),
    )
    .expect("write");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &[],
        &["PD 'consumer'", "symbol 'microkit_pps' not found"],
    );
    std::fs::write(
        dir.join("consumer.elf"),
        pd_elf_with(EM_AARCH64, &["ring_vaddr"], &[]),
    )
    .expect("write");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &[],
        &["symbol 'ring_vaddr' not found"],
    );
    // x86_64 needs microkit_ioports.
    let dir = tmpdir("err-symbol-x86");
    populate(&dir, EM_X86_64);
    std::fs::write(
        dir.join("producer.elf"),
        pd_elf_with(EM_X86_64, &["microkit_ioports"], &[]),
    )
    .expect("write");
    expect_error(
        &dir,
        "x86_64_generic",
        None,
        &[],
        &["symbol 'microkit_ioports' not found"],
    );
}

#[test]
fn error_overlapping_segment() {
    let dir = tmpdir("err-overlap");
    populate(&dir, EM_AARCH64);
    std::fs::write(dir.join("pd.elf"), pd_elf(EM_AARCH64)).expect("write");
    // A map over the text segment.
    expect_error(&dir, "qemu_virt_aarch64", Some(&ONE_PD.replace("MAPVADDR", "0x201000")), &[], &[
        "PD 'pd'",
        "mapping of memory region 'buf' at [0x201000, 0x202000) overlaps the ELF segment [0x200000, 0x202000)",
    ]);
    // A map over the IPC buffer page.
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        Some(&ONE_PD.replace("MAPVADDR", "0x206000")),
        &[],
        &["overlaps the IPC buffer page"],
    );
    // A segment in the stack.
    let top = microkit_spec::microkit::stack_top(microkit_spec::Arch::Aarch64);
    let seg: Seg = (top - 0x1000, PF_R | PF_W, vec![1; 16], 0x1000);
    std::fs::write(dir.join("pd.elf"), pd_elf_with(EM_AARCH64, &[], &[seg])).expect("write");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        Some(&ONE_PD.replace("MAPVADDR", "0x1000_0000")),
        &[],
        &["overlaps the stack"],
    );
    // A segment beyond the top of user space (RISC-V Sv39).
    let dir = tmpdir("err-overlap-rv");
    populate(&dir, EM_RISCV);
    let seg: Seg = (0x40_0000_0000, PF_R, vec![1; 16], 0x1000);
    std::fs::write(dir.join("pd.elf"), pd_elf_with(EM_RISCV, &[], &[seg])).expect("write");
    expect_error(
        &dir,
        "qemu_virt_riscv64",
        Some(&ONE_PD.replace("MAPVADDR", "0x1000_0000")),
        &[],
        &["lies outside user space (which ends at 0x3ffffff000)"],
    );
    // Two segments sharing a page.
    let dir = tmpdir("err-overlap-share");
    populate(&dir, EM_AARCH64);
    let seg: Seg = (0x20_3800, PF_R, vec![1; 16], 0x10);
    std::fs::write(dir.join("pd.elf"), pd_elf_with(EM_AARCH64, &[], &[seg])).expect("write");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        Some(&ONE_PD.replace("MAPVADDR", "0x1000_0000")),
        &[],
        &["share a page"],
    );
}

#[test]
fn error_missing_sdk_pieces() {
    let dir = tmpdir("err-sdk");
    populate(&dir, EM_AARCH64);
    let nope = dir.join("nope.elf");
    let nope = nope.to_str().expect("utf8");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &["--kernel", nope],
        &["error: SDK: kernel (--kernel) not found"],
    );
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &["--initialiser", nope],
        &["error: SDK: initialiser (--initialiser) not found"],
    );
    std::fs::write(
        dir.join("initialiser.elf"),
        initialiser_elf(EM_AARCH64, false),
    )
    .expect("write");
    expect_error(&dir, "qemu_virt_aarch64", None, &[], &["MICROKIT_SYSTEM"]);
    std::fs::write(
        dir.join("initialiser.elf"),
        initialiser_elf(EM_AARCH64, true),
    )
    .expect("write");
    std::fs::write(dir.join("kernel.elf"), pd_elf(EM_AARCH64)).expect("write");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &[],
        &["packing the kernel", "KERNEL_PAYLOAD"],
    );
    let sdk = dir.join("empty-sdk");
    std::fs::create_dir_all(&sdk).expect("mkdir");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &["--sdk-dir", sdk.to_str().expect("utf8")],
        &["has no"],
    );
}

/// `setvar region_paddr` naming a region without `phys_addr`: the ELF keeps a zero
/// placeholder and the spec tells the initialiser which ELF page and offset receive the
/// region's allocated base, and which frames form the (contiguous) region.
#[test]
fn region_paddr_without_phys_addr_is_written_at_boot() {
    let dir = tmpdir("paddr-boot");
    populate(&dir, EM_AARCH64);
    std::fs::write(dir.join("pd.elf"), pd_elf(EM_AARCH64)).expect("write");
    let sys = r#"<system>
  <memory_region name="buf" size="0x3000" />
  <memory_region name="dev" size="0x1000" phys_addr="0x900_0000" />
  <protection_domain name="pd">
    <program_image path="pd.elf" />
    <map mr="buf" vaddr="0x1000_0000" />
    <setvar symbol="dev_paddr" region_paddr="buf" />
    <setvar symbol="uart_paddr" region_paddr="dev" />
  </protection_domain>
</system>"#;
    let p = dir.join("sys.system");
    std::fs::write(&p, sys).expect("write");
    let b = board::find("qemu_virt_aarch64").expect("board");
    let sysd = system::load(&p, b, std::slice::from_ref(&dir)).expect("valid");
    let lay = layout::compute(&sysd, b, Config::Debug);
    let dirs = system::search_dirs(&p, std::slice::from_ref(&dir));
    let built = spec::build(&sysd, &lay, b, Config::Debug, &dirs).expect("builds");
    // A fixed address is patched by the tool; the allocated one is a placeholder.
    assert_eq!(word(&built, 0, "uart_paddr"), 0x900_0000);
    assert_eq!(word(&built, 0, "dev_paddr"), 0);
    let s = &built.spec;
    assert_eq!(s.paddr_vars.len(), 1);
    let v = s.paddr_vars[0];
    let id = |n: &str| s.objects.iter().position(|o| o.name == n).expect(n) as u32;
    assert_eq!((v.first, v.count), (id("mr_buf_0"), 3));
    assert_eq!(id("mr_buf_2"), v.first + 2);
    let addr = PD_DATA + sym_offset("dev_paddr");
    assert_eq!(v.offset, addr & 0xfff);
    let m = s.mappings.iter().find(|m| m.frame == v.frame).expect("mapped");
    assert_eq!((m.vspace, m.vaddr), (s.pds[0].vspace, addr & !0xfff));
    // The encoded image carries it to the initialiser.
    let (back, _) = microkit_spec::decode(&microkit_spec::encode(s, &built.data)).expect("decodes");
    assert_eq!(back.paddr_vars, s.paddr_vars);
    // The report says who writes it.
    let text = microkit_tool::report::render("sys.system", &sysd, &lay, b, Config::Debug);
    assert!(text.contains("physical address of 'buf', written by the initialiser before the PD starts"), "{text}");
}

#[test]
fn error_region_paddr_variable_across_pages() {
    let dir = tmpdir("err-paddr-straddle");
    populate(&dir, EM_AARCH64);
    // `dev_paddr` 4 bytes before the end of a page of a data segment.
    let text: Vec<u8> = vec![0; 0x1000];
    let segs: Vec<common::Seg> = vec![
        (0x20_0000, PF_R | PF_X, text, 0x1000),
        (0x30_0000, PF_R | PF_W, vec![0; 0x2000], 0x2000),
    ];
    let mut syms: Vec<(&str, u64, u64)> = common::libmicrokit_symbols()
        .into_iter()
        .map(|(n, o, s)| (n, 0x30_0000 + o, s))
        .collect();
    syms.push(("dev_paddr", 0x30_0ffc, 8));
    syms.push(("__sel4_ipc_buffer_obj", 0x40_0000, 0));
    std::fs::write(dir.join("pd.elf"), common::elf(EM_AARCH64, 0x20_0000, &segs, &syms)).expect("write");
    let sys = ONE_PD.replace("MAPVADDR", "0x1000_0000").replace(
        "<program_image path=\"pd.elf\" />",
        "<program_image path=\"pd.elf\" />\n<setvar symbol=\"dev_paddr\" region_paddr=\"buf\" />",
    );
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        Some(&sys),
        &[],
        &["'dev_paddr'", "crosses a page boundary"],
    );
}

#[test]
fn prefill_fills_region_frames() {
    let dir = tmpdir("prefill");
    populate(&dir, EM_AARCH64);
    std::fs::write(dir.join("pd.elf"), pd_elf(EM_AARCH64)).expect("write");
    let fill: Vec<u8> = (0..0x1800u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.join("fill.bin"), &fill).expect("write");
    let sys = r#"<system>
  <memory_region name="blob" size="0x2000" prefill_path="fill.bin" />
  <protection_domain name="pd">
    <program_image path="pd.elf" />
    <map mr="blob" vaddr="0x1000_0000" perms="r" setvar_vaddr="filled_vaddr" setvar_prefill_size="filled_len" />
  </protection_domain>
</system>"#;
    let p = dir.join("sys.system");
    std::fs::write(&p, sys).expect("write");
    let b = board::find("qemu_virt_aarch64").expect("board");
    let sysd = system::load(&p, b, std::slice::from_ref(&dir)).expect("valid");
    let lay = layout::compute(&sysd, b, Config::Debug);
    let dirs = system::search_dirs(&p, std::slice::from_ref(&dir));
    let built = spec::build(&sysd, &lay, b, Config::Debug, &dirs).expect("builds");
    let frame = |n: &str| match &built
        .spec
        .objects
        .iter()
        .find(|o| o.name == n)
        .expect("frame")
        .kind
    {
        ObjectKind::Frame { fill, .. } => fill.clone(),
        k => panic!("{k:?}"),
    };
    let f0 = frame("mr_blob_0");
    let f1 = frame("mr_blob_1");
    assert_eq!((f0.len(), f0[0].len), (1, 0x1000));
    assert_eq!((f1.len(), f1[0].len), (1, 0x800));
    let got: Vec<u8> = [f0[0], f1[0]]
        .iter()
        .flat_map(|f| built.data[f.data_offset as usize..(f.data_offset + f.len) as usize].to_vec())
        .collect();
    assert_eq!(got, fill);
    assert_eq!(word(&built, 0, "filled_len"), 0x1800);
    assert_eq!(word(&built, 0, "filled_vaddr"), 0x1000_0000);
}

/// `<template>`: a child PD without a program: entry 0, no ELF frames, its own stack and IPC
/// buffer, its maps; the parent holds its TCB cap and gets its faults; nothing is patched.
#[test]
fn template_is_a_child_without_a_program() {
    let (b, sys) = build("ok/template.system", "qemu_virt_aarch64", EM_AARCH64);
    let s = &b.spec;
    let t = s.pds.iter().find(|p| p.name == "blank").expect("template PD");
    assert_eq!(t.entry, 0);
    assert_eq!(t.priority, 100);
    // Microkit 2.3's places: IPC buffer at the top user page, the stack one guard page below.
    let top = microkit_spec::microkit::stack_top(microkit_spec::Arch::Aarch64);
    assert_eq!(t.sp, top);
    assert_eq!(top, 0xff_ffff_e000);
    assert_eq!(t.ipc_buffer.0, 0xff_ffff_f000);
    let m = maps(s, "blank");
    assert!(m.iter().all(|e| !e.1.starts_with("elf_")), "{m:?}");
    let stack: Vec<_> = m.iter().filter(|e| e.1.starts_with("stack_blank")).collect();
    assert_eq!(stack.len(), 2);
    assert!(m.contains(&(t.ipc_buffer.0, "ipcbuf_blank".into(), true, true, false, true)));
    assert!(m.contains(&(0x40_0000, "mr_code_0".into(), true, false, true, true)));
    assert!(m.contains(&(0x40_3000, "mr_code_3".into(), true, false, true, true)));
    assert!(m.contains(&(0x50_0000, "mr_scratch_0".into(), true, true, false, false)));
    // The loader maps the same frames, holds the template's TCB cap at 202 + id and receives
    // its faults on its endpoint with the child badge.
    assert!(maps(s, "loader").contains(&(0x100_0000, "mr_code_0".into(), true, true, false, true)));
    let lc = caps(s, "loader");
    assert!(lc.contains(&(L::BASE_TCB_CAP + 3, "tcb_blank".into(), 0)), "{lc:?}");
    assert!(lc.contains(&(L::BASE_TCB_CAP + 4, "tcb_spare".into(), 0)), "{lc:?}");
    assert!(lc.contains(&(L::INPUT_CAP, "ep_loader".into(), 0)), "{lc:?}");
    let tc = caps(s, "blank");
    assert!(tc.contains(&(L::FAULT_EP_CAP, "ep_loader".into(), L::FAULT_BADGE | 3)), "{tc:?}");
    assert_eq!(t.fault_ep.map(|f| f.1), Some(L::FAULT_BADGE | 3));
    // The loader's setvar_id for it is patched; the template has no program or symbols.
    assert_eq!(word(&b, 0, "blank_id"), 3);
    let i = sys.pd_index("blank").expect("index");
    assert!(b.programs[i].segments.is_empty() && b.programs[i].patched.is_empty());
    // It starts like any PD (at 0, so it faults into the loader at once).
    assert!(s.start_order.contains(&(i as u32)));
}

#[test]
fn error_template_map_over_its_stack() {
    let dir = tmpdir("err-template-stack");
    populate(&dir, EM_AARCH64);
    let sys = r#"<system>
  <memory_region name="m" size="0x1000" />
  <protection_domain name="loader">
    <program_image path="loader.elf" />
    <template name="blank" id="0">
      <map mr="m" vaddr="0xff_ffff_d000" />
    </template>
  </protection_domain>
</system>"#;
    expect_error(&dir, "qemu_virt_aarch64", Some(sys), &[], &["PD 'blank'", "the stack"]);
    let sys = sys.replace("0xff_ffff_d000", "0xff_ffff_f000");
    expect_error(&dir, "qemu_virt_aarch64", Some(&sys), &[], &["PD 'blank'", "IPC buffer"]);
}

#[test]
fn tool_layout_slots_match_the_spec_layout() {
    use microkit_tool::layout::slots;
    assert_eq!(
        [
            slots::INPUT,
            slots::FAULT_EP,
            slots::VSPACE,
            slots::REPLY,
            slots::MONITOR_EP,
            slots::TCB,
            slots::ARM_SMC
        ],
        [
            L::INPUT_CAP,
            L::FAULT_EP_CAP,
            L::VSPACE_CAP,
            L::REPLY_CAP,
            L::MONITOR_EP_CAP,
            L::TCB_CAP,
            L::ARM_SMC_CAP
        ]
    );
    assert_eq!(
        [
            slots::BASE_OUTPUT_NOTIFICATION,
            slots::BASE_ENDPOINT,
            slots::BASE_IRQ,
            slots::BASE_TCB,
            slots::BASE_IOPORT
        ],
        [
            L::BASE_OUTPUT_NOTIFICATION_CAP,
            L::BASE_ENDPOINT_CAP,
            L::BASE_IRQ_CAP,
            L::BASE_TCB_CAP,
            L::BASE_IOPORT_CAP
        ]
    );
}

#[test]
fn mutated_program_images_never_panic() {
    // Deterministic byte mutations of a PD ELF: the spec stage returns Ok or a typed error.
    let dir = tmpdir("fuzz");
    populate(&dir, EM_AARCH64);
    let p = dir.join("sys.system");
    std::fs::write(&p, ONE_PD.replace("MAPVADDR", "0x1000_0000")).expect("write");
    let b = board::find("qemu_virt_aarch64").expect("board");
    let sysd = system::load(&p, b, std::slice::from_ref(&dir)).expect("valid");
    let lay = layout::compute(&sysd, b, Config::Debug);
    let dirs = system::search_dirs(&p, std::slice::from_ref(&dir));
    let base = pd_elf(EM_AARCH64);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut ok, mut err) = (0, 0);
    for round in 0..800 {
        let mut e = base.clone();
        let hot = [
            0usize, 16, 24, 32, 40, 56, 64, 72, 80, 96, 104, 120, 128, 136, 152,
        ];
        for _ in 0..1 + next() % 4 {
            let i = if round % 2 == 0 {
                // Headers (ELF header and program headers) most of the time.
                hot[(next() % hot.len() as u64) as usize] + (next() % 8) as usize
            } else {
                (next() % e.len() as u64) as usize
            };
            if i < e.len() {
                e[i] = next() as u8;
            }
        }
        if round % 7 == 0 {
            let n = (next() % e.len() as u64) as usize;
            e.truncate(n);
        }
        std::fs::write(dir.join("pd.elf"), &e).expect("write");
        match spec::build(&sysd, &lay, b, Config::Debug, &dirs) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                err += 1
            }
        }
    }
    assert!(
        err > 100,
        "mutations must hit error paths (ok {ok}, err {err})"
    );
}

/// A PD linked as libmicrokit 2.3 links one: its patched variables and setvars live in `.bss`
/// and it has no `__sel4_ipc_buffer_obj`. The tool writes the values into the segment (whose
/// file bytes grow to cover them, the rest of `.bss` stays zero) and maps the IPC buffer at
/// the top user page of each board, the stack one guard page below.
#[test]
fn libmicrokit_2_3_elf_gets_bss_symbols_and_the_top_ipc_buffer() {
    for (board_name, machine, ipc) in [
        ("qemu_virt_aarch64", EM_AARCH64, 0xff_ffff_f000u64),
        ("qemu_virt_riscv64", EM_RISCV, 0x3f_ffff_e000),
        ("x86_64_generic", EM_X86_64, 0x7fff_ffff_e000),
    ] {
        let dir = tmpdir(&format!("mk23-{board_name}"));
        populate(&dir, machine);
        for p in ["producer.elf", "consumer.elf"] {
            std::fs::write(dir.join(p), pd_elf_2_3(machine)).expect("write");
        }
        let b = board::find(board_name).expect("board");
        let path = fixture("ok/hello.system");
        let sys = system::load(&path, b, std::slice::from_ref(&dir)).expect("valid system");
        let lay = layout::compute(&sys, b, Config::Debug);
        let dirs = system::search_dirs(&path, std::slice::from_ref(&dir));
        let built = spec::build(&sys, &lay, b, Config::Debug, &dirs).expect("spec builds");
        let seg = |pd: usize| {
            built.programs[pd]
                .segments
                .iter()
                .find(|s| s.vaddr == PD_DATA)
                .expect("data segment")
                .clone()
        };
        let at = |pd: usize, sym: &str| {
            let o = (BSS_SHIFT + sym_offset(sym)) as usize;
            u64::from_le_bytes(seg(pd).data[o..o + 8].try_into().expect("8 bytes"))
        };
        // producer (PD 0): channels 0 and 1, ring mapped at 0x4000_0000 with size 0x4000.
        let name_off = (BSS_SHIFT + sym_offset("microkit_name")) as usize;
        assert_eq!(&seg(0).data[name_off..name_off + 9], b"producer\0");
        assert_eq!(at(0, "ring_vaddr"), 0x4000_0000);
        assert_eq!(at(0, "ring_size"), 0x4000);
        assert_eq!(at(0, "microkit_notifications"), 0b01);
        assert_eq!(at(1, "ring_vaddr"), 0x5000_0000);
        // The file bytes grew past the original 0x400 but not past the memory size, and
        // the original bytes are intact.
        let s = seg(0);
        assert!(s.data.len() > 0x400 && s.data.len() as u64 <= s.mem_size, "{}", s.data.len());
        assert!(s.data[..0x400].iter().all(|b| *b == 0xaa));
        // IPC buffer at the top page, stack ending one guard page below it.
        for pd in ["producer", "consumer"] {
            let p = built.spec.pds.iter().find(|p| p.name == pd).expect("pd");
            assert_eq!(p.ipc_buffer.0, ipc, "{board_name} {pd}");
            assert_eq!(p.sp, ipc - 0x1000, "{board_name} {pd}");
            assert!(maps(&built.spec, pd).contains(&(ipc, format!("ipcbuf_{pd}"), true, true, false, true)));
        }
        // An ELF from an older libmicrokit (logger) still gets its IPC buffer where its
        // `__sel4_ipc_buffer_obj` says.
        let p = built.spec.pds.iter().find(|p| p.name == "logger").expect("pd");
        assert_eq!(p.ipc_buffer.0, PD_IPCBUF);
    }
}

/// A setvar symbol must be one machine word (Microkit's rule), and a patched symbol must lie
/// inside a loadable segment's memory.
#[test]
fn error_setvar_not_a_word_and_symbol_outside_segments() {
    let dir = tmpdir("err-setvar-size");
    populate(&dir, EM_AARCH64);
    let e = pd_elf_tweaked(EM_AARCH64, "ring_vaddr", None, Some(4));
    std::fs::write(dir.join("consumer.elf"), e).expect("write");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &[],
        &[
            "PD 'consumer'",
            "setvar symbol 'ring_vaddr' is 4 bytes; it must be a 8-byte word (setvar at 12:58 of the system description)",
        ],
    );
    let e = pd_elf_tweaked(EM_AARCH64, "microkit_pps", Some(0x30_0000), None);
    std::fs::write(dir.join("consumer.elf"), e).expect("write");
    expect_error(
        &dir,
        "qemu_virt_aarch64",
        None,
        &[],
        &["PD 'consumer'", "symbol 'microkit_pps' at 0x300000 (8 bytes) is not inside a loadable segment"],
    );
}

/// `setvar_id` on a channel `<end>` patches the channel id into that end's PD; `setvar_addr`
/// on an x86 `<ioport>` patches its first port.
#[test]
fn channel_end_and_ioport_setvars_are_patched() {
    let dir = tmpdir("setvar-end");
    populate(&dir, EM_X86_64);
    let text = r#"<system>
    <protection_domain name="producer" priority="1">
        <program_image path="producer.elf" />
        <ioport id="4" addr="0x3f8" size="8" setvar_id="com1_id" setvar_addr="uart_base" />
    </protection_domain>
    <protection_domain name="consumer" priority="2">
        <program_image path="consumer.elf" />
    </protection_domain>
    <channel>
        <end pd="producer" id="9" setvar_id="kid_id" />
        <end pd="consumer" id="12" setvar_id="blank_id" />
    </channel>
</system>"#;
    let path = dir.join("s.system");
    std::fs::write(&path, text).expect("write");
    let b = board::find("x86_64_generic").expect("board");
    let sys = system::load(&path, b, std::slice::from_ref(&dir)).expect("valid");
    let lay = layout::compute(&sys, b, Config::Debug);
    let dirs = system::search_dirs(&path, std::slice::from_ref(&dir));
    let built = spec::build(&sys, &lay, b, Config::Debug, &dirs).expect("spec builds");
    assert_eq!(word(&built, 0, "kid_id"), 9);
    assert_eq!(word(&built, 0, "com1_id"), 4);
    assert_eq!(word(&built, 0, "uart_base"), 0x3f8);
    assert_eq!(word(&built, 1, "blank_id"), 12);
}

/// x86_64: `sel4_32.elf` is an EM_386 ELF holding the kernel's flat image at its multiboot
/// load address with the multiboot entry; `sel4.elf` is the kernel itself. Both are written
/// beside the image.
#[test]
fn x86_kernel_copies_beside_the_image() {
    use microkit_tool::format;
    // A 64-bit kernel ELF whose first bytes at 0x10_0000 hold a multiboot header with load
    // addresses (magic, flags with bit 16, checksum, header, load, load_end, bss_end, entry).
    let mut text = vec![0x90u8; 0x2000];
    let fields: [u32; 8] = [
        0x1bad_b002,
        1 << 16,
        0u32.wrapping_sub(0x1bad_b002u32.wrapping_add(1 << 16)),
        0x10_0010,
        0x10_0000,
        0x10_2000,
        0x10_4000,
        0x10_0040,
    ];
    for (i, f) in fields.iter().enumerate() {
        text[0x10 + 4 * i..0x14 + 4 * i].copy_from_slice(&f.to_le_bytes());
    }
    let kernel = elf(EM_X86_64, 0x10_0040, &[(0x10_0000, 5, text.clone(), 0x4000)], &[]);
    let e32 = format::x86_elf32(&kernel).expect("elf32");
    assert_eq!(&e32[0..7], b"\x7fELF\x01\x01\x01");
    assert_eq!(u16::from_le_bytes([e32[18], e32[19]]), 3, "EM_386");
    let w = |o: usize| u32::from_le_bytes(e32[o..o + 4].try_into().expect("4"));
    assert_eq!(w(24), 0x10_0040, "entry");
    let (off, vaddr, paddr, filesz, memsz) = (w(56), w(60), w(64), w(68), w(72));
    assert_eq!((vaddr, paddr, filesz, memsz), (0x10_0000, 0x10_0000, 0x2000, 0x4000));
    assert_eq!(&e32[off as usize..], &text[..]);
    // QEMU finds the multiboot header within the first 8 KiB of the file.
    assert!(off + 0x10 < 8192);
    // The flat kernel32.bin of older SDKs gives the same file.
    assert_eq!(format::x86_elf32(&text).expect("flat"), e32);
    // No multiboot header: a clear error.
    let plain = elf(EM_X86_64, 0x10_0000, &[(0x10_0000, 5, vec![0; 0x100], 0x100)], &[]);
    assert!(format::x86_elf32(&plain).unwrap_err().to_string().contains("no multiboot header"));

    // End to end: the tool writes both files beside the image.
    let dir = tmpdir("x86-kernels");
    populate(&dir, EM_X86_64);
    std::fs::write(dir.join("k64.elf"), &kernel).expect("write");
    let k = dir.join("k64.elf");
    let o = run_tool(&fixture("ok/hello.system"), "x86_64_generic", &dir, &["--override-kernel", k.to_str().expect("utf8")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(dir.join("sel4.elf")).expect("sel4.elf"), kernel);
    assert_eq!(std::fs::read(dir.join("sel4_32.elf")).expect("sel4_32.elf"), e32);
}
