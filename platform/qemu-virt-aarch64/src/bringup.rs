//! BRING-UP PATH (temporary): runs the initial task without the kernel core.
//!
//! This module stands in for `kernel/core` until it is wired in, and will be replaced by it.
//! It loads the first payload file as the initial task (its own address space, ASID 1, the
//! seL4 root-task layout: image, then IPC buffer page, then bootinfo page; x0 = bootinfo,
//! SP = 0), and handles every trap from user mode in [`handle_trap`]:
//! `seL4_DebugPutChar` (-12) and `seL4_Yield` (-11) via `svc #0` with the number in x7, the
//! timer tick, and user faults (reported, thread suspended: no fault handler). With no
//! runnable thread the kernel idles and prints a heartbeat line every [`HEARTBEAT_TICKS`].

use crate::memmap;
use arch_aarch64::context::Aarch64Context;
use arch_aarch64::machine::Aarch64Machine;
use arch_aarch64::sync::KernelGlobal;
use arch_aarch64::trap::{self, TrapKind};
use arch_aarch64::vspace::{self, FrameAllocator};
use arch_aarch64::{cpu, kprintln, loader, payload, timer, Aarch64PageTable};
use boot_image::elf::EM_AARCH64;
use boot_image::payload::Payload;
use kernel_hal::{MapAttrs, MapRights, Machine, PAddr};

/// Timer interrupts per second.
const TICK_HZ: u64 = 100;
/// Ticks between heartbeat lines while idle.
const HEARTBEAT_TICKS: u64 = 50;
/// After this many ticks the kernel reports once that the tick reaches user mode.
const TICK_REPORT: u64 = 10;
/// seL4 MCS syscall numbers handled here.
const SYS_YIELD: i64 = -11;
const SYS_DEBUG_PUT_CHAR: i64 = -12;
/// ASID of the initial task.
const INIT_ASID: u16 = 1;

/// Hands out 4 KiB frames from a physical range, never to be freed (bring-up only).
struct BumpFrames {
    next: PAddr,
    end: PAddr,
}

impl FrameAllocator for BumpFrames {
    fn alloc_frame(&mut self) -> Option<PAddr> {
        if self.next + 4096 > self.end {
            return None;
        }
        let f = self.next;
        self.next += 4096;
        Some(f)
    }
}

/// Everything the bring-up path keeps between traps.
struct State {
    machine: Aarch64Machine,
    /// Whether the initial task may run (false once it faulted).
    runnable: bool,
    ticks: u64,
    tick_period: u64,
    next_tick: u64,
    yields: u64,
}

static STATE: KernelGlobal<Option<State>> = KernelGlobal::new(None);
/// The initial task's registers (the trap assembly saves into and restores from it).
static INIT_CTX: KernelGlobal<Aarch64Context> = KernelGlobal::new(Aarch64Context {
    x: [0; 31],
    sp: 0,
    pc: 0,
    spsr: arch_aarch64::context::SPSR_USER,
    tpidr_el0: 0,
    tpidrro_el0: 0,
    fp: arch_aarch64::context::FpState { q: [0; 32], fpcr: 0, fpsr: 0 },
});

/// Load the initial task, start the tick, enter user mode.
pub fn run(mut machine: Aarch64Machine) -> ! {
    let files = payload::bytes(&machine).map(Payload::parse);
    let image = match files {
        Some(Ok(p)) => match p.file(0) {
            Ok(f) => f,
            Err(e) => panic!("boot payload has no initial task: {:?}", e),
        },
        Some(Err(e)) => panic!("malformed boot payload: {:?}", e),
        None => panic!("no boot payload (build the image with mkimage)"),
    };
    let (ppa, plen) = payload::descriptor();
    let free_start = payload::kernel_end_paddr().max((ppa + plen).div_ceil(4096) * 4096);
    let mut frames = BumpFrames { next: free_start, end: memmap::RAM_START + memmap::RAM_SIZE };

    let root = vspace::new_root(&machine, &mut frames).expect("out of memory for the initial VSpace");
    let img = match loader::load_elf::<Aarch64PageTable, _, _>(&machine, &mut frames, root, image, EM_AARCH64) {
        Ok(i) => i,
        Err(e) => panic!("cannot load the initial task: {:?}", e),
    };
    // seL4 root-task layout: IPC buffer page right after the image, then the bootinfo page.
    let ipc_buffer = img.end;
    let bootinfo = img.end + 4096;
    let rw = MapRights { read: true, write: true, execute: false };
    let ro = MapRights { read: true, write: false, execute: false };
    for (va, rights) in [(ipc_buffer, rw), (bootinfo, ro)] {
        let f = vspace::alloc_zeroed(&machine, &mut frames).expect("out of memory");
        vspace::map_page::<Aarch64PageTable, _, _>(&machine, &mut frames, root, va, f, rights, MapAttrs { cacheable: true })
            .expect("cannot map the IPC buffer / bootinfo page");
    }
    kprintln!(
        "kernel: initial task: image {:#x}..{:#x}, entry {:#x}, IPC buffer {:#x}, bootinfo {:#x}",
        img.start,
        img.end,
        img.entry,
        ipc_buffer,
        bootinfo
    );
    INIT_CTX.with(|c| *c = Aarch64Context::new_user(img.entry, 0, bootinfo));

    machine.set_vspace(root, INIT_ASID);
    machine.tlb_invalidate_asid(INIT_ASID);
    machine.sync_icache();

    let tick_period = machine.timer_hz / TICK_HZ;
    let next_tick = timer::counter() + tick_period;
    timer::set_compare(next_tick);
    machine.gic.enable(timer::VIRTUAL_TIMER_PPI);
    kprintln!("kernel: timer {} Hz, tick {} Hz; entering user mode", machine.timer_hz, TICK_HZ);
    STATE.with(|s| *s = Some(State { machine, runnable: true, ticks: 0, tick_period, next_tick, yields: 0 }));

    trap::set_user_trap_handler(handle_trap);
    // SAFETY: INIT_CTX is a static that only the trap path uses from now on (no `with`
    // borrow of it is live or taken again), and the task's VSpace is installed in TTBR0.
    unsafe { trap::enter_user(INIT_CTX.as_ptr()) }
}

