//! BRING-UP PATH (temporary): runs a multi-file boot payload without the kernel core.
//!
//! A single-file payload (the seL4 case: one root task) always boots through the kernel
//! core (`root`, `entry`). This path remains only for the two boot tests that need two
//! independent tasks (`aarch64-preempt`, `aarch64-fp-preserved`) until the core has TCB
//! invocations, with which those tests become a root task creating its second thread; then
//! this module is deleted. It prints `kernel: bring-up path` so its output is never
//! mistaken for the core's. Every payload file becomes one thread with its own address space (ASID = index + 1) in
//! the seL4 root-task layout: image, then IPC buffer page, then bootinfo page; x0 =
//! bootinfo, SP = 0. All traps from user mode arrive in [`handle_trap`], which handles
//! `seL4_DebugPutChar` (-12) and `seL4_Yield` (-11) (`svc #0`, number in x7), the timer
//! tick (round-robin preemption), and user faults (reported; the thread is suspended, as
//! seL4 does for a thread without a fault handler). With no runnable thread the kernel idles
//! and prints a heartbeat line every [`HEARTBEAT_TICKS`] ticks.

use arch_aarch64::context::Aarch64Context;
use arch_aarch64::machine::Aarch64Machine;
use arch_aarch64::sync::KernelGlobal;
use arch_aarch64::trap::{self, TrapKind};
use arch_aarch64::vspace::{self, FrameAllocator};
use arch_aarch64::{cpu, kprintln, loader, payload, timer, Aarch64PageTable};
use boot_image::elf::EM_AARCH64;
use boot_image::payload::Payload;
use kernel_hal::{Machine, MapAttrs, MapRights, PAddr};

/// Timer interrupts per second (each one is also a preemption point).
const TICK_HZ: u64 = 100;
/// Ticks between heartbeat lines while idle.
const HEARTBEAT_TICKS: u64 = 50;
/// After this many ticks the kernel reports once that the tick reaches user mode.
const TICK_REPORT: u64 = 10;
/// seL4 MCS syscall numbers handled here.
const SYS_YIELD: i64 = -11;
const SYS_DEBUG_PUT_CHAR: i64 = -12;
/// Most threads (payload files) the bring-up path runs.
const MAX_THREADS: usize = 8;

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

/// A bring-up thread: its address space and whether it may run.
#[derive(Clone, Copy)]
struct Thread {
    root: PAddr,
    asid: u16,
    runnable: bool,
}

/// Everything the bring-up path keeps between traps.
struct State {
    machine: Aarch64Machine,
    threads: [Thread; MAX_THREADS],
    count: usize,
    current: usize,
    ticks: u64,
    tick_period: u64,
    next_tick: u64,
    yields: u64,
}

static STATE: KernelGlobal<Option<State>> = KernelGlobal::new(None);
/// The threads' registers. The trap assembly saves into and restores from these; after
/// setup they are only reached through the pointers handed to it (never through `with`).
static CONTEXTS: KernelGlobal<[Aarch64Context; MAX_THREADS]> =
    KernelGlobal::new([Aarch64Context::EMPTY; MAX_THREADS]);

/// The context of thread `i` as a raw pointer for the trap assembly.
fn context_ptr(i: usize) -> *mut Aarch64Context {
    CONTEXTS.as_ptr().cast::<Aarch64Context>().wrapping_add(i)
}

/// Build thread `index` from ELF `image`: VSpace, segments, IPC buffer and bootinfo pages.
fn load_thread(
    machine: &mut Aarch64Machine,
    frames: &mut BumpFrames,
    index: usize,
    image: &[u8],
) -> Thread {
    let root = vspace::new_root(machine, frames).expect("out of memory for a VSpace");
    machine.init_vspace_root(root);
    let img = match loader::load_elf::<Aarch64PageTable, _, _>(
        machine, frames, root, image, EM_AARCH64,
    ) {
        Ok(i) => i,
        Err(e) => panic!("cannot load payload file {}: {:?}", index, e),
    };
    let ipc_buffer = img.end;
    let bootinfo = img.end + 4096;
    let rw = MapRights {
        read: true,
        write: true,
        execute: false,
    };
    let ro = MapRights {
        read: true,
        write: false,
        execute: false,
    };
    for (va, rights) in [(ipc_buffer, rw), (bootinfo, ro)] {
        let f = vspace::alloc_zeroed(machine, frames).expect("out of memory");
        vspace::map_page::<Aarch64PageTable, _, _>(
            machine,
            frames,
            root,
            va,
            f,
            rights,
            MapAttrs { cacheable: true },
        )
        .expect("cannot map the IPC buffer / bootinfo page");
    }
    let asid = index as u16 + 1;
    kprintln!(
        "kernel: task {}: image {:#x}..{:#x}, entry {:#x}, IPC buffer {:#x}, bootinfo {:#x}, ASID {}",
        index,
        img.start,
        img.end,
        img.entry,
        ipc_buffer,
        bootinfo,
        asid
    );
    CONTEXTS.with(|c| c[index] = Aarch64Context::new_user(img.entry, 0, bootinfo));
    machine.tlb_invalidate_asid(asid);
    Thread {
        root,
        asid,
        runnable: true,
    }
}

