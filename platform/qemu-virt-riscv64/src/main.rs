//! The kernel binary for QEMU riscv64 `virt`: boots under OpenSBI, loads the initial task
//! from the boot payload and (for now) runs it under the bring-up loop in [`bringup`].
#![cfg_attr(target_arch = "riscv64", no_std, no_main)]

#[cfg(target_arch = "riscv64")]
mod board;
#[cfg(target_arch = "riscv64")]
mod bringup;
#[cfg(target_arch = "riscv64")]
mod loader;
#[cfg(target_arch = "riscv64")]
mod payload;

#[cfg(not(target_arch = "riscv64"))]
fn main() {
    eprintln!("this is the riscv64 kernel; build it with --target riscv64gc-unknown-none-elf");
}

#[cfg(target_arch = "riscv64")]
mod kernel {
    use arch_riscv64::layout::virt_to_phys;
    use arch_riscv64::machine::{read_dtb, Riscv64Machine};
    use arch_riscv64::{console, kprintln, trap};

    use crate::{board, bringup, loader, payload};

    extern "C" {
        static __kernel_end: u8;
    }

    /// Entered from the arch boot code on the kernel stack, in the kernel window.
    #[no_mangle]
    extern "C" fn kernel_main(hart_id: u64, dtb: u64) -> ! {
        let facts = read_dtb(dtb);
        let mut m =
            Riscv64Machine::init(board::config(facts.as_ref().unwrap_or(&Default::default())));
        let (ram_lo, ram_hi) = m.config().ram;
        if let Err(e) = facts {
            kprintln!(
                "riscv64 kernel: unreadable DTB at {:#x} ({:?}), using board defaults",
                dtb,
                e
            );
        }
        kprintln!(
            "riscv64 kernel: hart {}, dtb {:#x}, ram {:#x}..{:#x}, sv39, {} ASID bits, timer: {}",
            hart_id,
            dtb,
            ram_lo,
            ram_hi,
            m.asid_bits(),
            if m.config().sstc { "sstc" } else { "sbi" }
        );

        let payload = match payload::find(&m) {
            Ok(p) => p,
            Err(e) => panic!("no initial task: {}", e),
        };
        if payload.is_empty() {
            panic!("no initial task: the boot payload holds no file");
        }

        // Free RAM: above the kernel image and the payload, below the DTB (which QEMU places
        // near the top of RAM).
        let kernel_end = virt_to_phys(core::ptr::addr_of!(__kernel_end) as u64);
        let start = kernel_end.max(payload::range().map_or(0, |r| r.1));
        let end = if dtb > start && dtb < ram_hi {
            dtb
        } else {
            ram_hi
        };
        let mut frames = loader::FrameAlloc::new(start, end);

        let mut tasks = [(
            bringup::Task {
                root: 0,
                asid: 0,
                runnable: false,
            },
            Default::default(),
        ); bringup::MAX_TASKS];
        let n = payload.len().min(bringup::MAX_TASKS);
        for (i, slot) in tasks.iter_mut().enumerate().take(n) {
            let elf = match payload.file(i) {
                Ok(f) => f,
                Err(e) => panic!("payload file {}: {:?}", i, e),
            };
            let t = match loader::load(&mut m, &mut frames, elf) {
                Ok(t) => t,
                Err(e) => panic!("loading task {}: {}", i, e),
            };
            let asid = i as u16 + 1;
            kprintln!(
                "task {}: image {:#x}..{:#x}, ASID {}, entry {:#x}",
                i,
                t.image.start,
                t.image.end,
                asid,
                t.ctx.next_ip
            );
            *slot = (
                bringup::Task {
                    root: t.root,
                    asid,
                    runnable: true,
                },
                t.ctx,
            );
        }
        kprintln!("{} KiB free RAM left", frames.free_bytes() / 1024);
        bringup::start(m, &tasks[..n])
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo) -> ! {
        kprintln!("KERNEL PANIC: {}", info);
        trap::dump_trap_csrs();
        console::exit_qemu(1)
    }
}
