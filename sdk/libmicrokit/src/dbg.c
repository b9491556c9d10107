/* libmicrokit's debug output: the kernel's debug console (seL4_DebugPutChar) in the debug
 * configuration, nothing in release. */
#include <microkit.h>

void microkit_dbg_putc(int c)
{
#if defined(CONFIG_PRINTING)
    seL4_DebugPutChar((char)c);
#else
    (void)c;
#endif
}

void microkit_dbg_puts(const char *s)
{
    while (*s) {
        microkit_dbg_putc(*s++);
    }
}

/* Decimal digits of x, most significant first. */
static void put_decimal(seL4_Uint32 x)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + x % 10);
        x /= 10;
    } while (x != 0);
    while (n > 0) {
        microkit_dbg_putc(digits[--n]);
    }
}

void microkit_dbg_put8(seL4_Uint8 x)
{
    put_decimal(x);
}

void microkit_dbg_put32(seL4_Uint32 x)
{
    put_decimal(x);
}
