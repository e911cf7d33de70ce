//! Recording testimony straight into the vault.
//!
//! * [`capture`]: capture devices through cpal (ALSA; PulseAudio/PipeWire
//!   through ALSA's plugins).
//! * [`encoder`]: Opus at 24 kbit/s CBR mono in one Ogg stream, cut into
//!   segments at page boundaries.
//! * [`Recorder`]: a capture stream and an encoding thread feeding a
//!   [`SegmentSink`] — the vault's [`yaddash_vault::RecordingWriter`], which
//!   writes each segment as an age file to the storage key.
//!
//! Audio exists in plaintext only in this process's memory: the capture
//! callback's buffers, the channel to the encoder, the encoder's state and
//! the age writer's current 64 KiB chunk. Nothing is written to a file, a
//! temporary file or a pipe before it is encrypted.
//!
//! Dependencies: model ← vault ← audio ← CLI / app. The vault knows nothing
//! of audio; this crate knows the vault only as a sink of Ogg pages.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod capture;
pub mod encoder;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

pub use capture::{InputInfo, inputs};
pub use encoder::{
    BITRATE, CODEC, EncodeError, MemorySink, OggOpusEncoder, SAMPLE_RATE, SegmentSink,
};

/// Segment length: a crash loses at most this much audio.
pub const DEFAULT_SEGMENT: Duration = Duration::from_secs(30);

/// How long an input may take to deliver its first audio.
const FIRST_AUDIO: Duration = Duration::from_secs(10);

/// Recording errors. Messages name devices, never audio content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    /// No input device at all.
    #[error("no audio input found: connect a microphone (or check that the sound system runs)")]
    NoInput,
    /// `--input` names no device.
    #[error("no audio input named {0:?}")]
    UnknownInput(String),
    /// The device refused to open or failed while recording.
    #[error("the audio input failed: {0}")]
    Device(String),
    /// Encoding or writing failed.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// How to record.
#[derive(Debug, Clone)]
pub struct RecorderOptions {
    /// The device id (from [`inputs`]); `None` for the default input.
    pub input: Option<String>,
    /// Stop by itself after this long (pauses not counted).
    pub max: Option<Duration>,
    /// Segment length.
    pub segment: Duration,
    /// `KEY=value` comments for the `OpusTags` header.
    pub tags: Vec<(String, String)>,
}

impl Default for RecorderOptions {
    fn default() -> Self {
        RecorderOptions {
            input: None,
            max: None,
            segment: DEFAULT_SEGMENT,
            tags: Vec::new(),
        }
    }
}

/// Resolves an input name (or the default) to its device id, opening nothing.
pub fn resolve_input(name: Option<&str>) -> Result<String, AudioError> {
    capture::find(name).map(|(_, id)| id)
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    paused: AtomicBool,
    finished: AtomicBool,
    samples: AtomicU64,
    meter: Arc<capture::Meter>,
}

/// How a recording ended.
#[derive(Debug)]
pub struct Finished<S> {
    /// The sink, to finish (the vault's writer goes to `finish_recording`).
    pub sink: S,
    /// Audio recorded (48 kHz samples; pauses not counted).
    pub samples: u64,
    /// Buffers lost because the encoder fell behind (0 on a sane machine).
    pub overruns: u64,
    /// Set when the recording stopped on an error: what was closed is kept.
    pub error: Option<AudioError>,
    /// True when the stream was ended properly (end-of-stream page written).
    pub complete: bool,
}

/// A recording in progress: a capture stream and an encoding thread.
pub struct Recorder<S: SegmentSink + Send + 'static> {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Finished<S>>>,
    input: String,
}

impl<S: SegmentSink + Send + 'static> Recorder<S> {
    /// Opens the input and starts recording into `sink`. On failure the
    /// sink is handed back with the error, untouched but for the headers.
    pub fn start(options: RecorderOptions, sink: S) -> Result<Recorder<S>, (AudioError, S)> {
        let shared = Arc::new(Shared::default());
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<String, AudioError>>(1);
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("yaddash-record".into())
            .spawn(move || record_thread(options, sink, sh, ready_tx));
        let thread = match thread {
            Ok(t) => t,
            // The sink moved into a closure that never ran.
            Err(e) => panic!("cannot start the recording thread: {e}"),
        };
        match ready_rx.recv() {
            Ok(Ok(input)) => Ok(Recorder {
                shared,
                thread: Some(thread),
                input,
            }),
            Ok(Err(e)) => match thread.join() {
                Ok(f) => Err((e, f.sink)),
                Err(_) => std::panic::resume_unwind(Box::new("the recording thread failed")),
            },
            Err(_) => match thread.join() {
                Ok(f) => Err((
                    f.error
                        .unwrap_or_else(|| AudioError::Device("the input did not start".into())),
                    f.sink,
                )),
                Err(p) => std::panic::resume_unwind(p),
            },
        }
    }

    /// The device id recorded from.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Pauses: the input stays open, nothing is encoded until [`Recorder::resume`].
    pub fn pause(&self) {
        self.shared.paused.store(true, Ordering::SeqCst);
    }

    /// Resumes after [`Recorder::pause`].
    pub fn resume(&self) {
        self.shared.paused.store(false, Ordering::SeqCst);
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.shared.paused.load(Ordering::SeqCst)
    }

    /// The input's peak level of the last buffer, 0.0..=1.0.
    pub fn level(&self) -> f32 {
        f32::from_bits(self.shared.meter.peak.load(Ordering::Relaxed))
    }

    /// Audio recorded so far (pauses not counted).
    pub fn elapsed(&self) -> Duration {
        Duration::from_millis(self.shared.samples.load(Ordering::Relaxed) / 48)
    }

    /// True once the recording stopped by itself (`max` reached, an error).
    pub fn is_finished(&self) -> bool {
        self.shared.finished.load(Ordering::SeqCst)
    }

    /// Stops, ends the stream and returns the sink. The audio captured
    /// before this call and still on its way (in the channel to the
    /// encoder) is kept; nothing captured after it is.
    pub fn stop(mut self) -> Finished<S> {
        self.shared.meter.stopped.store(true, Ordering::SeqCst);
        self.shared.stop.store(true, Ordering::SeqCst);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(f)) => f,
            Some(Err(p)) => std::panic::resume_unwind(p),
            None => unreachable!("stop consumes the recorder"),
        }
    }
}

