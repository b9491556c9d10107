//! Kernel configuration: the options seL4 fixes when its kernel is built that change what user
//! space sees, under seL4's `CONFIG_*` names (see `docs/config.md`).
//!
//! Our kernel is built once per platform; its configuration is a small record in the kernel
//! image ([`KernelConfig::to_words`], found by [`find_record`]) that the image tools set: a
//! plain image (`tools/mkimage`) runs with seL4's defaults ([`KernelConfig::SEL4_DEFAULT`]),
//! the Microkit SDK's kernels with Microkit's values for their configuration
//! ([`KernelConfig::microkit`], [`KernelConfig::microkit_smp`]). Options our kernel does not
//! offer (non-MCS, hypervisor) have their one value here so that user space can test them like
//! the others. `CONFIG_MAX_NUM_NODES` above 1 needs a kernel built with the `smp` feature
//! (`docs/smp.md`); a uniprocessor kernel refuses such a record at boot.

/// First word of the configuration record in a kernel image ("sel4conf" in ASCII, read as a
/// little-endian word). The kernel never compares it, so it appears once in an image.
pub const RECORD_MAGIC: u64 = u64::from_le_bytes(*b"sel4conf");
/// Words in the configuration record: magic, `CONFIG_NUM_DOMAINS`, flags,
/// `CONFIG_MAX_NUM_NODES`.
pub const RECORD_WORDS: usize = 4;

/// Most cores a kernel built with the `smp` feature supports (`CONFIG_MAX_NUM_NODES` may be
/// 1 up to this). Microkit's largest board value is 16 (`x86_64_generic`).
pub const MAX_NUM_NODES_LIMIT: u64 = 16;

/// `CONFIG_KERNEL_BENCHMARK`: which benchmark support the kernel has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Benchmark {
    /// `none` (seL4's default).
    None,
    /// `track_utilisation` (Microkit's `benchmark` configuration).
    TrackUtilisation,
}

/// The user-visible build options of the kernel, named as seL4 names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelConfig {
    /// `CONFIG_NUM_DOMAINS`: number of scheduling domains (`DomainSet_Set` and the domain
    /// schedule accept domains below it).
    pub num_domains: u64,
    /// `CONFIG_KERNEL_MCS`: the mixed-criticality (scheduling-context) API. Always true: our
    /// kernel implements only the MCS API.
    pub kernel_mcs: bool,
    /// `CONFIG_DEBUG_BUILD`: the debug system calls (`DebugHalt`, `DebugCapIdentify`,
    /// `DebugNameThread`, `DebugSnapshot`) exist.
    pub debug_build: bool,
    /// `CONFIG_PRINTING`: `DebugPutChar` and `DebugDumpScheduler` exist.
    pub printing: bool,
    /// `CONFIG_KERNEL_BENCHMARK`.
    pub benchmark: Benchmark,
    /// `CONFIG_MAX_NUM_NODES`: number of cores the kernel brings up (1 up to
    /// [`MAX_NUM_NODES_LIMIT`]; above 1 only with a kernel built with the `smp` feature).
    pub max_num_nodes: u64,
    /// `CONFIG_ARM_HYPERVISOR_SUPPORT` (seL4's `KernelArmHypervisorSupport`): the aarch64
    /// kernel runs at EL2, user address spaces are stage-2 tables (`seL4_VSpaceBits` 13 with
    /// the 40-bit IPA, [`crate::object::vspace_bits`]). Only an aarch64 kernel built with the
    /// `hyp` feature runs with it (`docs/hyp.md`): the EL1 aarch64 kernel refuses such a record
    /// at boot, the riscv64 and x86_64 kernels ignore it (as the aarch64 and riscv64 ones
    /// ignore `CONFIG_IOMMU`).
    /// seL4's x86 `CONFIG_VTX` and RISC-V `CONFIG_RISCV_HE` are not offered.
    pub hypervisor: bool,
    /// `CONFIG_IOMMU` (x86_64 only; the other arches ignore it): the kernel has the VT-d
    /// IOMMU interface, which adds three x86 invocation labels (`X86IOPageTableMap`,
    /// `X86IOPageTableUnmap`, `X86PageMapIO`, shifting the later ones) and the
    /// `seL4_X86_IOPageTableObject` type. seL4's default on `pc99` is on; seL4's simulation
    /// builds (sel4test under QEMU) turn it off.
    pub iommu: bool,
    /// `CONFIG_HARDWARE_DEBUG_API` (aarch64 and x86_64; seL4 has no such option on RISC-V, so
    /// riscv64 ignores it): seL4 then has four more TCB methods (`TCBSetBreakpoint`,
    /// `TCBGetBreakpoint`, `TCBUnsetBreakpoint`, `TCBConfigureSingleStepping`, labels 16..=19)
    /// and every later label, arch labels included, is 4 higher (`IRQAckIRQ` 31, not 27).
    /// Microkit's `debug` configuration turns it on for aarch64 and x86_64, so a PD built
    /// against that configuration's libmicrokit sends those numbers. Our kernel numbers the
    /// labels as seL4 does ([`crate::label::canonical_label`]) but does not implement the four
    /// debug methods (IllegalOperation). seL4's default is off.
    pub hardware_debug_api: bool,
}

