/*
 * _start, the ELF entry the microkit tool sets for the PD's thread. The tool starts the
 * thread with its stack pointer at the top of the stack it maps; a thread started with a
 * stack pointer of 0 switches to a small stack inside the image instead. On RISC-V, gp is
 * set for linker relaxation. Then microkit_main() (main.c) runs and never returns.
 */
#include <microkit.h>

#define FALLBACK_STACK_SIZE 4096
__attribute__((aligned(16), used)) char microkit_fallback_stack[FALLBACK_STACK_SIZE];

#if defined(CONFIG_ARCH_AARCH64)
__asm__(".section .text.start, \"ax\"\n"
        ".global _start\n"
        "_start:\n"
        "    mov x9, sp\n"
        "    cbnz x9, 1f\n"
        "    adrp x9, microkit_fallback_stack\n"
        "    add x9, x9, :lo12:microkit_fallback_stack\n"
        "    add x9, x9, #4096\n"
        "    mov sp, x9\n"
        "1:  bl microkit_main\n"
        "    b .\n"
        ".previous\n");
#elif defined(CONFIG_ARCH_RISCV64)
__asm__(".section .text.start, \"ax\"\n"
        ".global _start\n"
        "_start:\n"
        ".option push\n"
        ".option norelax\n"
        "    lla gp, __global_pointer$\n"
        ".option pop\n"
        "    bnez sp, 1f\n"
        "    lla sp, microkit_fallback_stack\n"
        "    li t0, 4096\n"
        "    add sp, sp, t0\n"
        "1:  call microkit_main\n"
        "    j .\n"
        ".previous\n");
#elif defined(CONFIG_ARCH_X86_64)
/* The stack top the tool gives is 16-byte aligned; the call leaves rsp + 8 aligned at entry
 * to microkit_main, as the SysV ABI expects. */
__asm__(".section .text.start, \"ax\"\n"
        ".global _start\n"
        "_start:\n"
        "    test %rsp, %rsp\n"
        "    jnz 1f\n"
        "    lea microkit_fallback_stack+4096(%rip), %rsp\n"
        "1:  call microkit_main\n"
        "    ud2\n"
        ".previous\n");
#else
#error "unsupported architecture"
#endif

_Static_assert(FALLBACK_STACK_SIZE == 4096, "the entry code adds 4096");
