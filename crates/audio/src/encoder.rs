//! Opus in Ogg (RFC 7845), cut into segments at page boundaries.
//!
//! One logical Ogg stream per recording: the `OpusHead` and `OpusTags`
//! pages, then audio pages of one second (50 packets of 20 ms) each. Every
//! `segment` of audio the current page is ended and the sink is told to
//! close its segment, so each segment is a run of whole, consecutive pages
//! and the segments joined are the whole stream.

use std::io;
use std::time::Duration;

use ogg::writing::{PacketWriteEndInfo, PacketWriter};

/// The sample rate the encoder takes (Opus's native rate).
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples per Opus frame: 20 ms.
pub const FRAME: usize = 960;
/// Bits per second: speech at 24 kbit/s mono is ~11 MB an hour.
pub const BITRATE: i32 = 24_000;
/// Packets per Ogg page (one second): the granularity of seeking.
const PACKETS_PER_PAGE: u32 = 50;
/// What is written in the attachment's metadata as its codec.
pub const CODEC: &str = "Opus 24 kbit/s CBR mono 48 kHz in Ogg (libopus)";

/// Where the Ogg pages go: the vault's segment writer, or anything else.
pub trait SegmentSink {
    /// Appends whole Ogg pages to the segment in progress.
    fn write_pages(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Closes the segment in progress: `granule` is the granule position of
    /// its last page; `last` when that page ends the stream.
    fn end_segment(&mut self, granule: u64, pre_skip: u16, last: bool) -> io::Result<()>;
}

impl SegmentSink for yaddash_vault::RecordingWriter {
    fn write_pages(&mut self, bytes: &[u8]) -> io::Result<()> {
        yaddash_vault::RecordingWriter::write_pages(self, bytes)
    }
    fn end_segment(&mut self, granule: u64, pre_skip: u16, last: bool) -> io::Result<()> {
        yaddash_vault::RecordingWriter::end_segment(self, granule, pre_skip, last)
    }
}

/// A sink that keeps everything in memory (tests, benchmarks).
#[derive(Debug, Default)]
pub struct MemorySink {
    /// The stream so far.
    pub bytes: Vec<u8>,
    /// Byte offsets where segments ended.
    pub segment_ends: Vec<usize>,
}

impl SegmentSink for MemorySink {
    fn write_pages(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }
    fn end_segment(&mut self, _granule: u64, _pre_skip: u16, _last: bool) -> io::Result<()> {
        self.segment_ends.push(self.bytes.len());
        Ok(())
    }
}

/// Encodes 48 kHz mono samples to Ogg Opus, segment by segment.
pub struct OggOpusEncoder<S: SegmentSink> {
    enc: opus::Encoder,
    pages: PacketWriter<'static, Vec<u8>>,
    serial: u32,
    sink: S,
    pending: Vec<f32>,
    packets: u64,
    real_samples: u64,
    pre_skip: u16,
    in_page: u32,
    segment_samples: u64,
    segment_len: u64,
    packet: Vec<u8>,
    ended: bool,
}

/// Encoder errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// libopus refused a setting or a frame.
    #[error("the Opus encoder failed: {0}")]
    Opus(#[from] opus::Error),
    /// The sink could not write (disk full, vault error).
    #[error("writing the recording: {0}")]
    Io(#[from] io::Error),
}

impl<S: SegmentSink> OggOpusEncoder<S> {
    /// A new stream. `tags` go into the `OpusTags` header as `KEY=value`
    /// comments; `segment` is the audio length of each segment.
    /// On failure the sink is handed back.
    pub fn new(
        sink: S,
        tags: &[(String, String)],
        segment: Duration,
    ) -> Result<Self, (EncodeError, S)> {
        let setup = || -> Result<(opus::Encoder, u16), opus::Error> {
            let mut enc =
                opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)?;
            enc.set_bitrate(opus::Bitrate::Bits(BITRATE))?;
            // Constant bitrate: segment sizes say how long, never when someone spoke.
            enc.set_vbr(false)?;
            enc.set_signal(opus::Signal::Voice)?;
            let pre_skip = u16::try_from(enc.get_lookahead()?.max(0)).unwrap_or(312);
            Ok((enc, pre_skip))
        };
        let (enc, pre_skip) = match setup() {
            Ok(x) => x,
            Err(e) => return Err((e.into(), sink)),
        };
        let serial = rand_serial();
        let mut me = OggOpusEncoder {
            enc,
            pages: PacketWriter::new(Vec::with_capacity(16 * 1024)),
            serial,
            sink,
            pending: Vec::with_capacity(FRAME),
            packets: 0,
            real_samples: 0,
            pre_skip,
            in_page: 0,
            segment_samples: 0,
            segment_len: (segment.as_millis() as u64 * u64::from(SAMPLE_RATE) / 1000)
                .max(FRAME as u64),
            packet: vec![0u8; 4000],
            ended: false,
        };
        let headers = (|| -> io::Result<()> {
            me.pages
                .write_packet(opus_head(pre_skip), serial, PacketWriteEndInfo::EndPage, 0)?;
            me.pages
                .write_packet(opus_tags(tags), serial, PacketWriteEndInfo::EndPage, 0)?;
            me.drain()
        })();
        match headers {
            Ok(()) => Ok(me),
            Err(e) => Err((e.into(), me.sink)),
        }
    }

    /// The encoder's lookahead in 48 kHz samples (the stream's pre-skip).
    pub fn pre_skip(&self) -> u16 {
        self.pre_skip
    }

    /// Samples taken so far (the recording's length).
    pub fn samples(&self) -> u64 {
        self.real_samples
    }

    /// The sink, to inspect while recording.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    fn drain(&mut self) -> io::Result<()> {
        let buf = self.pages.inner_mut();
        if !buf.is_empty() {
            self.sink.write_pages(buf)?;
            buf.clear();
        }
        Ok(())
    }

