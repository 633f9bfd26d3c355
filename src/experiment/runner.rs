//! Running a sweep: trials in parallel, rows in order, shards, resume.
//!
//! The trials of a sweep are numbered in (cell, trial) order; `--cell`
//! keeps one cell's, and shard K of N takes every N-th of those from the
//! K-th. Trials run in parallel in fixed-size batches; a batch's rows are
//! written in order and flushed before the next starts, so
//! `trials.csv.partial` always holds a prefix of the rows, which is what
//! `--resume` continues from and what an interrupt (Ctrl-C) keeps.

use super::manifest::Manifest;
use super::rows::{RowError, RowReader, MAX_LINE_BYTES};
use super::sweep::Sweep;
use super::tally::{trial_header, Tally};
use crate::report::csv_out::summary_record;
use crate::report::outdir::{Commit, OutDir, OutError, SWEEP_FILES};
use crate::sim::{run, RunOptions};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Trials per parallel batch: bounded memory, whatever the sweep's size,
/// and a prompt stop on Ctrl-C.
const BATCH: u64 = 256;

/// The name of the rows file while a sweep is under way.
pub const PARTIAL: &str = "trials.csv.partial";

/// Most shards of a sweep.
pub const MAX_SHARDS: u64 = 100_000;

/// One of N shards of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index.
    pub index: u64,
    /// Shards in all.
    pub count: u64,
}

impl Shard {
    /// The whole sweep.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `K/N` (1-based K, 1 <= K <= N <= 100,000).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("\"{text}\" is not a shard\n  allowed: K/N with 1 <= K <= N <= 100000, e.g. 2/8");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || k > n || n > MAX_SHARDS {
            return Err(bad());
        }
        Ok(Shard { index: k - 1, count: n })
    }

    /// How many of `jobs` positions this shard takes.
    pub fn len(&self, jobs: u64) -> u64 {
        jobs.saturating_sub(self.index).div_ceil(self.count)
    }
}

/// How a sweep is run.
#[derive(Clone, Copy, Debug)]
pub struct SweepOptions {
    /// Worker threads (the output does not depend on it).
    pub threads: usize,
    /// Check invariants on every event of every trial.
    pub check_invariants: bool,
    /// Which shard to run.
    pub shard: Shard,
    /// Run only this cell (0-based).
    pub cell: Option<u64>,
    /// Continue an interrupted run in the same folder.
    pub resume: bool,
    /// Stop as an interrupt would once this many rows are kept (tests).
    pub stop_after: Option<u64>,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            threads: 1,
            check_invariants: false,
            shard: Shard::WHOLE,
            cell: None,
            resume: false,
            stop_after: None,
        }
    }
}

/// What a sweep did.
pub struct SweepReport {
    /// Trials run by this invocation.
    pub ran: u64,
    /// Rows kept in the folder (including those a resume started from).
    pub kept: u64,
    /// Rows when complete.
    pub rows: u64,
    /// Stopped by an interrupt before the end.
    pub interrupted: bool,
    /// The first broken invariant, with the cell and trial that broke it,
    /// and that cell's number (1-based, as `--cell` takes it).
    pub violation: Option<(String, u64)>,
    /// The summary and chart data, for a complete unsharded run.
    pub tally: Option<Tally>,
    /// The folder's manifest as last written.
    pub manifest: Manifest,
    /// The files the sweep's completion wrote (empty until complete).
    pub written: Vec<std::path::PathBuf>,
}

/// Why a sweep could not run.
#[derive(Debug)]
pub enum SweepRunError {
    /// `--resume` on a folder that does not hold this sweep (bad input).
    Resume(String),
    /// Writing failed.
    Io(std::io::Error),
    /// The output folder: a bad `--out` or a file deploysim did not write
    /// in the way (bad input), or a file that could not be written.
    Out(OutError),
}

impl From<OutError> for SweepRunError {
    fn from(e: OutError) -> Self {
        SweepRunError::Out(e)
    }
}

impl From<std::io::Error> for SweepRunError {
    fn from(e: std::io::Error) -> Self {
        SweepRunError::Io(e)
    }
}

