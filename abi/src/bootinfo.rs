//! `seL4_BootInfo` (MCS layout), `seL4_UntypedDesc`, initial cap slots and extra-bootinfo ids.

/// Initial CNode slot numbers (`seL4_RootCNodeCapSlots`).
pub mod slots {
    /// `seL4_CapNull`.
    pub const NULL: u64 = 0;
    /// `seL4_CapInitThreadTCB`.
    pub const INIT_THREAD_TCB: u64 = 1;
    /// `seL4_CapInitThreadCNode`.
    pub const INIT_THREAD_CNODE: u64 = 2;
    /// `seL4_CapInitThreadVSpace`.
    pub const INIT_THREAD_VSPACE: u64 = 3;
    /// `seL4_CapIRQControl`.
    pub const IRQ_CONTROL: u64 = 4;
    /// `seL4_CapASIDControl`.
    pub const ASID_CONTROL: u64 = 5;
    /// `seL4_CapInitThreadASIDPool`.
    pub const INIT_THREAD_ASID_POOL: u64 = 6;
    /// `seL4_CapIOPortControl` (x86 only).
    pub const IO_PORT_CONTROL: u64 = 7;
    /// `seL4_CapIOSpace` (x86 IOMMU).
    pub const IO_SPACE: u64 = 8;
    /// `seL4_CapBootInfoFrame`.
    pub const BOOT_INFO_FRAME: u64 = 9;
    /// `seL4_CapInitThreadIPCBuffer`.
    pub const INIT_THREAD_IPC_BUFFER: u64 = 10;
    /// `seL4_CapDomain`.
    pub const DOMAIN: u64 = 11;
    /// `seL4_CapSMMUSIDControl`.
    pub const SMMU_SID_CONTROL: u64 = 12;
    /// `seL4_CapSMMUCBControl`.
    pub const SMMU_CB_CONTROL: u64 = 13;
    /// `seL4_CapInitThreadSC` (MCS).
    pub const INIT_THREAD_SC: u64 = 14;
    /// `seL4_CapSMC` (aarch64 ALLOW_SMC_CALLS).
    pub const SMC: u64 = 15;
    /// `seL4_NumInitialCaps`.
    pub const NUM_INITIAL_CAPS: u64 = 16;
}

/// Extra boot info chunk ids (`seL4_BootInfoID`). The extra boot info starts at the page
/// after the boot info and is `extraLen` bytes of chunks, each a header {u64 id, u64 length
/// of the chunk including the header} and its body, packed one after the other (a chunk may
/// start at any byte offset).
pub mod extra_id {
    /// `SEL4_BOOTINFO_HEADER_PADDING`.
    pub const PADDING: u64 = 0;
    /// `SEL4_BOOTINFO_HEADER_X86_VBE`.
    pub const X86_VBE: u64 = 1;
    /// `SEL4_BOOTINFO_HEADER_X86_MBMMAP`: the multiboot memory map ([`super::x86_mmap`]).
    pub const X86_MBMMAP: u64 = 2;
    /// `SEL4_BOOTINFO_HEADER_X86_ACPI_RSDP`: the 36-byte ACPI RSDP.
    pub const X86_ACPI_RSDP: u64 = 3;
    /// `SEL4_BOOTINFO_HEADER_X86_FRAMEBUFFER` (multiboot 2 framebuffer tag).
    pub const X86_FRAMEBUFFER: u64 = 4;
    /// `SEL4_BOOTINFO_HEADER_X86_TSC_FREQ`: a u32, the TSC frequency in MHz.
    pub const X86_TSC_FREQ: u64 = 5;
    /// `SEL4_BOOTINFO_HEADER_FDT`: the flattened device tree.
    pub const FDT: u64 = 6;
}

/// Bytes of an extra boot info chunk header (`seL4_BootInfoHeader`).
pub const EXTRA_HEADER_BYTES: usize = 16;

