//! The `microkit` tool as a library: one module per stage, driven by [`run`].
//!
//! Stages: [`args`] (command line) -> [`board`] (board table) -> [`system`] (read and
//! validate the system description) -> [`layout`] (cap slots, badges, patched symbols) ->
//! [`spec`] (PD ELFs with patched symbols [`program`] -> the `microkit-spec` system) ->
//! [`sdk`] (find kernel and initialiser) -> [`image`] (embed the system in the initialiser,
//! pack the bootable image) -> [`report`] (text report).
#![forbid(unsafe_code)]

pub mod args;
pub mod board;
pub mod capshare;
pub mod error;
pub mod format;
pub mod image;
pub mod iommu;
pub mod layout;
pub mod program;
pub mod report;
pub mod sdk;
pub mod spec;
pub mod system;
pub mod viper;

pub use error::ToolError;

/// What a successful run produced.
#[derive(Debug)]
pub struct RunSummary {
    /// Warnings to show the user.
    pub warnings: Vec<String>,
    /// Where the image's pieces went.
    pub image: image::ImageLayout,
    /// The SDK files used.
    pub sdk: sdk::SdkFiles,
    /// Number of objects, caps and mappings in the spec.
    pub counts: (usize, usize, usize),
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, ToolError> {
    std::fs::read(path).map_err(|source| ToolError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// x86_64: writes the kernel (`sel4.elf`, when it is an ELF) and its 32-bit ELF
/// (`sel4_32.elf`, what QEMU's `-kernel` takes) beside the image, as Microkit's tool does.
fn write_x86_kernels(output: &std::path::Path, kernel: &[u8]) -> Result<(), ToolError> {
    let dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|source| ToolError::Write { path, source })
    };
    let elf32 = format::x86_elf32(kernel)?;
    if kernel.starts_with(b"\x7fELF") {
        write(format::X86_KERNEL_COPY, kernel)?;
    }
    write(format::X86_KERNEL32_COPY, &elf32)
}

/// Runs every stage for `args`: writes the image to `args.output` and the report to
/// `args.report`.
pub fn run(args: &args::Args) -> Result<RunSummary, ToolError> {
    let board = board::find(&args.board)?;
    let image_type = format::ImageType::resolve(args.image_type, board.arch)?;
    let opts = sdk::SdkOptions {
        sdk_dir: args
            .sdk_dir
            .clone()
            .or_else(|| std::env::var_os(sdk::SDK_ENV).map(Into::into)),
        kernel: args.kernel.clone(),
        initialiser: args.initialiser.clone(),
    };
    // Located now (its configuration record decides whether `<virtual_machine>` is allowed);
    // a missing SDK is reported after the system's own errors, as before.
    let files = sdk::locate(&opts, board, args.config);
    let kernel = match &files {
        Ok(f) => f.kernel.as_deref().map(read).transpose()?,
        Err(_) => None,
    };
    // The initialiser numbers its invocation labels as the kernel's configuration does
    // (Microkit's debug kernels on aarch64 and x86_64 have CONFIG_HARDWARE_DEBUG_API): the
    // record of the kernel being packed, or, without one (no kernel file, or a kernel without
    // a record), Microkit's values for `--config`.
    let kernel_config = kernel
        .as_deref()
        .and_then(|k| sel4_abi::config::read_record(k).ok())
        .or_else(|| sel4_abi::config::KernelConfig::microkit(args.config.name()));
    let mut target = board.target_config_for(args.config);
    target.hypervisor = board.hypervisor(kernel_config.as_ref());
    let sys = system::load_target(&args.system, target, &args.search_path)?;
    let lay = layout::compute(&sys, board, args.config);
    let dirs = system::search_dirs(&args.system, &args.search_path);
    let built = spec::build(&sys, &lay, board, args.config, &dirs)?;

    let files = files?;
    let mut initialiser = read(&files.initialiser)?;
    let record = kernel_config.map(|c| c.to_words()).unwrap_or([0; 4]);
    image::patch_kernel_config(&mut initialiser, &record)?;

    let blob = microkit_spec::encode(&built.spec, &built.data);
    let (init, system) = image::embed_system(&initialiser, &blob)?;
    // Check the contract end to end before writing anything: the initialiser will decode
    // exactly this.
    let (back, data) = image::extract_system(&init)?;
    if back != built.spec || data != built.data {
        return Err(ToolError::Image(
            "internal error: the embedded system does not decode to the built one".into(),
        ));
    }
    let (img, mut layout) = image::pack(board.arch, kernel.as_deref(), &init, system)?;
    let img = format::convert(board.arch, image_type, img)?;
    layout.image_size = img.len() as u64;
    layout.format = image_type;

    let text = report::render(
        &args.system.display().to_string(),
        &sys,
        &lay,
        board,
        args.config,
    ) + &report::render_build(&built, &layout, &files, &args.output)
        + &iommu::render(&sys, &built.spec);
    std::fs::write(&args.output, img).map_err(|source| ToolError::Write {
        path: args.output.clone(),
        source,
    })?;
    std::fs::write(&args.report, text).map_err(|source| ToolError::Write {
        path: args.report.clone(),
        source,
    })?;
    if board.arch == sdf::Arch::X86_64 {
        if let Some(k) = &kernel {
            write_x86_kernels(&args.output, k)?;
        }
    }
    if let Some(dir) = &args.viper_output {
        viper::write_all(dir, &args.system, &sys, &built.spec)?;
    }
    Ok(RunSummary {
        warnings: sys.warnings.clone(),
        image: layout,
        sdk: files,
        counts: (
            built.spec.objects.len(),
            built.spec.caps.len(),
            built.spec.mappings.len(),
        ),
    })
}
