//! What keeps checkpoint directories trustworthy across crashes and faults (feature `std`):
//!
//! - every file is written through [`write_file`] (or charged after the fact with
//!   [`charge_written`]), so that a full disk, real or injected ([`crate::faults`]), is an
//!   error that names the file (and a test may pause after each file, to kill mid-write);
//! - the last file of a checkpoint, `manifest.json`, records every other file's length and
//!   FNV-1a 64 checksum ([`write_manifest`]); [`verify`] checks them on resume, so a truncated
//!   or corrupted file is found before anything is restored from it;
//! - [`newest_intact`] resumes from the newest checkpoint that verifies and loads: `latest`'s
//!   first, then the other `step-*` directories from the newest down, each one skipped with
//!   a message naming its file and step;
//! - [`clear_temporaries`] removes what a killed writer left behind (`.step-*.tmp-*`
//!   directories and `.*.tmp-*` files).

use crate::TrainError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// One file as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    /// Length in bytes.
    pub bytes: u64,
    /// FNV-1a 64 of the contents, as 16 hex digits.
    pub fnv1a64: String,
}

/// `manifest.json`: every other file of a checkpoint directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The checkpoint's step.
    pub step: u32,
    /// File name to length and checksum.
    pub files: BTreeMap<String, FileSum>,
}

/// FNV-1a, 64 bits: `h ← (h ⊕ byte)·0x100000001b3` from `0xcbf29ce484222325`. Not
/// cryptographic; it finds truncation and corruption, which is its job here.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn full_disk(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::StorageFull,
        format!("{}: no space left on device", path.display()),
    )
}

/// Creates `path`, writes `bytes` and syncs it, taking the bytes from the checkpoint budget
/// ([`crate::faults::charge_checkpoint_bytes`]): when it runs out, the part that fits is
/// written and the error is a full disk's. Errors name the path.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let granted = crate::faults::charge_checkpoint_bytes(bytes.len() as u64) as usize;
    let mut f = fs::File::create(path).map_err(named)?;
    f.write_all(&bytes[..granted]).map_err(named)?;
    f.sync_all().map_err(named)?;
    if granted < bytes.len() {
        return Err(full_disk(path));
    }
    pause();
    Ok(())
}

/// The wait [`crate::faults::pause_checkpoint_writes`] asks for after each file.
fn pause() {
    let ms = crate::faults::checkpoint_pause_ms();
    if ms > 0 {
        std::thread::sleep(std::time::Duration::from_millis(ms as u64));
    }
}

/// Charges a file another writer made (spar-model's `model.safetensors`) to the checkpoint
/// budget; when the budget runs out it is cut to the part that fits, as a full disk would
/// have left it, and the error is a full disk's.
pub fn charge_written(path: &Path) -> io::Result<()> {
    let len = fs::metadata(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?
        .len();
    let granted = crate::faults::charge_checkpoint_bytes(len);
    if granted < len {
        let f = fs::OpenOptions::new().write(true).open(path)?;
        f.set_len(granted)?;
        f.sync_all()?;
        return Err(full_disk(path));
    }
    pause();
    Ok(())
}

/// Writes `dir/manifest.json` for every file already in `dir` (through [`write_file`]).
pub fn write_manifest(dir: &Path, step: u32) -> io::Result<()> {
    let mut files = BTreeMap::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == MANIFEST || !entry.file_type()?.is_file() {
            continue;
        }
        let bytes = fs::read(entry.path())?;
        files.insert(
            name,
            FileSum {
                bytes: bytes.len() as u64,
                fnv1a64: format!("{:016x}", fnv1a64(&bytes)),
            },
        );
    }
    let text = serde_json::to_string_pretty(&Manifest { step, files })?;
    write_file(&dir.join(MANIFEST), text.as_bytes())
}

/// The step a `step-NNNNNN` directory name carries.
pub fn step_of(dir: &Path) -> Option<u32> {
    dir.file_name()?
        .to_str()?
        .strip_prefix("step-")?
        .parse()
        .ok()
}

/// `step N: ` for a `step-NNNNNN` directory, else its path.
fn at_step(dir: &Path) -> String {
    match step_of(dir) {
        Some(s) => format!("step {s}: "),
        None => format!("{}: ", dir.display()),
    }
}

/// Checks a checkpoint directory against its manifest: every file listed is there with its
/// length and checksum. A directory without a manifest (written before there was one)
/// passes; its files are still checked by their parsers. The error names the file.
pub fn verify(dir: &Path) -> Result<(), TrainError> {
    let path = dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(bad(&path, e)),
    };
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| bad(&path, e))?;
    for (name, want) in &manifest.files {
        let p = dir.join(name);
        let bytes = fs::read(&p).map_err(|e| bad(&p, e))?;
        if bytes.len() as u64 != want.bytes {
            return Err(bad(
                &p,
                format!("{} bytes, the manifest says {}", bytes.len(), want.bytes),
            ));
        }
        let got = format!("{:016x}", fnv1a64(&bytes));
        if got != want.fnv1a64 {
            return Err(bad(
                &p,
                format!("checksum {got}, the manifest says {}", want.fnv1a64),
            ));
        }
    }
    Ok(())
}

fn bad(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint(format!("{}: {e}", path.display()))
}

/// The checkpoints under a run's output directory `out`, the one `latest` names first, then
/// every other `step-NNNNNN` directory from the highest step down.
pub fn candidates(out: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter_map(|p| Some((step_of(&p)?, p)))
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
    let mut out_dirs = Vec::new();
    if let Ok(name) = fs::read_to_string(out.join("latest")) {
        let named = out.join(name.trim());
        if !name.trim().is_empty() {
            out_dirs.push(named);
        }
    }
    for (_, d) in dirs {
        if !out_dirs.contains(&d) {
            out_dirs.push(d);
        }
    }
    out_dirs
}

