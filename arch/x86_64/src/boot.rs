//! Multiboot 1 header and the 32-bit entry stub that switches to long mode.
//!
//! The loader (QEMU `-kernel`) enters `_start32` in 32-bit protected mode, paging off, with
//! EAX = 0x2BADB002 and EBX = physical address of the multiboot info. The stub builds boot
//! page tables that map physical 0..1 GiB twice (identity, and at `KERNEL_VBASE`) with
//! 2 MiB pages, enables PAE, long mode (EFER.LME), NX and `syscall` (EFER.NXE/SCE), turns
//! paging on and far-jumps to 64-bit code, which continues in the high half on the init
//! stack and calls the platform's `kernel_entry_x86_64(magic, info)`.
//!
//! The header uses the a.out kludge (flag bit 16) with load addresses from the linker
//! script, so QEMU loads the flat binary made by `llvm-objcopy -O binary`.

core::arch::global_asm!(
    r#"
    .section .multiboot, "a"
    .balign 8
__multiboot_header:
    .long 0x1BADB002
    .long 0x00010003
    .long 0xE4514FFB
    .long __multiboot_header
    .long __kernel_phys_start
    .long __load_end_phys
    .long __bss_end_phys
    .long _start32

    .section .boot.text, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    movl $__boot_stack_top, %esp
    movl %eax, __boot_magic
    movl %ebx, __boot_info

    movl $__boot_tables, %edi
    xorl %eax, %eax
    movl $(3 * 4096 / 4), %ecx
    rep stosl

    movl $__boot_pdpt, %eax
    orl $3, %eax
    movl %eax, __boot_pml4
    movl %eax, __boot_pml4 + 511 * 8
    movl $__boot_pd, %eax
    orl $3, %eax
    movl %eax, __boot_pdpt
    movl %eax, __boot_pdpt + 510 * 8

    movl $__boot_pd, %edi
    movl $0x83, %eax
    movl $512, %ecx
1:
    movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b

    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl $__boot_pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    rdmsr
    orl $0x901, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax
    movl %eax, %cr0
    lgdt __boot_gdtr
    ljmp $0x08, $__long_entry

    .code64
__long_entry:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $__high_entry, %rax
    jmpq *%rax

    .section .boot.data, "aw"
    .balign 16
__boot_gdt:
    .quad 0
    .quad 0x00209A0000000000
    .quad 0x0000920000000000
__boot_gdtr:
    .word 3 * 8 - 1
    .long __boot_gdt
    .long 0
__boot_magic:
    .long 0
__boot_info:
    .long 0

    .section .boot.bss, "aw", @nobits
    .balign 4096
__boot_tables:
__boot_pml4:
    .skip 4096
__boot_pdpt:
    .skip 4096
__boot_pd:
    .skip 4096
    .skip 4096
__boot_stack_top:

    .section .bss.init_stack, "aw", @nobits
    .balign 16
__init_stack:
    .skip 65536
__init_stack_top:

    .section .text.high_entry, "ax"
    .code64
__high_entry:
    movabsq $__init_stack_top, %rsp
    xorl %ebp, %ebp
    movl __boot_magic, %edi
    movl __boot_info, %esi
    call kernel_entry_x86_64
    ud2
"#,
    options(att_syntax)
);
