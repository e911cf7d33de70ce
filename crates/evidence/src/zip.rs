//! A minimal ZIP writer (APPNOTE 6.3): stored entries (no compression, so
//! the originals are in the archive byte for byte), UTF-8 names, Unix
//! modes, ZIP64 where a size or offset needs it. Every ZIP reader opens it
//! (Windows Explorer, macOS Finder, `unzip`, `bsdtar`, `7z`).

use std::io::{self, Read, Seek, SeekFrom, Write};

use sha2::{Digest, Sha256};

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
const END64: u32 = 0x0606_4b50;
const LOCATOR64: u32 = 0x0706_4b50;
const UTF8_NAMES: u16 = 0x0800;
const MADE_BY_UNIX: u16 = (3 << 8) | 45;
const MAX32: u64 = 0xFFFF_FFFF;

struct Central {
    name: Vec<u8>,
    crc: u32,
    size: u64,
    offset: u64,
    mode: u32,
    zip64: bool,
}

/// Writes a ZIP archive entry by entry.
pub struct ZipWriter<W: Write + Seek> {
    out: W,
    entries: Vec<Central>,
    offset: u64,
    time: u16,
    date: u16,
}

fn u16le(v: u16) -> [u8; 2] {
    v.to_le_bytes()
}
fn u32le(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}
fn u64le(v: u64) -> [u8; 8] {
    v.to_le_bytes()
}

impl<W: Write + Seek> ZipWriter<W> {
    /// A writer whose entries carry this time (UTC, MS-DOS format).
    pub fn new(out: W, at: time::OffsetDateTime) -> Self {
        let year = at.year().clamp(1980, 2107) as u16;
        let date = ((year - 1980) << 9) | ((at.month() as u16) << 5) | u16::from(at.day());
        let time = (u16::from(at.hour()) << 11)
            | (u16::from(at.minute()) << 5)
            | u16::from(at.second() / 2);
        ZipWriter {
            out,
            entries: Vec::new(),
            offset: 0,
            time,
            date,
        }
    }

    /// Adds an entry of exactly `size` bytes read from `data` (an error if
    /// it yields more or fewer); returns the SHA-256 of the bytes stored.
    /// `progress` is called with the bytes written so far; returning
    /// `false` cancels.
    pub fn add(
        &mut self,
        name: &str,
        mode: u32,
        size: u64,
        data: &mut dyn Read,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> io::Result<[u8; 32]> {
        let zip64 = size >= MAX32;
        let offset = self.offset;
        let name_bytes = name.as_bytes().to_vec();
        let mut h = Vec::with_capacity(30 + name_bytes.len() + 20);
        h.extend(u32le(LOCAL));
        h.extend(u16le(if zip64 { 45 } else { 20 }));
        h.extend(u16le(UTF8_NAMES));
        h.extend(u16le(0)); // stored
        h.extend(u16le(self.time));
        h.extend(u16le(self.date));
        h.extend(u32le(0)); // CRC-32, patched below
        let small = if zip64 { MAX32 as u32 } else { size as u32 };
        h.extend(u32le(small));
        h.extend(u32le(small));
        h.extend(u16le(name_bytes.len() as u16));
        h.extend(u16le(if zip64 { 20 } else { 0 }));
        h.extend(&name_bytes);
        if zip64 {
            h.extend(u16le(1));
            h.extend(u16le(16));
            h.extend(u64le(size));
            h.extend(u64le(size));
        }
        self.out.write_all(&h)?;
        let mut crc = crc32fast::Hasher::new();
        let mut sha = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut done = 0u64;
        loop {
            let n = match data.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            done += n as u64;
            if done > size {
                return Err(io::Error::other(format!("{name} is longer than recorded")));
            }
            crc.update(&buf[..n]);
            sha.update(&buf[..n]);
            self.out.write_all(&buf[..n])?;
            if !progress(done) {
                return Err(io::Error::other("cancelled by the user"));
            }
        }
        if done != size {
            return Err(io::Error::other(format!("{name} is shorter than recorded")));
        }
        let crc = crc.finalize();
        self.out.seek(SeekFrom::Start(offset + 14))?;
        self.out.write_all(&u32le(crc))?;
        self.out.seek(SeekFrom::End(0))?;
        self.offset = offset + h.len() as u64 + size;
        self.entries.push(Central {
            name: name_bytes,
            crc,
            size,
            offset,
            mode,
            zip64,
        });
        Ok(sha.finalize().into())
    }

    /// Writes the central directory and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        let cd_start = self.offset;
        let mut cd = Vec::new();
        for e in &self.entries {
            let mut extra = Vec::new();
            if e.size >= MAX32 {
                extra.extend(u64le(e.size));
                extra.extend(u64le(e.size));
            }
            if e.offset >= MAX32 {
                extra.extend(u64le(e.offset));
            }
            let mut x = Vec::new();
            if !extra.is_empty() {
                x.extend(u16le(1));
                x.extend(u16le(extra.len() as u16));
                x.extend(extra);
            }
            let size = if e.size >= MAX32 {
                MAX32 as u32
            } else {
                e.size as u32
            };
            cd.extend(u32le(CENTRAL));
            cd.extend(u16le(MADE_BY_UNIX));
            cd.extend(u16le(if e.zip64 || e.offset >= MAX32 { 45 } else { 20 }));
            cd.extend(u16le(UTF8_NAMES));
            cd.extend(u16le(0));
            cd.extend(u16le(self.time));
            cd.extend(u16le(self.date));
            cd.extend(u32le(e.crc));
            cd.extend(u32le(size));
            cd.extend(u32le(size));
            cd.extend(u16le(e.name.len() as u16));
            cd.extend(u16le(x.len() as u16));
            cd.extend(u16le(0)); // comment
            cd.extend(u16le(0)); // disk
            cd.extend(u16le(0)); // internal attributes
            cd.extend(u32le((0o100000 | e.mode) << 16));
            cd.extend(u32le(if e.offset >= MAX32 {
                MAX32 as u32
            } else {
                e.offset as u32
            }));
            cd.extend(&e.name);
            cd.extend(x);
        }
        self.out.write_all(&cd)?;
        let cd_size = cd.len() as u64;
        let n = self.entries.len() as u64;
        let zip64 = n >= 0xFFFF || cd_start >= MAX32 || cd_size >= MAX32;
        let mut end = Vec::new();
        if zip64 {
            let end64_at = cd_start + cd_size;
            end.extend(u32le(END64));
            end.extend(u64le(44));
            end.extend(u16le(MADE_BY_UNIX));
            end.extend(u16le(45));
            end.extend(u32le(0));
            end.extend(u32le(0));
            end.extend(u64le(n));
            end.extend(u64le(n));
            end.extend(u64le(cd_size));
            end.extend(u64le(cd_start));
            end.extend(u32le(LOCATOR64));
            end.extend(u32le(0));
            end.extend(u64le(end64_at));
            end.extend(u32le(1));
        }
        end.extend(u32le(END));
        end.extend(u16le(0));
        end.extend(u16le(0));
        let n16 = if zip64 { 0xFFFF } else { n as u16 };
        end.extend(u16le(n16));
        end.extend(u16le(n16));
        end.extend(u32le(if zip64 { MAX32 as u32 } else { cd_size as u32 }));
        end.extend(u32le(if zip64 { MAX32 as u32 } else { cd_start as u32 }));
        end.extend(u16le(0));
        self.out.write_all(&end)?;
        self.out.flush()?;
        Ok(self.out)
    }
}
