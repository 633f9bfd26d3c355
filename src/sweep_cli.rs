//! `deploysim sweep` and `deploysim merge`: flags, progress, Ctrl-C, and
//! the messages a person reads.

use crate::{out_failed, print_to_stdout, EXIT_BAD_INPUT, EXIT_RUN_FAILED};
use clap::Args;
use deploysim::experiment::runner::{run_sweep, Shard, SweepOptions, SweepRunError, PARTIAL};
use deploysim::experiment::sweep::load;
use deploysim::report::outdir::{check_out, swarm_file, Commit, OutDir, OutError};
use deploysim::text::printable;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit code after Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

/// Set by Ctrl-C; the sweep stops after the batch under way.
static STOP: AtomicBool = AtomicBool::new(false);

/// `deploysim sweep` flags.
#[derive(Args)]
pub struct SweepArgs {
    /// The sweep file (TOML).
    sweep: PathBuf,
    /// Output folder (default: reports/<sweep name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores); the output does not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Trials per cell (default: the sweep file's `trials`).
    #[arg(long)]
    trials: Option<u64>,
    /// Run shard K of N (1-based), e.g. 2/8; merge the shards with `deploysim merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Run only cell K (the K-th row of summary.csv), e.g. to reproduce it.
    #[arg(long, value_name = "K")]
    cell: Option<u64>,
    /// Finish an interrupted sweep in the same --out folder.
    #[arg(long)]
    resume: bool,
    /// Check the model's invariants after every event of every trial.
    #[arg(long)]
    check_invariants: bool,
    /// No progress bar and no closing line; errors only.
    #[arg(long)]
    quiet: bool,
    /// Stop as Ctrl-C would once this many trials are kept (for tests).
    #[arg(long, hide = true)]
    stop_after: Option<u64>,
}

/// `deploysim merge` flags.
#[derive(Args)]
pub struct MergeArgs {
    /// The shards' output folders (every shard 1/N..N/N, in any order).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Output folder for the merged sweep.
    #[arg(long)]
    out: PathBuf,
    /// Print nothing but errors.
    #[arg(long)]
    quiet: bool,
}

/// `deploysim swarm` flags.
#[derive(Args)]
pub struct SwarmArgs {
    /// How many seeds to run.
    #[arg(long, default_value_t = 1000)]
    seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Worker threads (default: all cores); the report does not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Folder for the scenario files of failing seeds (default: reports/swarm/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bar and no closing line; failures only.
    #[arg(long)]
    quiet: bool,
    /// Wall time one seed may take before it counts as a failure (a case
    /// that runs away).
    #[arg(long, default_value_t = 60)]
    case_seconds: u64,
    /// Memory one seed's run may grow by, in MiB, before it counts as a
    /// failure.
    #[arg(long, default_value_t = 1024)]
    case_mb: u64,
    /// Write each seed's scenario file into --out without running it (to
    /// seed a fuzzing corpus, say).
    #[arg(long)]
    write_only: bool,
}

/// Most scenario files `swarm --write-only` writes at once.
const MAX_WRITTEN_SEEDS: u64 = 100_000;

/// Most seeds in one swarm run.
const MAX_SWARM_SEEDS: u64 = 100_000_000;

/// Most worker threads (more only costs memory and start-up time).
const MAX_THREADS: usize = 1024;

/// Runs `deploysim swarm`.
pub fn swarm(args: SwarmArgs) -> ExitCode {
    use deploysim::experiment::swarm::{run_swarm, scenario_text, SwarmFailure, SwarmOptions};
    if args.seeds == 0 || args.seeds > MAX_SWARM_SEEDS {
        return bad_input(&format!(
            "--seeds {}: out of range\n  allowed: 1 to {MAX_SWARM_SEEDS}",
            args.seeds
        ));
    }
    if let Some(t) = args.threads.filter(|&t| t == 0 || t > MAX_THREADS) {
        return bad_input(&format!("--threads {t}: out of range\n  allowed: 1 to {MAX_THREADS}"));
    }
    // Seeds are written into scenario files, whose seeds are at most
    // i64::MAX.
    let last = args.first.checked_add(args.seeds - 1).filter(|&l| l <= i64::MAX as u64);
    if last.is_none() {
        return bad_input(&format!(
            "--first {} --seeds {}: the seeds would pass {}\n  allowed: first + seeds - 1 <= {}",
            args.first,
            args.seeds,
            i64::MAX,
            i64::MAX
        ));
    }
    for (flag, value, max) in [
        ("--case-seconds", args.case_seconds, 86_400),
        ("--case-mb", args.case_mb, 1 << 20),
    ] {
        if value == 0 || value > max {
            return bad_input(&format!("{flag} {value}: out of range\n  allowed: 1 to {max}"));
        }
    }
    let opts = SwarmOptions {
        case_wall: std::time::Duration::from_secs(args.case_seconds),
        case_bytes: (args.case_mb as i64) << 20,
        ..SwarmOptions::default()
    };
    let dir = args.out.unwrap_or_else(|| Path::new("reports").join("swarm"));
    // Checked before the seeds run; the folder is made only for failures.
    if let Err(e) = check_out(&dir) {
        return out_failed(&e);
    }
    if args.write_only {
        if args.seeds > MAX_WRITTEN_SEEDS {
            return bad_input(&format!(
                "--write-only --seeds {}: one file a seed\n  allowed: at most {MAX_WRITTEN_SEEDS} seeds with --write-only",
                args.seeds
            ));
        }
        let cases: Vec<SwarmFailure> = (args.first..=args.first + (args.seeds - 1))
            .map(|seed| SwarmFailure {
                seed,
                problem: String::new(),
                scenario: scenario_text(seed, &opts),
            })
            .collect();
        return match save_swarm_files(&dir, &cases) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => out_failed(&e),
        };
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = std::time::Instant::now();
    let bar = !args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let failures = run_swarm(args.first, args.seeds, threads, &opts, |done, total| {
        if bar {
            say_progress!(
                "{}",
                progress_line(done, total, started.elapsed().as_secs_f64()).replace("trials", "seeds")
            );
        }
    });
    if bar {
        say_progress!("\n");
    }
    // The failing seeds' scenario files are added to the folder together
    // (those of earlier swarms stay).
    let saved = if failures.is_empty() {
        Ok(())
    } else {
        save_swarm_files(&dir, &failures)
    };
    for f in &failures {
        let path = dir.join(swarm_file(f.seed));
        say_error!("seed {}: {}", f.seed, f.problem);
        match &saved {
            Ok(()) => say_error!(
                "  replay: deploysim run {} --check-invariants   (or: deploysim swarm --first {} --seeds 1)",
                deploysim::report::shell_quote(&path.display().to_string()),
                f.seed
            ),
            Err(e) => say_error!(
                "  (not saved: {e}); replay: deploysim swarm --first {} --seeds 1",
                f.seed
            ),
        }
    }
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        print_to_stdout(&format!(
            "swarm: {} seeds ({}..{}) in {secs:.1} s, {} failed\n",
            args.seeds,
            args.first,
            args.first.saturating_add(args.seeds - 1),
            failures.len()
        ));
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_RUN_FAILED)
    }
}

