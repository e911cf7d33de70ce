//! Recording in the app: one recording at a time, into a saved interview.
//!
//! The recorder runs on its own threads (capture, encoding) and writes
//! segments as age ciphertext through the vault's `RecordingWriter`, which
//! holds no reference to the open vault: locking the app while recording
//! does not stop the recording. Stopping joins the segments into one
//! attachment when the vault is unlocked; if it is locked then, the
//! segments stay and are saved (as a recovered recording) at the next unlock.

use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use yaddash_audio::{CODEC, InputInfo, Recorder, RecorderOptions};
use yaddash_vault::{RecordingInfo, RecordingStart, RecordingWriter};

use crate::{ApiError, ApiResult, AppState, Code, lock_ignoring_poison};

/// The one recording of this process (the app has one window and one vault).
static ACTIVE: Mutex<Option<Active>> = Mutex::new(None);

struct Active {
    recorder: Recorder<RecordingWriter>,
    record_id: Uuid,
}

/// Starts a recording.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct RecordingStartRequest {
    /// The interview (saved; its consent level is set).
    pub record_id: Uuid,
    /// The input device id (`recording_inputs`); the default if absent.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub input: Option<String>,
    /// The first seconds hold the spoken consent.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub consent_seconds: Option<u32>,
}

/// What the record panel shows, polled a few times a second.
#[derive(Debug, Clone, Serialize, Default, ts_rs::TS)]
pub struct RecordingStatus {
    /// A recording is running (paused or not).
    pub active: bool,
    /// Paused.
    pub paused: bool,
    /// The interview being recorded.
    pub record_id: Option<Uuid>,
    /// The input.
    pub input: Option<String>,
    /// Milliseconds recorded (pauses not counted).
    pub elapsed_ms: u64,
    /// Peak level of the last buffer, 0..=1.
    pub level: f32,
    /// Bytes free on the vault's disk.
    pub free_bytes: u64,
    /// A recording does not start below this.
    pub min_free_bytes: u64,
}

/// Moves a file into the vault.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
pub struct MoveIntoVaultRequest {
    /// The record.
    pub record_id: Uuid,
    /// Absolute path of the file (picked by the user).
    pub path: String,
}

/// What a move did.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct MovedIntoVault {
    /// The attachment made.
    pub attachment: yaddash_vault::AttachmentInfo,
    /// The original was overwritten and removed.
    pub original_removed: bool,
}

fn audio_error(e: yaddash_audio::AudioError) -> ApiError {
    e.into()
}

impl AppState {
    fn free_bytes(&self) -> u64 {
        yaddash_os::available_space(&self.config.vault_dir).unwrap_or(0)
    }

    /// The capture devices.
    pub fn recording_inputs(&self) -> ApiResult<Vec<InputInfo>> {
        self.mark_activity();
        yaddash_audio::inputs().map_err(audio_error)
    }

    /// Starts recording into an interview. Refused while another recording
    /// runs, for a record that is not an interview, below the free-space
    /// minimum.
    pub fn recording_start(&self, req: RecordingStartRequest) -> ApiResult<RecordingStatus> {
        let mut active = lock_ignoring_poison(&ACTIVE);
        if active.is_some() {
            return Err(ApiError::new(
                Code::RecordingRunning,
                "a recording is already running: stop it first",
            ));
        }
        self.with_vault(|v| {
            // The vault refuses both too; checked here to give each its code.
            if v.get(req.record_id)?.record.kind() != yaddash_model::RecordKind::Interview {
                return Err(ApiError::new(
                    Code::NotAnInterview,
                    "recordings belong to an interview",
                ));
            }
            let free = self.free_bytes();
            let need = yaddash_vault::MIN_FREE_SPACE_TO_START;
            if free < need {
                const MIB: u64 = 1024 * 1024;
                return Err(ApiError::new(
                    Code::RecordingLowSpace,
                    format!(
                        "only {} MiB free on the vault's disk; a recording needs at least {} MiB to start",
                        free / MIB,
                        need / MIB
                    ),
                )
                .with("free_mib", free / MIB)
                .with("need_mib", need / MIB));
            }
            Ok(())
        })?;
        let input = yaddash_audio::resolve_input(req.input.as_deref()).map_err(audio_error)?;
        let writer = self.with_vault(|v| {
            Ok(v.recordings().begin(
                req.record_id,
                &RecordingStart {
                    input: input.clone(),
                    consent_seconds: req.consent_seconds,
                    codec: CODEC.into(),
                },
            )?)
        })?;
        let mut tags = vec![
            ("YADDASH_RECORDING".to_string(), writer.id().to_string()),
            (
                "YADDASH_CAPTURE_START".to_string(),
                writer.started_at().to_string(),
            ),
            ("YADDASH_INPUT".to_string(), input.clone()),
        ];
        if let Some(c) = req.consent_seconds {
            tags.push(("YADDASH_CONSENT_SECONDS".to_string(), c.to_string()));
        }
        let options = RecorderOptions {
            input: Some(input),
            tags,
            ..RecorderOptions::default()
        };
        match Recorder::start(options, writer) {
            Ok(recorder) => {
                *active = Some(Active {
                    recorder,
                    record_id: req.record_id,
                });
            }
            Err((e, writer)) => {
                let _ = self.with_vault(|v| Ok(v.recordings_mut().finish(writer)?));
                return Err(audio_error(e));
            }
        }
        drop(active);
        self.recording_status()
    }

