//! GDT (kernel/user segments, TSS), IDT and the `syscall` MSRs.

use crate::cpu;
use crate::layout::{KERNEL_CS, KERNEL_SS, TSS_SEL, USER_SS};
use crate::trap::{self, KCell};
use core::arch::asm;
use core::mem::size_of;

/// The 64-bit task state segment (only RSP0 and IST1 are used).
#[repr(C, packed)]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

/// One 16-byte IDT gate.
#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    off_lo: u16,
    sel: u16,
    ist: u8,
    attr: u8,
    off_mid: u16,
    off_hi: u32,
    zero: u32,
}

const GATE_NULL: Gate = Gate {
    off_lo: 0,
    sel: 0,
    ist: 0,
    attr: 0,
    off_mid: 0,
    off_hi: 0,
    zero: 0,
};

#[repr(C, align(16))]
struct Gdt([u64; 7]);
#[repr(C, align(16))]
struct Idt([Gate; 256]);

static GDT: KCell<Gdt> = KCell::new(Gdt([0; 7]));
static TSS: KCell<Tss> = KCell::new(Tss {
    reserved0: 0,
    rsp: [0; 3],
    reserved1: 0,
    ist: [0; 7],
    reserved2: 0,
    reserved3: 0,
    iomap_base: size_of::<Tss>() as u16,
});
static IDT: KCell<Idt> = KCell::new(Idt([GATE_NULL; 256]));

#[repr(C, packed)]
struct Pointer {
    limit: u16,
    base: u64,
}

/// Point TSS.RSP0 at `top`: where the CPU pushes its frame on the next interrupt or
/// exception from ring 3 (the end of the running thread's saved-register frame).
pub fn set_rsp0(top: u64) {
    // SAFETY: single core, interrupts off in the kernel; the CPU reads RSP0 only on a ring
    // 3 → 0 transition, which cannot happen while the kernel runs.
    unsafe { (*TSS.get()).rsp[0] = top };
}

/// Load the final GDT, TSS and IDT and program `syscall` (STAR/LSTAR/FMASK).
///
/// Must run once during boot, with interrupts off.
pub fn init() {
    let tss_base = TSS.get() as u64;
    let tss_limit = (size_of::<Tss>() - 1) as u64;
    // SAFETY: boot is single-threaded with interrupts off; these statics are only written
    // here, before the CPU is told where they are.
    unsafe {
        let tss = &mut *TSS.get();
        tss.rsp[0] = trap::kstack_top();
        tss.ist[0] = trap::ist_stack_top();

        let gdt = &mut (*GDT.get()).0;
        gdt[1] = 0x0020_9a00_0000_0000; // kernel code, 64-bit
        gdt[2] = 0x0000_9200_0000_0000; // kernel data
        gdt[3] = 0x0000_f200_0000_0000; // user data, DPL 3
        gdt[4] = 0x0020_fa00_0000_0000; // user code, 64-bit, DPL 3
        gdt[5] = (tss_limit & 0xffff)
            | ((tss_base & 0xff_ffff) << 16)
            | (0x89 << 40)
            | (((tss_limit >> 16) & 0xf) << 48)
            | (((tss_base >> 24) & 0xff) << 56);
        gdt[6] = tss_base >> 32;

        let idt = &mut (*IDT.get()).0;
        for (v, gate) in idt.iter_mut().enumerate() {
            let off = trap::vector_entry(v);
            *gate = Gate {
                off_lo: off as u16,
                sel: KERNEL_CS,
                ist: if v == 8 || v == 2 { 1 } else { 0 },
                attr: 0x8e, // present, DPL 0, 64-bit interrupt gate
                off_mid: (off >> 16) as u16,
                off_hi: (off >> 32) as u32,
                zero: 0,
            };
        }
    }

    let gdtr = Pointer {
        limit: (size_of::<Gdt>() - 1) as u16,
        base: GDT.get() as u64,
    };
    let idtr = Pointer {
        limit: (size_of::<Idt>() - 1) as u16,
        base: IDT.get() as u64,
    };
    // SAFETY: the tables above are complete and live forever; reloading CS via a far
    // return and the data selectors with the same flat segments keeps execution going.
    unsafe {
        asm!(
            "lgdt [{gdtr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ss:x}",
            "mov es, {ss:x}",
            "mov ss, {ss:x}",
            "ltr {tss:x}",
            "lidt [{idtr}]",
            gdtr = in(reg) &gdtr,
            idtr = in(reg) &idtr,
            cs = in(reg) KERNEL_CS as u64,
            ss = in(reg) KERNEL_SS as u64,
            tss = in(reg) TSS_SEL as u64,
            tmp = out(reg) _,
        );
    }

    // SAFETY: these MSRs exist on every x86_64 CPU; EFER.SCE was set by the boot stub.
    unsafe {
        let user_base = (USER_SS as u64 & !3) - 8;
        cpu::wrmsr(
            cpu::MSR_STAR,
            (user_base << 48) | ((KERNEL_CS as u64) << 32),
        );
        cpu::wrmsr(cpu::MSR_LSTAR, trap::syscall_entry());
        // Clear IF, TF, DF, AC, NT on entry.
        cpu::wrmsr(
            cpu::MSR_FMASK,
            (1 << 9) | (1 << 8) | (1 << 10) | (1 << 18) | (1 << 14),
        );
    }
}