fn save_swarm_files(dir: &Path, failures: &[deploysim::experiment::swarm::SwarmFailure]) -> Result<(), OutError> {
    let mut out = OutDir::open(dir)?;
    let mut stage = out.stage()?;
    for f in failures {
        stage.write(&swarm_file(f.seed), f.scenario.as_bytes())?;
    }
    stage.commit(Commit::Add).map(|_| ())
}

fn bad_input(message: &str) -> ExitCode {
    say_error!("error: {message}");
    ExitCode::from(EXIT_BAD_INPUT)
}

/// A progress bar on one stderr line: done/total, trials/s, time left.
pub(crate) fn progress_line(done: u64, total: u64, elapsed_s: f64) -> String {
    const WIDTH: usize = 30;
    let share = if total == 0 { 1.0 } else { done as f64 / total as f64 };
    let filled = ((share * WIDTH as f64) as usize).min(WIDTH);
    let rate = done as f64 / elapsed_s.max(1e-9);
    let left = if rate > 0.0 {
        format_secs((total - done) as f64 / rate)
    } else {
        "?".into()
    };
    format!(
        "\r[{}{}] {done}/{total} trials  {rate:.0} trials/s  {left} left ",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled)
    )
}

fn format_secs(s: f64) -> String {
    let s = s.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s / 60 % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Runs `deploysim sweep`.
pub fn sweep(args: SweepArgs) -> ExitCode {
    if args.trials == Some(0) {
        return bad_input("--trials 0: a sweep needs trials\n  allowed: a whole number from 1");
    }
    if let Some(t) = args.threads.filter(|&t| t == 0 || t > MAX_THREADS) {
        return bad_input(&format!("--threads {t}: out of range\n  allowed: 1 to {MAX_THREADS}"));
    }
    let shard = match args.shard.as_deref().map(Shard::parse).transpose() {
        Ok(s) => s.unwrap_or(Shard::WHOLE),
        Err(e) => return bad_input(&format!("--shard {e}")),
    };
    let sweep = match load(&args.sweep, args.trials) {
        Ok(s) => s,
        Err(e) => return bad_input(&e.to_string()),
    };
    let cell = match args.cell {
        None => None,
        Some(k) if k >= 1 && k <= sweep.cells.len() as u64 => Some(k - 1),
        Some(k) => {
            return bad_input(&format!(
                "--cell {k}: the sweep has {} cells\n  allowed: 1 to {}",
                sweep.cells.len(),
                sweep.cells.len()
            ))
        }
    };
    let dir = args.out.unwrap_or_else(|| Path::new("reports").join(&sweep.name));
    if let Err(e) = check_out(&dir) {
        return out_failed(&e);
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let opts = SweepOptions {
        threads,
        check_invariants: args.check_invariants,
        shard,
        cell,
        resume: args.resume,
        stop_after: args.stop_after,
    };
    // Ctrl-C asks the sweep to stop after its batch; a second one quits.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    });
    // Wall-clock time is read for the progress bar and the closing line
    // only, never by a trial.
    let started = std::time::Instant::now();
    let bar = !args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let sweep_file = args.sweep.display().to_string();
    let result = run_sweep(&sweep, &sweep_file, &dir, opts, &STOP, |done, total| {
        if bar {
            say_progress!("{}", progress_line(done, total, started.elapsed().as_secs_f64()));
        }
    });
    if bar {
        say_progress!("\n");
    }
    let report = match result {
        Ok(r) => r,
        Err(SweepRunError::Resume(m)) => return bad_input(&m),
        Err(SweepRunError::Out(e)) => return out_failed(&e),
        Err(SweepRunError::Io(e)) => {
            say_error!(
                "error: cannot write into {}: {e}",
                printable(&dir.display().to_string())
            );
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    let secs = started.elapsed().as_secs_f64();
    if let Some((v, cell)) = &report.violation {
        let trials = args.trials.map(|t| format!(" --trials {t}")).unwrap_or_default();
        say_error!(
            "error: {v}\n  replay the cell with: deploysim sweep {}{trials} --cell {cell} --check-invariants --threads 1",
            deploysim::report::shell_quote(&sweep_file.to_string())
        );
        return ExitCode::from(EXIT_RUN_FAILED);
    }
    if report.interrupted {
        say_error!(
            "interrupted: {} of {} trials kept in {}\n  finish with: deploysim sweep {} --out {} --resume{}{}{}",
            report.kept,
            report.rows,
            dir.join(PARTIAL).display(),
            deploysim::report::shell_quote(&sweep_file),
            deploysim::report::shell_quote(&dir.display().to_string()),
            args.trials.map(|t| format!(" --trials {t}")).unwrap_or_default(),
            args.shard.map(|s| format!(" --shard {s}")).unwrap_or_default(),
            args.cell.map(|c| format!(" --cell {c}")).unwrap_or_default()
        );
        return ExitCode::from(EXIT_INTERRUPTED);
    }
    if !args.quiet {
        let shard_note = if shard.count > 1 {
            format!(", shard {}/{}", shard.index + 1, shard.count)
        } else {
            String::new()
        };
        let mut text = format!(
            "{}: {} cells{shard_note}, {} trials run in {secs:.1} s ({:.0} trials/s on {threads} threads); {} rows in all\n",
            sweep.name,
            cell.map_or(sweep.cells.len(), |_| 1),
            report.ran,
            report.ran as f64 / secs.max(1e-9),
            report.kept
        );
        for f in &report.written {
            text.push_str(&format!("  wrote: {}\n", f.display()));
        }
        print_to_stdout(&text);
    }
    ExitCode::SUCCESS
}

/// Runs `deploysim merge`.
pub fn merge(args: MergeArgs) -> ExitCode {
    use deploysim::experiment::merge::{merge, MergeError};
    if let Err(e) = check_out(&args.out) {
        return out_failed(&e);
    }
    let (_, manifest) = match merge(&args.dirs, &args.out) {
        Ok(r) => r,
        Err(MergeError::Shards(m)) => return bad_input(&m),
        Err(MergeError::Out(e)) => return out_failed(&e),
        Err(MergeError::Io(e)) => {
            say_error!(
                "error: cannot merge into {}: {e}",
                printable(&args.out.display().to_string())
            );
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    if !args.quiet {
        print_to_stdout(&format!(
            "{}: merged {} shards, {} rows\n  wrote: {}\n",
            manifest.sweep,
            args.dirs.len(),
            manifest.rows,
            args.out.display()
        ));
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_line_shows_counts_rate_and_time_left() {
        let line = progress_line(250, 1000, 10.0);
        assert!(line.contains("250/1000 trials"), "{line}");
        assert!(line.contains("25 trials/s"), "{line}");
        assert!(line.contains("30s left"), "{line}");
        assert!(
            line.contains(&format!("[{}{}]", "#".repeat(7), " ".repeat(23))),
            "{line}"
        );
        assert_eq!(format_secs(3725.0), "1h02m");
    }
}