    /// The running recording, for the panel (also keeps the session from
    /// idle-locking while someone is speaking).
    pub fn recording_status(&self) -> ApiResult<RecordingStatus> {
        let active = lock_ignoring_poison(&ACTIVE);
        let mut s = RecordingStatus {
            free_bytes: self.free_bytes(),
            min_free_bytes: yaddash_vault::MIN_FREE_SPACE_TO_START,
            ..RecordingStatus::default()
        };
        if let Some(a) = active.as_ref() {
            self.mark_activity();
            s.active = !a.recorder.is_finished();
            s.paused = a.recorder.is_paused();
            s.record_id = Some(a.record_id);
            s.input = Some(a.recorder.input().to_string());
            s.elapsed_ms = a.recorder.elapsed().as_millis() as u64;
            s.level = a.recorder.level();
        }
        Ok(s)
    }

    /// Pauses the running recording.
    pub fn recording_pause(&self) -> ApiResult<RecordingStatus> {
        if let Some(a) = lock_ignoring_poison(&ACTIVE).as_ref() {
            a.recorder.pause();
        }
        self.recording_status()
    }

    /// Resumes it.
    pub fn recording_resume(&self) -> ApiResult<RecordingStatus> {
        if let Some(a) = lock_ignoring_poison(&ACTIVE).as_ref() {
            a.recorder.resume();
        }
        self.recording_status()
    }

    /// Stops and saves it as an attachment of its interview.
    pub fn recording_stop(&self) -> ApiResult<RecordingInfo> {
        let Some(a) = lock_ignoring_poison(&ACTIVE).take() else {
            return Err(ApiError::new(Code::NoRecording, "no recording is running"));
        };
        let finished = a.recorder.stop();
        // If the vault is locked now, the writer is dropped: its segments
        // are saved as a recovered recording at the next unlock.
        self.with_vault(|v| Ok(v.recordings_mut().finish(finished.sink)?))
    }

    /// "Move into the vault": imports a file, verifies the encrypted copy,
    /// then overwrites and removes the original (what that cannot
    /// guarantee: docs/recording.md).
    pub fn move_into_vault(&self, req: MoveIntoVaultRequest) -> ApiResult<MovedIntoVault> {
        let path = PathBuf::from(&req.path);
        if !path.is_absolute() {
            return Err(ApiError::new(
                Code::PathNotAbsolute,
                "the file path must be absolute",
            ));
        }
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|_| ApiError::new(Code::FileNotFound, "the file cannot be read"))?;
        if !meta.file_type().is_file() {
            return Err(ApiError::new(
                Code::NotARegularFile,
                "only a regular file can be moved into the vault",
            ));
        }
        let info = self.with_vault(|v| {
            let info = v.attach_file(req.record_id, &path, None, &mut |_| true)?;
            v.export_attachment(info.id, &mut std::io::sink(), &mut |_| true)?;
            Ok(info)
        })?;
        let mut h = <sha2::Sha256 as sha2::Digest>::new();
        let mut f = std::fs::File::open(&path)
            .map_err(|_| ApiError::new(Code::FileChanged, "the original cannot be re-read"))?;
        std::io::copy(&mut f, &mut h)
            .map_err(|_| ApiError::new(Code::FileChanged, "the original cannot be re-read"))?;
        if hex::encode(sha2::Digest::finalize(h)) != info.sha256 {
            return Err(ApiError::new(
                Code::FileChanged,
                "the file changed while it was imported: the vault keeps the copy read, the original was not removed",
            ));
        }
        yaddash_os::overwrite_and_remove(&path).map_err(|_| {
            ApiError::new(
                Code::OriginalNotRemoved,
                "the file is saved and verified in the vault, but the original could not be overwritten: remove it yourself",
            )
        })?;
        Ok(MovedIntoVault {
            attachment: info,
            original_removed: true,
        })
    }
}