/// What to do after a trap.
enum Next {
    Resume,
    Idle,
}

/// The one entry point for traps from user mode.
fn handle_trap(kind: TrapKind, ctx: &mut Aarch64Context) -> *mut Aarch64Context {
    let next = match kind {
        TrapKind::Irq => {
            handle_irqs(false);
            Next::Resume
        }
        TrapKind::Sync => {
            let esr = cpu::esr();
            if trap::esr_class(esr) == trap::EC_SVC64 {
                syscall(ctx)
            } else {
                user_fault(ctx, esr, cpu::far())
            }
        }
        TrapKind::Fiq | TrapKind::SError => {
            kprintln!("user fault: {:?} (pc {:#x})", kind, ctx.pc);
            suspend()
        }
    };
    match next {
        Next::Resume => ctx as *mut Aarch64Context,
        Next::Idle => idle(),
    }
}

fn syscall(ctx: &mut Aarch64Context) -> Next {
    match ctx.x[7] as i64 {
        SYS_DEBUG_PUT_CHAR => {
            STATE.with(|s| s.as_mut().map(|s| s.machine.putchar(ctx.x[0] as u8)));
            Next::Resume
        }
        SYS_YIELD => {
            // One thread: it is also the next one to run.
            STATE.with(|s| s.as_mut().map(|s| s.yields += 1));
            Next::Resume
        }
        n => {
            kprintln!("user fault: unknown syscall {} (pc {:#x})", n, ctx.pc.wrapping_sub(4));
            suspend()
        }
    }
}

fn user_fault(ctx: &Aarch64Context, esr: u64, far: u64) -> Next {
    let ec = trap::esr_class(esr);
    let what = trap::class_name(ec);
    match ec {
        trap::EC_DABT_LOWER | trap::EC_IABT_LOWER | trap::EC_PC_ALIGN => {
            kprintln!("user fault: {} at {:#x} (pc {:#x}, esr {:#x})", what, far, ctx.pc, esr)
        }
        _ => kprintln!("user fault: {} (pc {:#x}, esr {:#x})", what, ctx.pc, esr),
    }
    suspend()
}

fn suspend() -> Next {
    STATE.with(|s| s.as_mut().map(|s| s.runnable = false));
    kprintln!("kernel: initial task suspended (no fault handler); idling");
    Next::Idle
}

/// Acknowledge and handle every pending interrupt.
fn handle_irqs(idle: bool) {
    STATE.with(|s| {
        let Some(s) = s.as_mut() else { return };
        while let Some(irq) = s.machine.gic.ack() {
            if irq == timer::VIRTUAL_TIMER_PPI {
                s.ticks += 1;
                s.next_tick += s.tick_period;
                let now = timer::counter();
                if s.next_tick <= now {
                    s.next_tick = now + s.tick_period;
                }
                timer::set_compare(s.next_tick);
                if s.ticks == TICK_REPORT && !idle {
                    kprintln!("kernel: timer: {} ticks while in user mode ({} yields)", s.ticks, s.yields);
                }
                if idle && s.ticks % HEARTBEAT_TICKS == 0 {
                    kprintln!("kernel: heartbeat: tick {} (idle)", s.ticks);
                }
            } else {
                kprintln!("kernel: unexpected interrupt {}; masking it", irq);
                s.machine.gic.disable(irq);
            }
            s.machine.gic.eoi(irq);
        }
    });
}

/// Nothing to run: wait for interrupts (kept masked at EL1 and polled from the GIC).
fn idle() -> ! {
    loop {
        cpu::wait_for_interrupt();
        handle_irqs(true);
    }
}