impl std::fmt::Display for SweepRunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweepRunError::Resume(m) => f.write_str(m),
            SweepRunError::Io(e) => write!(f, "{e}"),
            SweepRunError::Out(e) => write!(f, "{e}"),
        }
    }
}

/// The trials a run covers: the whole sweep or one cell, as a range of
/// global trial numbers.
fn job_range(sweep: &Sweep, cell: Option<u64>) -> std::ops::Range<u64> {
    match cell {
        Some(c) => c * sweep.trials..(c + 1) * sweep.trials,
        None => 0..sweep.cells.len() as u64 * sweep.trials,
    }
}

/// The manifest of a run of `sweep` with `opts` (incomplete).
pub fn manifest_for(sweep: &Sweep, sweep_file: &str, opts: &SweepOptions) -> Manifest {
    let range = job_range(sweep, opts.cell);
    let cell = opts.cell.map(|c| c + 1);
    Manifest {
        sweep: sweep.name.clone(),
        question: sweep.question.clone(),
        sweep_file: sweep_file.to_string(),
        fingerprint: super::manifest::fingerprint(&[
            sweep.fingerprint.as_bytes(),
            cell.unwrap_or(0).to_string().as_bytes(),
        ]),
        seed: sweep.seed,
        cells: sweep.cells.len() as u64,
        trials_per_cell: sweep.trials,
        cell,
        shard: opts.shard.index + 1,
        shards: opts.shard.count,
        rows: opts.shard.len(range.end - range.start),
        complete: false,
    }
}

/// The keys and trial number row `job` must carry.
fn expected_keys(sweep: &Sweep, job: u64) -> Vec<String> {
    let cell = &sweep.cells[(job / sweep.trials) as usize];
    let mut keys = cell.keys().to_vec();
    keys.push((job % sweep.trials).to_string());
    keys
}

/// Longest torn tail `--resume` drops from `trials.csv.partial`: a hard
/// kill tears the line being written, a power loss may zero the blocks of
/// the last batch; more than a batch of lines' worth without a line break
/// is not a torn tail.
const MAX_TORN_TAIL: u64 = BATCH * MAX_LINE_BYTES as u64;

/// The byte length of the file up to and including its last newline: a
/// hard kill can tear the last line, and only whole lines count. Looks back
/// at most [`MAX_TORN_TAIL`] bytes, so a file of zeros is refused at once.
fn whole_lines_len(file: &mut std::fs::File) -> Result<u64, String> {
    use std::io::{Read, Seek, SeekFrom};
    let len = file.metadata().map_err(|e| format!("cannot read: {e}"))?.len();
    let floor = len.saturating_sub(MAX_TORN_TAIL);
    let mut end = len;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > floor {
        let start = end.saturating_sub(chunk.len() as u64).max(floor);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))
            .and_then(|_| file.read_exact(&mut chunk[..n]))
            .map_err(|e| format!("cannot read: {e}"))?;
        if let Some(i) = chunk[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    if floor > 0 {
        return Err(format!(
            "its last {MAX_TORN_TAIL} bytes hold no line break: not rows that deploysim wrote \
             (a file of zeros, or damaged)"
        ));
    }
    Ok(0)
}

/// What reading a rows file found.
struct RowsRead {
    /// Rows that match the jobs in order.
    count: u64,
    /// Byte length of the header and those rows.
    end: u64,
    /// Whether the file held the header line.
    header: bool,
    /// Whether those bytes are exactly what deploysim writes for them.
    canonical: bool,
}

