//! The boot payload: a table of files (initial task ELF, later the Microkit system) placed by
//! the image tool in physical memory after the kernel.
//!
//! Layout (all words little-endian u64):
//! ```text
//! 0   magic = PAYLOAD_MAGIC
//! 8   count
//! 16  entries[count] = { offset (from payload start), len }
//! ..  file bytes, each starting on a 4 KiB boundary
//! ```
//! The kernel learns where the payload is from its `KERNEL_PAYLOAD` symbol, a
//! `[u64; 2] = [paddr, len]` in `.data` that the tool patches in the kernel ELF.

/// First word of a payload ("PAYLOAD1", little-endian).
pub const PAYLOAD_MAGIC: u64 = u64::from_le_bytes(*b"PAYLOAD1");
/// Name of the kernel symbol `[u64; 2]` (= payload paddr, payload len) the tool patches.
pub const DESCRIPTOR_SYMBOL: &str = "KERNEL_PAYLOAD";
/// Alignment of the payload and of each file in it.
pub const PAYLOAD_ALIGN: u64 = 4096;
/// Most files a payload may hold.
pub const MAX_FILES: u64 = 64;

/// Why a payload cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Too short or wrong magic.
    BadMagic,
    /// More than [`MAX_FILES`] entries.
    TooManyFiles,
    /// An entry points outside the payload.
    OutOfBounds,
    /// The requested file index does not exist.
    NoSuchFile,
}

fn word(b: &[u8], i: usize) -> Option<u64> {
    let s = b.get(i.checked_mul(8)?..i.checked_mul(8)?.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// A validated payload table.
#[derive(Clone, Copy, Debug)]
pub struct Payload<'a> {
    bytes: &'a [u8],
    count: usize,
}

impl<'a> Payload<'a> {
    /// Check the magic and that every entry lies inside `bytes`.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PayloadError> {
        if word(bytes, 0) != Some(PAYLOAD_MAGIC) {
            return Err(PayloadError::BadMagic);
        }
        let count = word(bytes, 1).ok_or(PayloadError::BadMagic)?;
        if count > MAX_FILES {
            return Err(PayloadError::TooManyFiles);
        }
        let p = Payload {
            bytes,
            count: count as usize,
        };
        for i in 0..p.count {
            p.file(i)?;
        }
        Ok(p)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the payload holds no file.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The bytes of file `i`.
    pub fn file(&self, i: usize) -> Result<&'a [u8], PayloadError> {
        if i >= self.count {
            return Err(PayloadError::NoSuchFile);
        }
        let off = word(self.bytes, 2 + 2 * i).ok_or(PayloadError::OutOfBounds)?;
        let len = word(self.bytes, 3 + 2 * i).ok_or(PayloadError::OutOfBounds)?;
        let start = usize::try_from(off).map_err(|_| PayloadError::OutOfBounds)?;
        let len = usize::try_from(len).map_err(|_| PayloadError::OutOfBounds)?;
        let end = start.checked_add(len).ok_or(PayloadError::OutOfBounds)?;
        self.bytes.get(start..end).ok_or(PayloadError::OutOfBounds)
    }
}

/// Header size in bytes for `count` files.
pub fn header_len(count: usize) -> usize {
    16 + 16 * count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(files: &[&[u8]]) -> Vec<u8> {
        let mut out = vec![0u8; header_len(files.len())];
        out[0..8].copy_from_slice(&PAYLOAD_MAGIC.to_le_bytes());
        out[8..16].copy_from_slice(&(files.len() as u64).to_le_bytes());
        for (i, f) in files.iter().enumerate() {
            while !out.len().is_multiple_of(PAYLOAD_ALIGN as usize) {
                out.push(0);
            }
            let off = out.len() as u64;
            out[16 + 16 * i..24 + 16 * i].copy_from_slice(&off.to_le_bytes());
            out[24 + 16 * i..32 + 16 * i].copy_from_slice(&(f.len() as u64).to_le_bytes());
            out.extend_from_slice(f);
        }
        out
    }

    #[test]
    fn round_trip() {
        let b = build(&[b"one", b"second"]);
        let p = Payload::parse(&b).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.file(0).unwrap(), b"one");
        assert_eq!(p.file(1).unwrap(), b"second");
        assert_eq!(p.file(2).unwrap_err(), PayloadError::NoSuchFile);
    }

    #[test]
    fn malformed() {
        assert_eq!(Payload::parse(b"").unwrap_err(), PayloadError::BadMagic);
        let mut b = build(&[b"one"]);
        b[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(Payload::parse(&b).unwrap_err(), PayloadError::OutOfBounds);
        let mut b = build(&[]);
        b[8..16].copy_from_slice(&1000u64.to_le_bytes());
        assert_eq!(Payload::parse(&b).unwrap_err(), PayloadError::TooManyFiles);
        let b = build(&[b"abc"]);
        for n in 0..b.len() {
            let _ = Payload::parse(&b[..n]);
        }
    }
}
