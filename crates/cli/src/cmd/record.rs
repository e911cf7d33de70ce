//! `yaddash record --to INTERVIEW_ID [--input NAME] [--max DURATION]` and
//! `yaddash inputs`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::Duration;

use uuid::Uuid;
use yaddash_audio::{CODEC, Recorder, RecorderOptions};
use yaddash_vault::RecordingStart;

use crate::common::{CliError, CliResult, Context, cancel_flag, parse_id};

fn parse_max(s: &str) -> Result<Duration, String> {
    yaddash_os::parse_duration(s).map_err(|e| e.to_string())
}

#[derive(clap::Args)]
pub struct Args {
    /// The interview to record into. It must be saved first (its consent
    /// level is a required field of an interview).
    #[arg(long, value_parser = parse_id, value_name = "INTERVIEW_ID")]
    to: Uuid,
    /// The input device, as `yaddash inputs` lists it (the system default if
    /// not given).
    #[arg(long, value_name = "NAME")]
    input: Option<String>,
    /// Stop by itself after this long (e.g. 90m, 2h). Ctrl-C stops earlier.
    #[arg(long, value_parser = parse_max, value_name = "DURATION")]
    max: Option<Duration>,
    /// Mark the first SECONDS of the recording as the speaker's spoken consent.
    #[arg(long, value_name = "SECONDS")]
    consent_seconds: Option<u32>,
    /// Segment length in seconds: a crash or power loss loses at most the
    /// segment in progress.
    #[arg(long, default_value_t = 30, value_name = "SECONDS",
          value_parser = clap::value_parser!(u32).range(1..=600))]
    segment_seconds: u32,
    /// Benchmarks and tests: encode raw audio (signed 16-bit little-endian,
    /// mono, 48 kHz; `-` for standard input) through the same encoder and
    /// segment writer instead of capturing, as fast as it goes.
    #[arg(long, value_name = "FILE", hide = true)]
    from_raw: Option<std::path::PathBuf>,
}

/// Encodes raw PCM through the recording path (no capture device).
fn encode_raw(
    path: &std::path::Path,
    writer: yaddash_vault::RecordingWriter,
    tags: &[(String, String)],
    segment: Duration,
) -> CliResult<yaddash_vault::RecordingWriter> {
    use std::io::Read;
    let mut input: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(path)
                .map_err(|e| CliError(format!("opening {}: {e}", path.display())))?,
        )
    };
    let mut enc = yaddash_audio::OggOpusEncoder::new(writer, tags, segment)
        .map_err(|(e, _)| CliError(e.to_string()))?;
    let mut buf = vec![0u8; 96_000];
    let mut samples = Vec::with_capacity(48_000);
    let mut carry: Option<u8> = None;
    loop {
        let n = input
            .read(&mut buf)
            .map_err(|e| CliError(format!("reading {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        samples.clear();
        let mut bytes = &buf[..n];
        if let Some(lo) = carry.take() {
            samples.push(f32::from(i16::from_le_bytes([lo, bytes[0]])) / 32768.0);
            bytes = &bytes[1..];
        }
        let mut chunks = bytes.chunks_exact(2);
        for c in chunks.by_ref() {
            samples.push(f32::from(i16::from_le_bytes([c[0], c[1]])) / 32768.0);
        }
        carry = chunks.remainder().first().copied();
        enc.push(&samples).map_err(|e| CliError(e.to_string()))?;
    }
    enc.end().map_err(|e| CliError(e.to_string()))?;
    Ok(enc.into_sink())
}

impl Args {
    pub fn run(self, ctx: &Context) -> CliResult {
        let mut vault = ctx.open()?;
        let audio = |e: yaddash_audio::AudioError| CliError::from(e);
        let input = if self.from_raw.is_some() {
            "raw PCM (benchmark)".to_string()
        } else {
            yaddash_audio::resolve_input(self.input.as_deref()).map_err(audio)?
        };
        let writer = vault.recordings().begin(
            self.to,
            &RecordingStart {
                input: input.clone(),
                consent_seconds: self.consent_seconds,
                codec: CODEC.into(),
            },
        )?;
        let mut tags = vec![
            ("YADDASH_RECORDING".to_string(), writer.id().to_string()),
            (
                "YADDASH_CAPTURE_START".to_string(),
                writer.started_at().to_string(),
            ),
            ("YADDASH_INPUT".to_string(), input.clone()),
            ("YADDASH_DEVICE".to_string(), vault.device_id().to_string()),
        ];
        if let Some(c) = self.consent_seconds {
            tags.push(("YADDASH_CONSENT_SECONDS".to_string(), c.to_string()));
        }
        if let Some(raw) = &self.from_raw {
            let segment = Duration::from_secs(u64::from(self.segment_seconds));
            let writer = encode_raw(raw, writer, &tags, segment)?;
            let info = vault.recordings_mut().finish(writer)?;
            return ctx.print(&info, || {
                format!("{}  sha256:{}", info.attachment_id, info.sha256)
            });
        }
        let stop = cancel_flag();
        let options = RecorderOptions {
            input: Some(input.clone()),
            max: self.max,
            segment: Duration::from_secs(u64::from(self.segment_seconds)),
            tags,
        };
        let rec = match Recorder::start(options, writer) {
            Ok(r) => r,
            Err((e, writer)) => {
                // Nothing was recorded: the empty recording is removed.
                let _ = vault.recordings_mut().finish(writer);
                return Err(audio(e));
            }
        };
        eprintln!(
            "recording from {input} into interview {}: Ctrl-C stops and saves",
            self.to
        );
        let tty = std::io::stderr().is_terminal();
        while !stop.load(Ordering::SeqCst) && !rec.is_finished() {
            // Ctrl-C is seen within 50 ms: what is captured after it is not kept.
            std::thread::sleep(Duration::from_millis(50));
            if tty {
                let t = rec.elapsed().as_secs();
                let bars = (rec.level().sqrt() * 20.0).round() as usize;
                eprint!(
                    "\r{:02}:{:02}:{:02}  [{:<20}]",
                    t / 3600,
                    t / 60 % 60,
                    t % 60,
                    "#".repeat(bars.min(20))
                );
                let _ = std::io::stderr().flush();
            }
        }
        if tty {
            eprintln!();
        }
        let finished = rec.stop();
        if finished.overruns > 0 {
            eprintln!(
                "warning: {} audio buffer(s) were dropped because the machine was too busy",
                finished.overruns
            );
        }
        let stopped_by = finished.error.map(|e| e.to_string());
        let info = vault.recordings_mut().finish(finished.sink)?;
        if let Some(e) = &stopped_by {
            eprintln!("warning: the recording stopped early ({e}); what was recorded is saved");
        }
        ctx.print(&info, || {
            format!(
                "{}  sha256:{}  {}.{:03} s, {} segment(s){}",
                info.attachment_id,
                info.sha256,
                info.duration_ms / 1000,
                info.duration_ms % 1000,
                info.segments,
                if info.recovered { "  (recovered)" } else { "" }
            )
        })
    }
}

#[derive(clap::Args)]
pub struct InputsArgs {}

impl InputsArgs {
    pub fn run(self, ctx: &Context) -> CliResult {
        let list = yaddash_audio::inputs().map_err(CliError::from)?;
        ctx.print(&list, || {
            if list.is_empty() {
                return "no audio input found".into();
            }
            list.iter()
                .map(|i| format!("{} {}  {}", if i.default { "*" } else { " " }, i.id, i.name))
                .collect::<Vec<_>>()
                .join("\n")
        })
    }
}
