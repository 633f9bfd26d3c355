//! `manifest.toml`: what a sweep output folder holds, so a shard can be
//! merged, an interrupted sweep resumed, and a report drawn without the
//! sweep file.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file name inside an output folder.
pub const FILE: &str = "manifest.toml";

/// What an output folder holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Sweep name.
    pub sweep: String,
    /// What the sweep asks (its `question`).
    pub question: String,
    /// The sweep file as given on the command line.
    pub sweep_file: String,
    /// A hash of the sweep file, its base scenario, the trial count and the
    /// cell filter: shards and resumed runs must agree on it.
    pub fingerprint: String,
    /// Seed of every trial.
    pub seed: u64,
    /// Cells in the whole sweep.
    pub cells: u64,
    /// Trials per cell.
    pub trials_per_cell: u64,
    /// The one cell run (1-based), if `--cell` was given.
    pub cell: Option<u64>,
    /// This folder's shard, 1-based.
    pub shard: u64,
    /// Shards in all.
    pub shards: u64,
    /// Rows this folder's `trials.csv` holds when complete.
    pub rows: u64,
    /// Whether `trials.csv` is complete (otherwise `trials.csv.partial`
    /// holds the rows kept so far).
    pub complete: bool,
}

impl Manifest {
    /// Reads `dir/manifest.toml`.
    pub fn read(dir: &Path) -> Result<Manifest, String> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: not a deploysim manifest: {}", path.display(), e.message()))
    }

    /// Writes `dir/manifest.toml` atomically.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        crate::report::write_atomic(&dir.join(FILE), self.to_text()?.as_bytes())
    }

    /// The text of `manifest.toml`.
    pub fn to_text(&self) -> std::io::Result<String> {
        let text = toml::to_string(self).map_err(std::io::Error::other)?;
        Ok(format!(
            "# Written by deploysim; read by `deploysim merge` and `--resume`.\n{text}"
        ))
    }
}

/// FNV-1a over byte strings, as 16 hex digits: a stable fingerprint (not a
/// security measure) that needs no dependency.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain(&[0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
