//! Server settings: defaults, then a TOML file, then `YADDASH_HQ_*`
//! environment variables (each field upper-cased, e.g.
//! `YADDASH_HQ_MAX_BUNDLE_BYTES`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// All settings. Sizes in bytes, durations in seconds.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub listen: String,
    /// Metadata store: `sqlite` (default, `DIR/hq.sqlite`), `sqlite:PATH` or
    /// `postgres://...`.
    pub database_url: String,
    /// Where chunks and bundles live: `fs` (default: under the data
    /// directory) or `s3://BUCKET[/PREFIX]` (any S3-compatible store).
    pub blob_store: String,
    /// S3 endpoint URL (empty: AWS, or `AWS_ENDPOINT`), e.g.
    /// `https://minio.internal:9000`.
    pub s3_endpoint: String,
    /// S3 region (empty: `AWS_REGION`, else `us-east-1`).
    pub s3_region: String,
    /// Allow a plain-http S3 endpoint (loopback tests, a store on the same
    /// host). The blobs are ciphertext, but the credentials are not.
    pub s3_allow_http: bool,
    /// Largest accepted bundle.
    pub max_bundle_bytes: u64,
    /// Largest accepted chunk (and so request body).
    pub max_chunk_bytes: u64,
    /// Largest JSON request body.
    pub max_json_bytes: u64,
    /// Open upload sessions per device.
    pub max_uploads_per_device: u64,
    /// Bytes a device may have waiting for the coordinators.
    pub device_quota_bytes: u64,
    /// Signed requests per signer per minute.
    pub rate_per_minute: u32,
    /// Enrollment attempts per minute, server-wide (the signer of an
    /// enrollment is not known yet, so it gets no table entry of its own).
    pub enroll_per_minute: u32,
    /// Signers tracked for rate limiting at once (a fixed-size table:
    /// when full, new signers are refused until a minute window ends).
    pub max_rate_entries: u64,
    /// Bundles verified at the same time (CPU- and disk-heavy).
    pub max_concurrent_completes: u32,
    /// Open connections.
    pub max_connections: u32,
    /// Time allowed to send the request headers (slow-loris guard).
    pub header_timeout_secs: u64,
    /// Time allowed to send a request body.
    pub body_timeout_secs: u64,
    /// Delete acknowledged bundles this long after acknowledgement.
    pub retention_secs: u64,
    /// Forget unfinished uploads after this long.
    pub upload_ttl_secs: u64,
    /// How often housekeeping runs.
    pub housekeeping_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8440".into(),
            database_url: "sqlite".into(),
            blob_store: "fs".into(),
            s3_endpoint: String::new(),
            s3_region: String::new(),
            s3_allow_http: false,
            max_bundle_bytes: 4 << 30,
            max_chunk_bytes: 8 << 20,
            max_json_bytes: 1 << 20,
            max_uploads_per_device: 16,
            device_quota_bytes: 20 << 30,
            rate_per_minute: 6000,
            enroll_per_minute: 600,
            max_rate_entries: 100_000,
            max_concurrent_completes: 8,
            max_connections: 2048,
            header_timeout_secs: 10,
            body_timeout_secs: 120,
            retention_secs: 7 * 24 * 3600,
            upload_ttl_secs: 7 * 24 * 3600,
            housekeeping_secs: 60,
        }
    }
}

/// A settings problem.
#[derive(Debug)]
pub struct SettingsError(pub String);

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