const FLAG_MCS: u64 = 1 << 0;
const FLAG_DEBUG_BUILD: u64 = 1 << 1;
const FLAG_PRINTING: u64 = 1 << 2;
const FLAG_BENCHMARK_TRACK_UTILISATION: u64 = 1 << 3;
const FLAG_HYPERVISOR: u64 = 1 << 4;
/// Set when `CONFIG_IOMMU` is off (a record without the bit, as older images have, means on).
const FLAG_NO_IOMMU: u64 = 1 << 5;
const FLAG_HARDWARE_DEBUG_API: u64 = 1 << 6;

impl KernelConfig {
    /// seL4's defaults for a kernel built without options (`KernelNumDomains` 1,
    /// `KernelDebugBuild` and `KernelPrinting` on, no benchmarks, one core, `KernelIOMMU` on
    /// as on `pc99`), except MCS, which our kernel always has.
    pub const SEL4_DEFAULT: KernelConfig = KernelConfig {
        num_domains: 1,
        kernel_mcs: true,
        debug_build: true,
        printing: true,
        benchmark: Benchmark::None,
        max_num_nodes: 1,
        hypervisor: false,
        iommu: true,
        hardware_debug_api: false,
    };

    /// Microkit's `debug` configuration (16 domains on a single-core board, debug build with
    /// printing, `CONFIG_HARDWARE_DEBUG_API` as Microkit's SDK builds it for aarch64 and
    /// x86_64).
    pub const MICROKIT_DEBUG: KernelConfig = KernelConfig {
        num_domains: 16,
        hardware_debug_api: true,
        ..Self::SEL4_DEFAULT
    };

    /// Microkit's `release` configuration (16 domains, no debug build, no printing).
    pub const MICROKIT_RELEASE: KernelConfig = KernelConfig {
        num_domains: 16,
        debug_build: false,
        printing: false,
        hardware_debug_api: false,
        ..Self::SEL4_DEFAULT
    };

    /// Microkit's `benchmark` configuration (as `release`, with utilisation tracking).
    pub const MICROKIT_BENCHMARK: KernelConfig = KernelConfig {
        benchmark: Benchmark::TrackUtilisation,
        ..Self::MICROKIT_RELEASE
    };

    /// The Microkit SDK configuration called `name` (`debug`, `release`, `benchmark`).
    pub fn microkit(name: &str) -> Option<KernelConfig> {
        match name {
            "debug" => Some(Self::MICROKIT_DEBUG),
            "release" => Some(Self::MICROKIT_RELEASE),
            "benchmark" => Some(Self::MICROKIT_BENCHMARK),
            _ => None,
        }
    }

    /// Microkit's multicore configuration `smp-<name>` (`smp-debug`, `smp-release`,
    /// `smp-benchmark`) for a board with `cores` cores: the configuration `name` with
    /// `CONFIG_MAX_NUM_NODES` = `cores` and one domain (seL4's SMP kernels have no domain
    /// scheduler; Microkit's SDK builds them with `KernelNumDomains` 1).
    pub fn microkit_smp(name: &str, cores: u64) -> Option<KernelConfig> {
        let base = Self::microkit(name.strip_prefix("smp-")?)?;
        if !(1..=MAX_NUM_NODES_LIMIT).contains(&cores) {
            return None;
        }
        Some(KernelConfig {
            num_domains: 1,
            max_num_nodes: cores,
            ..base
        })
    }

