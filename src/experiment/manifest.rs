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

/// Largest `manifest.toml` read (one that deploysim writes is under 64 KiB:
/// a sweep's question is at most 10,000 characters).
pub const MAX_BYTES: u64 = 1024 * 1024;

impl Manifest {
    /// Reads `dir/manifest.toml` (at most [`MAX_BYTES`]) and checks that its
    /// fields fit together: an error names the file, line, column and
    /// field.
    pub fn read(dir: &Path) -> Result<Manifest, String> {
        let path = dir.join(FILE);
        let shown = crate::text::printable(&path.display().to_string()).into_owned();
        let bytes = crate::scenario::inputs::read_bounded(&path, MAX_BYTES).map_err(|e| format!("{shown}: {e}"))?;
        let text =
            String::from_utf8(bytes).map_err(|_| format!("{shown}: not a deploysim manifest (not UTF-8 text)"))?;
        let manifest: Manifest = toml::from_str(&text).map_err(|e| {
            let located = crate::scenario::toml_error(&path, &text, &e);
            format!("{located}\n  (not a deploysim manifest)")
        })?;
        manifest.check().map_err(|field| {
            let doc = crate::scenario::locate::SpannedDoc::parse(&text);
            let offset = doc.map_or(0, |d| d.offset_of(&field.path));
            crate::scenario::ScenarioError::at(&path, &text, offset, field).to_string()
        })?;
        Ok(manifest)
    }

    /// The rows a folder of this sweep, shard and cell holds when complete.
    pub fn expected_rows(&self) -> u64 {
        let jobs = match self.cell {
            Some(_) => self.trials_per_cell,
            None => self.cells.saturating_mul(self.trials_per_cell),
        };
        let shard = super::runner::Shard {
            index: self.shard.saturating_sub(1),
            count: self.shards.max(1),
        };
        shard.len(jobs)
    }

    /// Whether the fields fit together, as deploysim writes them; the first
    /// field that does not.
    fn check(&self) -> Result<(), crate::scenario::FieldError> {
        use crate::scenario::FieldError;
        let fail = |field: &str, problem: String, allowed: &str| Err(FieldError::new(field, problem, allowed));
        if let Err(e) = crate::names::check_name(&self.sweep, crate::names::NameUse::Path) {
            return Err(FieldError::new("sweep", e.problem, e.allowed));
        }
        if self.question.chars().count() > super::sweep::MAX_QUESTION_CHARS {
            return fail("question", "is too long".into(), "at most 10,000 characters");
        }
        if self.fingerprint.len() != 16 || !self.fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
            return fail("fingerprint", "is not a fingerprint".into(), "16 hexadecimal digits");
        }
        if !(1..=super::sweep::MAX_CELLS as u64).contains(&self.cells) {
            return fail("cells", format!("{} is out of range", self.cells), "1 to 10,000");
        }
        if !(1..=super::sweep::MAX_TRIALS).contains(&self.trials_per_cell) {
            return fail(
                "trials_per_cell",
                format!("{} is out of range", self.trials_per_cell),
                "1 to 1,000,000",
            );
        }
        if self.cell.is_some_and(|c| c == 0 || c > self.cells) {
            return fail(
                "cell",
                format!("{:?} is not a cell of the sweep", self.cell),
                "1 to `cells`",
            );
        }
        if !(1..=super::runner::MAX_SHARDS).contains(&self.shards) {
            return fail("shards", format!("{} is out of range", self.shards), "1 to 100,000");
        }
        if !(1..=self.shards).contains(&self.shard) {
            return fail(
                "shard",
                format!("{} is not a shard of {}", self.shard, self.shards),
                "1 to `shards`",
            );
        }
        let rows = self.expected_rows();
        if self.rows != rows {
            return fail(
                "rows",
                format!(
                    "is {}, but shard {}/{} of {} cells x {} trials holds {rows}",
                    self.rows, self.shard, self.shards, self.cells, self.trials_per_cell
                ),
                "the row count deploysim wrote",
            );
        }
        Ok(())
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
