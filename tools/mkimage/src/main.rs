//! `mkimage --kernel <kernel.elf> --out <image.elf> <payload-file>...`: thin CLI over the
//! `mkimage` library.

use std::process::ExitCode;

const USAGE: &str = "usage: mkimage --kernel <kernel.elf> --out <image.elf> <payload-file>...";

fn main() -> ExitCode {
    let mut kernel = None;
    let mut out = None;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--kernel" => kernel = args.next(),
            "--out" => out = args.next(),
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
        let k = read(&kernel)?;
        let data: Vec<Vec<u8>> = files.iter().map(|f| read(f)).collect::<Result<_, _>>()?;
        let refs: Vec<&[u8]> = data.iter().map(|d| d.as_slice()).collect();
        let (img, place) = mkimage::build_image(&k, &refs).map_err(|e| format!("{kernel}: {e}"))?;
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