    /// The configuration record as stored in a kernel image.
    pub const fn to_words(&self) -> [u64; RECORD_WORDS] {
        let mut flags = 0;
        if self.kernel_mcs {
            flags |= FLAG_MCS;
        }
        if self.debug_build {
            flags |= FLAG_DEBUG_BUILD;
        }
        if self.printing {
            flags |= FLAG_PRINTING;
        }
        if matches!(self.benchmark, Benchmark::TrackUtilisation) {
            flags |= FLAG_BENCHMARK_TRACK_UTILISATION;
        }
        if self.hypervisor {
            flags |= FLAG_HYPERVISOR;
        }
        if !self.iommu {
            flags |= FLAG_NO_IOMMU;
        }
        if self.hardware_debug_api {
            flags |= FLAG_HARDWARE_DEBUG_API;
        }
        [RECORD_MAGIC, self.num_domains, flags, self.max_num_nodes]
    }

    /// The configuration in a record's words (the magic word is not looked at: the kernel
    /// reads its own record, which the tools found by the magic). `num_domains` is at least 1.
    pub const fn from_words(w: &[u64; RECORD_WORDS]) -> KernelConfig {
        let flags = w[2];
        KernelConfig {
            num_domains: if w[1] == 0 { 1 } else { w[1] },
            kernel_mcs: flags & FLAG_MCS != 0,
            debug_build: flags & FLAG_DEBUG_BUILD != 0,
            printing: flags & FLAG_PRINTING != 0,
            benchmark: if flags & FLAG_BENCHMARK_TRACK_UTILISATION != 0 {
                Benchmark::TrackUtilisation
            } else {
                Benchmark::None
            },
            max_num_nodes: w[3],
            hypervisor: flags & FLAG_HYPERVISOR != 0,
            iommu: flags & FLAG_NO_IOMMU == 0,
            hardware_debug_api: flags & FLAG_HARDWARE_DEBUG_API != 0,
        }
    }

    /// This configuration with the option `name` (a `CONFIG_*` name of [`Self::options`]) set
    /// to `value`, as seL4's build sets one option at a time. `CONFIG_KERNEL_MCS`, which our
    /// kernel has only one value for (1), accepts only that value; `CONFIG_MAX_NUM_NODES` takes
    /// 1 to [`MAX_NUM_NODES_LIMIT`]; `CONFIG_HYPERVISOR_SUPPORT` (also under seL4's AArch64
    /// name `CONFIG_ARM_HYPERVISOR_SUPPORT`) is 0 or 1.
    pub fn with_option(mut self, name: &str, value: u64) -> Result<KernelConfig, OptionError> {
        let flag = |v: u64| match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(OptionError::BadValue),
        };
        match name {
            "CONFIG_NUM_DOMAINS" if (1..=256).contains(&value) => self.num_domains = value,
            "CONFIG_NUM_DOMAINS" => return Err(OptionError::BadValue),
            "CONFIG_DEBUG_BUILD" => self.debug_build = flag(value)?,
            "CONFIG_PRINTING" => self.printing = flag(value)?,
            "CONFIG_KERNEL_BENCHMARK" => {
                self.benchmark = if flag(value)? {
                    Benchmark::TrackUtilisation
                } else {
                    Benchmark::None
                }
            }
            "CONFIG_IOMMU" => self.iommu = flag(value)?,
            "CONFIG_MAX_NUM_NODES" if (1..=MAX_NUM_NODES_LIMIT).contains(&value) => {
                self.max_num_nodes = value
            }
            "CONFIG_MAX_NUM_NODES" => return Err(OptionError::BadValue),
            "CONFIG_HARDWARE_DEBUG_API" => self.hardware_debug_api = flag(value)?,
            // seL4's AArch64 name is CONFIG_ARM_HYPERVISOR_SUPPORT; only an aarch64 kernel
            // built with the `hyp` feature accepts a record with it (`docs/hyp.md`).
            "CONFIG_HYPERVISOR_SUPPORT" | "CONFIG_ARM_HYPERVISOR_SUPPORT" => {
                self.hypervisor = flag(value)?
            }
            "CONFIG_KERNEL_MCS" if value == 1 => {}
            "CONFIG_KERNEL_MCS" => return Err(OptionError::Fixed),
            _ => return Err(OptionError::Unknown),
        }
        Ok(self)
    }

    /// The record as little-endian bytes (how it sits in a kernel image for our targets).
    pub fn to_bytes(&self) -> [u8; RECORD_WORDS * 8] {
        let mut b = [0u8; RECORD_WORDS * 8];
        for (i, w) in self.to_words().iter().enumerate() {
            b[8 * i..8 * i + 8].copy_from_slice(&w.to_le_bytes());
        }
        b
    }

    /// `(name, value)` of every option, as seL4's generated `autoconf.h` would define them
    /// (booleans as 0/1; the benchmark option by its name's index: 0 none, 1
    /// track_utilisation).
    pub fn options(&self) -> [(&'static str, u64); 9] {
        [
            ("CONFIG_NUM_DOMAINS", self.num_domains),
            ("CONFIG_KERNEL_MCS", self.kernel_mcs as u64),
            ("CONFIG_DEBUG_BUILD", self.debug_build as u64),
            ("CONFIG_PRINTING", self.printing as u64),
            (
                "CONFIG_KERNEL_BENCHMARK",
                matches!(self.benchmark, Benchmark::TrackUtilisation) as u64,
            ),
            ("CONFIG_MAX_NUM_NODES", self.max_num_nodes),
            ("CONFIG_HYPERVISOR_SUPPORT", self.hypervisor as u64),
            ("CONFIG_IOMMU", self.iommu as u64),
            ("CONFIG_HARDWARE_DEBUG_API", self.hardware_debug_api as u64),
        ]
    }
}