/// The x86 multiboot memory map chunk (`seL4_X86_BootInfo_mmap_t`, packed): the header,
/// a u32 `mmap_length` (bytes of entries the loader gave, at most [`x86_mmap::ENTRIES_BYTES`]),
/// then room for [`x86_mmap::MAX_ENTRIES`] entries (`seL4_X86_mb_mmap_t`: u32 size, u64
/// base, u64 length, u32 type) copied verbatim from the loader. The chunk always has its
/// full size, whatever `mmap_length` is.
pub mod x86_mmap {
    /// `SEL4_MULTIBOOT_MAX_MMAP_ENTRIES`.
    pub const MAX_ENTRIES: usize = 50;
    /// `sizeof(seL4_X86_mb_mmap_t)`.
    pub const ENTRY_BYTES: usize = 24;
    /// Room for the entries.
    pub const ENTRIES_BYTES: usize = MAX_ENTRIES * ENTRY_BYTES;
    /// Offset of `mmap_length` in the chunk.
    pub const LENGTH_OFFSET: usize = super::EXTRA_HEADER_BYTES;
    /// Offset of the first entry in the chunk.
    pub const ENTRIES_OFFSET: usize = LENGTH_OFFSET + 4;
    /// `sizeof(seL4_X86_BootInfo_mmap_t)`, the chunk's length.
    pub const CHUNK_BYTES: usize = ENTRIES_OFFSET + ENTRIES_BYTES;
    /// `SEL4_MULTIBOOT_RAM_REGION_TYPE`.
    pub const RAM_TYPE: u32 = 1;
}

/// `CONFIG_MAX_NUM_BOOTINFO_UNTYPED_CAPS`.
pub const MAX_BOOTINFO_UNTYPED_CAPS: usize = 230;

/// `seL4_SlotRegion`: slots `start..end` (end exclusive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SlotRegion {
    /// First slot.
    pub start: u64,
    /// One past the last slot.
    pub end: u64,
}

/// `seL4_UntypedDesc` (16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct UntypedDesc {
    /// Physical address of the region.
    pub paddr: u64,
    /// log2 of its size.
    pub size_bits: u8,
    /// 1 for a device untyped.
    pub is_device: u8,
    /// Padding to 16 bytes.
    pub padding: [u8; 6],
}

/// `seL4_BootInfo`, MCS layout (one 4 KiB page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct BootInfo {
    /// Length of the extra bootinfo after this page, in bytes.
    pub extra_len: u64,
    /// This node's id.
    pub node_id: u64,
    /// Number of nodes.
    pub num_nodes: u64,
    /// IOMMU page-table levels (x86).
    pub num_io_pt_levels: u64,
    /// Virtual address of the root task's IPC buffer.
    pub ipc_buffer: u64,
    /// Empty slots.
    pub empty: SlotRegion,
    /// Shared frames (multikernel; unused).
    pub shared_frames: SlotRegion,
    /// Caps to the root task's image frames.
    pub user_image_frames: SlotRegion,
    /// Caps to the root task's page tables.
    pub user_image_paging: SlotRegion,
    /// IOSpace caps (x86 IOMMU).
    pub io_space_caps: SlotRegion,
    /// Caps to extra bootinfo frames.
    pub extra_bi_pages: SlotRegion,
    /// log2 of the root CNode's slot count.
    pub init_thread_cnode_size_bits: u64,
    /// The root task's domain.
    pub init_thread_domain: u64,
    /// SchedControl caps, one per node (MCS).
    pub schedcontrol: SlotRegion,
    /// Untyped caps.
    pub untyped: SlotRegion,
    /// Descriptions of the untyped caps, entry i for slot `untyped.start + i`.
    pub untyped_list: [UntypedDesc; MAX_BOOTINFO_UNTYPED_CAPS],
}

impl Default for BootInfo {
    fn default() -> Self {
        BootInfo {
            extra_len: 0,
            node_id: 0,
            num_nodes: 0,
            num_io_pt_levels: 0,
            ipc_buffer: 0,
            empty: SlotRegion::default(),
            shared_frames: SlotRegion::default(),
            user_image_frames: SlotRegion::default(),
            user_image_paging: SlotRegion::default(),
            io_space_caps: SlotRegion::default(),
            extra_bi_pages: SlotRegion::default(),
            init_thread_cnode_size_bits: 0,
            init_thread_domain: 0,
            schedcontrol: SlotRegion::default(),
            untyped: SlotRegion::default(),
            untyped_list: [UntypedDesc::default(); MAX_BOOTINFO_UNTYPED_CAPS],
        }
    }
}

