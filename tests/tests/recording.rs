//! Recording through the real capture path: a PulseAudio null sink is the
//! microphone (scripts/virtual-mic.sh), espeak-ng speaks into it, and
//! `yaddash record` captures it through cpal and ALSA's pulse plugin.
//!
//! Checked: the exported `.ogg` decodes with `opusdec`, its duration is the
//! one asked for (within 5%), it correlates with the spoken signal (the
//! figure is printed); the vault directory and `$TMPDIR` never hold a file
//! that is not age ciphertext while recording (inotify names every file
//! created, a poller reads every file); after `kill -9` every complete
//! segment is kept and plays, and docs/vault-format.md's stock-tool commands
//! (`age -d` each segment, `cat` them) give a file `opusdec` decodes.
//!
//! Needs: pulseaudio, pulseaudio-utils, libasound2-plugins, espeak-ng, sox,
//! opus-tools, inotify-tools (scripts/dev installs them). These tests share
//! one microphone, so they take turns.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use yaddash_e2e::{TestVault, files_under, utf8};

mod stock_support;

/// One microphone per test process; tests take turns with it.
struct Mic {
    runtime: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Mic {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["stop", utf8(&self.runtime)])
            .status();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/virtual-mic.sh")
}

fn mic() -> (MutexGuard<'static, ()>, &'static Mic) {
    static LOCK: Mutex<()> = Mutex::new(());
    static MIC: OnceLock<Mic> = OnceLock::new();
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mic = MIC.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let runtime = dir.path().join("rt");
        // Statics are never dropped: the server exits by itself 20 s after
        // its last client.
        let st = Command::new(script())
            .args(["start", utf8(&runtime)])
            .env("VMIC_IDLE_EXIT", "20")
            .status()
            .expect("running scripts/virtual-mic.sh (needs pulseaudio)");
        assert!(st.success(), "the virtual microphone did not start");
        Mic { runtime, _dir: dir }
    });
    (guard, mic)
}

/// espeak-ng speech, `pad` seconds of silence before, as a 48 kHz mono WAV.
fn speech(dir: &Path, text: &str, pad: f64) -> PathBuf {
    let raw = dir.join("speech-raw.wav");
    let st = Command::new("espeak-ng")
        .args(["-v", "en", "-s", "150", "-w", utf8(&raw), text])
        .status()
        .expect("espeak-ng");
    assert!(st.success());
    let out = dir.join("speech.wav");
    let st = Command::new("sox")
        .args([utf8(&raw), "-r", "48000", "-c", "1", "-b", "16", utf8(&out)])
        .args(["pad", &pad.to_string(), "0"])
        .status()
        .expect("sox");
    assert!(st.success());
    out
}

fn play(mic: &Mic, wav: &Path) -> Child {
    Command::new(script())
        .args(["play", utf8(&mic.runtime), utf8(wav)])
        .spawn()
        .expect("paplay")
}

