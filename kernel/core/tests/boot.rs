//! Boot tests: the bootinfo a root task reads is consistent with its CSpace.

use kernel_core::cap::Cap;
use kernel_core::mdb::get_cap;
use kernel_core::object::{Slot, ThreadState};
use kernel_core::sim::harness::*;
use kernel_hal::{Reg, UserContext};
use sel4_abi::bootinfo::slots;
use sel4_abi::Arch;

fn slot_cap(k: &kernel_core::Kernel<kernel_core::sim::SimMachine>, i: u64) -> Cap {
    let Cap::CNode { ptr, .. } = k.cspace_root(k.cur_thread) else {
        panic!("no cspace")
    };
    get_cap(&k.machine, Slot::at(ptr, i))
}

#[test]
fn bootinfo_is_consistent() {
    for arch in [Arch::Aarch64, Arch::Riscv64, Arch::X86_64] {
        let k = boot_sim(arch);
        let bi = bootinfo(&k);
        assert_eq!(bi.ipc_buffer, IPC_BUFFER_VADDR);
        assert_eq!(bi.init_thread_cnode_size_bits, 12);
        assert_eq!(bi.num_nodes, 1);
        // Regions are ordered and contiguous from slot 16 to 4096.
        assert_eq!(bi.io_space_caps.start, 16);
        assert_eq!(bi.user_image_paging.start, bi.io_space_caps.end);
        assert_eq!(bi.extra_bi_pages.start, bi.user_image_paging.end);
        assert_eq!(bi.schedcontrol.start, bi.extra_bi_pages.end);
        assert_eq!(bi.schedcontrol.end - bi.schedcontrol.start, 1);
        assert_eq!(bi.user_image_frames.start, bi.schedcontrol.end);
        assert_eq!(
            bi.user_image_frames.end - bi.user_image_frames.start,
            IMAGE_PAGES
        );
        assert_eq!(bi.untyped.start, bi.user_image_frames.end);
        assert_eq!(bi.empty.start, bi.untyped.end);
        assert_eq!(bi.empty.end, 4096);
        // Paging caps: 3 tables for the 4-level sim format (all in one 2 MiB region).
        assert_eq!(bi.user_image_paging.end - bi.user_image_paging.start, 3);
        for i in bi.user_image_paging.start..bi.user_image_paging.end {
            assert!(matches!(
                slot_cap(&k, i),
                Cap::PageTable {
                    mapped: Some(_),
                    ..
                }
            ));
        }
        assert!(matches!(
            slot_cap(&k, bi.schedcontrol.start),
            Cap::SchedControl { core: 0 }
        ));
        // Untyped list matches the caps; RAM untypeds cover the free RAM minus boot objects.
        let mut ram = 0u64;
        let mut dev = 0u64;
        for (i, s) in (bi.untyped.start..bi.untyped.end).enumerate() {
            let d = bi.untyped_list[i];
            let Cap::Untyped {
                paddr,
                size_bits,
                is_device,
                free_index,
            } = slot_cap(&k, s)
            else {
                panic!("not untyped")
            };
            // Boot untypeds start full (seL4 `MAX_FREE_INDEX`): their first retype resets
            // them, clearing the memory.
            assert_eq!(
                (paddr, size_bits, is_device as u8, free_index),
                (d.paddr, d.size_bits, d.is_device, (1u64 << size_bits) / 16)
            );
            assert_eq!(paddr & ((1 << size_bits) - 1), 0, "aligned");
            if is_device {
                dev += 1 << size_bits;
            } else {
                ram += 1 << size_bits;
            }
        }
        assert_eq!(dev, 0x1_0000);
        assert!(
            ram > RAM_SIZE - (2 << 20) && ram < RAM_SIZE - (1 << 20),
            "ram {ram:#x}"
        );
        // Fixed caps.
        assert!(matches!(
            slot_cap(&k, slots::INIT_THREAD_TCB),
            Cap::Thread { .. }
        ));
        assert!(matches!(
            slot_cap(&k, slots::INIT_THREAD_CNODE),
            Cap::CNode {
                radix: 12,
                guard_size: 52,
                guard: 0,
                ..
            }
        ));
        assert!(matches!(
            slot_cap(&k, slots::INIT_THREAD_VSPACE),
            Cap::VSpace { asid: Some(1), .. }
        ));
        assert!(matches!(slot_cap(&k, slots::IRQ_CONTROL), Cap::IrqControl));
        assert!(matches!(
            slot_cap(&k, slots::ASID_CONTROL),
            Cap::AsidControl
        ));
        assert!(matches!(
            slot_cap(&k, slots::INIT_THREAD_ASID_POOL),
            Cap::AsidPool { base: 0, .. }
        ));
        assert_eq!(
            matches!(slot_cap(&k, slots::IO_PORT_CONTROL), Cap::IoPortControl),
            arch == Arch::X86_64
        );
        assert_eq!(
            matches!(slot_cap(&k, slots::SMC), Cap::Smc { badge: 0 }),
            arch == Arch::Aarch64
        );
        assert!(matches!(
            slot_cap(&k, slots::BOOT_INFO_FRAME),
            Cap::Frame {
                mapped: Some(_),
                ..
            }
        ));
        assert!(matches!(
            slot_cap(&k, slots::INIT_THREAD_IPC_BUFFER),
            Cap::Frame {
                mapped: Some(_),
                ..
            }
        ));
        assert!(matches!(slot_cap(&k, slots::DOMAIN), Cap::Domain));
        assert!(matches!(
            slot_cap(&k, slots::INIT_THREAD_SC),
            Cap::SchedContext { size_bits: 7, .. }
        ));
        assert!(slot_cap(&k, slots::NULL).is_null());
        // Root thread state.
        let t = k.tcb(k.cur_thread);
        assert_eq!(t.thread_state(), ThreadState::Running);
        assert_eq!((t.priority, t.mcp), (255, 255));
        assert_eq!(t.context.get(Reg::Pc), IMAGE_VADDR);
        assert_eq!(t.context.get(Reg::Cap), BOOTINFO_VADDR);
        assert_eq!(t.context.get(Reg::Sp), 0);
        assert_eq!(k.machine.vspace, k.current_vspace());
        assert!(ipc_buf(&k) != 0);
        // Image pages translate to the loaded image.
        let root = k.current_vspace().unwrap().0;
        assert_eq!(
            translate(&k, root, IMAGE_VADDR + 4096 + 5),
            Some(IMAGE_PADDR + 4096 + 5)
        );
    }
}