/// A checkpoint loaded by [`newest_intact`], with the newer ones it had to skip.
#[derive(Debug, Clone)]
pub struct Resumed<T> {
    /// What `load` returned for the checkpoint used.
    pub checkpoint: T,
    /// The directory it came from.
    pub dir: PathBuf,
    /// One message per newer checkpoint skipped: `step N: ` and the error, which names the
    /// file.
    pub skipped: Vec<String>,
}

/// Resumes from the newest checkpoint under `out` that [`verify`]s and that `load` accepts,
/// trying [`candidates`] in order (and first removing what killed writers left, see
/// [`clear_temporaries`]). `out` may also be a checkpoint directory itself: then only it is
/// tried. Fails, listing every checkpoint's problem, when none is intact.
pub fn newest_intact<T>(
    out: &Path,
    mut load: impl FnMut(&Path) -> Result<T, TrainError>,
) -> Result<Resumed<T>, TrainError> {
    let dirs = if out.join("state.json").exists() {
        vec![out.to_path_buf()]
    } else {
        clear_temporaries(out);
        candidates(out)
    };
    let mut skipped = Vec::new();
    for dir in dirs {
        let tried = if dir.is_dir() {
            verify(&dir).and_then(|()| load(&dir))
        } else {
            Err(TrainError::Checkpoint(format!(
                "{}: missing (named by {})",
                dir.display(),
                out.join("latest").display()
            )))
        };
        match tried {
            Ok(checkpoint) => {
                return Ok(Resumed {
                    checkpoint,
                    dir,
                    skipped,
                })
            }
            Err(e) => skipped.push(format!("{}{e}", at_step(&dir))),
        }
    }
    Err(TrainError::Checkpoint(if skipped.is_empty() {
        format!("no checkpoint in {}", out.display())
    } else {
        format!(
            "no intact checkpoint in {}: {}",
            out.display(),
            skipped.join("; ")
        )
    }))
}

/// Removes what writers killed mid-write left in `out`: `.step-*.tmp-*` directories and
/// `.*.tmp-*` files (atomic writes' temporaries). Best effort; for a run's own output
/// directory when it resumes (nothing else writes there then).
pub fn clear_temporaries(out: &Path) {
    for entry in fs::read_dir(out).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.starts_with('.') && name.contains(".tmp-")) {
            continue;
        }
        let _ = if entry.path().is_dir() {
            fs::remove_dir_all(entry.path())
        } else {
            fs::remove_file(entry.path())
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("spar-ckdir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// FNV-1a 64's published test vectors.
    #[test]
    fn fnv1a64_matches_the_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    fn checkpoint(out: &Path, step: u32, payload: &[u8]) -> PathBuf {
        let d = out.join(format!("step-{step:06}"));
        fs::create_dir_all(&d).unwrap();
        write_file(&d.join("state.json"), payload).unwrap();
        write_manifest(&d, step).unwrap();
        fs::write(out.join("latest"), format!("step-{step:06}")).unwrap();
        d
    }

    #[test]
    fn truncation_and_corruption_are_found_and_the_previous_checkpoint_is_used() {
        let out = scratch("fallback");
        checkpoint(&out, 5, b"five");
        let ten = checkpoint(&out, 10, b"ten!");
        let read = |d: &Path| -> Result<Vec<u8>, TrainError> {
            fs::read(d.join("state.json")).map_err(|e| TrainError::Checkpoint(e.to_string()))
        };
        let r = newest_intact(&out, read).unwrap();
        assert_eq!(
            (r.checkpoint.as_slice(), r.skipped.len()),
            (&b"ten!"[..], 0)
        );
        // Truncated: the length differs.
        fs::write(ten.join("state.json"), b"te").unwrap();
        let r = newest_intact(&out, read).unwrap();
        assert_eq!(r.checkpoint, b"five");
        assert_eq!(step_of(&r.dir), Some(5));
        let s = &r.skipped[0];
        assert!(
            s.starts_with("step 10: ") && s.contains("state.json: 2 bytes"),
            "{s}"
        );
        // Corrupted: same length, another byte.
        fs::write(ten.join("state.json"), b"ten?").unwrap();
        let r = newest_intact(&out, read).unwrap();
        assert_eq!(r.checkpoint, b"five");
        let s = &r.skipped[0];
        assert!(
            s.starts_with("step 10: ") && s.contains("state.json: checksum"),
            "{s}"
        );
        // Nothing intact: one error naming both.
        fs::write(out.join("step-000005/state.json"), b"fiv").unwrap();
        let e = newest_intact(&out, read).unwrap_err().to_string();
        assert!(e.contains("step 10: ") && e.contains("step 5: "), "{e}");
        fs::remove_dir_all(&out).unwrap();
    }

    #[test]
    fn a_missing_latest_target_falls_back_and_temporaries_are_cleared() {
        let out = scratch("missing");
        checkpoint(&out, 3, b"three");
        fs::write(out.join("latest"), "step-000009").unwrap();
        fs::create_dir_all(out.join(".step-000009.tmp-1234")).unwrap();
        fs::write(out.join(".latest.tmp-1234-0"), "x").unwrap();
        let r = newest_intact(&out, |d| Ok(d.to_path_buf())).unwrap();
        assert_eq!(step_of(&r.checkpoint), Some(3));
        assert!(r.skipped[0].starts_with("step 9: "), "{:?}", r.skipped);
        assert!(
            r.skipped[0].contains("step-000009: missing"),
            "{:?}",
            r.skipped
        );
        let left: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        fs::remove_dir_all(&out).unwrap();
    }
}
