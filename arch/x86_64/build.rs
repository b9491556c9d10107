//! Generates the 256 interrupt entry stubs and their address table (`OUT_DIR/vectors.s`).
use std::fmt::Write as _;

fn main() {
    let mut s = String::new();
    s.push_str(".section .text.vectors, \"ax\"\n.code64\n");
    for v in 0..256u32 {
        // The CPU pushes an error code for these exceptions only.
        let has_error = matches!(v, 8 | 10..=14 | 17 | 21 | 29 | 30);
        let _ = writeln!(s, ".balign 16\nx86_64_vector_{v}:");
        if !has_error {
            s.push_str("    push 0\n");
        }
        let _ = writeln!(s, "    push {v}\n    jmp x86_64_trap_common");
    }
    s.push_str(".section .rodata.vectors, \"a\"\n.balign 8\n.global x86_64_vector_table\nx86_64_vector_table:\n");
    for v in 0..256u32 {
        let _ = writeln!(s, "    .quad x86_64_vector_{v}");
    }
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(format!("{out}/vectors.s"), s).expect("write vectors.s");
    println!("cargo:rerun-if-changed=build.rs");
}