/// Load the payload's tasks, start the tick, enter user mode.
pub fn run(mut machine: Aarch64Machine, files: &Payload<'_>) -> ! {
    let (ppa, plen) = payload::descriptor();
    let free_start = payload::kernel_end_paddr().max((ppa + plen).div_ceil(4096) * 4096);
    let mut frames = BumpFrames {
        next: free_start,
        end: machine.ram_end,
    };

    kprintln!(
        "kernel: bring-up path (not the kernel core): {} payload tasks",
        files.len()
    );
    let count = files.len().min(MAX_THREADS);
    let mut threads = [Thread {
        root: 0,
        asid: 0,
        runnable: false,
    }; MAX_THREADS];
    for (i, t) in threads.iter_mut().enumerate().take(count) {
        let image = files
            .file(i)
            .unwrap_or_else(|e| panic!("payload file {}: {:?}", i, e));
        *t = load_thread(&mut machine, &mut frames, i, image);
    }
    machine.sync_icache();
    machine.set_vspace(threads[0].root, threads[0].asid);

    let tick_period = machine.timer_hz / TICK_HZ;
    let next_tick = timer::counter() + tick_period;
    timer::set_compare(next_tick);
    machine.gic.enable(timer::VIRTUAL_TIMER_PPI);
    kprintln!(
        "kernel: timer {} Hz, tick {} Hz; entering user mode",
        machine.timer_hz,
        TICK_HZ
    );
    STATE.with(|s| {
        *s = Some(State {
            machine,
            threads,
            count,
            current: 0,
            ticks: 0,
            tick_period,
            next_tick,
            yields: 0,
        })
    });

    trap::set_user_trap_handler(handle_trap);
    // SAFETY: thread 0's context is a static that only the trap path uses from now on (no
    // `with` borrow of CONTEXTS is live or taken again) and its VSpace is in TTBR0.
    unsafe { trap::enter_user(context_ptr(0)) }
}

/// What to do after a trap.
enum Next {
    /// Return to the current thread.
    Resume,
    /// Run the next runnable thread (round-robin), possibly the current one.
    Switch,
    /// The current thread stopped: run another one, or idle.
    Stopped,
}

/// The one entry point for traps from user mode.
fn handle_trap(kind: TrapKind, ctx: &mut Aarch64Context) -> *mut Aarch64Context {
    let next = match kind {
        TrapKind::Irq => {
            if handle_irqs(false) {
                Next::Switch
            } else {
                Next::Resume
            }
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
            Next::Stopped
        }
    };
    let current = ctx as *mut Aarch64Context;
    match next {
        Next::Resume => current,
        Next::Switch | Next::Stopped => match schedule() {
            Some(i) => context_ptr(i),
            None => idle(),
        },
    }
}

/// Pick the next runnable thread after the current one (round-robin), install its address
/// space and make it current. `None` if no thread can run.
fn schedule() -> Option<usize> {
    STATE.with(|s| {
        let s = s.as_mut()?;
        let n = s.count;
        let next = (1..=n)
            .map(|k| (s.current + k) % n)
            .find(|&i| s.threads[i].runnable)?;
        if next != s.current {
            let t = s.threads[next];
            s.machine.set_vspace(t.root, t.asid);
            s.current = next;
        }
        Some(next)
    })
}

fn syscall(ctx: &mut Aarch64Context) -> Next {
    match ctx.x[7] as i64 {
        SYS_DEBUG_PUT_CHAR => {
            STATE.with(|s| s.as_mut().map(|s| s.machine.putchar(ctx.x[0] as u8)));
            Next::Resume
        }
        SYS_YIELD => {
            STATE.with(|s| s.as_mut().map(|s| s.yields += 1));
            Next::Switch
        }
        n => {
            kprintln!(
                "user fault: unknown syscall {} (pc {:#x})",
                n,
                ctx.pc.wrapping_sub(4)
            );
            suspend_current()
        }
    }
}

fn user_fault(ctx: &Aarch64Context, esr: u64, far: u64) -> Next {
    let ec = trap::esr_class(esr);
    let what = trap::class_name(ec);
    match ec {
        trap::EC_DABT_LOWER | trap::EC_IABT_LOWER | trap::EC_PC_ALIGN => {
            kprintln!(
                "user fault: {} at {:#x} (pc {:#x}, esr {:#x})",
                what,
                far,
                ctx.pc,
                esr
            )
        }
        _ => kprintln!("user fault: {} (pc {:#x}, esr {:#x})", what, ctx.pc, esr),
    }
    suspend_current()
}

/// Suspend the current thread (no fault handler in the bring-up path).
fn suspend_current() -> Next {
    let (i, others) = STATE.with(|s| {
        let s = s.as_mut().expect("bring-up state");
        s.threads[s.current].runnable = false;
        (s.current, s.threads[..s.count].iter().any(|t| t.runnable))
    });
    if others {
        kprintln!("kernel: task {} suspended (no fault handler)", i);
    } else {
        kprintln!(
            "kernel: task {} suspended (no fault handler); no task left, idling",
            i
        );
    }
    Next::Stopped
}

/// Acknowledge and handle every pending interrupt. Returns whether a timer tick happened
/// (a preemption point).
fn handle_irqs(idle: bool) -> bool {
    STATE.with(|s| {
        let Some(s) = s.as_mut() else { return false };
        let mut ticked = false;
        while let Some(irq) = s.machine.gic.ack() {
            if irq == timer::VIRTUAL_TIMER_PPI {
                ticked = true;
                s.ticks += 1;
                s.next_tick += s.tick_period;
                let now = timer::counter();
                if s.next_tick <= now {
                    s.next_tick = now + s.tick_period;
                }
                timer::set_compare(s.next_tick);
                if s.ticks == TICK_REPORT && !idle {
                    kprintln!(
                        "kernel: timer: {} ticks while in user mode ({} yields)",
                        s.ticks,
                        s.yields
                    );
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
        ticked
    })
}

/// Nothing to run: wait for interrupts (kept masked at EL1 and polled from the GIC).
fn idle() -> ! {
    loop {
        cpu::wait_for_interrupt();
        handle_irqs(true);
    }
}