fn interview(v: &TestVault) -> String {
    let f = v.write_json(
        "interview.json",
        &serde_json::json!({
            "interviewer": "Field interviewer 7",
            "date": "2025-02-14",
            "language": "az",
            "consent": "anonymous",
            "narrative": "recorded"
        }),
    );
    v.json(&["interview", "add", "--file", utf8(&f)])["id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn record_cmd(v: &TestVault, mic: &Mic, tmpdir: &Path, args: &[&str]) -> Command {
    let mut a = vec!["--json", "record"];
    a.extend_from_slice(args);
    let mut cmd = v.command(&a);
    cmd.env("XDG_RUNTIME_DIR", &mic.runtime)
        .env("TMPDIR", tmpdir)
        .env_remove("PULSE_SERVER");
    cmd
}

/// Mono 16-bit samples at `rate` from any audio file sox reads.
fn samples(path: &Path, rate: u32) -> Vec<f32> {
    let out = Command::new("sox")
        .arg(path)
        .args(["-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r"])
        .arg(rate.to_string())
        .arg("-")
        .output()
        .expect("sox");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}

fn envelope(x: &[f32], win: usize) -> Vec<f32> {
    x.chunks(win)
        .map(|c| (c.iter().map(|s| s * s).sum::<f32>() / c.len() as f32).sqrt())
        .collect()
}

/// Pearson correlation of `a` with `b` shifted by `lag` (b[i + lag] ~ a[i]).
fn corr_at(a: &[f32], b: &[f32], lag: usize) -> f64 {
    let n = a.len().min(b.len().saturating_sub(lag));
    if n < 2 {
        return 0.0;
    }
    let (a, b) = (&a[..n], &b[lag..lag + n]);
    let ma = a.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let mb = b.iter().map(|&v| f64::from(v)).sum::<f64>() / n as f64;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, y) = (f64::from(a[i]) - ma, f64::from(b[i]) - mb);
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// The best correlation of the source with the recording over every lag:
/// (envelope correlation, waveform correlation, lag in seconds).
fn correlation(source: &Path, recorded: &Path) -> (f64, f64, f64) {
    const RATE: u32 = 8000;
    const WIN: usize = 80; // 10 ms
    // The source starts with 1 s of silence: half of it is cut, so that the
    // speech sits later in the recording than in the source even when the
    // recording started a little after the playback (lags are searched
    // forward only).
    let s = samples(source, RATE).split_off(RATE as usize / 2);
    let r = samples(recorded, RATE);
    let (es, er) = (envelope(&s, WIN), envelope(&r, WIN));
    let (mut best, mut best_lag) = (f64::MIN, 0usize);
    // Only lags where most of the source overlaps the recording count (a
    // tiny overlap correlates perfectly by chance).
    let need = es.len().min(er.len()) * 3 / 4;
    for lag in 0..er.len().saturating_sub(need) {
        let c = corr_at(&es, &er, lag);
        if c > best {
            best = c;
            best_lag = lag;
        }
    }
    // Refine on the waveform around the envelope's lag (±10 ms).
    let centre = best_lag * WIN;
    let mut wave = f64::MIN;
    for lag in centre.saturating_sub(WIN)..=centre + WIN {
        wave = wave.max(corr_at(&s, &r, lag).abs());
    }
    (best, wave, best_lag as f64 * WIN as f64 / f64::from(RATE))
}

fn opusdec(ogg: &Path, wav: &Path) -> String {
    let out = Command::new("opusdec")
        .args(["--force-wav", "--quiet", utf8(ogg), utf8(wav)])
        .output()
        .expect("opusdec");
    assert!(
        out.status.success(),
        "opusdec failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn seconds(wav: &Path) -> f64 {
    let out = Command::new("soxi")
        .args(["-D", utf8(wav)])
        .output()
        .expect("soxi");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("duration")
}

/// Watches `dirs` while recording: inotify names every file created or
/// renamed into them; a poller reads every file under them every 20 ms.
/// Returns (names seen by inotify, files that were not age ciphertext).
struct Watch {
    inotify: Child,
    names: Arc<Mutex<BTreeSet<String>>>,
    bad: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    poller: Option<std::thread::JoinHandle<u64>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Watch {
    fn start(dirs: &[&Path]) -> Watch {
        let mut cmd = Command::new("inotifywait");
        cmd.args([
            "-m",
            "-r",
            "-q",
            "-e",
            "create,moved_to,close_write",
            "--format",
            "%e %w%f",
        ]);
        for d in dirs {
            cmd.arg(d);
        }
        let mut inotify = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("inotifywait (inotify-tools)");
        let names = Arc::new(Mutex::new(BTreeSet::new()));
        let out = inotify.stdout.take().expect("stdout");
        let n = names.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                n.lock().unwrap().insert(line);
            }
        });
        let bad = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (bad.clone(), stop.clone());
        let dirs: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
        let poller = std::thread::spawn(move || {
            let mut reads = 0u64;
            while !s.load(Ordering::SeqCst) {
                for d in &dirs {
                    for f in files_under(d) {
                        let Ok(bytes) = std::fs::read(&f) else {
                            continue;
                        };
                        reads += 1;
                        let name = f.file_name().unwrap().to_string_lossy().into_owned();
                        // SQLCipher databases, and the unlock-attempts
                        // counter (docs/coercion.md: 43 bytes of numbers),
                        // are the vault's non-age files; neither holds audio.
                        let db = name.starts_with("vault.db") || name == "attempts";
                        // Ogg Opus starts with these headers (8 bytes: no
                        // chance match in random ciphertext).
                        let plain = bytes
                            .windows(8)
                            .any(|w| w == b"OpusHead" || w == b"OpusTags");
                        let age = bytes.is_empty() || bytes.starts_with(b"age-encryption.org/v1\n");
                        if plain || (!db && !age) {
                            b.lock().unwrap().push(format!(
                                "{} ({} bytes, ogg/opus magic: {plain})",
                                f.display(),
                                bytes.len()
                            ));
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            reads
        });
        // inotifywait needs a moment to set its watches up.
        std::thread::sleep(Duration::from_millis(500));
        Watch {
            inotify,
            names,
            bad,
            stop,
            poller: Some(poller),
            reader: Some(reader),
        }
    }

    fn finish(mut self) -> (BTreeSet<String>, Vec<String>, u64) {
        self.stop.store(true, Ordering::SeqCst);
        let reads = self.poller.take().unwrap().join().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let _ = self.inotify.kill();
        let _ = self.inotify.wait();
        let _ = self.reader.take().unwrap().join();
        let names = self.names.lock().unwrap().clone();
        let bad = self.bad.lock().unwrap().clone();
        (names, bad, reads)
    }
}

#[test]
fn a_recording_through_the_virtual_microphone_is_encrypted_and_plays() {
    let (_turn, mic) = mic();
    let v = TestVault::init("field");
    let id = interview(&v);
    let work = v.tmp.path().join("work");
    let tmpdir = v.tmp.path().join("tmpdir");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&tmpdir).unwrap();
    let wav = speech(
        &work,
        "My son was taken from our home on the night of the twentieth of November. \
         For two weeks they did not let the lawyer see him.",
        1.0,
    );
    let want = 12.0;
    let watch = Watch::start(&[&v.dir, &tmpdir]);
    let rec = record_cmd(
        &v,
        mic,
        &tmpdir,
        &[
            "--to",
            &id,
            "--max",
            "12s",
            "--consent-seconds",
            "3",
            "--segment-seconds",
            "4",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("yaddash record");
    // Speak once the input is open (the recorder says so on stderr), so
    // that a slow start on a loaded machine does not cut the speech.
    let mut rec = rec;
    let mut err = BufReader::new(rec.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.starts_with("recording from"), "{first}");
    let mut player = play(mic, &wav);
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut rest);
        rest
    });
    let out = rec.wait_with_output().unwrap();
    let stderr = drain.join().unwrap();
    let _ = player.wait();
    let (names, bad, reads) = watch.finish();
    assert!(out.status.success(), "record failed: {stderr}");
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    println!("recording: {info}\nrecorder's stderr: {stderr}");
    assert_eq!(info["consent_seconds"], 3);
    assert_eq!(info["recovered"], false);
    assert!(info["segments"].as_u64().unwrap() >= 3, "{info}");

    // Every file created: only age files of the recording, the attachment
    // and the database's own; nothing at all in $TMPDIR.
    println!(
        "inotify saw {} events; the poller read {reads} files",
        names.len()
    );
    let tmp_s = tmpdir.display().to_string();
    for n in &names {
        let (event, path) = n.split_once(' ').unwrap_or(("", n));
        assert!(!path.starts_with(&tmp_s), "a file in $TMPDIR: {n}");
        if event.contains("ISDIR") {
            continue;
        }
        let file = Path::new(path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let ok = path.contains("/recordings/")
            && (file == "head"
                || file.starts_with("seg-")
                || file.starts_with("chain-")
                || file.len() == 32
                || file.ends_with(".partial"))
            || path.contains("/attachments/")
            || file.starts_with("vault.db")
            || file.len() == 32;
        assert!(ok, "unexpected file created while recording: {n}");
    }
    assert!(
        bad.is_empty(),
        "files that were not age ciphertext: {bad:#?}"
    );
    assert!(reads > 10, "the poller read too little ({reads})");

    // The export is one ordinary .ogg.
    let ogg = work.join("out.ogg");
    let att = info["attachment_id"].as_str().unwrap();
    v.ok(&["attachment", "export", att, "--out", utf8(&ogg)]);
    let decoded = work.join("out.wav");
    opusdec(&ogg, &decoded);
    let got = seconds(&decoded);
    println!("asked for {want} s, decoded {got:.3} s");
    assert!((got - want).abs() / want < 0.05, "duration {got} vs {want}");
    let (env, wave, lag) = correlation(&wav, &decoded);
    println!(
        "correlation with the spoken source: envelope {env:.3}, waveform {wave:.3} (lag {lag:.2} s)"
    );
    assert!(
        env > 0.7,
        "the recording does not follow the source (envelope correlation {env:.3})"
    );
    // The whole file's SHA-256 is the one fixed while recording.
    let sum = Command::new("sha256sum").arg(&ogg).output().unwrap();
    assert!(String::from_utf8_lossy(&sum.stdout).starts_with(info["sha256"].as_str().unwrap()));
    // The stream carries its capture metadata.
    let tags = Command::new("opusinfo").arg(&ogg).output();
    if let Ok(t) = tags {
        let t = String::from_utf8_lossy(&t.stdout);
        assert!(t.contains("YADDASH_CONSENT_SECONDS=3"), "{t}");
    }
    let shown = v.json(&["show", att]);
    assert_eq!(shown["recording"]["sha256"], info["sha256"], "{shown}");
    assert_eq!(shown["recording"]["input"], "default", "{shown}");
    let check = v.ok(&["vault", "check"]);
    assert!(check.contains("vault is clean"), "{check}");
    assert!(
        !v.dir.join("recordings").exists() || files_under(&v.dir.join("recordings")).is_empty()
    );
}

#[test]
fn kill_9_mid_recording_keeps_every_complete_segment_playable() {
    let (_turn, mic) = mic();
    let v = TestVault::init("field");
    let id = interview(&v);
    let work = v.tmp.path().join("work");
    let tmpdir = v.tmp.path().join("tmpdir");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&tmpdir).unwrap();
    let wav = speech(
        &work,
        "One two three four five six seven eight nine ten.",
        0.5,
    );
    let mut rec = record_cmd(&v, mic, &tmpdir, &["--to", &id, "--segment-seconds", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("yaddash record");
    std::thread::sleep(Duration::from_millis(500));
    let mut player = play(mic, &wav);
    // Wait until at least three segments are closed, then kill.
    let rec_dir = v.dir.join("recordings");
    let start = Instant::now();
    let closed = |d: &Path| {
        files_under(d)
            .iter()
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.starts_with("seg-") && !n.ends_with(".partial")
            })
            .count()
    };
    while closed(&rec_dir) < 3 && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(700)); // mid-segment
    let before = closed(&rec_dir);
    Command::new("kill")
        .args(["-9", &rec.id().to_string()])
        .status()
        .unwrap();
    let _ = rec.wait();
    let _ = player.wait();
    assert!(before >= 3, "only {before} segments closed in 30 s");
    let closed_after_kill = closed(&rec_dir);

    // The stock-tool route first (the next open would recover the
    // recording): docs/vault-format.md's procedure, then its commands for a
    // recording's segments, run verbatim with the `age` CLI on a copy of the
    // vault.
    stock_tools_join_the_segments(&v.dir, &work, closed_after_kill);

    // The next command recovers it; `vault check` names it.
    let check = v.ok(&["vault", "check"]);
    println!("{check}");
    assert!(check.contains("cut short and recovered"), "{check}");
    assert!(check.contains("vault is clean"), "{check}");
    let shown = v.json(&["show", &id]);
    let atts = shown["attachments"].as_array().cloned().unwrap_or_default();
    assert_eq!(atts.len(), 1, "{shown}");
    let att = atts[0]["id"].as_str().unwrap().to_string();
    let ogg = work.join("recovered.ogg");
    v.ok(&["attachment", "export", &att, "--out", utf8(&ogg)]);
    let decoded = work.join("recovered.wav");
    let warn = opusdec(&ogg, &decoded);
    let got = seconds(&decoded);
    let want = 2.0 * closed_after_kill as f64;
    println!("{closed_after_kill} complete segments of 2 s kept: {got:.3} s decoded ({warn})");
    assert!(
        (got - want).abs() < 0.25,
        "decoded {got} s, expected {want} s"
    );
}

/// Ctrl-C after a measured wall time T keeps T seconds of audio: the
/// audio still in the input's pipeline when the user stops (ALSA's pulse
/// plugin buffers up to a second or more by default) is kept, and nothing
/// captured after the stop is.
#[test]
fn ctrl_c_keeps_the_audio_recorded_up_to_the_stop() {
    let (_turn, mic) = mic();
    let v = TestVault::init("field");
    let id = interview(&v);
    let work = v.tmp.path().join("work");
    let tmpdir = v.tmp.path().join("tmpdir");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&tmpdir).unwrap();
    let wav = speech(
        &work,
        "One two three four five six seven eight nine ten eleven twelve thirteen.",
        0.0,
    );
    let mut rec = record_cmd(&v, mic, &tmpdir, &["--to", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("yaddash record");
    let mut err = BufReader::new(rec.stderr.take().unwrap());
    // The input is open once the recorder says so.
    let mut first = String::new();
    while !first.starts_with("recording from") {
        first.clear();
        assert!(
            err.read_line(&mut first).unwrap() > 0,
            "the recorder did not start"
        );
    }
    let start = Instant::now();
    let mut player = play(mic, &wav);
    std::thread::sleep(Duration::from_secs(6));
    Command::new("kill")
        .args(["-INT", &rec.id().to_string()])
        .status()
        .unwrap();
    let want = start.elapsed().as_secs_f64();
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut rest);
        rest
    });
    let out = rec.wait_with_output().unwrap();
    let stderr = drain.join().unwrap();
    let _ = player.kill();
    let _ = player.wait();
    println!("recorder's stderr: {stderr}");
    assert!(out.status.success(), "record failed: {stderr}");
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let att = info["attachment_id"].as_str().unwrap();
    let ogg = work.join("stopped.ogg");
    v.ok(&["attachment", "export", att, "--out", utf8(&ogg)]);
    let decoded = work.join("stopped.wav");
    opusdec(&ogg, &decoded);
    let got = seconds(&decoded);
    println!("Ctrl-C after {want:.3} s of wall time: {got:.3} s decoded");
    assert!(
        (got - want).abs() <= (0.05 * want).max(0.3),
        "Ctrl-C after {want:.3} s, but {got:.3} s recorded"
    );
}