    fn granule(&self) -> u64 {
        self.packets * FRAME as u64
    }

    fn encode_frame(&mut self, frame: &[f32], end: Option<u64>) -> Result<(), EncodeError> {
        let n = self.enc.encode_float(frame, &mut self.packet)?;
        self.packets += 1;
        self.in_page += 1;
        self.segment_samples += FRAME as u64;
        let granule = end.unwrap_or_else(|| self.granule());
        let cut = end.is_none() && self.segment_samples >= self.segment_len;
        let info = if end.is_some() {
            PacketWriteEndInfo::EndStream
        } else if cut || self.in_page >= PACKETS_PER_PAGE {
            PacketWriteEndInfo::EndPage
        } else {
            PacketWriteEndInfo::NormalPacket
        };
        if info != PacketWriteEndInfo::NormalPacket {
            self.in_page = 0;
        }
        self.pages
            .write_packet(self.packet[..n].to_vec(), self.serial, info, granule)?;
        self.drain()?;
        if let Some(g) = end {
            self.sink.end_segment(g, self.pre_skip, true)?;
        } else if cut {
            self.segment_samples = 0;
            self.sink.end_segment(granule, self.pre_skip, false)?;
        }
        Ok(())
    }

    /// Encodes samples (48 kHz mono, -1.0..=1.0). Whole 20 ms frames are
    /// encoded now; the rest waits for the next call.
    pub fn push(&mut self, mut samples: &[f32]) -> Result<(), EncodeError> {
        if self.ended {
            return Ok(());
        }
        self.real_samples += samples.len() as u64;
        if !self.pending.is_empty() {
            let take = (FRAME - self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.pending.len() < FRAME {
                return Ok(());
            }
            let frame = std::mem::take(&mut self.pending);
            self.encode_frame(&frame, None)?;
            self.pending = frame;
            self.pending.clear();
        }
        let mut chunks = samples.chunks_exact(FRAME);
        for frame in chunks.by_ref() {
            self.encode_frame(frame, None)?;
        }
        self.pending.extend_from_slice(chunks.remainder());
        Ok(())
    }

    /// Ends the stream: the last partial frame and the encoder's lookahead
    /// are flushed with silence, the last page carries the end-of-stream flag
    /// and the exact length, and the sink closes its last segment.
    pub fn finish(mut self) -> Result<S, EncodeError> {
        self.end()?;
        Ok(self.sink)
    }

    /// Like [`OggOpusEncoder::finish`], keeping the sink here (see
    /// [`OggOpusEncoder::into_sink`]) whatever happens.
    pub fn end(&mut self) -> Result<(), EncodeError> {
        if !self.ended {
            self.ended = true;
            let end = u64::from(self.pre_skip) + self.real_samples;
            let mut frame = std::mem::take(&mut self.pending);
            loop {
                frame.resize(FRAME, 0.0);
                let last = self.granule() + FRAME as u64 >= end;
                self.encode_frame(&frame, last.then_some(end))?;
                if last {
                    break;
                }
                frame.clear();
            }
        }
        Ok(())
    }

    /// Stops without the end-of-stream page (the sink keeps what it closed).
    pub fn into_sink(self) -> S {
        self.sink
    }
}

fn rand_serial() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0x5941_4444);
    nanos ^ std::process::id().rotate_left(16)
}