#[test]
fn extra_bootinfo_is_mapped() {
    use kernel_core::boot::{boot, BootParams, ImageFrame, Region};
    use kernel_core::sim::SimMachine;
    use kernel_hal::MapRights;
    let m = SimMachine::new(RAM_BASE, RAM_SIZE);
    let image = [ImageFrame {
        vaddr: IMAGE_VADDR,
        paddr: IMAGE_PADDR,
        rights: MapRights {
            read: true,
            write: false,
            execute: true,
        },
    }];
    let ram = [Region {
        start: RAM_BASE + (1 << 20),
        end: RAM_BASE + RAM_SIZE,
    }];
    let mut extra = vec![0u8; 5000];
    extra[0..8].copy_from_slice(&6u64.to_le_bytes());
    extra[8..16].copy_from_slice(&5000u64.to_le_bytes());
    extra[4999] = 0x5a;
    let p = BootParams {
        arch: Arch::Riscv64,
        ram: &ram,
        device: &[],
        image: &image,
        entry: IMAGE_VADDR,
        ipc_buffer_vaddr: IMAGE_VADDR + 4096,
        bootinfo_vaddr: IMAGE_VADDR + 8192,
        extra_bootinfo: &extra,
        timer_irq: None,
        config: sel4_abi::config::KernelConfig::SEL4_DEFAULT,
    };
    let k = boot(m, &p).expect("boot");
    let root = k.current_vspace().unwrap().0;
    let bi_pa = translate(&k, root, IMAGE_VADDR + 8192).unwrap();
    let mut b = [0u8; sel4_abi::BootInfo::SIZE];
    kernel_core::kmem::read_bytes(&k.machine, bi_pa, &mut b);
    let bi = sel4_abi::BootInfo::from_bytes(&b);
    assert_eq!(bi.extra_len, 5000);
    assert_eq!(bi.extra_bi_pages.end - bi.extra_bi_pages.start, 2);
    let pa = translate(&k, root, IMAGE_VADDR + 8192 + 4096).unwrap();
    assert_eq!(kernel_core::kmem::read_word(&k.machine, pa), 6);
    let pa2 = translate(&k, root, IMAGE_VADDR + 8192 + 4096 + 4999).unwrap();
    let mut one = [0u8; 1];
    kernel_core::kmem::read_bytes(&k.machine, pa2, &mut one);
    assert_eq!(one[0], 0x5a);
    assert!(bi.untyped.end - bi.untyped.start <= 230);
}

#[test]
fn boot_rejects_bad_input() {
    use kernel_core::boot::{boot, BootError, BootParams, Region};
    use kernel_core::sim::SimMachine;
    let ram = [Region {
        start: RAM_BASE + (1 << 20),
        end: RAM_BASE + (1 << 20) + 4096,
    }];
    let p = BootParams {
        arch: Arch::Aarch64,
        ram: &ram,
        device: &[],
        image: &[],
        entry: 0,
        ipc_buffer_vaddr: 0x1000,
        bootinfo_vaddr: 0x2000,
        extra_bootinfo: &[],
        timer_irq: None,
        config: sel4_abi::config::KernelConfig::SEL4_DEFAULT,
    };
    assert_eq!(
        boot(SimMachine::new(RAM_BASE, RAM_SIZE), &p).err(),
        Some(BootError::OutOfMemory)
    );
    let p2 = BootParams {
        ipc_buffer_vaddr: 0x1001,
        ..p
    };
    assert_eq!(
        boot(SimMachine::new(RAM_BASE, RAM_SIZE), &p2).err(),
        Some(BootError::BadVaddr)
    );
}
