//! The kernel binary for QEMU riscv64 `virt`: boots under OpenSBI, loads the root task from
//! the boot payload, boots the kernel core ([`root`]) and enters it on every trap ([`entry`]).
#![cfg_attr(target_arch = "riscv64", no_std, no_main)]

#[cfg(target_arch = "riscv64")]
mod board;
#[cfg(target_arch = "riscv64")]
mod entry;
#[cfg(target_arch = "riscv64")]
mod payload;
#[cfg(target_arch = "riscv64")]
mod root;
#[cfg(all(target_arch = "riscv64", feature = "smp"))]
mod smp;

#[cfg(not(target_arch = "riscv64"))]
fn main() {
    eprintln!("this is the riscv64 kernel; build it with --target riscv64gc-unknown-none-elf");
}

#[cfg(target_arch = "riscv64")]
mod kernel {
    use arch_riscv64::layout::virt_to_phys;
    use arch_riscv64::machine::{read_dtb, Riscv64Machine};
    use arch_riscv64::{console, kprintln, trap};
    use kernel_hal::PhysMem;

    use crate::{board, entry, payload, root};

    extern "C" {
        static __kernel_end: u8;
    }

    /// Entered from the arch boot code on the kernel stack, in the kernel window.
    #[no_mangle]
    extern "C" fn kernel_main(hart_id: u64, dtb: u64) -> ! {
        let facts = read_dtb(dtb);
        let m = Riscv64Machine::init(board::config(
            facts.as_ref().unwrap_or(&Default::default()),
            hart_id,
        ));
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

        if payload.len() > 1 {
            kprintln!(
                "kernel: the payload holds {} files; only the first (the root task) is loaded",
                payload.len()
            );
        }
        let elf = match payload.file(0) {
            Ok(f) => f,
            Err(e) => panic!("payload file 0: {:?}", e),
        };

        // Free RAM: above the kernel image and the payload, below the DTB (which the firmware
        // places near the top of RAM). OpenSBI's region lies below the kernel image.
        let kernel_end = virt_to_phys(core::ptr::addr_of!(__kernel_end) as u64);
        let start = kernel_end.max(payload::range().map_or(0, |r| r.1));
        let end = if dtb > start && dtb < ram_hi {
            dtb & !0xfff
        } else {
            ram_hi
        };
        let dtb_bytes = dtb_slice(&m, dtb);
        let kernel = root::boot_core(m, elf, start, end, dtb_bytes);
        #[cfg(feature = "smp")]
        crate::smp::start_secondaries(kernel.config.max_num_nodes, hart_id, dtb_bytes);
        entry::run(kernel)
    }

    /// The firmware's device tree as bytes through the kernel window (for the extra bootinfo).
    fn dtb_slice(m: &Riscv64Machine, dtb: u64) -> Option<&'static [u8]> {
        let header = m.window(dtb, 8)?;
        // SAFETY: the window maps these 8 bytes of RAM; the firmware put the DTB header there.
        let h = unsafe { core::slice::from_raw_parts(header as *const u8, 8) };
        if h[..4] != [0xd0, 0x0d, 0xfe, 0xed] {
            return None;
        }
        let total = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
        if total > 1 << 20 {
            return None;
        }
        let p = m.window(dtb, total)?;
        // SAFETY: the window maps `total` bytes of RAM holding the DTB, which lies outside the
        // RAM handed to the kernel core (above `end`), so nothing writes it; only read.
        Some(unsafe { core::slice::from_raw_parts(p as *const u8, total) })
    }

    #[panic_handler]
    fn panic(info: &core::panic::PanicInfo) -> ! {
        kprintln!("KERNEL PANIC: {}", info);
        trap::dump_trap_csrs();
        console::exit_qemu(1)
    }
}
