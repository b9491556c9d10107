//! Boot behaviour the mutation runs found untested (verified/MUTANTS.md): the kernel timer
//! IRQ is reserved, how memory is cut into untyped caps (seL4 `create_untypeds_for_region`:
//! largest aligned power of two, at most seL4_MaxUntypedBits, fragments below
//! seL4_MinUntypedBits dropped, at most CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS caps), physical
//! page 0 never handed out, and the boot errors for bad addresses and too many regions/slots.

mod common;
use common::*;
use kernel_core::boot::{boot, BootError, BootParams, ImageFrame, Region};
use kernel_core::sim::{SimMachine, SIM_IRQS};
use kernel_hal::MapRights;
use sel4_abi::bootinfo::MAX_BOOTINFO_UNTYPED_CAPS;

const RWX: MapRights = MapRights {
    read: true,
    write: true,
    execute: true,
};

fn image() -> Vec<ImageFrame> {
    vec![ImageFrame {
        vaddr: IMAGE_VADDR,
        paddr: IMAGE_PADDR,
        rights: RWX,
    }]
}

fn params<'a>(
    arch: Arch,
    ram: &'a [Region],
    device: &'a [Region],
    image: &'a [ImageFrame],
) -> BootParams<'a> {
    BootParams {
        arch,
        ram,
        device,
        image,
        entry: IMAGE_VADDR,
        ipc_buffer_vaddr: IMAGE_VADDR + 0x10_000,
        bootinfo_vaddr: IMAGE_VADDR + 0x11_000,
        extra_bootinfo: &[],
        timer_irq: None,
        config: sel4_abi::config::KernelConfig::SEL4_DEFAULT,
    }
}

const RAM: [Region; 1] = [Region {
    start: RAM_BASE + (1 << 20),
    end: RAM_BASE + RAM_SIZE,
}];

fn boot_with(p: &BootParams<'_>) -> Result<K, BootError> {
    boot(SimMachine::new(RAM_BASE, RAM_SIZE), p)
}

/// The untyped descriptors of the bootinfo (paddr, size_bits, is_device), in order.
fn untypeds(k: &K) -> Vec<(u64, u8, bool)> {
    let bi = bootinfo_at(k);
    (0..(bi.untyped.end - bi.untyped.start) as usize)
        .map(|i| {
            let d = bi.untyped_list[i];
            (d.paddr, d.size_bits, d.is_device != 0)
        })
        .collect()
}

fn bootinfo_at(k: &K) -> sel4_abi::BootInfo {
    let root = k.current_vspace().unwrap().0;
    let pa = translate(k, root, IMAGE_VADDR + 0x11_000).unwrap();
    let mut b = [0u8; sel4_abi::BootInfo::SIZE];
    kernel_core::kmem::read_bytes(&k.machine, pa, &mut b);
    sel4_abi::BootInfo::from_bytes(&b)
}

/// seL4 reserves the kernel's timer IRQ: IRQControl refuses it with RevokeFirst, as it does
/// an IRQ already issued. Without a timer IRQ (or with one beyond the IRQ table) every
/// IRQ is free.
#[test]
fn timer_irq_is_reserved() {
    let get = Label::IRQIssueIRQHandler as u64;
    let mut k = boot_sim(Arch::Aarch64);
    let e = empty(&k);
    let timer = SIM_IRQS - 1;
    err(
        &call(&mut k, slots::IRQ_CONTROL, get, &[timer, e, 64], &[ROOT]),
        Error::RevokeFirst,
        &[],
    );
    assert_eq!(get_cap(&k.machine, Slot::at(root_ptr(&k), e)), Cap::Null);
    ok(&call(&mut k, slots::IRQ_CONTROL, get, &[timer - 1, e, 64], &[ROOT]));
    // The same machine booted without a timer IRQ: that IRQ can be issued.
    let img = image();
    let mut k = boot_with(&params(Arch::Aarch64, &RAM, &[], &img)).unwrap();
    let e = bootinfo_at(&k).empty.start;
    ok(&call(&mut k, slots::IRQ_CONTROL, get, &[timer, e, 64], &[ROOT]));
    // A timer IRQ number beyond the kernel's IRQ table is ignored, not a crash.
    for t in [1023u64, 1024, 1025, u64::MAX] {
        let mut p = params(Arch::Aarch64, &RAM, &[], &img);
        p.timer_irq = Some(t);
        let mut k = boot_with(&p).unwrap();
        let e = bootinfo_at(&k).empty.start;
        ok(&call(&mut k, slots::IRQ_CONTROL, get, &[timer, e, 64], &[ROOT]));
    }
}