/// Why [`KernelConfig::with_option`] refused an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionError {
    /// No such option.
    Unknown,
    /// Our kernel has only one value for this option, and it is another.
    Fixed,
    /// The value is out of the option's range (booleans are 0 or 1, domains 1..=256, nodes
    /// 1..=[`MAX_NUM_NODES_LIMIT`]).
    BadValue,
}

/// Why a kernel image's configuration record could not be found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The image has no configuration record.
    Missing,
    /// The magic occurs more than once.
    Ambiguous,
}

/// Byte offset of the configuration record in a kernel image (ELF file or flat binary).
pub fn find_record(image: &[u8]) -> Result<usize, RecordError> {
    let magic = RECORD_MAGIC.to_le_bytes();
    let mut found = None;
    for (i, w) in image.windows(8).enumerate() {
        if w == magic {
            if found.is_some() {
                return Err(RecordError::Ambiguous);
            }
            found = Some(i);
        }
    }
    match found {
        Some(i) if i + RECORD_WORDS * 8 <= image.len() => Ok(i),
        Some(_) | None => Err(RecordError::Missing),
    }
}

/// Set the configuration record of the kernel image `image` (in place) to `config`.
pub fn set_record(image: &mut [u8], config: &KernelConfig) -> Result<(), RecordError> {
    let at = find_record(image)?;
    image[at..at + RECORD_WORDS * 8].copy_from_slice(&config.to_bytes());
    Ok(())
}

