//! Capture devices through cpal (ALSA on Linux; PulseAudio and PipeWire
//! through ALSA's plugins). Samples never leave memory: the audio thread
//! converts them to 48 kHz mono and hands them to the encoding thread over a
//! bounded channel.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;

use cpal::traits::{DeviceTrait, HostTrait};
use serde::Serialize;

use crate::AudioError;
use crate::encoder::SAMPLE_RATE;

/// A capture device.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
pub struct InputInfo {
    /// What `--input` takes: the device id (ALSA PCM name, e.g. `default`, `pulse`, `hw:CARD=PCH,DEV=0`).
    pub id: String,
    /// A readable name.
    pub name: String,
    /// The system's default input.
    pub default: bool,
}

fn device_id(d: &cpal::Device) -> Option<String> {
    d.id().ok().map(|id| id.id().to_string())
}

fn device_name(d: &cpal::Device) -> String {
    d.description()
        .map(|desc| desc.name().to_string())
        .unwrap_or_else(|_| device_id(d).unwrap_or_default())
}

/// The capture devices the system offers.
pub fn inputs() -> Result<Vec<InputInfo>, AudioError> {
    let host = cpal::default_host();
    let default = host.default_input_device().and_then(|d| device_id(&d));
    let mut out = Vec::new();
    for d in host
        .input_devices()
        .map_err(|e| AudioError::Device(e.to_string()))?
    {
        let Some(id) = device_id(&d) else { continue };
        out.push(InputInfo {
            default: default.as_deref() == Some(id.as_str()),
            name: device_name(&d),
            id,
        });
    }
    if let Some(def) = default
        && !out.iter().any(|i| i.id == def)
    {
        out.insert(
            0,
            InputInfo {
                id: def.clone(),
                name: def,
                default: true,
            },
        );
    }
    Ok(out)
}

/// Finds a device by id (or readable name); `None` is the default input.
pub(crate) fn find(name: Option<&str>) -> Result<(cpal::Device, String), AudioError> {
    let host = cpal::default_host();
    let Some(want) = name else {
        let d = host.default_input_device().ok_or(AudioError::NoInput)?;
        let id = device_id(&d).unwrap_or_else(|| "default".into());
        return Ok((d, id));
    };
    if let Some(d) = host.default_input_device()
        && device_id(&d).as_deref() == Some(want)
    {
        return Ok((d, want.to_string()));
    }
    for d in host
        .input_devices()
        .map_err(|e| AudioError::Device(e.to_string()))?
    {
        let id = device_id(&d).unwrap_or_default();
        if id == want || device_name(&d) == want {
            return Ok((d, id));
        }
    }
    Err(AudioError::UnknownInput(want.to_string()))
}

/// Level meter and counters shared with the audio thread.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    /// Peak of the last callback, as f32 bits (0.0..=1.0).
    pub peak: AtomicU32,
    /// Buffers dropped because the encoder fell behind.
    pub overruns: AtomicU64,
    /// Set when the user stops: the callback sends nothing more, so nothing
    /// captured after the stop is kept.
    pub stopped: AtomicBool,
}

/// Converts interleaved frames to mono at 48 kHz (linear interpolation when
/// the device runs at another rate).
struct ToMono48 {
    channels: usize,
    step: f64,
    pos: f64,
    prev: f32,
}

impl ToMono48 {
    fn new(channels: u16, rate: u32) -> Self {
        ToMono48 {
            channels: usize::from(channels.max(1)),
            step: f64::from(rate) / f64::from(SAMPLE_RATE),
            pos: 0.0,
            prev: 0.0,
        }
    }

    fn convert(&mut self, frames: impl Iterator<Item = f32>, out: &mut Vec<f32>) -> f32 {
        let mut peak = 0f32;
        let mut acc = 0f32;
        let mut k = 0usize;
        let mut mono = Vec::new();
        for s in frames {
            acc += s;
            k += 1;
            if k == self.channels {
                let m = (acc / self.channels as f32).clamp(-1.0, 1.0);
                peak = peak.max(m.abs());
                mono.push(m);
                acc = 0.0;
                k = 0;
            }
        }
        if (self.step - 1.0).abs() < 1e-9 {
            out.extend_from_slice(&mono);
            return peak;
        }
        // `pos` is where the next output sample falls, in input samples of
        // this buffer; index -1 is the last sample of the previous buffer.
        let n = mono.len() as f64;
        let at = |i: f64| if i < 0.0 { self.prev } else { mono[i as usize] };
        while self.pos < n - 1.0 {
            let i = self.pos.floor();
            let frac = (self.pos - i) as f32;
            let (a, b) = (at(i), at(i + 1.0));
            out.push(a + (b - a) * frac);
            self.pos += self.step;
        }
        self.pos -= n;
        if let Some(&l) = mono.last() {
            self.prev = l;
        }
        peak
    }
}