/// docs/vault-format.md with stock tools only: steps 1 and 2 of the
/// procedure give the storage key, then the documented `age -d` and `cat`
/// commands join the complete segments of the recording left in `vault`;
/// `opusdec` must decode the result, `closed` segments of 2 s long.
fn stock_tools_join_the_segments(vault: &Path, work: &Path, closed: usize) {
    let copy = work.join("stock-vault");
    for f in files_under(vault) {
        let dest = copy.join(f.strip_prefix(vault).expect("under"));
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&f, &dest).expect("copy");
    }
    let dirs: Vec<_> = std::fs::read_dir(copy.join("recordings"))
        .expect("recordings/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(dirs.len(), 1, "one recording cut short: {dirs:?}");
    let segments = stock_support::procedure("segments");
    assert!(segments.contains("<dir>"), "{segments}");
    let script = format!(
        "{}\n{}",
        stock_support::procedure("procedure"),
        segments.replace("<dir>", &dirs[0])
    );
    let out = work.join("stock-work");
    std::fs::create_dir_all(&out).expect("mkdir");
    let (ok, text) = stock_support::run(&script, &copy, &out);
    assert!(ok, "the documented commands failed:\n{text}");
    let ogg = out.join("recording.ogg");
    let decoded = work.join("stock.wav");
    let warn = opusdec(&ogg, &decoded);
    let got = seconds(&decoded);
    println!(
        "stock tools: {closed} segments joined with age -d and cat: {got:.3} s decoded ({warn})"
    );
    let want = 2.0 * closed as f64;
    assert!(
        (got - want).abs() < 0.25,
        "stock tools: decoded {got} s, expected {want} s"
    );
}