/// Reads a `trials.csv` (or, not `strict`, its `.partial`) row by row,
/// checking every value and that row n is job n of this run, and streams
/// each row to `on_row`. A partial file may end in a torn line, which is
/// dropped; any other line that is not what deploysim wrote is an error
/// naming the file, line, column and column name. A complete file must
/// hold exactly `rows` rows.
fn read_rows(
    path: &Path,
    sweep: &Sweep,
    jobs: &dyn Fn(u64) -> u64,
    rows: u64,
    strict: bool,
    on_row: &mut dyn FnMut(&[String]),
) -> Result<RowsRead, SweepRunError> {
    let allowed =
        "\n  allowed: --resume in the folder of an interrupted run of this sweep, its files as deploysim wrote them";
    let shown = crate::text::printable(&path.display().to_string()).into_owned();
    let bad = |what: String| SweepRunError::Resume(format!("--resume: {shown}: {what}{allowed}"));
    let located = |e: RowError| SweepRunError::Resume(format!("--resume: {e}"));
    // A regular file only: opening a pipe would wait for a writer.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Err(bad("is not a regular file".into()));
    }
    let limit = if strict {
        None
    } else {
        let mut file = std::fs::File::open(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        Some(whole_lines_len(&mut file).map_err(bad)?)
    };
    let mut reader = RowReader::open(path, limit).map_err(located)?;
    let (seed_at, release_at) = (reader.index_of("seed"), reader.index_of("release"));
    let seed = sweep.seed.to_string();
    let mut found = RowsRead {
        count: 0,
        end: 0,
        header: false,
        canonical: true,
    };
    while let Some(fields) = reader.next_fields().map_err(located)? {
        if !found.header {
            reader.check_header(&fields).map_err(located)?;
            found.header = true;
        } else {
            reader.check_row(&fields).map_err(located)?;
            let n = found.count;
            if n >= rows {
                return Err(located(reader.error(
                    None,
                    format!("is row {}; this run has {rows}", n + 1),
                    "the rows of this sweep, shard and cell",
                )));
            }
            let job = jobs(n);
            let expected = expected_keys(sweep, job);
            if let Some(k) = (0..expected.len()).find(|&k| fields[k] != expected[k]) {
                return Err(located(reader.error(
                    Some(k),
                    format!(
                        "row {} is not trial {} of cell {} of this sweep",
                        n + 1,
                        job % sweep.trials,
                        job / sweep.trials + 1
                    ),
                    format!(
                        "\"{}\" (row n of the file is the n-th trial of this run)",
                        crate::text::printable(&expected[k])
                    ),
                )));
            }
            let cell = &sweep.cells[(job / sweep.trials) as usize];
            let release = if cell.release.is_bad(sweep.seed, job % sweep.trials) {
                "bad"
            } else {
                "good"
            };
            for (at, want) in [(seed_at, seed.as_str()), (release_at, release)] {
                if let Some(k) = at.filter(|&k| fields[k] != want) {
                    return Err(located(reader.error(
                        Some(k),
                        format!("\"{}\" is not what this trial ran", crate::text::printable(&fields[k])),
                        format!("\"{want}\""),
                    )));
                }
            }
            on_row(&fields);
            found.count += 1;
        }
        found.end = reader.offset();
    }
    found.canonical = reader.canonical();
    if strict && found.count != rows {
        return Err(bad(format!("holds {} rows; this sweep has {rows}", found.count)));
    }
    Ok(found)
}

/// Rewrites the first `end` bytes of the rows file at `path` as deploysim
/// writes them (LF line ends, no byte-order mark, quotes only where
/// needed), so a resumed run ends in the same bytes as a fresh one. The
/// rows were read and checked already.
fn rewrite_canonical(path: &Path, end: u64) -> std::io::Result<()> {
    let invalid = |e: RowError| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string());
    write_stream(path, |w: &mut dyn Write| {
        let mut reader = RowReader::open(path, Some(end)).map_err(invalid)?;
        let mut writer = csv::Writer::from_writer(w);
        while let Some(fields) = reader.next_fields().map_err(invalid)? {
            writer.write_record(&fields).map_err(std::io::Error::other)?;
        }
        writer.flush()
    })
}