/// The identification header (RFC 7845 §5.1): mono, channel mapping 0.
fn opus_head(pre_skip: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(19);
    h.extend_from_slice(b"OpusHead");
    h.push(1);
    h.push(1);
    h.extend_from_slice(&pre_skip.to_le_bytes());
    h.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    h.extend_from_slice(&0i16.to_le_bytes());
    h.push(0);
    h
}

/// The comment header (RFC 7845 §5.2).
fn opus_tags(tags: &[(String, String)]) -> Vec<u8> {
    let vendor = format!(
        "yaddash {} ({})",
        env!("CARGO_PKG_VERSION"),
        opus::version()
    );
    let mut h = Vec::new();
    h.extend_from_slice(b"OpusTags");
    h.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    h.extend_from_slice(vendor.as_bytes());
    h.extend_from_slice(&(tags.len() as u32).to_le_bytes());
    for (k, v) in tags {
        let c = format!("{k}={v}");
        h.extend_from_slice(&(c.len() as u32).to_le_bytes());
        h.extend_from_slice(c.as_bytes());
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn tone(seconds: f32) -> Vec<f32> {
        let n = (seconds * SAMPLE_RATE as f32) as usize;
        (0..n)
            .map(|i| 0.3 * (i as f32 * 440.0 * std::f32::consts::TAU / SAMPLE_RATE as f32).sin())
            .collect()
    }

    #[test]
    fn segments_are_whole_pages_of_one_stream_with_the_exact_length() {
        let mut e = OggOpusEncoder::new(MemorySink::default(), &[], Duration::from_secs(2))
            .map_err(|(e, _)| e)
            .unwrap();
        for chunk in tone(5.01).chunks(777) {
            e.push(chunk).unwrap();
        }
        let pre = u64::from(e.pre_skip());
        let sink = e.finish().unwrap();
        // 2 s segments: ends at 2 s, 4 s and the end.
        assert_eq!(sink.segment_ends.len(), 3);
        let (last_end, inner) = sink.segment_ends.split_last().unwrap();
        assert_eq!(*last_end, sink.bytes.len());
        for &end in inner {
            assert_eq!(
                &sink.bytes[end..end + 4],
                b"OggS",
                "a segment ends at a page boundary"
            );
        }
        let mut r = ogg::PacketReader::new(Cursor::new(&sink.bytes));
        let mut last = 0;
        let mut n = 0;
        while let Some(p) = r.read_packet().unwrap() {
            n += 1;
            if p.last_in_stream() {
                last = p.absgp_page();
            }
        }
        assert_eq!(last, pre + (5.01 * 48_000.0) as u64);
        assert!(n > 250);
        // CBR: ~24 kbit/s.
        let kbps = sink.bytes.len() as f64 * 8.0 / 5.01 / 1000.0;
        assert!((22.0..30.0).contains(&kbps), "{kbps}");
    }
}
