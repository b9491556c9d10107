//! Template loader: the parent of a `<template>` PD (a child without a program image; used by
//! `tests/microkit/template`).
//!
//! The template starts at address 0 and faults at once; its fault reaches this PD (child 0).
//! On that first fault the loader copies a small position-independent code blob (below) into
//! the region both map, writes a nonce after it, and restarts the child at the blob's address
//! in the child's view (`Child::pd_restart`). The blob prints a line with `seL4_DebugPutChar`,
//! stores `3 * nonce + 1` next to the nonce and then reads address 0x10; on that second fault
//! the loader checks the result and the fault address and stops the child (`Child::pd_stop`).
#![no_std]
#![no_main]

use sel4_microkit::{debug_println, get_mr, protection_domain, setvar, Child, Handler, MessageInfo};

/// Where the template maps the shared region (its `<map vaddr>` in the system file).
const LOADEE_VADDR: u64 = 0x28_0000;
/// Address the blob reads when it is done.
const DONE_ADDR: u64 = 0x10;
/// `seL4_SysDebugPutChar` (the MCS numbering).
const PUTCHAR: i64 = sel4_microkit::sel4_sys::abi::Syscall::DebugPutChar as i64;
/// The value the loader hands to the blob.
const NONCE: u64 = 0x1234_5678_9abc;

// The blob: code, its message, then two words (nonce, result); every address is PC-relative.
#[cfg(target_arch = "aarch64")]
core::arch::global_asm!(
    ".section .rodata.loadee_blob, \"a\"",
    ".balign 8",
    ".global loadee_blob_start",
    "loadee_blob_start:",
    "    adr x9, .Lloadee_msg",
    ".Lloadee_loop:",
    "    ldrb w0, [x9], #1",
    "    cbz w0, .Lloadee_done",
    "    mov x7, #{putchar}",
    "    svc #0",
    "    b .Lloadee_loop",
    ".Lloadee_done:",
    "    adr x10, .Lloadee_data",
    "    ldr x11, [x10]",
    "    add x12, x11, x11, lsl #1",
    "    add x12, x12, #1",
    "    str x12, [x10, #8]",
    "    mov x13, #{done}",
    "    ldr x13, [x13]",
    "    b .",
    ".Lloadee_msg:",
    "    .asciz \"loadee: hello from code its parent loaded at run time\\n\"",
    "    .balign 8",
    ".Lloadee_data:",
    "    .quad 0, 0",
    ".global loadee_blob_end",
    "loadee_blob_end:",
    done = const DONE_ADDR,
    putchar = const PUTCHAR,
);

#[cfg(target_arch = "riscv64")]
core::arch::global_asm!(
    ".section .rodata.loadee_blob, \"a\"",
    ".balign 8",
    ".global loadee_blob_start",
    "loadee_blob_start:",
    "    lla t0, .Lloadee_msg",
    ".Lloadee_loop:",
    "    lbu a0, 0(t0)",
    "    beqz a0, .Lloadee_done",
    "    li a7, {putchar}",
    "    ecall",
    "    addi t0, t0, 1",
    "    j .Lloadee_loop",
    ".Lloadee_done:",
    "    lla t1, .Lloadee_data",
    "    ld t2, 0(t1)",
    "    slli t3, t2, 1",
    "    add t3, t3, t2",
    "    addi t3, t3, 1",
    "    sd t3, 8(t1)",
    "    li t4, {done}",
    "    ld t4, 0(t4)",
    "    j .",
    ".Lloadee_msg:",
    "    .asciz \"loadee: hello from code its parent loaded at run time\\n\"",
    "    .balign 8",
    ".Lloadee_data:",
    "    .quad 0, 0",
    ".global loadee_blob_end",
    "loadee_blob_end:",
    done = const DONE_ADDR,
    putchar = const PUTCHAR,
);

