//! `deploysim merge`: shard outputs back into one sweep output.
//!
//! Shard K of N holds the sweep's rows at positions K-1, K-1+N, ... in
//! order, so the merged `trials.csv` takes row i from shard i mod N, and
//! the summary is tallied from the merged rows exactly as an unsharded
//! sweep tallies its own: the files are the same bytes.

use super::manifest::Manifest;
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
/// manifests in shard order.
pub fn check_shards(dirs: &[PathBuf]) -> Result<Vec<(Manifest, PathBuf)>, MergeError> {
    let allowed = "\n  allowed: the output folders of every shard 1/N..N/N of one sweep, each complete";
    let mut shards = Vec::new();
    for dir in dirs {
        let m = Manifest::read(dir).map_err(|e| MergeError::Shards(format!("{e}{allowed}")))?;
        if !m.complete {
            return Err(MergeError::Shards(format!(
                "{}: shard {}/{} is not complete (finish it with --resume){allowed}",
                dir.display(),
                m.shard,
                m.shards
            )));
        }
        shards.push((m, dir.clone()));
    }
    shards.sort_by_key(|(m, _)| m.shard);
    let Some((first, _)) = shards.first() else {
        return Err(MergeError::Shards(format!("no folder given{allowed}")));
    };
    let n = first.shards;
    for (i, (m, dir)) in shards.iter().enumerate() {
        if m.fingerprint != first.fingerprint || m.shards != n {
            return Err(MergeError::Shards(format!(
                "{}: holds sweep {} (fingerprint {}, {} shards), not {} (fingerprint {}, {} shards){allowed}",
                dir.display(),
                m.sweep,
                m.fingerprint,
                m.shards,
                first.sweep,
                first.fingerprint,
                n
            )));
        }
        if m.shard != i as u64 + 1 {
            let what = if m.shard == i as u64 { "given twice" } else { "missing" };
            return Err(MergeError::Shards(format!(
                "shard {}/{n} is {what}{allowed}",
                if m.shard == i as u64 { m.shard } else { i as u64 + 1 }
            )));
        }
    }
    if shards.len() as u64 != n {
        return Err(MergeError::Shards(format!(
            "{} of {n} shards given; shard {}/{n} is missing{allowed}",
            shards.len(),
            shards.len() + 1
        )));
    }
    Ok(shards)
}

/// Merges complete shard folders into `out`: `trials.csv`, `summary.csv`,
/// the charts, `report.html` and `manifest.toml`, committed together (they
/// replace what deploysim wrote there before). Returns the tally and the
/// manifest.
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
    let mut readers = Vec::new();
    for (m, dir) in &shards {
        let path = dir.join("trials.csv");
        let mut r =
            csv::Reader::from_path(&path).map_err(|e| MergeError::Shards(format!("{}: {e}", path.display())))?;
        let header: Vec<String> = r
            .headers()
            .map_err(|e| MergeError::Shards(format!("{}: {e}", path.display())))?
            .iter()
            .map(str::to_string)
            .collect();
        if header != trial_header() {
            return Err(MergeError::Shards(format!(
                "{}: not a trials.csv of this deploysim version (its header differs)",
                path.display()
            )));
        }
        readers.push((r.into_records(), m.rows, path));
    }
    let total: u64 = shards.iter().map(|(m, _)| m.rows).sum();
    let per_cell = shards[0].0.trials_per_cell.max(1);
    let mut tally = Tally::new();
    // A shard that does not hold what its manifest says is bad input:
    // reported as InvalidData through the writer, then as MergeError::Shards.
    let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidData, msg);
    let written = super::runner::write_stream(&rows_path, |w: &mut dyn Write| {
        let mut writer = csv::Writer::from_writer(w);
        writer.write_record(trial_header()).map_err(std::io::Error::other)?;
        let n = readers.len() as u64;
        let mut cell_keys: Vec<String> = Vec::new();
        for i in 0..total {
            let (records, _, path) = &mut readers[(i % n) as usize];
            let row_in_file = i / n + 1;
            let record = records
                .next()
                .ok_or_else(|| {
                    invalid(format!(
                        "{}: ends at row {}; its manifest says more",
                        path.display(),
                        row_in_file - 1
                    ))
                })?
                .map_err(|e| invalid(format!("{}: row {row_in_file}: {e}", path.display())))?;
            let row: Vec<String> = record.iter().map(str::to_string).collect();
            // Trial numbers run 0..trials in every cell, and a cell's rows
            // share its keys while the next cell's differ.
            let trial = i % per_cell;
            let keys = row.get(..4).map(<[String]>::to_vec).unwrap_or_default();
            let fits = row.len() == trial_header().len()
                && row[4] == trial.to_string()
                && if trial == 0 {
                    keys != cell_keys
                } else {
                    keys == cell_keys
                };
            if !fits {
                return Err(invalid(format!(
                    "{}: row {row_in_file} is not trial {trial} of cell {} of the sweep",
                    path.display(),
                    i / per_cell + 1
                )));
            }
            cell_keys = keys;
            writer.write_record(&row).map_err(std::io::Error::other)?;
            tally.add(&row);
        }
        for (records, rows, path) in &mut readers {
            if records.next().is_some() {
                return Err(invalid(format!(
                    "{}: holds more rows than the {rows} its manifest says",
                    path.display()
                )));
            }
        }
        writer.flush()
    });
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(MergeError::Shards(format!(
                "{e}\n  allowed: the shards' files as deploysim wrote them"
            )))
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
