//! Putting an upload's chunks together and checking the bundle.

use super::*;

pub(crate) struct OnlySigner(Principal);

impl SenderDirectory for OnlySigner {
    fn lookup(&self, device_id: Uuid) -> Option<KnownSender> {
        (device_id == self.0.id).then(|| KnownSender {
            signing_key: self.0.signing_key.clone(),
            revoked_from: self.0.revoked_from,
        })
    }
}

pub(crate) enum Assembled {
    Missing(Vec<u64>),
    Ready { tmp: PathBuf, bundle_id: String },
}

/// Hashes what is read through it, as long as reads are sequential from the
/// start (seeking back to 0 restarts the hash).
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    pos: u64,
    hashed: u64,
}

impl<R> HashingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            pos: 0,
            hashed: 0,
        }
    }
    fn hex(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.pos == self.hashed {
            self.hasher.update(&buf[..n]);
            self.hashed += n as u64;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for HashingReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        if self.pos == 0 {
            self.hasher = Sha256::new();
            self.hashed = 0;
        }
        Ok(self.pos)
    }
}

/// Reads an upload's chunks in order and writes what it reads to the
/// assembly file, hashing it: the outer-signature check reads through it,
/// so chunks are read once. It pretends to seek only where
/// `verify_outer` needs it (the length, then back to the start).
pub(crate) struct TeeChunks<'a> {
    blobs: &'a dyn crate::blobs::BlobStore,
    upload: &'a str,
    count: u64,
    next: u64,
    current: Option<crate::blobs::BlobReader>,
    /// The assembly file, written on a thread of its own (`O_DIRECT` where
    /// the file system takes it).
    out: yaddash_os::WriteBehind,
    hasher: Sha256,
    pos: u64,
    len: u64,
}

impl Read for TeeChunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.current.is_none() {
                if self.next == self.count {
                    return Ok(0);
                }
                self.current = Some(self.blobs.open_chunk(self.upload, self.next)?);
                self.next += 1;
            }
            let Some(r) = self.current.as_mut() else {
                return Ok(0);
            };
            let n = r.read(buf)?;
            if n == 0 {
                self.current = None;
                continue;
            }
            self.out.write_all(&buf[..n])?;
            self.hasher.update(&buf[..n]);
            self.pos += n as u64;
            return Ok(n);
        }
    }
}

impl Seek for TeeChunks<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match to {
            SeekFrom::End(0) => Ok(self.len),
            SeekFrom::Current(0) => Ok(self.pos),
            SeekFrom::Start(p) if p == self.pos => Ok(self.pos),
            _ => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "assembly reads the chunks in order only",
            )),
        }
    }
}

/// Concatenates the chunks, checks the whole-file hash and the outer
/// signature, and fsyncs: all before anything is acknowledged.
pub(crate) fn assemble(app: &App, u: &Upload, device: &Principal) -> Result<Assembled, ApiError> {
    let blobs = &*app.blobs;
    let have = blobs.chunks(&u.id).map_err(ApiError::internal)?;
    let missing: Vec<u64> = (0..u.chunks.len() as u64)
        .filter(|i| have.binary_search(i).is_err())
        .collect();
    if !missing.is_empty() {
        return Ok(Assembled::Missing(missing));
    }
    let tmp = blobs.assembly_path(&u.id);
    let chunk_ok = |i: usize| -> bool {
        blobs
            .open_chunk(&u.id, i as u64)
            .and_then(|mut f| {
                let mut h = Sha256::new();
                io::copy(&mut f, &mut h)?;
                Ok(hex::encode(h.finalize()) == u.chunks[i])
            })
            .unwrap_or(false)
    };
    let single = u.chunks.len() == 1 && blobs.take_only_chunk(&u.id, &tmp).unwrap_or(false);
    let (verified, whole_hex) = if single {
        // One chunk: it was checked and fsynced when it arrived and was
        // moved here; read it once for the signature and the hash.
        let mut hashed = HashingReader::new(File::open(&tmp).map_err(ApiError::internal)?);
        let verified = verify_outer(
            &mut BufReader::with_capacity(256 << 10, &mut hashed),
            &OnlySigner(device.clone()),
        );
        let whole_hex = if hashed.hashed == u.size {
            hashed.hex()
        } else {
            // The check stopped early (a refused bundle): hash the rest the slow way.
            File::open(&tmp)
                .and_then(|mut f| {
                    let mut h = Sha256::new();
                    io::copy(&mut f, &mut h)?;
                    Ok(hex::encode(h.finalize()))
                })
                .map_err(ApiError::internal)?
        };
        (verified, whole_hex)
    } else {
        // One pass over the chunks: written to the assembly file, hashed,
        // and the outer signature checked, as they are read.
        let mut tee = TeeChunks {
            blobs,
            upload: &u.id,
            count: u.chunks.len() as u64,
            next: 0,
            current: None,
            out: File::create(&tmp)
                .and_then(yaddash_os::WriteBehind::new)
                .map_err(ApiError::internal)?,
            hasher: Sha256::new(),
            pos: 0,
            len: u.size,
        };
        let verified = verify_outer(
            &mut BufReader::with_capacity(256 << 10, &mut tee),
            &OnlySigner(device.clone()),
        );
        // Whatever the check did not need (a refused bundle) still goes
        // through, for the whole-file hash.
        let drained = io::copy(&mut tee, &mut io::sink());
        let hasher = tee.hasher;
        if let Err(e) = drained
            .and_then(|_| tee.out.finish())
            .and_then(|f| f.sync_all())
        {
            let _ = fs::remove_file(&tmp);
            return Err(ApiError::internal(e));
        }
        (verified, hex::encode(hasher.finalize()))
    };
    let whole_ok = whole_hex == u.sha256;
    if !whole_ok {
        let _ = fs::remove_file(&tmp);
        if single {
            return Ok(Assembled::Missing(vec![0]));
        }
        // A chunk damaged in storage since it arrived: drop it so the
        // client sends it again.
        let damaged: Vec<u64> = (0..u.chunks.len())
            .filter(|&i| !chunk_ok(i))
            .map(|i| i as u64)
            .collect();
        for i in &damaged {
            let _ = blobs.delete_chunk(&u.id, *i);
        }
        if !damaged.is_empty() {
            return Ok(Assembled::Missing(damaged));
        }
    }
    let check = match verified {
        Ok(c) if whole_ok => c,
        Ok(_) => {
            return Err(ApiError::new(
                422,
                "bundle_hash_mismatch",
                "the chunks do not add up to the announced SHA-256 of the bundle",
            ));
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            let code = match e {
                yaddash_wire::ReadError::UnknownSender { .. } => "not_your_bundle",
                yaddash_wire::ReadError::OuterSignatureInvalid(_) => "bundle_signature_invalid",
                _ => "bundle_rejected",
            };
            return Err(ApiError::new(
                422,
                code,
                format!("the bundle was refused: {e}"),
            ));
        }
    };
    Ok(Assembled::Ready {
        tmp,
        bundle_id: check.outer.bundle_id.to_string(),
    })
}
