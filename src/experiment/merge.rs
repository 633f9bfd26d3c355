//! `deploysim merge`: shard outputs back into one sweep output.
//!
//! Shard K of N holds the sweep's rows at positions K-1, K-1+N, ... in
//! order, so the merged `trials.csv` takes row i from shard i mod N, and
//! the summary is tallied from the merged rows exactly as an unsharded
//! sweep tallies its own: the files are the same bytes.

use super::manifest::Manifest;
use super::rows::{RowError, RowReader};
use super::tally::{trial_header, Tally};
use crate::report::outdir::{Commit, OutDir, OutError, SWEEP_FILES};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why shards could not be merged.
#[derive(Debug)]
pub enum MergeError {
    /// The folders are not the complete shards of one sweep (bad input).
    Shards(String),
    /// Reading or writing failed.
    Io(std::io::Error),
    /// The output folder: a bad `--out` or a file deploysim did not write
    /// in the way (bad input), or a file that could not be written.
    Out(OutError),
}

impl From<OutError> for MergeError {
    fn from(e: OutError) -> Self {
        MergeError::Out(e)
    }
}

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MergeError::Shards(m) => f.write_str(m),
            MergeError::Io(e) => write!(f, "{e}"),
            MergeError::Out(e) => write!(f, "{e}"),
        }
    }
}

impl From<std::io::Error> for MergeError {
    fn from(e: std::io::Error) -> Self {
        MergeError::Io(e)
    }
}

/// Checks that `dirs` are the N complete shards of one sweep; returns their
/// manifests in shard order. Each manifest is read with a size limit and
/// checked on its own first (its row count against its shard), so a
/// damaged manifest is blamed, not a healthy shard.
pub fn check_shards(dirs: &[PathBuf]) -> Result<Vec<(Manifest, PathBuf)>, MergeError> {
    let allowed = "\n  allowed: the output folders of every shard 1/N..N/N of one sweep, each complete";
    let shown = |dir: &Path| crate::text::printable(&dir.display().to_string()).into_owned();
    let mut shards: Vec<(Manifest, PathBuf)> = Vec::new();
    for dir in dirs {
        let m = Manifest::read(dir).map_err(|e| {
            // A located error says what its field allows already.
            let tail = if e.contains("\n  allowed: ") { "" } else { allowed };
            MergeError::Shards(format!("{e}{tail}"))
        })?;
        if !m.complete {
            return Err(MergeError::Shards(format!(
                "{}: shard {}/{} is not complete (finish it with --resume){allowed}",
                shown(dir),
                m.shard,
                m.shards
            )));
        }
        if let Some((_, other)) = shards.iter().find(|(o, _)| o.shard == m.shard && o.shards == m.shards) {
            return Err(MergeError::Shards(format!(
                "{} and {} both hold shard {}/{}: it is given twice{allowed}",
                shown(other),
                shown(dir),
                m.shard,
                m.shards
            )));
        }
        shards.push((m, dir.clone()));
    }
    shards.sort_by_key(|(m, _)| m.shard);
    let Some((first, first_dir)) = shards.first() else {
        return Err(MergeError::Shards(format!("no folder given{allowed}")));
    };
    let n = first.shards;
    for (m, dir) in &shards {
        // Everything but the shard itself must agree: the same sweep file,
        // base scenario and input files (the fingerprint), trials and cell.
        let same = Manifest {
            shard: first.shard,
            rows: first.rows,
            sweep_file: first.sweep_file.clone(),
            ..m.clone()
        };
        if same != *first {
            return Err(MergeError::Shards(format!(
                "{}: holds sweep {} (fingerprint {}, {} shards, {} cells x {} trials), but {} holds {} \
                 (fingerprint {}, {} shards, {} cells x {} trials): shards of one sweep share its files, \
                 the files those read (replay CSVs), --trials and --cell{allowed}",
                shown(dir),
                m.sweep,
                m.fingerprint,
                m.shards,
                m.cells,
                m.trials_per_cell,
                shown(first_dir),
                first.sweep,
                first.fingerprint,
                n,
                first.cells,
                first.trials_per_cell
            )));
        }
    }
    if let Some(missing) = (1..=n).find(|k| shards.iter().all(|(m, _)| m.shard != *k)) {
        return Err(MergeError::Shards(format!(
            "{} of {n} shards given; shard {missing}/{n} is missing{allowed}",
            shards.len()
        )));
    }
    Ok(shards)
}