/// Runs the sweep into `out`: `trials.csv` (under `trials.csv.partial`
/// until complete), `manifest.toml`, and for a complete unsharded run
/// `summary.csv`. `stop` is checked between batches (Ctrl-C).
pub fn run_sweep(
    sweep: &Sweep,
    sweep_file: &str,
    out: &Path,
    opts: SweepOptions,
    stop: &AtomicBool,
    mut progress: impl FnMut(u64, u64),
) -> Result<SweepReport, SweepRunError> {
    // Checked before anything runs: every file the sweep may write must be
    // absent or one deploysim wrote.
    let mut outdir = OutDir::open(out)?;
    outdir.check_writes(SWEEP_FILES.iter().copied())?;
    let mut manifest = manifest_for(sweep, sweep_file, &opts);
    let range = job_range(sweep, opts.cell);
    let shard = opts.shard;
    let job = |position: u64| range.start + shard.index + position * shard.count;
    let rows = manifest.rows;
    let partial = out.join(PARTIAL);
    let mut tally = (shard.count == 1).then(Tally::new);

    let kept = if opts.resume {
        let found = Manifest::read(out).map_err(|e| {
            SweepRunError::Resume(format!(
                "--resume: {e}\n  allowed: --resume in a folder where this sweep was interrupted"
            ))
        })?;
        let same = Manifest {
            complete: found.complete,
            sweep_file: found.sweep_file.clone(),
            ..manifest.clone()
        };
        if found != same {
            return Err(SweepRunError::Resume(format!(
                "--resume: {} holds another run (sweep {}, fingerprint {}, {} trials per cell, cell {}, shard {}/{}); \
                 this one is sweep {}, fingerprint {}, {} trials per cell, cell {}, shard {}/{}\n  \
                 allowed: the same sweep file, base scenario and files they read (replay CSVs), \
                 --trials, --cell and --shard as the interrupted run",
                out.display(),
                found.sweep,
                found.fingerprint,
                found.trials_per_cell,
                found.cell.map_or("all".to_string(), |c| c.to_string()),
                found.shard,
                found.shards,
                manifest.sweep,
                manifest.fingerprint,
                manifest.trials_per_cell,
                manifest.cell.map_or("all".to_string(), |c| c.to_string()),
                manifest.shard,
                manifest.shards
            )));
        }
        // Complete, or renamed but stopped before its summary was written:
        // rebuild everything from the rows, checked one by one.
        let partial_gone = !partial.exists() && out.join("trials.csv").exists();
        if found.complete || partial_gone {
            let mut feed = |r: &[String]| {
                if let Some(t) = tally.as_mut() {
                    t.add(r);
                }
            };
            let read = read_rows(&out.join("trials.csv"), sweep, &job, rows, true, &mut feed)?;
            if !read.canonical {
                rewrite_canonical(&out.join("trials.csv"), read.end)?;
            }
            let written = complete_folder(&mut outdir, tally.as_mut(), &mut manifest)?;
            return Ok(SweepReport {
                ran: 0,
                kept: read.count,
                rows,
                interrupted: false,
                violation: None,
                tally,
                manifest,
                written,
            });
        }
        let mut feed = |r: &[String]| {
            if let Some(t) = tally.as_mut() {
                t.add(r);
            }
        };
        let read = read_rows(&partial, sweep, &job, rows, false, &mut feed)?;
        outdir.claim(&[super::manifest::FILE, PARTIAL])?;
        if read.header && !read.canonical {
            // CRLF line ends or a byte-order mark (an editor's): the kept
            // rows are written again as deploysim writes them, without the
            // torn tail.
            rewrite_canonical(&partial, read.end)?;
        }
        let file = std::fs::OpenOptions::new().write(true).open(&partial)?;
        if read.header {
            if read.canonical {
                file.set_len(read.end)?;
            }
        } else {
            // Not even the header survived (a crash before it reached the
            // disk): start the file again.
            file.set_len(0)?;
            let mut w = csv::Writer::from_writer(&file);
            w.write_record(trial_header()).map_err(std::io::Error::other)?;
            w.flush()?;
        }
        file.sync_all()?;
        read.count
    } else {
        // A new sweep replaces what deploysim wrote into the folder before
        // (and nothing else).
        outdir.restart(&[super::manifest::FILE, PARTIAL])?;
        let file = std::fs::File::create(&partial)?;
        let mut w = csv::Writer::from_writer(&file);
        w.write_record(trial_header()).map_err(std::io::Error::other)?;
        w.flush()?;
        file.sync_all()?;
        0
    };
    manifest.write(out)?;

    let file = std::fs::OpenOptions::new().append(true).open(&partial)?;
    let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .build()
        .map_err(std::io::Error::other)?;
    let run_opts = RunOptions {
        check_invariants: opts.check_invariants,
        keep_detail: false,
        histograms: false,
        ..RunOptions::default()
    };
    let mut done = kept;
    let mut violation = None;
    let mut interrupted = false;
    progress(done, rows);
    while done < rows && violation.is_none() {
        if stop.load(Ordering::SeqCst) || opts.stop_after.is_some_and(|n| done >= n) {
            interrupted = true;
            break;
        }
        let limit = opts.stop_after.filter(|&n| n > done).unwrap_or(rows).min(rows);
        let batch: Vec<u64> = (done..(done + BATCH).min(limit)).collect();
        let results: Vec<(u64, Result<Vec<String>, String>)> = pool.install(|| {
            batch
                .par_iter()
                .map(|&position| {
                    let j = job(position);
                    let cell = &sweep.cells[(j / sweep.trials) as usize];
                    let trial = j % sweep.trials;
                    let result = run(
                        cell.scenario(sweep.seed, trial),
                        sweep.seed,
                        RunOptions { trial, ..run_opts },
                    );
                    let row = result.map_err(|v| v.to_string()).map(|r| {
                        let mut row = expected_keys(sweep, j);
                        row.extend(summary_record(&r.summary));
                        row
                    });
                    (j, row)
                })
                .collect()
        });
        for (j, result) in results {
            match result {
                Ok(row) => {
                    writer.write_record(&row).map_err(std::io::Error::other)?;
                    if let Some(t) = tally.as_mut() {
                        t.add(&row);
                    }
                    done += 1;
                }
                Err(v) => {
                    let cell = &sweep.cells[(j / sweep.trials) as usize];
                    let number = j / sweep.trials + 1;
                    violation = Some((
                        format!(
                            "{v}\n  in cell {number} (strategy {} x triggers {} x faults {} x release {}), trial {}, seed {}",
                            cell.strategy,
                            cell.triggers,
                            cell.faults,
                            cell.release.label(),
                            j % sweep.trials,
                            sweep.seed
                        ),
                        number,
                    ));
                    break;
                }
            }
        }
        writer.flush()?;
        // On disk before the next batch: what an interrupt or a crash keeps.
        writer.get_ref().get_ref().sync_data()?;
        progress(done, rows);
    }
    let file = writer
        .into_inner()
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .into_inner()
        .map_err(|e| e.into_error())?;
    file.sync_all()?;
    let mut written = Vec::new();
    if done == rows && violation.is_none() {
        outdir.claim(&["trials.csv"])?;
        std::fs::rename(&partial, out.join("trials.csv"))?;
        written = complete_folder(&mut outdir, tally.as_mut(), &mut manifest)?;
    }
    Ok(SweepReport {
        ran: done - kept,
        kept: done,
        rows,
        interrupted,
        violation,
        tally: tally.filter(|_| manifest.complete),
        manifest,
        written,
    })
}

