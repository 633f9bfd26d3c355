//! `deploysim tune`: flags, progress, the outputs and the recommendation a
//! person reads.

use crate::{out_failed, print_to_stdout, EXIT_BAD_INPUT, EXIT_RUN_FAILED};
use clap::Args;
use deploysim::experiment::tune::{best, candidates_csv, load, run_tune, Outcome, Tune};
use deploysim::report::charts::{self, TradeoffAxis, TradeoffPoint};
use deploysim::report::outdir::{Commit, OutDir, OutError, TUNE_FILES};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `deploysim tune` flags.
#[derive(Args)]
pub struct TuneArgs {
    /// The tune file (TOML).
    tune: PathBuf,
    /// Output folder (default: reports/<tune name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (default: all cores); the results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Trials per candidate and release (overrides the file's `trials`).
    #[arg(long)]
    trials: Option<u64>,
    /// No progress bar and no summary; errors only.
    #[arg(long)]
    quiet: bool,
}

/// Runs `deploysim tune`.
pub fn tune(args: TuneArgs) -> ExitCode {
    let bad = |m: String| {
        say_error!("error: {m}");
        ExitCode::from(EXIT_BAD_INPUT)
    };
    if args.trials == Some(0) {
        return bad("--trials 0: tuning needs trials\n  allowed: a whole number from 1".into());
    }
    if let Some(t) = args.threads.filter(|&t| t == 0 || t > 1024) {
        return bad(format!("--threads {t}: out of range\n  allowed: 1 to 1024"));
    }
    let tune = match load(&args.tune, args.trials) {
        Ok(t) => t,
        Err(e) => return bad(e.to_string()),
    };
    let dir = args.out.unwrap_or_else(|| Path::new("reports").join(&tune.name));
    // Checked before the candidates run, so a bad folder costs no time.
    let mut out = match OutDir::open(&dir).and_then(|o| o.check_writes(TUNE_FILES.iter().copied()).map(|()| o)) {
        Ok(o) => o,
        Err(e) => return out_failed(&e),
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let started = std::time::Instant::now();
    let bar = !args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let outcomes = match run_tune(&tune, threads, |done, total| {
        if bar {
            say_progress!(
                "{}",
                crate::sweep_cli::progress_line(done, total, started.elapsed().as_secs_f64())
            );
        }
    }) {
        Ok(o) => o,
        Err(e) => {
            say_error!("error: {e}");
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    if bar {
        say_progress!("\n");
    }
    if let Err(e) = write_outputs(&mut out, &tune, &outcomes) {
        return out_failed(&e);
    }
    if !args.quiet {
        print_to_stdout(&recommendation(&tune, &outcomes, &dir, started.elapsed().as_secs_f64()));
    }
    ExitCode::SUCCESS
}

/// Writes `candidates.csv` and the two charts, replacing what deploysim
/// wrote into the folder before, all together or not at all.
fn write_outputs(out: &mut OutDir, tune: &Tune, outcomes: &[Outcome]) -> Result<(), OutError> {
    let mut stage = out.stage()?;
    stage.write("candidates.csv", &candidates_csv(tune, outcomes))?;
    let points = |x: fn(&Outcome) -> Option<f64>, y: fn(&Outcome) -> Option<f64>| -> Vec<TradeoffPoint> {
        outcomes
            .iter()
            .filter_map(|o| {
                Some(TradeoffPoint {
                    group: if o.pareto { "Pareto front" } else { "dominated" }.to_string(),
                    label: format!("#{}", o.id),
                    x: x(o)?,
                    y: y(o)?,
                })
            })
            .collect()
    };
    let blast = charts::tradeoff(
        "tune_blast_vs_false_rollback",
        "Blast radius vs false rollback rate, per candidate",
        [
            TradeoffAxis {
                label: "false rollback rate (% of good releases rolled back)",
                percent: false,
            },
            TradeoffAxis {
                label: "blast radius p95 (failed requests on bad releases)",
                percent: false,
            },
        ],
        &points(|o| Some(o.false_rollback_pct), |o| Some(o.blast.1)),
    );
    // A candidate that never detects has no TTD and is left off this one.
    let ttd = charts::tradeoff(
        "tune_ttd_vs_power",
        "Time to detect vs detection power, per candidate",
        [
            TradeoffAxis {
                label: "detection power (% of bad releases caught)",
                percent: true,
            },
            TradeoffAxis {
                label: "time to detect p50 (s)",
                percent: false,
            },
        ],
        &points(|o| Some(o.power_pct), |o| o.ttd_s.0),
    );
    stage.chart("charts/", &blast)?;
    stage.chart("charts/", &ttd)?;
    stage.commit(Commit::Replace).map(|_| ())
}

fn recommendation(tune: &Tune, outcomes: &[Outcome], dir: &Path, secs: f64) -> String {
    let c = &tune.constraints;
    let trials = tune.candidates.len() as u64 * (1 + tune.bad.len() as u64) * tune.trials;
    let mut out = format!(
        "{}: {} candidates of a {}-point grid x {} releases x {} trials = {trials} trials in {secs:.1} s\n",
        tune.name,
        tune.candidates.len(),
        tune.grid_size,
        1 + tune.bad.len(),
        tune.trials
    );
    let front = outcomes.iter().filter(|o| o.pareto).count();
    out.push_str(&format!("  Pareto front:   {front} candidates\n"));
    let rollout = c
        .max_rollout_s
        .map_or(String::new(), |s| format!(", rollout p95 <= {s:.0} s"));
    out.push_str(&format!(
        "  constraints:    false rollbacks <= {}%, power >= {}%{rollout}\n",
        c.max_false_rollback_pct, c.min_power_pct
    ));
    match best(outcomes) {
        None => out.push_str("  best:           no candidate meets the constraints\n"),
        Some(b) => {
            let cand = &tune.candidates[b.id - 1];
            out.push_str(&format!("  best:           candidate {}\n", b.id));
            for (p, v) in tune.params.iter().zip(&cand.values) {
                out.push_str(&format!("                    {p} = {v}\n"));
            }
            let secs = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.0} s"));
            out.push_str(&format!(
                "                  false rollbacks {:.2}%, power {:.2}%, TTD p50 {} p95 {}, blast radius p50 {:.0} p95 {:.0}, rollout p95 {}\n",
                b.false_rollback_pct,
                b.power_pct,
                secs(b.ttd_s.0),
                secs(b.ttd_s.1),
                b.blast.0,
                b.blast.1,
                secs(b.rollout_s.1)
            ));
        }
    }
    out.push_str(&format!(
        "  wrote:          {}\n",
        dir.join("{candidates.csv, charts/}").display()
    ));
    out
}