/// A device region is cut into the largest naturally aligned blocks, each at most
/// seL4_MaxUntypedBits (47 on AArch64 and x86_64, 38 on RISC-V); blocks below
/// seL4_MinUntypedBits (16 bytes) are skipped; a block starting at address 0 is limited
/// only by its size.
#[test]
fn untyped_blocks_follow_alignment_and_limits() {
    // Misaligned start and end: 8 bytes skipped, then 16, 32, ..., 2048 bytes; at the end
    // 0x1000_1000..0x1000_1018: 16 bytes, then 8 skipped.
    let dev = [
        Region {
            start: 0x1000_0008,
            end: 0x1000_1018,
        },
        Region {
            start: 0,
            end: 0x1000,
        },
    ];
    let k = boot_with(&params(Arch::Aarch64, &RAM, &dev, &image())).unwrap();
    let d: Vec<_> = untypeds(&k).into_iter().filter(|u| u.2).collect();
    let mut want: Vec<(u64, u8, bool)> = (4..12).map(|b| (0x1000_0000 + (1 << b), b as u8, true)).collect();
    want.push((0x1000_1000, 4, true));
    want.push((0, 12, true));
    assert_eq!(d, want);
    // Huge device regions: blocks capped at the arch's maximum.
    for (arch, max) in [(Arch::Aarch64, 47u8), (Arch::X86_64, 47), (Arch::Riscv64, 38)] {
        let dev = [Region {
            start: 1 << 48,
            end: (1 << 48) + (1 << 48),
        }];
        let k = boot_with(&params(arch, &RAM, &dev, &image())).unwrap();
        let d: Vec<_> = untypeds(&k).into_iter().filter(|u| u.2).collect();
        assert!(d.iter().all(|u| u.1 == max), "{arch:?}: {:?}", &d[..2]);
        assert_eq!(d[0].0, 1 << 48);
        assert_eq!(d[1].0, (1 << 48) + (1u64 << max));
        let n_ram = untypeds(&k).iter().filter(|u| !u.2).count();
        if arch == Arch::Riscv64 {
            // 2^48 / 2^38 = 1024 blocks: the bootinfo list fills up and the rest is lost.
            assert_eq!(n_ram + d.len(), MAX_BOOTINFO_UNTYPED_CAPS);
        } else {
            assert_eq!(d.len(), 2);
        }
        let bi = bootinfo_at(&k);
        assert_eq!(
            (bi.untyped.end - bi.untyped.start) as usize,
            n_ram + d.len(),
            "{arch:?}: one cap per descriptor"
        );
        assert_eq!(bi.empty.start, bi.untyped.end);
    }
}

/// Physical page 0 is never handed out (slot address 0 means "none"): RAM starting at 0
/// yields no untyped and no kernel object there.
#[test]
fn page_zero_is_never_used() {
    let ram = [
        Region {
            start: 0,
            end: 1 << 20,
        },
        Region {
            start: 2 << 20,
            end: 64 << 20,
        },
    ];
    let img = [ImageFrame {
        vaddr: IMAGE_VADDR,
        paddr: 1 << 20,
        rights: RWX,
    }];
    let k = boot(SimMachine::new(0, 64 << 20), &params(Arch::Aarch64, &ram, &[], &img)).unwrap();
    let u = untypeds(&k);
    assert!(u.iter().all(|x| x.0 >= 0x1000), "{u:?}");
    // Every byte of the first region but page 0 is accounted for by an untyped or a boot
    // object; the untyped right after page 0 starts at 0x1000 exactly.
    assert!(u.iter().any(|x| x.0 == 0x1000), "{u:?}");
    assert_ne!(k.cur_thread, 0);
    assert!(k.cur_thread >= 0x1000);
}

