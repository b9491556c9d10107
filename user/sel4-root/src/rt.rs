//! The one module of this crate with `unsafe`: program entry and stack, the panic handler,
//! access to the boot-info page, per-thread IPC buffers, linker-script symbols and the
//! deliberate faulting read.
//!
//! seL4 starts the root task at its ELF entry with the boot-info address in the cap register
//! (x0 / a0 / rdi) and every other register, the stack pointer included, zero. `_start` loads
//! a 64 KiB stack from `.bss` (and `gp` on RISC-V) and calls the program's
//! `extern "C" fn root_main(bootinfo: u64) -> !`, the argument register untouched.

use sel4_abi::{BootInfo, Syscall};
use sel4_sys::arch::{raw, Regs};
use sel4_sys::ipc_buffer::IpcBuffer;
use sel4_sys::MessageInfo;

#[cfg(all(target_os = "none", target_arch = "aarch64"))]
core::arch::global_asm!(
    r#"
    .section .text.start, "ax"
    .global _start
_start:
    adrp    x9, __root_stack_top
    add     x9, x9, :lo12:__root_stack_top
    mov     sp, x9
    mov     x29, xzr
    mov     x30, xzr
    bl      root_main
1:  b       1b

    .section .bss.root_stack, "aw", %nobits
    .balign 16
    .skip   65536
__root_stack_top:
"#
);

#[cfg(all(target_os = "none", target_arch = "riscv64"))]
core::arch::global_asm!(
    r#"
    .section .text.start, "ax"
    .global _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __root_stack_top
    mv      ra, zero
    mv      s0, zero
    call    root_main
1:  j       1b

    .section .bss.root_stack, "aw", @nobits
    .balign 16
    .skip   65536
__root_stack_top:
"#
);

#[cfg(all(target_os = "none", target_arch = "x86_64"))]
core::arch::global_asm!(
    r#"
    .section .text.start, "ax"
    .global _start
_start:
    lea     rsp, [rip + __root_stack_top]
    xor     ebp, ebp
    call    root_main
    ud2

    .section .bss.root_stack, "aw", @nobits
    .balign 16
    .skip   65536
__root_stack_top:
"#
);

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    crate::println!("sel4-root: panic: {}", info.message());
    sel4_sys::syscall::debug_halt();
    loop {
        sel4_sys::syscall::yield_now();
    }
}

/// The boot-info page at `addr` (the value seL4 passes in the cap register), with the root
/// task's IPC buffer registered for `sel4_sys`'s calls.
///
/// Call once, from the root task's first thread, with the address `_start` received.
pub fn boot_info(addr: u64) -> &'static BootInfo {
    // SAFETY: seL4 maps the boot-info page (4 KiB, page aligned, never unmapped or written
    // by the kernel afterwards) read-only at `addr` for the root task's whole life, and
    // `BootInfo` is `repr(C)` plain data of at most 4 KiB with no invalid bit patterns.
    let bi: &'static BootInfo = unsafe { &*(addr as *const BootInfo) };
    sel4_sys::ipc_buffer::set_ipc_buffer(bi.ipc_buffer as *mut IpcBuffer);
    bi
}

/// The extra boot info: the `bi.extra_len` bytes mapped right after the boot-info page at
/// `addr` (chunks read with [`crate::bootinfo::extra_chunks`]).
pub fn extra_boot_info(addr: u64, bi: &BootInfo) -> &'static [u8] {
    // SAFETY: seL4 maps `extraLen` bytes of extra boot info read-only right after the
    // boot-info page, for the root task's whole life, and never writes them afterwards.
    unsafe { core::slice::from_raw_parts((addr + 4096) as *const u8, bi.extra_len as usize) }
}

/// System calls of a thread that shares an address space with others and so keeps its own
/// IPC buffer pointer (`sel4_sys`'s calls use one global buffer: the root task's). MR0–MR3
/// travel in registers; only extra caps, unwrapped badges and the receive slot use the buffer.
pub struct ThreadIpc {
    buf: *mut IpcBuffer,
}

impl ThreadIpc {
    /// The calling thread's IPC buffer at `addr`, as given to `TCB_Configure`/`SetIPCBuffer`.
    /// Returns `None` unless `addr` is non-null and 1024-byte aligned.
    ///
    /// Only the thread that owns the buffer may use the result.
    pub fn new(addr: u64) -> Option<Self> {
        if addr == 0 || !addr.is_multiple_of(1024) {
            return None;
        }
        Some(ThreadIpc {
            buf: addr as *mut IpcBuffer,
        })
    }

    /// Sets extra cap `i` (0..3) for the next send.
    pub fn set_cap(&self, i: usize, cptr: u64) {
        if i < 3 {
            // SAFETY: `buf` is this thread's mapped IPC buffer (see `new`); the kernel reads it
            // only while this thread is in a syscall, so there is no concurrent access.
            unsafe { core::ptr::addr_of_mut!((*self.buf).caps_or_badges[i]).write_volatile(cptr) }
        }
    }

    /// Unwrapped badge or cap word `i` (0..3) of the last received message.
    pub fn cap_or_badge(&self, i: usize) -> u64 {
        if i >= 3 {
            return 0;
        }
        // SAFETY: as in `set_cap`.
        unsafe { core::ptr::addr_of!((*self.buf).caps_or_badges[i]).read_volatile() }
    }

    /// Sets the slot a received cap goes to (`receiveCNode` at depth 64, index, depth).
    pub fn set_receive_slot(&self, cnode: u64, index: u64, depth: u64) {
        // SAFETY: as in `set_cap`.
        unsafe {
            core::ptr::addr_of_mut!((*self.buf).receive_cnode).write_volatile(cnode);
            core::ptr::addr_of_mut!((*self.buf).receive_index).write_volatile(index);
            core::ptr::addr_of_mut!((*self.buf).receive_depth).write_volatile(depth);
        }
    }