/// Finishes a folder whose `trials.csv` is complete: the summary, charts and
/// report (for an unsharded run) and the manifest marked complete, all
/// committed together, so a failure leaves a folder `--resume` can finish.
/// Returns the files written.
fn complete_folder(
    out: &mut OutDir,
    tally: Option<&mut Tally>,
    manifest: &mut Manifest,
) -> Result<Vec<std::path::PathBuf>, SweepRunError> {
    manifest.complete = true;
    let mut stage = out.stage()?;
    if let Some(t) = tally {
        t.finish();
        stage.write("summary.csv", &t.summary_csv())?;
        super::report::write(&mut stage, manifest, t)?;
    }
    let text = manifest
        .to_text()
        .map_err(|e| OutError::io("write", stage.target(super::manifest::FILE), e))?;
    stage.write(super::manifest::FILE, text.as_bytes())?;
    let mut written = stage.commit(Commit::Add)?;
    // trials.csv was renamed into place before.
    written.insert(0, out.path().join("trials.csv"));
    Ok(written)
}

/// Writes a file through `fill` into a buffered temporary file, renamed to
/// `path` once complete (for files too large to build in memory).
pub(crate) fn write_stream(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let (tmp, file) = crate::report::atomic::create_temp_for(path)?;
    let result = (|| {
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