/// The capture period asked of the device: 40 ms (cpal asks for two
/// periods of buffer), clamped to what it supports; `None` leaves the
/// device's default when its range is unknown.
fn period_frames(range: &cpal::SupportedBufferSize, rate: u32) -> Option<u32> {
    match *range {
        cpal::SupportedBufferSize::Range { min, max } if min <= max => {
            Some((rate / 25).clamp(min, max))
        }
        _ => None,
    }
}

/// Opens the device and starts a stream sending 48 kHz mono buffers to `tx`.
/// The stream runs until it is dropped.
pub(crate) fn start_stream(
    device: &cpal::Device,
    tx: SyncSender<Vec<f32>>,
    meter: Arc<Meter>,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<cpal::Stream, AudioError> {
    use cpal::SampleFormat as F;
    use cpal::traits::StreamTrait;
    let dev_err = |e: cpal::Error| AudioError::Device(e.to_string());
    let ranges: Vec<cpal::SupportedStreamConfigRange> =
        device.supported_input_configs().map_err(dev_err)?.collect();
    let rank = |f: F| match f {
        F::F32 => 0,
        F::I16 => 1,
        F::I32 => 2,
        _ => 9,
    };
    // 48 kHz in a format we read, fewest channels; else the device default.
    let chosen = ranges
        .iter()
        .filter(|r| rank(r.sample_format()) < 9)
        .filter(|r| r.min_sample_rate() <= SAMPLE_RATE && SAMPLE_RATE <= r.max_sample_rate())
        .min_by_key(|r| (r.channels(), rank(r.sample_format())))
        .map(|r| r.with_sample_rate(SAMPLE_RATE));
    let supported = match chosen {
        Some(c) => c,
        None => device.default_input_config().map_err(dev_err)?,
    };
    let format = supported.sample_format();
    let mut config = supported.config();
    // A small fixed period rather than the device's default (which can be
    // large): what is still in the device's buffer when the user stops is
    // little. See `period_frames`.
    if let Some(frames) = period_frames(supported.buffer_size(), config.sample_rate) {
        config.buffer_size = cpal::BufferSize::Fixed(frames);
    }
    let mut conv = ToMono48::new(config.channels, config.sample_rate);
    let send = move |out: Vec<f32>, peak: f32| {
        meter.peak.store(peak.to_bits(), Ordering::Relaxed);
        if meter.stopped.load(Ordering::SeqCst) {
            return;
        }
        if tx.try_send(out).is_err() {
            meter.overruns.fetch_add(1, Ordering::Relaxed);
        }
    };
    let stream = match format {
        F::F32 => device.build_input_stream::<f32, _, _>(
            config,
            move |data, _| {
                let mut out = Vec::with_capacity(data.len());
                let p = conv.convert(data.iter().copied(), &mut out);
                send(out, p);
            },
            on_error,
            None,
        ),
        F::I16 => device.build_input_stream::<i16, _, _>(
            config,
            move |data, _| {
                let mut out = Vec::with_capacity(data.len());
                let p = conv.convert(data.iter().map(|&s| f32::from(s) / 32768.0), &mut out);
                send(out, p);
            },
            on_error,
            None,
        ),
        F::I32 => device.build_input_stream::<i32, _, _>(
            config,
            move |data, _| {
                let mut out = Vec::with_capacity(data.len());
                let p = conv.convert(
                    data.iter()
                        .map(|&s| (f64::from(s) / 2_147_483_648.0) as f32),
                    &mut out,
                );
                send(out, p);
            },
            on_error,
            None,
        ),
        other => {
            return Err(AudioError::Device(format!(
                "the input offers only the sample format {other:?}, which Yaddash does not read"
            )));
        }
    }
    .map_err(dev_err)?;
    stream.play().map_err(dev_err)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stereo_44k1_becomes_mono_48k_of_the_right_length() {
        let mut c = ToMono48::new(2, 44_100);
        let mut out = Vec::new();
        for _ in 0..10 {
            let frames: Vec<f32> = (0..4410 * 2)
                .map(|i| if i % 2 == 0 { 0.5 } else { 0.0 })
                .collect();
            c.convert(frames.into_iter(), &mut out);
        }
        assert!((out.len() as i64 - 48_000).abs() <= 2, "{}", out.len());
        assert!(out[100..].iter().all(|&s| (s - 0.25).abs() < 1e-6));
    }
}