    /// `seL4_Call(dest, info)` with MR0–MR3 = `mrs`; returns the reply's info and MR0–MR3.
    pub fn call(&self, dest: u64, info: MessageInfo, mrs: [u64; 4]) -> (MessageInfo, [u64; 4]) {
        let r = raw(
            Syscall::Call as i64,
            Regs {
                cap: dest,
                info: info.0,
                mr: mrs,
                reply: 0,
                dest: 0,
            },
        );
        (MessageInfo(r.info), r.mr)
    }

    /// `seL4_Recv(src, reply)`: returns info, badge and MR0–MR3.
    pub fn recv(&self, src: u64, reply: u64) -> (MessageInfo, u64, [u64; 4]) {
        let r = raw(
            Syscall::Recv as i64,
            Regs {
                cap: src,
                reply,
                ..Regs::default()
            },
        );
        (MessageInfo(r.info), r.cap, r.mr)
    }

    /// `seL4_ReplyRecv(src, info, reply)` with MR0–MR3 = `mrs`: returns info, badge, MR0–MR3.
    pub fn reply_recv(
        &self,
        src: u64,
        info: MessageInfo,
        mrs: [u64; 4],
        reply: u64,
    ) -> (MessageInfo, u64, [u64; 4]) {
        let r = raw(
            Syscall::ReplyRecv as i64,
            Regs {
                cap: src,
                info: info.0,
                mr: mrs,
                reply,
                dest: 0,
            },
        );
        (MessageInfo(r.info), r.cap, r.mr)
    }

    /// `seL4_Signal(dest)`.
    pub fn signal(&self, dest: u64) {
        raw(
            Syscall::Send as i64,
            Regs {
                cap: dest,
                ..Regs::default()
            },
        );
    }

    /// `seL4_Wait(src)`: returns the badge (notification word).
    pub fn wait(&self, src: u64) -> u64 {
        raw(
            Syscall::Wait as i64,
            Regs {
                cap: src,
                ..Regs::default()
            },
        )
        .cap
    }
}

/// Reads the word at `addr` (used to fault on purpose at an unmapped address).
pub fn read_word(addr: u64) -> u64 {
    // SAFETY: none in general: callers pass an unmapped address on purpose, so the access
    // faults and the kernel stops this thread and reports a VMFault to its fault handler;
    // the read has no effect on memory.
    unsafe { core::ptr::read_volatile(addr as *const u64) }
}

/// Writes `value` to the word at `addr`, then reads it back (checks a fresh mapping).
pub fn write_read_word(addr: u64, value: u64) -> u64 {
    // SAFETY: none in general: callers pass an address they have just mapped read-write
    // (the kernel said so), 8-byte aligned, that no Rust object occupies.
    unsafe {
        core::ptr::write_volatile(addr as *mut u64, value);
        core::ptr::read_volatile(addr as *const u64)
    }
}

/// Reads the `N` bytes at `addr` (e.g. the instruction at a reported PC); the address need
/// not be aligned.
pub fn read_bytes<const N: usize>(addr: u64) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        // SAFETY: none in general, as for `read_word`: callers pass an address of this
        // program's mapped code; a byte read has no alignment requirement and no effect.
        *b = unsafe { core::ptr::read_volatile((addr + i as u64) as *const u8) };
    }
    out
}

#[cfg(target_os = "none")]
extern "C" {
    static __text_start: u8;
    static __text_end: u8;
}

/// The program's code range `[start, end)` from the linker script (0..0 on the host).
pub fn text_range() -> (u64, u64) {
    #[cfg(target_os = "none")]
    {
        // Only the addresses of the linker-script symbols are taken, never their contents.
        (
            core::ptr::addr_of!(__text_start) as u64,
            core::ptr::addr_of!(__text_end) as u64,
        )
    }
    #[cfg(not(target_os = "none"))]
    {
        (0, 0)
    }
}

/// The RISC-V global pointer of this program (0 on other arches), for new threads.
pub fn global_pointer() -> u64 {
    #[cfg(target_arch = "riscv64")]
    {
        let gp: u64;
        // SAFETY: reads the gp register only.
        unsafe { core::arch::asm!("mv {}, gp", out(reg) gp, options(nomem, nostack)) };
        gp
    }
    #[cfg(not(target_arch = "riscv64"))]
    {
        0
    }
}

/// Writes `value` to the word at `addr` (used to fault on purpose with a write to an
/// unmapped address).
pub fn write_word(addr: u64, value: u64) {
    // SAFETY: none in general, as for `read_word`: callers pass an unmapped address on
    // purpose, so the store faults (VMFault to the thread's handler) and writes nothing.
    unsafe { core::ptr::write_volatile(addr as *mut u64, value) }
}

/// Executes an instruction the architecture defines as undefined (`udf #0`, `unimp`,
/// `ud2`), so the kernel reports a UserException to the thread's fault handler; returns if
/// the handler resumes the thread past it.
pub fn undefined_instruction() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: `udf` only raises an undefined-instruction exception; no memory or register
    // is changed.
    unsafe {
        core::arch::asm!("udf #0", options(nomem, nostack))
    };
    #[cfg(target_arch = "riscv64")]
    // SAFETY: as above (`unimp` is the canonical illegal instruction).
    unsafe {
        core::arch::asm!("unimp", options(nomem, nostack))
    };
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as above (`ud2` raises #UD).
    unsafe {
        core::arch::asm!("ud2", options(nomem, nostack))
    };
}
