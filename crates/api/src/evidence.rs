//! Evidence packs from the app (a person's or case's page), for coordinator
//! vaults: the same `yaddash_evidence::export` the CLI's
//! `yaddash evidence export --related` runs (docs/evidence.md).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::ExportLevel;
use crate::{ApiError, ApiResult, AppState, absolute};

/// An evidence pack to write.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct EvidenceExportRequest {
    /// The person or case whose page it is; its related records come too.
    pub record: Uuid,
    /// Who the pack is for.
    pub level: ExportLevel,
    /// Absolute path of the ZIP file to write (replaced if it exists).
    pub path: String,
}

/// What `evidence_export` wrote.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct EvidenceExported {
    /// The file written (NOT encrypted).
    pub path: String,
    /// Records in the pack.
    pub records: usize,
    /// Attachments in the pack.
    pub attachments: usize,
    /// Device-signed bundle manifests in the pack.
    pub manifests: usize,
    /// Related records and attachments the level left out.
    pub left_out: usize,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// SHA-256 of the file, to note down when handing it over.
    pub sha256: String,
}

impl AppState {
    /// Coordinator: writes an evidence pack of a record and the records
    /// about it, at a level. The file is NOT encrypted.
    pub fn evidence_export(&self, req: EvidenceExportRequest) -> ApiResult<EvidenceExported> {
        let path = absolute(&req.path)?;
        self.with_vault(|v| {
            yaddash_register::require_coordinator(v).map_err(|e| {
                ApiError::wrong_role(yaddash_vault::VaultRole::Coordinator, e.to_string())
            })?;
            let request = yaddash_evidence::Request {
                records: vec![req.record],
                related: true,
                level: req.level,
            };
            let s = yaddash_evidence::export(v, &request, &path, &mut |_| true)?;
            Ok(EvidenceExported {
                path: s.path.display().to_string(),
                records: s.records.len(),
                attachments: s.attachments,
                manifests: s.manifests,
                left_out: s.left_out,
                bytes: s.size,
                sha256: s.sha256,
            })
        })
    }
}