/// Byte offsets of `seL4_BootInfo` fields (MCS), as in `sel4-abi.md` §7.
pub mod offsets {
    /// extraLen.
    pub const EXTRA_LEN: usize = 0;
    /// nodeID.
    pub const NODE_ID: usize = 8;
    /// numNodes.
    pub const NUM_NODES: usize = 16;
    /// numIOPTLevels.
    pub const NUM_IOPT_LEVELS: usize = 24;
    /// ipcBuffer.
    pub const IPC_BUFFER: usize = 32;
    /// empty.
    pub const EMPTY: usize = 40;
    /// sharedFrames.
    pub const SHARED_FRAMES: usize = 56;
    /// userImageFrames.
    pub const USER_IMAGE_FRAMES: usize = 72;
    /// userImagePaging.
    pub const USER_IMAGE_PAGING: usize = 88;
    /// ioSpaceCaps.
    pub const IO_SPACE_CAPS: usize = 104;
    /// extraBIPages.
    pub const EXTRA_BI_PAGES: usize = 120;
    /// initThreadCNodeSizeBits.
    pub const INIT_THREAD_CNODE_SIZE_BITS: usize = 136;
    /// initThreadDomain.
    pub const INIT_THREAD_DOMAIN: usize = 144;
    /// schedcontrol (MCS).
    pub const SCHEDCONTROL: usize = 152;
    /// untyped.
    pub const UNTYPED: usize = 168;
    /// untypedList.
    pub const UNTYPED_LIST: usize = 184;
}

const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(x86_mmap::CHUNK_BYTES == 1220);
    assert!(offset_of!(BootInfo, extra_len) == offsets::EXTRA_LEN);
    assert!(offset_of!(BootInfo, node_id) == offsets::NODE_ID);
    assert!(offset_of!(BootInfo, num_nodes) == offsets::NUM_NODES);
    assert!(offset_of!(BootInfo, num_io_pt_levels) == offsets::NUM_IOPT_LEVELS);
    assert!(offset_of!(BootInfo, ipc_buffer) == offsets::IPC_BUFFER);
    assert!(offset_of!(BootInfo, empty) == offsets::EMPTY);
    assert!(offset_of!(BootInfo, shared_frames) == offsets::SHARED_FRAMES);
    assert!(offset_of!(BootInfo, user_image_frames) == offsets::USER_IMAGE_FRAMES);
    assert!(offset_of!(BootInfo, user_image_paging) == offsets::USER_IMAGE_PAGING);
    assert!(offset_of!(BootInfo, io_space_caps) == offsets::IO_SPACE_CAPS);
    assert!(offset_of!(BootInfo, extra_bi_pages) == offsets::EXTRA_BI_PAGES);
    assert!(
        offset_of!(BootInfo, init_thread_cnode_size_bits) == offsets::INIT_THREAD_CNODE_SIZE_BITS
    );
    assert!(offset_of!(BootInfo, init_thread_domain) == offsets::INIT_THREAD_DOMAIN);
    assert!(offset_of!(BootInfo, schedcontrol) == offsets::SCHEDCONTROL);
    assert!(offset_of!(BootInfo, untyped) == offsets::UNTYPED);
    assert!(offset_of!(BootInfo, untyped_list) == offsets::UNTYPED_LIST);
    assert!(size_of::<UntypedDesc>() == 16);
    assert!(offset_of!(UntypedDesc, size_bits) == 8);
    assert!(offset_of!(UntypedDesc, is_device) == 9);
    assert!(size_of::<BootInfo>() <= 4096);
};

impl BootInfo {
    /// Size in bytes of the structure.
    pub const SIZE: usize = core::mem::size_of::<BootInfo>();