/// Empty RAM regions are ignored; more than 64 non-empty ones is TooManyRegions.
#[test]
fn region_count_limits() {
    let mut ram: Vec<Region> = (0..100)
        .map(|i| Region {
            start: RAM_BASE + (2 << 20) + 4096 * i,
            end: RAM_BASE + (2 << 20) + 4096 * i,
        })
        .collect();
    ram.push(RAM[0]);
    let k = boot_with(&params(Arch::Aarch64, &ram, &[], &image())).unwrap();
    let bi = bootinfo_at(&k);
    assert!(bi.untyped.end > bi.untyped.start);
    // 65 separate non-empty regions.
    let many: Vec<Region> = (0..65)
        .map(|i| Region {
            start: RAM_BASE + (2 << 20) + 0x10_000 * i,
            end: RAM_BASE + (2 << 20) + 0x10_000 * i + 0x8000,
        })
        .collect();
    assert_eq!(
        boot_with(&params(Arch::Aarch64, &many, &[], &image())).err(),
        Some(BootError::TooManyRegions)
    );
    // 64 of them (the first large enough for the boot objects) boot.
    let mut sixty_four = vec![Region {
        start: RAM_BASE + (8 << 20),
        end: RAM_BASE + RAM_SIZE,
    }];
    sixty_four.extend((0..63).map(|i| Region {
        start: RAM_BASE + (2 << 20) + 0x10_000 * i,
        end: RAM_BASE + (2 << 20) + 0x10_000 * i + 0x8000,
    }));
    let k = boot_with(&params(Arch::Aarch64, &sixty_four, &[], &image()));
    // Carving the boot objects splits regions; with 64 already that may overflow too,
    // which must be TooManyRegions, never a crash or a wrong boot.
    match k {
        Ok(k) => assert!(bootinfo_at(&k).untyped.end > bootinfo_at(&k).untyped.start),
        Err(e) => assert_eq!(e, BootError::TooManyRegions),
    }
}

/// Boot rejects virtual addresses at or above the top of user space and misaligned ones
/// (IPC buffer, bootinfo, image frames); an image with more frames than the root CNode has
/// slots is OutOfSlots.
#[test]
fn boot_address_and_slot_errors() {
    let top = 0x0000_8000_0000_0000u64;
    let img = image();
    let base = params(Arch::Aarch64, &RAM, &[], &img);
    let bad = |f: &dyn Fn(&mut BootParams)| {
        let mut p = params(Arch::Aarch64, &RAM, &[], &img);
        f(&mut p);
        boot_with(&p).err()
    };
    assert!(boot_with(&base).is_ok());
    assert_eq!(bad(&|p| p.entry = top), Some(BootError::BadVaddr));
    assert_eq!(bad(&|p| p.entry = top - 1), None);
    assert_eq!(bad(&|p| p.ipc_buffer_vaddr = top), Some(BootError::BadVaddr));
    assert_eq!(bad(&|p| p.bootinfo_vaddr = top), Some(BootError::BadVaddr));
    assert_eq!(bad(&|p| p.bootinfo_vaddr += 8), Some(BootError::BadVaddr));
    assert_eq!(bad(&|p| p.ipc_buffer_vaddr += 0x800), Some(BootError::BadVaddr));
    let misaligned_v = [ImageFrame {
        vaddr: IMAGE_VADDR + 4,
        ..img[0]
    }];
    let misaligned_p = [ImageFrame {
        paddr: IMAGE_PADDR + 4,
        ..img[0]
    }];
    for f in [&misaligned_v, &misaligned_p] {
        assert_eq!(
            boot_with(&params(Arch::Aarch64, &RAM, &[], f)).err(),
            Some(BootError::BadVaddr)
        );
    }
    // 4096 image frames (all backed by the same page; boot does not care) cannot all get
    // a slot in a 4096-slot root CNode.
    let huge: Vec<ImageFrame> = (0..4096)
        .map(|i| ImageFrame {
            vaddr: 0x100_0000 + 4096 * i,
            ..img[0]
        })
        .collect();
    let mut p = params(Arch::Aarch64, &RAM, &[], &huge);
    p.ipc_buffer_vaddr = 0x800_0000;
    p.bootinfo_vaddr = 0x800_1000;
    assert_eq!(boot_with(&p).err(), Some(BootError::OutOfSlots));
    // 3900 fit (with their page tables and the untypeds after them).
    let p = BootParams {
        image: &huge[..3900],
        ..p
    };
    let k = boot_with(&p).unwrap();
    let bi = bootinfo_at_v(&k, 0x800_1000);
    assert_eq!(bi.user_image_frames.end - bi.user_image_frames.start, 3900);
    assert!(bi.empty.start <= 4096);
}

