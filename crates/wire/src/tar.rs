//! The subset of POSIX tar (ustar, plus pax `size` records for entries of
//! 8 GiB and more) that bundles use, written and read in one canonical form.
//!
//! Every header Yaddash writes is fully determined by the entry's name and
//! size (mode 0644, uid/gid 0, mtime 0, empty user/group names), so the reader
//! rebuilds the expected header and compares it byte for byte. Anything else
//! (another tar writer, a flipped bit, a sneaked-in link) is refused.

use std::io::{self, Read, Write};

/// Tar block size.
pub const BLOCK: u64 = 512;
/// Largest size the 11-digit octal ustar field holds.
const USTAR_MAX_SIZE: u64 = 0o77_777_777_777;
/// Longest name we write (ustar name field without the prefix field).
pub const MAX_NAME: usize = 99;

/// Zero bytes needed after `size` bytes of data to reach a block boundary.
pub fn padding_after(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

/// Whether an entry of this size needs a pax extended header.
pub fn needs_pax(size: u64) -> bool {
    size > USTAR_MAX_SIZE
}

/// Bytes of header blocks in front of an entry's data.
pub fn header_len(size: u64) -> u64 {
    if needs_pax(size) { 3 * BLOCK } else { BLOCK }
}

/// Total bytes an entry occupies: headers, data, padding.
pub fn entry_len(size: u64) -> u64 {
    header_len(size) + size + padding_after(size)
}

/// Length of the end-of-archive marker (two zero blocks).
pub const END_LEN: u64 = 2 * BLOCK;

fn octal(field: &mut [u8], value: u64) {
    // `field.len() - 1` octal digits, zero-padded, then NUL.
    let digits = field.len() - 1;
    let s = format!("{value:0digits$o}");
    field[..digits].copy_from_slice(&s.as_bytes()[s.len() - digits..]);
    field[digits] = 0;
}

fn ustar_header(name: &[u8], size_field: u64, typeflag: u8) -> [u8; 512] {
    let mut h = [0u8; 512];
    let n = name.len().min(100);
    h[..n].copy_from_slice(&name[..n]);
    octal(&mut h[100..108], 0o644);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size_field);
    octal(&mut h[136..148], 0);
    h[156] = typeflag;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    octal(&mut h[329..337], 0);
    octal(&mut h[337..345], 0);
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}");
    h[148..154].copy_from_slice(s.as_bytes());
    h[154] = 0;
    h[155] = b' ';
    h
}

fn pax_record(size: u64) -> Vec<u8> {
    let body = format!(" size={size}\n");
    let mut len = body.len() + 1;
    loop {
        let total = body.len() + len.to_string().len();
        if total == len {
            break;
        }
        len = total;
    }
    format!("{len}{body}").into_bytes()
}

/// The header blocks for a regular file entry.
pub fn entry_header(name: &str, size: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(header_len(size) as usize);
    if needs_pax(size) {
        let record = pax_record(size);
        let mut pax_name = b"PaxHeader/".to_vec();
        pax_name.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&ustar_header(&pax_name, record.len() as u64, b'x'));
        let mut block = [0u8; 512];
        block[..record.len()].copy_from_slice(&record);
        out.extend_from_slice(&block);
        out.extend_from_slice(&ustar_header(name.as_bytes(), 0, b'0'));
    } else {
        out.extend_from_slice(&ustar_header(name.as_bytes(), size, b'0'));
    }
    out
}

/// Writes `n` zero bytes.
pub fn write_zeros(out: &mut impl Write, mut n: u64) -> io::Result<()> {
    let zeros = [0u8; 512];
    while n > 0 {
        let k = n.min(512) as usize;
        out.write_all(&zeros[..k])?;
        n -= k as u64;
    }
    Ok(())
}

/// Why a tar stream was refused.
#[derive(Debug)]
pub enum TarError {
    /// Reading failed.
    Io(io::Error),
    /// The stream ended early.
    Eof,
    /// The bytes are not in the canonical form.
    Malformed(&'static str),
}

impl From<io::Error> for TarError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            TarError::Eof
        } else {
            TarError::Io(e)
        }
    }
}

