//! `mkimage --kernel <kernel.elf> --out <image.elf> [--config <name>] [--option CONFIG_X=V]...
//! <payload-file>...`: thin CLI over the `mkimage` library. `mkimage [--option CONFIG_X=V]...
//! --set-config <name> <kernel-file>` sets the kernel configuration record of a kernel ELF or
//! flat binary in place (`docs/config.md`). `--option` changes one option of the named
//! configuration, as seL4's build sets single options (sel4test's x86_64 simulation build:
//! `--option CONFIG_IOMMU=0`).

use sel4_abi::config::{read_record, set_record, KernelConfig};
use std::process::ExitCode;

const USAGE: &str = "usage: mkimage --kernel <kernel.elf> --out <image.elf> [--config <name>] [--option CONFIG_X=V]... <payload-file>...\n       mkimage [--option CONFIG_X=V]... --set-config <name> <kernel-file>\n  <name>: sel4 (seL4's defaults, the default), or Microkit's debug, release, benchmark\n  --option: one option changed from <name>'s value (CONFIG_NUM_DOMAINS, CONFIG_DEBUG_BUILD, CONFIG_PRINTING, CONFIG_KERNEL_BENCHMARK, CONFIG_IOMMU, CONFIG_MAX_NUM_NODES: above 1 needs a kernel built with the smp feature)";

/// The kernel configuration called `name`.
fn config_named(name: &str) -> Result<KernelConfig, String> {
    match name {
        "sel4" => Ok(KernelConfig::SEL4_DEFAULT),
        _ => KernelConfig::microkit(name).ok_or_else(|| {
            format!("unknown configuration '{name}' (sel4, debug, release, benchmark)")
        }),
    }
}

/// The configuration called `name` with the `CONFIG_X=V` options applied in order.
fn config_with(name: &str, options: &[String]) -> Result<KernelConfig, String> {
    let mut c = config_named(name)?;
    for o in options {
        let (n, v) = o
            .split_once('=')
            .ok_or_else(|| format!("--option {o}: expected CONFIG_NAME=VALUE"))?;
        let v: u64 = v
            .parse()
            .map_err(|_| format!("--option {o}: the value is not a number"))?;
        c = c
            .with_option(n, v)
            .map_err(|e| format!("--option {o}: {e:?}"))?;
    }
    Ok(c)
}

/// `CONFIG_NAME=value` pairs of `c`, space-separated.
fn describe(c: &KernelConfig) -> String {
    c.options()
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `--set-config NAME FILE`: patch the record in place.
fn set_config(name: &str, options: &[String], file: &str) -> Result<KernelConfig, String> {
    let c = config_with(name, options)?;
    let mut bytes = std::fs::read(file).map_err(|e| format!("{file}: {e}"))?;
    set_record(&mut bytes, &c).map_err(|e| format!("{file}: configuration record: {e:?}"))?;
    std::fs::write(file, bytes).map_err(|e| format!("{file}: {e}"))?;
    Ok(c)
}

fn main() -> ExitCode {
    let mut kernel = None;
    let mut out = None;
    let mut files = Vec::new();
    let mut config = None;
    let mut options = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--kernel" => kernel = args.next(),
            "--out" => out = args.next(),
            "--config" => config = args.next(),
            "--option" => match args.next() {
                Some(o) => options.push(o),
                None => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--set-config" => {
                let (Some(name), Some(file)) = (args.next(), args.next()) else {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                };
                return match set_config(&name, &options, &file) {
                    Ok(c) => {
                        println!("mkimage: {file}: {}", describe(&c));
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("mkimage: {e}");
                        ExitCode::FAILURE
                    }
                };
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => files.push(a),
        }
    }
    let (Some(kernel), Some(out)) = (kernel, out) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let read = |p: &str| std::fs::read(p).map_err(|e| format!("{p}: {e}"));
    let result = (|| -> Result<mkimage::Placement, String> {
        let mut k = read(&kernel)?;
        // The record is looked for in the kernel file only: a payload may hold the same
        // bytes (e.g. a root task that compares a record's magic).
        if config.is_some() || !options.is_empty() {
            let c = config_with(config.as_deref().unwrap_or("sel4"), &options)?;
            set_record(&mut k, &c)
                .map_err(|e| format!("{kernel}: configuration record: {e:?}"))?;
        }
        let c = read_record(&k).map_err(|e| format!("{kernel}: configuration record: {e:?}"))?;
        let data: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect::<Result<_, _>>()?;
        let refs: Vec<&[u8]> = data.iter().map(|d| d.as_slice()).collect();
        let (img, place) = mkimage::build_image(&k, &refs)
            .map_err(|e| mkimage::error_message(&e, &kernel, &files))?;
        println!("mkimage: {out}: kernel configuration {}", describe(&c));
        std::fs::write(&out, img).map_err(|e| format!("{out}: {e}"))?;
        Ok(place)
    })();
    match result {
        Ok(p) => {
            println!(
                "mkimage: {out}: payload of {} file(s), {} bytes at {:#x}",
                files.len(),
                p.len,
                p.paddr
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mkimage: {e}");
            ExitCode::FAILURE
        }
    }
}