fn bootinfo_at_v(k: &K, v: u64) -> sel4_abi::BootInfo {
    let root = k.current_vspace().unwrap().0;
    let pa = translate(k, root, v).unwrap();
    let mut b = [0u8; sel4_abi::BootInfo::SIZE];
    kernel_core::kmem::read_bytes(&k.machine, pa, &mut b);
    sel4_abi::BootInfo::from_bytes(&b)
}

/// The boot allocator places each kernel object in the first free region it fits in,
/// aligned to its size, and a region that an object fills exactly is used up: a RAM region
/// of exactly the IRQ node's size (the first allocation, 32 KiB, aligned) yields no
/// untyped.
#[test]
fn boot_objects_fill_exact_regions() {
    let base = RAM_BASE + (1 << 20);
    let irq_node = 1u64 << (kernel_core::kernel::MAX_IRQS as u64 * 32).trailing_zeros();
    assert_eq!(irq_node, 32 << 10);
    {
        let offset = 0;
        let ram = [
            Region {
                start: base + offset,
                end: base + offset + irq_node,
            },
            Region {
                start: base + (1 << 20),
                end: RAM_BASE + RAM_SIZE,
            },
        ];
        let img = image();
        let k = boot_with(&params(Arch::Aarch64, &ram, &[], &img)).unwrap();
        let covered: u64 = untypeds(&k)
            .into_iter()
            .filter(|u| u.0 < base + (1 << 20))
            .map(|u| 1u64 << u.1)
            .sum();
        assert_eq!(covered, 0, "the IRQ node fills the first region");
    }
}

/// Boot must not trust the contents of RAM (on hardware it holds whatever was there):
/// every kernel object it creates starts clean. Fill RAM with a word pattern that reads
/// as a valid VSpace cap in every slot, boot, and let the idle thread run: it must not
/// switch to that phantom address space, and the kernel's invariants hold.
#[test]
fn boot_clears_the_memory_it_uses() {
    let m = SimMachine::new(RAM_BASE, RAM_SIZE);
    let junk = Cap::VSpace {
        paddr: RAM_BASE + 0x12_3000,
        asid: Some(7),
    }
    .encode();
    let mut a = RAM_BASE + (1 << 20);
    while a < RAM_BASE + RAM_SIZE {
        kernel_core::kmem::write_word(&m, a, junk[0]);
        kernel_core::kmem::write_word(&m, a + 8, junk[1]);
        a += 32;
    }
    let img = image();
    let mut k = boot(m, &params(Arch::Aarch64, &RAM, &[], &img)).unwrap();
    kernel_core::sim::invariants::check(&k).unwrap();
    let e = bootinfo_at(&k).empty.start;
    let ut = {
        let bi = bootinfo_at(&k);
        (bi.untyped.start..bi.untyped.end)
            .find(|s| bi.untyped_list[(s - bi.untyped.start) as usize].size_bits >= 12)
            .unwrap()
    };
    ok(&retype(&mut k, ut, ObjectKind::Notification, 0, e, 1));
    let r = syscall(&mut k, sel4_abi::Syscall::Wait, e, 0, &[], &[]);
    let _ = r;
    assert_eq!(k.cur_thread, k.idle_thread, "the root thread is blocked");
    assert_ne!(k.machine.vspace, Some((RAM_BASE + 0x12_3000, 7)));
    kernel_core::sim::invariants::check(&k).unwrap();
}

