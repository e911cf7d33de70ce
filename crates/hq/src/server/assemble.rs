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

/// Concatenates the chunks, checks the whole-file hash and the outer
/// signature, and fsyncs: all before anything is acknowledged.
pub(crate) fn assemble(app: &App, u: &Upload, device: &Principal) -> Result<Assembled, ApiError> {
    let dir = app.upload_dir(&u.id);
    let have = received_chunks(&dir);
    let missing: Vec<u64> = (0..u.chunks.len() as u64)
        .filter(|i| have.binary_search(i).is_err())
        .collect();
    if !missing.is_empty() {
        return Ok(Assembled::Missing(missing));
    }
    let tmp = app.dir.blobs().join(format!(".{}.partial", u.id));
    let chunk_ok = |i: usize| -> bool {
        File::open(dir.join(i.to_string()))
            .and_then(|mut f| {
                let mut h = Sha256::new();
                io::copy(&mut f, &mut h)?;
                Ok(hex::encode(h.finalize()) == u.chunks[i])
            })
            .unwrap_or(false)
    };
    if u.chunks.len() == 1 {
        // One chunk: it was checked and fsynced when it arrived; move it.
        fs::rename(dir.join("0"), &tmp).map_err(ApiError::internal)?;
    } else {
        let mut out = File::create(&tmp).map_err(ApiError::internal)?;
        for i in 0..u.chunks.len() {
            let mut f = File::open(dir.join(i.to_string())).map_err(ApiError::internal)?;
            io::copy(&mut f, &mut out).map_err(ApiError::internal)?;
        }
        out.sync_all().map_err(ApiError::internal)?;
    }
    // One pass: the outer signature check, and the whole-file SHA-256.
    let mut hashed = HashingReader::new(File::open(&tmp).map_err(ApiError::internal)?);
    let verified = verify_outer(
        &mut BufReader::with_capacity(1 << 20, &mut hashed),
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
    let whole_ok = whole_hex == u.sha256;
    if !whole_ok {
        let _ = fs::remove_file(&tmp);
        if u.chunks.len() == 1 {
            return Ok(Assembled::Missing(vec![0]));
        }
        // A chunk damaged on our disk since it arrived: drop it so the
        // client sends it again.
        let damaged: Vec<u64> = (0..u.chunks.len())
            .filter(|&i| !chunk_ok(i))
            .map(|i| i as u64)
            .collect();
        for i in &damaged {
            let _ = fs::remove_file(dir.join(i.to_string()));
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
