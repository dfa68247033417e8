//! The workspace's one writer of files that must not be lost or left half-written
//! (feature `std`): checkpoints' small files, metrics, plots, result tables.
//!
//! [`write_atomic`] writes a temporary file in the target's directory, flushes it to disk,
//! renames it over the target and then flushes the directory, so that after a crash a
//! reader finds the old file or the new one, whole, and after a return the new one survives
//! a power cut. (spar-model's `checkpoint::save` and spar-bpe's `Tokenizer::save` sit below
//! this crate and keep their own copies of the same steps.)
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("spar-atomic-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("latest");
//! spar_train::atomic::write_atomic(&path, b"step-000010")?;
//! spar_train::atomic::write_atomic(&path, b"step-000020")?;
//! assert_eq!(std::fs::read(&path)?, b"step-000020");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces `path` by `bytes` atomically and durably: a temporary file beside it (same
/// directory, so the rename cannot cross file systems) is written and `sync_all`ed, renamed
/// over `path`, and the directory is synced so that the rename itself persists (best effort
/// where directories cannot be synced, e.g. Windows). On an error the temporary is removed
/// and the target is left as it was; the error's message names the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = temporary(dir, path);
    let written = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        // Best effort: the temporary is garbage whether or not removal succeeds.
        let _ = fs::remove_file(&tmp);
        return Err(named(path, e));
    }
    sync_dir(dir).map_err(|e| named(dir, e))
}

/// A temporary name in `dir` for `target`, unique per process and per call (concurrent
/// writers never share one) and hidden (`.name.tmp-PID-N`).
fn temporary(dir: &Path, target: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

/// Flushes a directory's entries (the rename) to disk. Unix can; elsewhere a directory
/// cannot be opened as a file, and some file systems refuse the call: both are skipped.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        match File::open(dir).and_then(|d| d.sync_all()) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
                ) =>
            {
                Ok(())
            }
            r => r,
        }
    }
    #[cfg(not(unix))]
    {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// `e` with `path` in front of its message (the kind is kept).
fn named(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("spar-atomic-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let d = scratch("replace");
        let p = d.join("results.md");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new contents").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new contents");
        let names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["results.md"]);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failure_names_the_path_and_keeps_the_old_file() {
        let d = scratch("fail");
        // The target is a non-empty directory: the rename fails, the directory stays.
        let p = d.join("plots");
        fs::create_dir_all(p.join("inner")).unwrap();
        let e = write_atomic(&p, b"svg").unwrap_err();
        assert!(e.to_string().contains(&p.display().to_string()), "{e}");
        assert!(p.join("inner").is_dir());
        let names: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["plots"], "the temporary was removed");
        // A missing directory fails at the temporary, naming the target.
        let q = d.join("missing").join("x.svg");
        let e = write_atomic(&q, b"svg").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(e.to_string().contains("x.svg"), "{e}");
        fs::remove_dir_all(&d).unwrap();
    }
}