fn record_thread<S: SegmentSink>(
    options: RecorderOptions,
    sink: S,
    shared: Arc<Shared>,
    ready: mpsc::SyncSender<Result<String, AudioError>>,
) -> Finished<S> {
    let fail = |sink: S, e: AudioError, ready: &mpsc::SyncSender<Result<String, AudioError>>| {
        let _ = ready.send(Err(e));
        Finished {
            sink,
            samples: 0,
            overruns: 0,
            error: None,
            complete: false,
        }
    };
    let (device, id) = match capture::find(options.input.as_deref()) {
        Ok(x) => x,
        Err(e) => return fail(sink, e, &ready),
    };
    // ~2 s of buffers of 10-40 ms: the encoder is far faster than real time.
    let (tx, rx) = mpsc::sync_channel::<Vec<f32>>(128);
    let meter = shared.meter.clone();
    let stream_failed = Arc::new(std::sync::Mutex::new(None::<String>));
    let sf = stream_failed.clone();
    let stream = match capture::start_stream(&device, tx, meter.clone(), move |e| {
        if let Ok(mut g) = sf.lock() {
            g.get_or_insert(e.to_string());
        }
    }) {
        Ok(s) => s,
        Err(e) => return fail(sink, e, &ready),
    };
    let mut enc = match OggOpusEncoder::new(sink, &options.tags, options.segment) {
        Ok(e) => e,
        Err((e, sink)) => {
            drop(stream);
            return fail(sink, AudioError::Encode(e), &ready);
        }
    };
    // The recording starts when audio arrives, not when the input opens:
    // some inputs (ALSA's pulse plugin) take a second or more to deliver
    // their first buffer, and saying "recording" before that would lose the
    // start of what is said (and show a recording shorter than the time
    // the user saw go by).
    let first = match rx.recv_timeout(FIRST_AUDIO) {
        Ok(b) => b,
        Err(_) => {
            drop(stream);
            let msg = stream_failed.lock().ok().and_then(|g| g.clone());
            let e = AudioError::Device(msg.unwrap_or_else(|| {
                format!(
                    "the input delivered no audio within {} s",
                    FIRST_AUDIO.as_secs()
                )
            }));
            return fail(enc.into_sink(), e, &ready);
        }
    };
    let _ = ready.send(Ok(id));
    let max = options.max.map(|d| d.as_millis() as u64 * 48);
    let mut error = None;
    let mut next = Some(first);
    loop {
        // Once stopped, the callback sends nothing more: what is in the
        // channel was captured before the stop and is kept.
        let stopping = shared.stop.load(Ordering::SeqCst);
        if !stopping && let Some(msg) = stream_failed.lock().ok().and_then(|g| g.clone()) {
            error = Some(AudioError::Device(msg));
            break;
        }
        let got = match next.take() {
            Some(b) => b,
            None if stopping => match rx.try_recv() {
                Ok(b) => b,
                Err(_) => break,
            },
            None => match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(b) => b,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => {
                    error = Some(AudioError::Device("the input stream stopped".into()));
                    break;
                }
            },
        };
        let mut buf = got;
        if shared.paused.load(Ordering::SeqCst) {
            continue;
        }
        if let Some(m) = max {
            let left = m.saturating_sub(enc.samples()) as usize;
            buf.truncate(left);
        }
        if let Err(e) = enc.push(&buf) {
            error = Some(AudioError::Encode(e));
            break;
        }
        shared.samples.store(enc.samples(), Ordering::Relaxed);
        if max.is_some_and(|m| enc.samples() >= m) {
            break;
        }
    }
    drop(stream);
    let overruns = meter.overruns.load(Ordering::Relaxed);
    let samples = enc.samples();
    // After a sink error nothing more is written to it.
    let complete = if matches!(error, Some(AudioError::Encode(_))) {
        false
    } else {
        match enc.end() {
            Ok(()) => true,
            Err(e) => {
                error = Some(AudioError::Encode(e));
                false
            }
        }
    };
    let sink = enc.into_sink();
    shared.finished.store(true, Ordering::SeqCst);
    Finished {
        sink,
        samples,
        overruns,
        error,
        complete,
    }
}