/// Merges complete shard folders into `out`: `trials.csv`, `summary.csv`,
/// the charts, `report.html` and `manifest.toml`, committed together (they
/// replace what deploysim wrote there before). Returns the tally and the
/// manifest. Rows are streamed (one line of each shard at a time, each
/// line at most 64 KiB), so memory does not grow with the shards' size.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<(Tally, Manifest), MergeError> {
    let shards = check_shards(dirs)?;
    if let Ok(out_real) = out.canonicalize() {
        if let Some((_, dir)) = shards
            .iter()
            .find(|(_, d)| d.canonicalize().is_ok_and(|d| d == out_real))
        {
            return Err(MergeError::Shards(format!(
                "--out {} is the shard folder {}: the merge would overwrite its input\n  \
                 allowed: a folder that is not one of the shards",
                out.display(),
                dir.display()
            )));
        }
    }
    let mut outdir = OutDir::open(out)?;
    outdir.check_writes(SWEEP_FILES.iter().copied())?;
    let mut stage = outdir.stage()?;
    let rows_path = stage.path_for("trials.csv")?;
    let rows_error = |e: RowError| MergeError::Shards(e.to_string());
    let mut readers = Vec::new();
    for (m, dir) in &shards {
        let mut r = RowReader::open(&dir.join("trials.csv"), None).map_err(rows_error)?;
        match r.next_fields().map_err(rows_error)? {
            Some(header) => r.check_header(&header).map_err(rows_error)?,
            None => {
                return Err(rows_error(r.error(
                    None,
                    "is empty",
                    "the trials.csv of a complete shard",
                )))
            }
        }
        readers.push((r, m.rows));
    }
    // Each manifest's rows were checked against its shard, so the sum is at
    // most the sweep's cells x trials.
    let total: u64 = shards.iter().map(|(m, _)| m.rows).sum();
    let first = &shards[0].0;
    let per_cell = first.trials_per_cell.max(1);
    let seed = first.seed.to_string();
    let mut tally = Tally::new();
    // A shard that does not hold what its manifest says is bad input:
    // reported as InvalidData through the writer, then as MergeError::Shards.
    let invalid = |e: RowError| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string());
    let written = super::runner::write_stream(&rows_path, |w: &mut dyn Write| {
        let mut writer = csv::Writer::from_writer(w);
        writer.write_record(trial_header()).map_err(std::io::Error::other)?;
        let n = readers.len() as u64;
        let mut cell_keys: Vec<String> = Vec::new();
        for i in 0..total {
            let (reader, rows) = &mut readers[(i % n) as usize];
            let row_in_file = i / n + 1;
            let Some(row) = reader.next_fields().map_err(invalid)? else {
                return Err(invalid(reader.error(
                    None,
                    format!("the file ends at row {}; its manifest says {rows}", row_in_file - 1),
                    "the trials.csv of a complete shard",
                )));
            };
            reader.check_row(&row).map_err(invalid)?;
            // Trial numbers run 0..trials in every cell, and a cell's rows
            // share its keys while the next cell's differ.
            let trial = (i % per_cell).to_string();
            let keys = row[..4].to_vec();
            let same_cell = keys == cell_keys;
            let wrong = if row[4] != trial {
                Some(4)
            } else if (trial == "0") == same_cell {
                Some(0)
            } else {
                reader.index_of("seed").filter(|&k| row[k] != seed)
            };
            if let Some(k) = wrong {
                return Err(invalid(reader.error(
                    Some(k),
                    format!(
                        "row {row_in_file} is not trial {trial} of cell {} of the sweep (seed {seed})",
                        i / per_cell + 1
                    ),
                    "the shard's rows as deploysim wrote them, in order",
                )));
            }
            cell_keys = keys;
            writer.write_record(&row).map_err(std::io::Error::other)?;
            tally.add(&row);
        }
        for (reader, rows) in &mut readers {
            if reader.next_fields().map_err(invalid)?.is_some() {
                return Err(invalid(reader.error(
                    None,
                    format!("is past the {rows} rows its manifest says"),
                    "the trials.csv of a complete shard",
                )));
            }
        }
        writer.flush()
    });
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(MergeError::Shards(e.to_string()));
        }
        other => other.map_err(|e| OutError::io("write", stage.target("trials.csv"), e))?,
    }
    tally.finish();
    stage.write("summary.csv", &tally.summary_csv())?;
    let (first, _) = &shards[0];
    let manifest = Manifest {
        shard: 1,
        shards: 1,
        rows: total,
        complete: true,
        ..first.clone()
    };
    super::report::write(&mut stage, &manifest, &tally)?;
    let text = manifest
        .to_text()
        .map_err(|e| OutError::io("write", stage.target(super::manifest::FILE), e))?;
    stage.write(super::manifest::FILE, text.as_bytes())?;
    stage.commit(Commit::Replace)?;
    Ok((tally, manifest))
}