    /// Serialise to little-endian bytes exactly as the structure lies in memory.
    pub fn to_bytes(&self, out: &mut [u8; BootInfo::SIZE]) {
        let words = [
            self.extra_len,
            self.node_id,
            self.num_nodes,
            self.num_io_pt_levels,
            self.ipc_buffer,
            self.empty.start,
            self.empty.end,
            self.shared_frames.start,
            self.shared_frames.end,
            self.user_image_frames.start,
            self.user_image_frames.end,
            self.user_image_paging.start,
            self.user_image_paging.end,
            self.io_space_caps.start,
            self.io_space_caps.end,
            self.extra_bi_pages.start,
            self.extra_bi_pages.end,
            self.init_thread_cnode_size_bits,
            self.init_thread_domain,
            self.schedcontrol.start,
            self.schedcontrol.end,
            self.untyped.start,
            self.untyped.end,
        ];
        for (i, w) in words.iter().enumerate() {
            out[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        for (i, d) in self.untyped_list.iter().enumerate() {
            let o = offsets::UNTYPED_LIST + 16 * i;
            out[o..o + 8].copy_from_slice(&d.paddr.to_le_bytes());
            out[o + 8] = d.size_bits;
            out[o + 9] = d.is_device;
            out[o + 10..o + 16].copy_from_slice(&d.padding);
        }
    }

    /// Parse from little-endian bytes (inverse of [`BootInfo::to_bytes`]).
    pub fn from_bytes(b: &[u8; BootInfo::SIZE]) -> BootInfo {
        let w = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        let r = |i: usize| SlotRegion {
            start: w(i),
            end: w(i + 8),
        };
        let mut bi = BootInfo {
            extra_len: w(offsets::EXTRA_LEN),
            node_id: w(offsets::NODE_ID),
            num_nodes: w(offsets::NUM_NODES),
            num_io_pt_levels: w(offsets::NUM_IOPT_LEVELS),
            ipc_buffer: w(offsets::IPC_BUFFER),
            empty: r(offsets::EMPTY),
            shared_frames: r(offsets::SHARED_FRAMES),
            user_image_frames: r(offsets::USER_IMAGE_FRAMES),
            user_image_paging: r(offsets::USER_IMAGE_PAGING),
            io_space_caps: r(offsets::IO_SPACE_CAPS),
            extra_bi_pages: r(offsets::EXTRA_BI_PAGES),
            init_thread_cnode_size_bits: w(offsets::INIT_THREAD_CNODE_SIZE_BITS),
            init_thread_domain: w(offsets::INIT_THREAD_DOMAIN),
            schedcontrol: r(offsets::SCHEDCONTROL),
            untyped: r(offsets::UNTYPED),
            untyped_list: [UntypedDesc::default(); MAX_BOOTINFO_UNTYPED_CAPS],
        };
        for (i, d) in bi.untyped_list.iter_mut().enumerate() {
            let o = offsets::UNTYPED_LIST + 16 * i;
            d.paddr = w(o);
            d.size_bits = b[o + 8];
            d.is_device = b[o + 9];
        }
        bi
    }
}

/// `seL4_DebugCapIdentify` tags (kernel cap tags from `structures*.bf`).
pub mod cap_tag {
    /// null_cap.
    pub const NULL: u64 = 0;
    /// untyped_cap.
    pub const UNTYPED: u64 = 2;
    /// endpoint_cap.
    pub const ENDPOINT: u64 = 4;
    /// notification_cap.
    pub const NOTIFICATION: u64 = 6;
    /// reply_cap.
    pub const REPLY: u64 = 8;
    /// cnode_cap.
    pub const CNODE: u64 = 10;
    /// thread_cap.
    pub const THREAD: u64 = 12;
    /// irq_control_cap.
    pub const IRQ_CONTROL: u64 = 14;
    /// irq_handler_cap.
    pub const IRQ_HANDLER: u64 = 16;
    /// zombie_cap.
    pub const ZOMBIE: u64 = 18;
    /// domain_cap.
    pub const DOMAIN: u64 = 20;
    /// sched_context_cap.
    pub const SCHED_CONTEXT: u64 = 22;
    /// sched_control_cap.
    pub const SCHED_CONTROL: u64 = 24;
    /// frame_cap (all arches).
    pub const FRAME: u64 = 1;
    /// page_table_cap (all arches).
    pub const PAGE_TABLE: u64 = 3;
    /// x86 page_directory_cap.
    pub const X86_PAGE_DIRECTORY: u64 = 5;
    /// x86 pdpt_cap.
    pub const X86_PDPT: u64 = 7;
    /// aarch64 vspace_cap / x86 pml4_cap.
    pub const VSPACE: u64 = 9;
    /// asid_control_cap (aarch64).
    pub const ASID_CONTROL: u64 = 11;
    /// asid_pool_cap (aarch64).
    pub const ASID_POOL: u64 = 13;
    /// smc_cap (aarch64 with ALLOW_SMC_CALLS).
    pub const SMC: u64 = 25;
}