/// The root task's boot page-table caps: on x86_64 each names its fixed level (PDPT 1, PD
/// 2, PT 3, in the order the walk creates them, so that the x86 PDPT/PageDirectory/
/// PageTable methods and DebugCapIdentify see the right object); elsewhere page tables have
/// no fixed level. Each records the base of the region it maps.
#[test]
fn boot_page_table_caps_per_arch() {
    use kernel_core::cap::PT_LEVEL_ANY;
    for arch in [Arch::Aarch64, Arch::Riscv64, Arch::X86_64] {
        let k = boot_sim(arch);
        let bi = bootinfo(&k);
        let levels: Vec<(u8, u64)> = (bi.user_image_paging.start..bi.user_image_paging.end)
            .map(|s| match cap_at(&k, s) {
                Cap::PageTable {
                    level,
                    mapped: Some(m),
                    ..
                } => (level, m.vaddr),
                c => panic!("{arch:?}: {c:?}"),
            })
            .collect();
        let want_levels: Vec<u8> = if arch == Arch::X86_64 {
            vec![1, 2, 3]
        } else {
            vec![PT_LEVEL_ANY; 3]
        };
        assert_eq!(levels.iter().map(|l| l.0).collect::<Vec<_>>(), want_levels, "{arch:?}");
        // Covered regions: 512 GiB, 1 GiB and 2 MiB around the image.
        let bases: Vec<u64> = levels.iter().map(|l| l.1).collect();
        assert_eq!(
            bases,
            vec![
                IMAGE_VADDR & !((1 << 39) - 1),
                IMAGE_VADDR & !((1 << 30) - 1),
                IMAGE_VADDR & !((1 << 21) - 1)
            ]
        );
    }
    // x86: the boot PD answers PageDirectory_Unmap (its own method), then maps again.
    let mut k = boot_sim(Arch::X86_64);
    let bi = bootinfo(&k);
    let pd = bi.user_image_paging.start + 1;
    let n = |l| sel4_abi::arch_label_number(Arch::X86_64, l).unwrap();
    ok(&call(&mut k, pd, n(sel4_abi::ArchLabel::PageDirectoryUnmap), &[], &[]));
    ok(&call(
        &mut k,
        pd,
        n(sel4_abi::ArchLabel::PageDirectoryMap),
        &[IMAGE_VADDR, 0],
        &[slots::INIT_THREAD_VSPACE],
    ));
}

/// Extra bootinfo pages that cross into further 2 MiB regions get page tables of their
/// own: bootinfo in the last page of the image's region, then 2 MiB + 100 bytes of extra
/// bootinfo: 513 pages, the last one alone in a third region.
#[test]
fn extra_bootinfo_crossing_table_boundaries() {
    let img = image();
    let extra = vec![0xa5u8; (2 << 20) + 100];
    let mut p = params(Arch::Aarch64, &RAM, &[], &img);
    p.ipc_buffer_vaddr = 0x5f_e000;
    p.bootinfo_vaddr = 0x5f_f000;
    p.extra_bootinfo = &extra;
    let k = boot_with(&p).unwrap();
    let root = k.current_vspace().unwrap().0;
    for v in [0x60_0000u64, 0x7f_f000, 0x80_0000] {
        let pa = translate(&k, root, v).expect("extra bootinfo page mapped");
        assert_eq!(kernel_core::kmem::read_word(&k.machine, pa) & 0xff, 0xa5);
    }
    assert_eq!(translate(&k, root, 0x80_1000), None);
    let bi = bootinfo_at_v(&k, 0x5f_f000);
    assert_eq!(bi.extra_bi_pages.end - bi.extra_bi_pages.start, 513);
    // Tables: the image's region (3 tables), then one each for 6-8 MiB and 8-10 MiB.
    assert_eq!(bi.user_image_paging.end - bi.user_image_paging.start, 5);
}

/// The root thread's SC: round robin (budget = period = the boot time slice), one refill
/// holding the whole budget, as many refill slots as its size holds, and its size recorded.
#[test]
fn root_sched_context_is_round_robin() {
    let k = boot_sim(Arch::Aarch64);
    let sc = k.tcb(k.cur_thread).sched_context;
    assert_eq!(sc, k.cur_sc);
    let s = kernel_core::sched::sc_load(&k, sc);
    let slice = sel4_abi::BOOT_THREAD_TIME_SLICE_US;
    let bits = sel4_abi::object::MIN_SCHED_CONTEXT_BITS;
    assert_eq!((s.budget, s.period), (slice, slice));
    assert!(kernel_core::sched::is_round_robin(&s));
    assert_eq!((s.refill_count, s.refill_head), (1, 0));
    assert_eq!(s.refill_max, sel4_abi::object::sched_context_refills(bits));
    assert_eq!(s.size_bits, bits as u64);
    assert_eq!(s.tcb, k.cur_thread);
    assert_eq!(kernel_core::sched::refill_head(&k, sc).amount, slice);
}