/// One parsed entry header.
#[derive(Debug)]
pub struct EntryHeader {
    /// Entry name.
    pub name: String,
    /// Entry size in bytes.
    pub size: u64,
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let (digits, rest) = field.split_at(field.len() - 1);
    if rest != [0] || digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(v)
}

fn parse_name(field: &[u8]) -> Option<String> {
    let end = field.iter().position(|&b| b == 0)?;
    let name = std::str::from_utf8(&field[..end]).ok()?;
    Some(name.to_owned())
}

/// Reads one full block.
fn read_block(input: &mut impl Read) -> Result<[u8; 512], TarError> {
    let mut block = [0u8; 512];
    input.read_exact(&mut block)?;
    Ok(block)
}

/// Reads the next entry header. Returns `None` after consuming the
/// end-of-archive marker (two zero blocks).
pub fn read_entry_header(input: &mut impl Read) -> Result<Option<EntryHeader>, TarError> {
    let block = read_block(input)?;
    if block.iter().all(|&b| b == 0) {
        let second = read_block(input)?;
        if second.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        return Err(TarError::Malformed("a lone zero block inside the archive"));
    }
    let typeflag = block[156];
    let name = parse_name(&block[..100]).ok_or(TarError::Malformed("unreadable entry name"))?;
    let size_field =
        parse_octal(&block[124..136]).ok_or(TarError::Malformed("unreadable entry size"))?;
    match typeflag {
        b'0' => {
            if needs_pax(size_field) || name.len() > MAX_NAME || name.is_empty() {
                return Err(TarError::Malformed("entry header out of range"));
            }
            if ustar_header(name.as_bytes(), size_field, b'0') != block {
                return Err(TarError::Malformed("entry header is not in canonical form"));
            }
            Ok(Some(EntryHeader {
                name,
                size: size_field,
            }))
        }
        b'x' => {
            if size_field > BLOCK {
                return Err(TarError::Malformed("oversized pax header"));
            }
            let record_block = read_block(input)?;
            let record = &record_block[..size_field as usize];
            let text = std::str::from_utf8(record)
                .map_err(|_| TarError::Malformed("unreadable pax header"))?;
            let size = text
                .split_once(" size=")
                .and_then(|(_, v)| v.strip_suffix('\n'))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(TarError::Malformed("unreadable pax size"))?;
            let file_block = read_block(input)?;
            let name = parse_name(&file_block[..100])
                .ok_or(TarError::Malformed("unreadable entry name"))?;
            if !needs_pax(size) || name.is_empty() || name.len() > MAX_NAME {
                return Err(TarError::Malformed("pax entry out of range"));
            }
            let expected = entry_header(&name, size);
            if expected[..512] != block
                || expected[512..1024] != record_block
                || expected[1024..] != file_block
            {
                return Err(TarError::Malformed("pax header is not in canonical form"));
            }
            Ok(Some(EntryHeader { name, size }))
        }
        _ => Err(TarError::Malformed("entry is not a regular file")),
    }
}

/// Consumes the zero padding after `size` bytes of data, insisting on zeros.
pub fn skip_padding(input: &mut impl Read, size: u64) -> Result<(), TarError> {
    let n = padding_after(size) as usize;
    let mut buf = [0u8; 512];
    input.read_exact(&mut buf[..n])?;
    if buf[..n].iter().any(|&b| b != 0) {
        return Err(TarError::Malformed("non-zero bytes in block padding"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_length_is_self_consistent() {
        for size in [USTAR_MAX_SIZE + 1, 10 * 1024 * 1024 * 1024, u64::MAX] {
            let r = pax_record(size);
            let text = String::from_utf8(r.clone()).unwrap();
            let (len, _) = text.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), r.len());
        }
    }

    #[test]
    fn headers_round_trip() {
        for size in [0, 1, 511, 512, USTAR_MAX_SIZE, USTAR_MAX_SIZE + 1] {
            let mut bytes = entry_header("records/x.json", size);
            bytes.extend_from_slice(&[0u8; 1024]);
            let mut r = &bytes[..];
            let h = read_entry_header(&mut r).unwrap().unwrap();
            assert_eq!((h.name.as_str(), h.size), ("records/x.json", size));
            assert!(read_entry_header(&mut r).unwrap().is_none());
        }
    }
}