/// The configuration recorded in the kernel image `image`.
pub fn read_record(image: &[u8]) -> Result<KernelConfig, RecordError> {
    let at = find_record(image)?;
    let mut w = [0u64; RECORD_WORDS];
    for (i, x) in w.iter_mut().enumerate() {
        let b = &image[at + 8 * i..at + 8 * i + 8];
        *x = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    }
    Ok(KernelConfig::from_words(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_sel4s_and_microkits() {
        let d = KernelConfig::SEL4_DEFAULT;
        assert_eq!((d.num_domains, d.debug_build, d.printing), (1, true, true));
        assert_eq!(
            (d.max_num_nodes, d.kernel_mcs, d.hypervisor),
            (1, true, false)
        );
        assert_eq!(KernelConfig::microkit("debug").unwrap().num_domains, 16);
        let r = KernelConfig::microkit("release").unwrap();
        assert_eq!(
            (r.num_domains, r.debug_build, r.printing),
            (16, false, false)
        );
        assert_eq!(
            KernelConfig::microkit("benchmark").unwrap().benchmark,
            Benchmark::TrackUtilisation
        );
        assert_eq!(KernelConfig::microkit("smp-debug"), None);
    }

    #[test]
    fn microkit_smp_configs_have_the_boards_cores_and_one_domain() {
        let s = KernelConfig::microkit_smp("smp-debug", 4).unwrap();
        assert_eq!((s.max_num_nodes, s.num_domains, s.printing), (4, 1, true));
        let r = KernelConfig::microkit_smp("smp-release", 16).unwrap();
        assert_eq!((r.max_num_nodes, r.num_domains, r.printing), (16, 1, false));
        let b = KernelConfig::microkit_smp("smp-benchmark", 4).unwrap();
        assert_eq!(b.benchmark, Benchmark::TrackUtilisation);
        assert_eq!(KernelConfig::from_words(&b.to_words()), b);
        assert_eq!(KernelConfig::microkit_smp("debug", 4), None);
        assert_eq!(KernelConfig::microkit_smp("smp-debug", 0), None);
        assert_eq!(KernelConfig::microkit_smp("smp-fast", 4), None);
    }

    #[test]
    fn records_round_trip_and_are_found_once() {
        for c in [
            KernelConfig::SEL4_DEFAULT,
            KernelConfig::MICROKIT_DEBUG,
            KernelConfig::MICROKIT_RELEASE,
            KernelConfig::MICROKIT_BENCHMARK,
        ] {
            assert_eq!(KernelConfig::from_words(&c.to_words()), c);
        }
        let mut img = [0xaau8; 4096];
        img[1001..1033].copy_from_slice(&KernelConfig::SEL4_DEFAULT.to_bytes());
        assert_eq!(find_record(&img), Ok(1001));
        assert_eq!(read_record(&img), Ok(KernelConfig::SEL4_DEFAULT));
        set_record(&mut img, &KernelConfig::MICROKIT_RELEASE).unwrap();
        assert_eq!(read_record(&img), Ok(KernelConfig::MICROKIT_RELEASE));
        assert_eq!(img[1000], 0xaa);
        assert_eq!(img[1033], 0xaa);
        let mut two = img;
        two[2000..2032].copy_from_slice(&KernelConfig::SEL4_DEFAULT.to_bytes());
        assert_eq!(find_record(&two), Err(RecordError::Ambiguous));
        assert_eq!(find_record(&[0u8; 64]), Err(RecordError::Missing));
        assert_eq!(find_record(&img[..1020]), Err(RecordError::Missing));
    }

    #[test]
    fn single_options_set_as_sel4s_build_does() {
        // sel4test's x86_64 simulation build: seL4's defaults with the IOMMU off.
        let sim = KernelConfig::SEL4_DEFAULT
            .with_option("CONFIG_IOMMU", 0)
            .unwrap();
        assert!(!sim.iommu && KernelConfig::SEL4_DEFAULT.iommu);
        assert_eq!(KernelConfig::from_words(&sim.to_words()), sim);
        assert_eq!(sim.options()[7], ("CONFIG_IOMMU", 0));
        // A record without the IOMMU bit (older images) means the IOMMU is on.
        let mut old = KernelConfig::SEL4_DEFAULT.to_words();
        old[2] &= !FLAG_NO_IOMMU;
        assert!(KernelConfig::from_words(&old).iommu);
        let d = KernelConfig::SEL4_DEFAULT;
        assert_eq!(
            d.with_option("CONFIG_NUM_DOMAINS", 16).unwrap().num_domains,
            16
        );
        assert_eq!(
            d.with_option("CONFIG_NUM_DOMAINS", 0),
            Err(OptionError::BadValue)
        );
        assert_eq!(
            d.with_option("CONFIG_PRINTING", 2),
            Err(OptionError::BadValue)
        );
        assert!(!d.with_option("CONFIG_PRINTING", 0).unwrap().printing);
        assert_eq!(d.with_option("CONFIG_MAX_NUM_NODES", 1), Ok(d));
        assert_eq!(
            d.with_option("CONFIG_MAX_NUM_NODES", 4).unwrap().max_num_nodes,
            4
        );
        for bad in [0, MAX_NUM_NODES_LIMIT + 1] {
            assert_eq!(
                d.with_option("CONFIG_MAX_NUM_NODES", bad),
                Err(OptionError::BadValue)
            );
        }
        assert_eq!(
            d.with_option("CONFIG_KERNEL_MCS", 0),
            Err(OptionError::Fixed)
        );
        assert_eq!(d.with_option("CONFIG_VTX", 1), Err(OptionError::Unknown));
        let hyp = d.with_option("CONFIG_ARM_HYPERVISOR_SUPPORT", 1).unwrap();
        assert!(hyp.hypervisor && !d.hypervisor);
        assert_eq!(KernelConfig::from_words(&hyp.to_words()), hyp);
        assert_eq!(hyp.options()[6], ("CONFIG_HYPERVISOR_SUPPORT", 1));
        assert_eq!(d.with_option("CONFIG_HYPERVISOR_SUPPORT", 1), Ok(hyp));
        assert_eq!(
            d.with_option("CONFIG_HYPERVISOR_SUPPORT", 2),
            Err(OptionError::BadValue)
        );
    }

    #[test]
    fn options_use_sel4_names() {
        let o = KernelConfig::MICROKIT_DEBUG.options();
        assert_eq!(o[0], ("CONFIG_NUM_DOMAINS", 16));
        assert_eq!(o[1], ("CONFIG_KERNEL_MCS", 1));
        assert_eq!(o[3], ("CONFIG_PRINTING", 1));
    }
}
