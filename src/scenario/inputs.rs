//! Files a scenario reads besides itself (a replayed traffic series).
//!
//! A sweep or a tune validates thousands of scenarios built from one base;
//! each names the same replay file. [`InputFiles`] reads and parses each
//! file once and hands every scenario the same series (an `Arc`), so memory
//! does not grow with the cells, and keeps a digest of every byte read, in
//! the order first read, for the sweep's fingerprint.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub use crate::model::traffic::ReplaySeries as Series;

/// The files read while validating one or more scenarios.
#[derive(Debug, Default)]
pub struct InputFiles {
    files: Mutex<Vec<InputFile>>,
}

#[derive(Debug)]
struct InputFile {
    path: PathBuf,
    /// FNV-1a of the bytes, when they could be read.
    digest: Option<String>,
    /// The parsed series, or the problem (as reported for `replay_file`).
    series: Result<Series, String>,
}

impl InputFiles {
    /// No files read yet.
    pub fn new() -> Self {
        InputFiles::default()
    }

    /// The series in the replay file at `path`: read (at most `limit`
    /// bytes) and parsed by `parse` the first time, shared afterwards. An
    /// error is the problem, naming the file.
    pub(crate) fn replay(
        &self,
        path: &Path,
        limit: u64,
        parse: impl FnOnce(&str, &[u8]) -> Result<Vec<(f64, f64)>, String>,
    ) -> Result<Series, String> {
        // A poisoned lock only means another validation panicked; the list
        // itself is always whole.
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = files.iter().find(|f| f.path == path) {
            return f.series.clone();
        }
        let shown = path.display().to_string();
        let (digest, series) = match read_bounded(path, limit) {
            Ok(bytes) => (
                Some(crate::experiment::manifest::fingerprint(&[&bytes])),
                parse(&shown, &bytes).map(Series::new),
            ),
            Err(e) => (None, Err(format!("{shown}: {e}"))),
        };
        files.push(InputFile {
            path: path.to_path_buf(),
            digest,
            series: series.clone(),
        });
        series
    }

    /// A digest of each file read, in the order first read: what a
    /// fingerprint of the inputs adds to the scenario texts. Empty when
    /// the scenarios read no other file.
    pub fn digests(&self) -> Vec<String> {
        let files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        files.iter().filter_map(|f| f.digest.clone()).collect()
    }
}

/// Reads a regular file of at most `limit` bytes; a folder, a device or a
/// larger file is an error, found without reading past the limit.
pub(crate) fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|_| "cannot read the file".to_string())?;
    if !meta.is_file() {
        return Err("cannot read the file (not a regular file)".into());
    }
    if meta.len() > limit {
        return Err(format!("larger than {} MiB", limit / (1024 * 1024)));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, limit + 1), &mut bytes))
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {} MiB", limit / (1024 * 1024)));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_once_and_shared() {
        let dir = std::env::temp_dir().join(format!("deploysim-inputs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.csv");
        std::fs::write(&path, "t_s,rps\n0,1\n").unwrap();
        let inputs = InputFiles::new();
        let mut parses = 0;
        let mut get = || {
            inputs
                .replay(&path, 1 << 20, |_, b| {
                    parses += 1;
                    Ok(vec![(0.0, b.len() as f64)])
                })
                .unwrap()
        };
        let (a, b) = (get(), get());
        assert!(a.shares_points_with(&b), "one series for both");
        assert_eq!(parses, 1);
        let first = inputs.digests();
        assert_eq!(first.len(), 1);
        // Other bytes, another digest.
        std::fs::write(&path, "t_s,rps\n0,2\n").unwrap();
        let again = InputFiles::new();
        again.replay(&path, 1 << 20, |_, _| Ok(vec![])).unwrap();
        assert_ne!(again.digests(), first);
        assert!(read_bounded(&dir, 10).unwrap_err().contains("not a regular file"));
        assert!(read_bounded(&path, 3).unwrap_err().contains("larger than"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