#[test]
fn recording_refuses_a_record_that_is_not_an_interview() {
    let v = TestVault::init("field");
    let person = v.add_person(&["Məmmədov Tofiq"]);
    let err = v.err(&["record", "--to", &person, "--input", "default"]);
    assert!(err.contains("interview"), "{err}");
    assert!(
        !v.dir.join("recordings").exists() || files_under(&v.dir.join("recordings")).is_empty()
    );
}

#[test]
fn attach_move_imports_verifies_and_removes_the_original() {
    let v = TestVault::init("field");
    let id = interview(&v);
    let work = v.tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let wav = speech(&work, "Recorded elsewhere.", 0.0);
    let ogg = work.join("elsewhere.ogg");
    let st = Command::new("opusenc")
        .args(["--quiet", utf8(&wav), utf8(&ogg)])
        .status()
        .expect("opusenc");
    assert!(st.success());
    let original = std::fs::read(&ogg).unwrap();
    let out = v.json(&["attach", "--move", "--to", &id, utf8(&ogg)]);
    assert_eq!(out["original_removed"], true);
    assert!(!ogg.exists(), "the original is still there");
    let back = work.join("back.ogg");
    let att = out["attachment"]["id"].as_str().unwrap();
    v.ok(&["attachment", "export", att, "--out", utf8(&back)]);
    assert_eq!(std::fs::read(&back).unwrap(), original);
    // A symbolic link is refused and left alone (its target too).
    let link = work.join("link.ogg");
    std::os::unix::fs::symlink(&back, &link).unwrap();
    let err = v.err(&["attach", "--move", "--to", &id, utf8(&link)]);
    assert!(err.contains("not a regular file"), "{err}");
    assert!(back.exists() && link.exists());
}