#[cfg(target_arch = "x86_64")]
core::arch::global_asm!(
    ".section .rodata.loadee_blob, \"a\"",
    ".balign 8",
    ".global loadee_blob_start",
    "loadee_blob_start:",
    "    lea r14, [rip + .Lloadee_msg]",
    ".Lloadee_loop:",
    "    movzx edi, byte ptr [r14]",
    "    test edi, edi",
    "    jz .Lloadee_done",
    "    mov rdx, {putchar}",
    "    syscall",
    "    inc r14",
    "    jmp .Lloadee_loop",
    ".Lloadee_done:",
    "    lea r14, [rip + .Lloadee_data]",
    "    mov rax, qword ptr [r14]",
    "    lea rax, [rax + rax * 2 + 1]",
    "    mov qword ptr [r14 + 8], rax",
    "    mov rax, qword ptr [{done}]",
    ".Lloadee_spin:",
    "    jmp .Lloadee_spin",
    ".Lloadee_msg:",
    "    .asciz \"loadee: hello from code its parent loaded at run time\\n\"",
    "    .balign 8",
    ".Lloadee_data:",
    "    .quad 0, 0",
    ".global loadee_blob_end",
    "loadee_blob_end:",
    done = const DONE_ADDR,
    putchar = const PUTCHAR,
);

extern "C" {
    static loadee_blob_start: u8;
    static loadee_blob_end: u8;
}

/// The blob's bytes.
fn blob() -> &'static [u8] {
    // SAFETY: both symbols are defined by the `global_asm!` above, in one section, start
    // before end; the bytes between them are read-only data of this image.
    unsafe {
        let start = core::ptr::addr_of!(loadee_blob_start);
        let end = core::ptr::addr_of!(loadee_blob_end);
        core::slice::from_raw_parts(start, end as usize - start as usize)
    }
}

struct Loader {
    shared: *mut u8,
    faults: u32,
}

impl Loader {
    /// Offset of the blob's (nonce, result) words: its last 16 bytes.
    fn data_offset(&self) -> usize {
        blob().len() - 16
    }
}

impl Handler for Loader {
    fn fault(&mut self, child: Child, msg: MessageInfo) -> Option<MessageInfo> {
        let (ip, addr) = (get_mr(0), get_mr(1));
        self.faults += 1;
        match self.faults {
            1 => {
                debug_println!(
                    "loader: template child {} faulted (label {}) at ip {:#x} addr {:#x} before any code ran",
                    child.index(),
                    msg.label(),
                    ip,
                    addr
                );
                let code = blob();
                // SAFETY: `shared` maps the whole shared region read-write (SDF `map`), which is
                // larger than the blob; nothing else writes it while the child is stopped.
                unsafe {
                    core::ptr::copy_nonoverlapping(code.as_ptr(), self.shared, code.len());
                    (self.shared.add(self.data_offset()) as *mut u64).write_volatile(NONCE);
                    (self.shared.add(self.data_offset() + 8) as *mut u64).write_volatile(0);
                }
                debug_println!("loader: copied {} bytes of code; restarting the child at {:#x}", code.len(), LOADEE_VADDR);
                if let Err(e) = child.pd_restart(LOADEE_VADDR) {
                    debug_println!("loader: FAILED: pd_restart: {:?}", e);
                }
            }
            2 => {
                // SAFETY: as above; the child is blocked on its fault.
                let result = unsafe { (self.shared.add(self.data_offset() + 8) as *const u64).read_volatile() };
                let in_blob = ip >= LOADEE_VADDR && ip < LOADEE_VADDR + blob().len() as u64;
                if result == 3 * NONCE + 1 && addr == DONE_ADDR && in_blob {
                    debug_println!("loader: the loaded code ran: it computed {:#x} = 3 * {:#x} + 1 and faulted at {:#x} as planned", result, NONCE, addr);
                } else {
                    debug_println!("loader: FAILED: result {:#x}, fault ip {:#x} addr {:#x}", result, ip, addr);
                }
                match child.pd_stop() {
                    Ok(()) => debug_println!("loader: child {} stopped", child.index()),
                    Err(e) => debug_println!("loader: FAILED: pd_stop: {:?}", e),
                }
            }
            n => debug_println!("loader: FAILED: unexpected fault {} (ip {:#x} addr {:#x})", n, ip, addr),
        }
        // The child is restarted or stopped explicitly; no reply.
        None
    }
}

fn init() -> Loader {
    debug_println!("loader: waiting for the template child's first fault");
    Loader { shared: setvar!(shared_vaddr: *mut u8), faults: 0 }
}

protection_domain!(init);