impl Settings {
    /// Defaults, then the TOML file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let mut table = toml::Table::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                SettingsError(format!(
                    "cannot read the settings file {}: {e}",
                    path.display()
                ))
            })?;
            table = text.parse::<toml::Table>().map_err(|e| {
                SettingsError(format!(
                    "the settings file {} is not valid TOML: {e}",
                    path.display()
                ))
            })?;
        }
        let defaults =
            toml::Table::try_from(Settings::default()).map_err(|e| SettingsError(e.to_string()))?;
        for (key, default) in defaults {
            let env = format!("YADDASH_HQ_{}", key.to_ascii_uppercase());
            if let Ok(v) = std::env::var(&env) {
                let value = match default {
                    toml::Value::Boolean(_) => match v.trim() {
                        "1" | "true" | "yes" => toml::Value::Boolean(true),
                        "0" | "false" | "no" | "" => toml::Value::Boolean(false),
                        _ => {
                            return Err(SettingsError(format!(
                                "{env} must be true or false, not {v:?}"
                            )));
                        }
                    },
                    toml::Value::Integer(_) => {
                        toml::Value::Integer(v.trim().parse().map_err(|_| {
                            SettingsError(format!("{env} must be a whole number, not {v:?}"))
                        })?)
                    }
                    _ => toml::Value::String(v),
                };
                table.insert(key, value);
            }
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e| SettingsError(format!("invalid setting: {e}")))
    }
}

impl serde::Serialize for Settings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Settings", 21)?;
        st.serialize_field("listen", &self.listen)?;
        st.serialize_field("database_url", &self.database_url)?;
        st.serialize_field("blob_store", &self.blob_store)?;
        st.serialize_field("s3_endpoint", &self.s3_endpoint)?;
        st.serialize_field("s3_region", &self.s3_region)?;
        st.serialize_field("s3_allow_http", &self.s3_allow_http)?;
        st.serialize_field("max_bundle_bytes", &(self.max_bundle_bytes as i64))?;
        st.serialize_field("max_chunk_bytes", &(self.max_chunk_bytes as i64))?;
        st.serialize_field("max_json_bytes", &(self.max_json_bytes as i64))?;
        st.serialize_field(
            "max_uploads_per_device",
            &(self.max_uploads_per_device as i64),
        )?;
        st.serialize_field("device_quota_bytes", &(self.device_quota_bytes as i64))?;
        st.serialize_field("rate_per_minute", &i64::from(self.rate_per_minute))?;
        st.serialize_field("enroll_per_minute", &i64::from(self.enroll_per_minute))?;
        st.serialize_field("max_rate_entries", &(self.max_rate_entries as i64))?;
        st.serialize_field(
            "max_concurrent_completes",
            &i64::from(self.max_concurrent_completes),
        )?;
        st.serialize_field("max_connections", &i64::from(self.max_connections))?;
        st.serialize_field("header_timeout_secs", &(self.header_timeout_secs as i64))?;
        st.serialize_field("body_timeout_secs", &(self.body_timeout_secs as i64))?;
        st.serialize_field("retention_secs", &(self.retention_secs as i64))?;
        st.serialize_field("upload_ttl_secs", &(self.upload_ttl_secs as i64))?;
        st.serialize_field("housekeeping_secs", &(self.housekeeping_secs as i64))?;
        st.end()
    }
}

/// Where the server keeps its files.
#[derive(Clone, Debug)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// The server's signing key (OpenSSH private key, mode 0600).
    pub fn key(&self) -> PathBuf {
        self.0.join("server.key")
    }
    /// Accepted bundles.
    pub fn blobs(&self) -> PathBuf {
        self.0.join("blobs")
    }
    /// Chunks of unfinished uploads.
    pub fn uploads(&self) -> PathBuf {
        self.0.join("uploads")
    }
    /// Request bodies being received, and bundles being assembled for a
    /// remote blob store (this instance's own; never shared).
    pub fn tmp(&self) -> PathBuf {
        self.0.join("tmp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("hq.toml");
        std::fs::write(&f, "max_chunk_bytes = 1024\nlisten = \"127.0.0.1:1\"\n").unwrap();
        let s = Settings::load(Some(&f)).unwrap();
        assert_eq!(s.max_chunk_bytes, 1024);
        assert_eq!(s.listen, "127.0.0.1:1");
        assert_eq!(s.max_bundle_bytes, Settings::default().max_bundle_bytes);
        std::fs::write(&f, "nonsense = 1\n").unwrap();
        assert!(Settings::load(Some(&f)).is_err());
    }
}
