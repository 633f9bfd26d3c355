//! Heavy swarm shapes: inputs at and past the limits, where a simulator runs
//! away if anything does (big fleets with crashes, long lists, extreme
//! presets, replayed traffic, sweeps over a replayed base).
//!
//! A heavy seed passes when its input is either refused with a located error
//! (file, line, column, field) or accepted and then run within what the cost
//! estimate promised: no more events than `cost::estimate` allowed, no more
//! memory than it allowed (where the metering allocator is installed), and
//! within the swarm's wall-time and memory caps, which stop a runaway case
//! instead of letting it take the machine. Each heavy scenario carries a
//! small work and memory budget, so the accepted ones run in seconds.

use super::swarm::{SwarmFailure, SwarmOptions};
use crate::guard::{metering, RunGuard};
use crate::scenario::{self, cost, ScenarioError};
use crate::sim::{run, RunOptions};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Keeps the heavy stream apart from the ordinary generator's.
const HEAVY_SALT: u64 = 0x5357_4152_4d00_0002;

/// One seed in this many is heavy.
const HEAVY_ONE_IN: u32 = 8;

/// Fleets at most this big are run with every invariant checked (the
/// checker recounts the fleet after each event, which would make a
/// 10,000-instance case quadratic); bigger ones are checked against the
/// estimate and the caps only.
const CHECKED_FLEET: u32 = 200;

/// Cells of a heavy sweep that are run (every cell is built and validated).
const SWEEP_CELLS_RUN: usize = 3;

/// Whether `seed` is a heavy seed (its own stream: the ordinary seeds name
/// the same scenarios as before heavy shapes existed).
pub fn is_heavy(seed: u64) -> bool {
    ChaCha8Rng::seed_from_u64(seed ^ HEAVY_SALT).random_range(0..HEAVY_ONE_IN) == 0
}

/// A heavy case: a scenario, and the files beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct HeavyCase {
    /// Which shape, for the report.
    pub shape: &'static str,
    /// The scenario file (the base scenario, for a sweep).
    pub scenario: String,
    /// Files beside the scenario: a replayed traffic CSV, a sweep file.
    pub files: Vec<(String, String)>,
    /// Whether the case is the sweep file `sweep.toml` over the scenario.
    pub sweep: bool,
}

/// The scenario (and its files) of heavy seed `seed`, with the heavy work
/// budget of `opts`.
pub fn heavy_case(seed: u64, opts: &SwarmOptions) -> HeavyCase {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ HEAVY_SALT);
    let _ = rng.random_range(0..HEAVY_ONE_IN); // the draw `is_heavy` made
    let minutes = rng.random_range(2..61);
    let aggregate = rng.random_bool(0.7);
    let mut t = format!(
        "# deploysim swarm seed {seed} (heavy)\nname = \"swarm-{seed}\"\nseed = {seed}\nfidelity = \"{}\"\n\
         [simulation]\nmax_duration = \"{minutes}m\"\nwork_budget = {:e}\nmemory_budget_mb = {}\n",
        if aggregate { "aggregate" } else { "request" },
        opts.heavy_work_budget,
        opts.heavy_memory_budget_mb,
    );
    let mut files = Vec::new();
    let mut sweep = false;
    let shape = match rng.random_range(0..8) {
        0 => {
            fleet_churn(&mut rng, &mut t, minutes);
            "big fleet with crashes"
        }
        1 => {
            small_fleet(&mut rng, &mut t, 200.0);
            canary(&mut rng, &mut t);
            many_triggers(&mut rng, &mut t);
            "many rollback triggers"
        }
        2 => {
            small_fleet(&mut rng, &mut t, 200.0);
            extreme_preset(&mut rng, &mut t);
            "extreme preset or shorthand"
        }
        3 => {
            small_fleet(&mut rng, &mut t, 100.0);
            many_spikes_and_faults(&mut rng, &mut t, minutes);
            "many spikes and faults"
        }
        4 => {
            big_fleet_balancer(&mut rng, &mut t, aggregate);
            "big fleet behind an O(fleet) balancer"
        }
        5 => {
            files.push(("replay.csv".into(), replay_csv(&mut rng, minutes)));
            replay_traffic(&mut rng, &mut t, false);
            "replayed traffic"
        }
        6 => {
            files.push(("replay.csv".into(), replay_csv(&mut rng, minutes)));
            replay_traffic(&mut rng, &mut t, true);
            files.push(("sweep.toml".into(), sweep_file(&mut rng, seed)));
            sweep = true;
            "sweep over a replayed base"
        }
        _ => {
            small_fleet(&mut rng, &mut t, 200.0);
            many_judges(&mut rng, &mut t);
            "many judges or Flagger metrics"
        }
    };
    HeavyCase {
        shape,
        scenario: t,
        files,
        sweep,
    }
}

fn pick<'a, R: Rng + ?Sized>(rng: &mut R, options: &[&'a str]) -> &'a str {
    options[rng.random_range(0..options.len())]
}

/// A small fleet at a modest constant rate, and a release (bad or good).
fn small_fleet<R: Rng + ?Sized>(rng: &mut R, t: &mut String, max_rps: f64) {
    let _ = write!(
        t,
        "[fleet]\ninstances = {}\n[traffic]\nrate_rps = {}\n[release]\n{}",
        rng.random_range(1..40),
        (rng.random::<f64>() * max_rps).round(),
        release(rng)
    );
}

fn release<R: Rng + ?Sized>(rng: &mut R) -> String {
    if rng.random_bool(0.4) {
        "quality = \"good\"\n".into()
    } else {
        format!(
            "quality = \"bad\"\nerror_rate_pct = {}\nboot_failure_pct = {}\n",
            rng.random_range(1..50),
            rng.random_range(0..101)
        )
    }
}

fn canary<R: Rng + ?Sized>(rng: &mut R, t: &mut String) {
    let _ = write!(
        t,
        "[strategy]\nkind = \"canary\"\ninitial_weight_pct = {}\nincrement_pct = {}\nincrement_interval = \"{}s\"\n",
        rng.random_range(1..50),
        rng.random_range(1..50),
        rng.random_range(10..300)
    );
}

/// 500 to 10,000 instances that crash, crash-loop or fail to boot.
fn fleet_churn<R: Rng + ?Sized>(rng: &mut R, t: &mut String, minutes: u64) {
    let _ = write!(
        t,
        "[fleet]\ninstances = {}\nboot_time = \"{}s\"\n[traffic]\nrate_rps = {}\n[release]\n{}[strategy]\nkind = \"{}\"\n",
        rng.random_range(500..10_001),
        rng.random_range(0..30),
        rng.random_range(10..2_000),
        release(rng),
        pick(rng, &["rolling", "blue_green", "recreate", "canary"]),
    );
    for _ in 0..rng.random_range(1..4) {
        let body = match rng.random_range(0..3) {
            0 => format!("kind = \"instance_crashes\"\nmtbf = \"{}s\"", rng.random_range(1..600)),
            1 => format!("kind = \"crash_loop\"\nafter = \"{}s\"", rng.random_range(1..120)),
            _ => format!(
                "kind = \"crash_on_boot\"\nprobability_pct = {}",
                rng.random_range(10..101)
            ),
        };
        let _ = write!(
            t,
            "[[faults]]\n{body}\nat = \"{}s\"\nduration = \"{}s\"\n",
            rng.random_range(0..minutes * 60),
            rng.random_range(60..3_600)
        );
    }
}

/// 1 to 130 rollback triggers (the cap is 100).
fn many_triggers<R: Rng + ?Sized>(rng: &mut R, t: &mut String) {
    t.push_str("[rollback]\nevaluate_interval = \"5s\"\n");
    for _ in 0..rng.random_range(1..131) {
        let body = match rng.random_range(0..5) {
            0 => format!("kind = \"error_rate\"\nthreshold = {}", rng.random_range(1..10)),
            1 => format!("kind = \"latency\"\nthreshold = \"{}ms\"", rng.random_range(50..900)),
            2 => format!("kind = \"binomial\"\nalpha = 0.0{}\nwindow = \"{}s\"", rng.random_range(1..10), rng.random_range(10..600)),
            3 => format!("kind = \"ewma\"\nlambda = 0.{}\ntarget_pct = 1\nlimit_pct = {}", rng.random_range(1..10), rng.random_range(2..20)),
            // Windows of 5 to 200 points, and now and then past the cap of 1,000.
            _ => format!(
                "kind = \"kayenta\"\nstep = \"10s\"\nwindow = \"{}s\"\nmin_data_points = 5\nmetrics = [{{ metric = \"latency_p99\" }}]",
                10 * if rng.random_bool(0.02) { 1_001 } else { rng.random_range(5..200) }
            ),
        };
        let _ = write!(t, "[[rollback.triggers]]\n{body}\n");
    }
}

/// A CodeDeploy-style preset or the chapter's shorthand with numbers at and
/// past every edge.
fn extreme_preset<R: Rng + ?Sized>(rng: &mut R, t: &mut String) {
    let pct = pick(
        rng,
        &[
            "0.0000001",
            "0.001",
            "0.5",
            "1",
            "7",
            "10",
            "33.3",
            "99.999",
            "100",
            "101",
        ],
    );
    let n = pick(
        rng,
        &["1", "5", "59", "3600", "5124095576030431", "18446744073709551615"],
    );
    let unit = pick(rng, &["second", "seconds", "minute", "minutes", "hour", "hours"]);
    let form = match rng.random_range(0..3) {
        0 => format!("preset = \"canary-{pct}-percent-{n}-{unit}\"\n"),
        1 => format!("preset = \"linear-{pct}-percent-every-{n}-{unit}\"\n"),
        _ => format!(
            "initial_weight_pct = {}\nincrement_pct = {}\nincrement_interval = \"{}s\"\n",
            pick(rng, &["0", "1", "50", "99.99999999", "100"]),
            pick(rng, &["1e-300", "1e-9", "0.01", "1", "50"]),
            rng.random_range(1..600)
        ),
    };
    let _ = write!(t, "[strategy]\nkind = \"canary\"\n{form}");
}

/// 1 to 130 traffic spikes and 1 to 120 faults (the caps are 100 each).
fn many_spikes_and_faults<R: Rng + ?Sized>(rng: &mut R, t: &mut String, minutes: u64) {
    for _ in 0..rng.random_range(1..131) {
        let _ = write!(
            t,
            "[[traffic.spikes]]\nat = \"{}s\"\nduration = \"{}s\"\nmultiplier = {}\n",
            rng.random_range(0..minutes * 60),
            rng.random_range(1..60),
            // Validation bounds the rate by every spike at once: small
            // multipliers keep 130 of them under the rate limit.
            1.0 + f64::from(rng.random_range(0..6)) / 100.0
        );
    }
    canary(rng, t);
    for _ in 0..rng.random_range(1..121) {
        // Spikes multiply the rate where they overlap: a few, or the rate
        // limit refuses nearly every case.
        let body = match rng.random_range(0..4) {
            0 => format!("kind = \"error_rate\"\nerror_rate_pct = {}", rng.random_range(1..100)),
            1 if rng.random_bool(0.1) => "kind = \"traffic_spike\"\nmultiplier = 2".to_string(),
            1 => format!(
                "kind = \"dependency_outage\"\nerror_rate_pct = {}",
                rng.random_range(1..100)
            ),
            2 => format!(
                "kind = \"flaky_health_checks\"\nfalse_failure_pct = {}",
                rng.random_range(1..100)
            ),
            _ => format!("kind = \"instance_crashes\"\nmtbf = \"{}s\"", rng.random_range(1..600)),
        };
        let _ = write!(
            t,
            "[[faults]]\n{body}\nrate_per_hour = {}\nduration = \"{}s\"\n",
            rng.random_range(1..10_000),
            rng.random_range(1..600)
        );
    }
}

/// Up to 10,000 instances behind `least_outstanding`, or `consistent_hash`
/// with sessions, in request mode (where they scan the fleet per request).
fn big_fleet_balancer<R: Rng + ?Sized>(rng: &mut R, t: &mut String, aggregate: bool) {
    let sessions = !aggregate && rng.random_bool(0.5);
    let _ = write!(
        t,
        "[fleet]\ninstances = {}\n[traffic]\nrate_rps = {}\nbalancer = \"{}\"\n{}[release]\n{}",
        rng.random_range(100..10_001),
        rng.random_range(100..5_000),
        if sessions {
            "consistent_hash"
        } else {
            "least_outstanding"
        },
        if sessions {
            "[sessions]\nmean_requests = 20\nmean_duration = \"5m\"\n"
        } else {
            ""
        },
        release(rng),
    );
    canary(rng, t);
}

/// A replayed traffic CSV: a row every 1 to 30 s over the run, rates in
/// waves.
fn replay_csv<R: Rng + ?Sized>(rng: &mut R, minutes: u64) -> String {
    let step = rng.random_range(1..31) as f64 / rng.random_range(1..101) as f64;
    let rows = ((minutes * 60) as f64 / step).min(200_000.0) as u64 + 1;
    let peak = rng.random_range(1..2_000) as f64;
    let mut csv = String::from("t_s,rps\n");
    for i in 0..rows {
        let rps = peak * (0.55 + 0.45 * (i as f64 / 97.0).sin());
        let _ = writeln!(csv, "{:.3},{rps:.2}", i as f64 * step);
    }
    csv
}

/// A fleet, a release (bad under a sweep, which tries good and bad) and a
/// canary over `replay.csv`.
fn replay_traffic<R: Rng + ?Sized>(rng: &mut R, t: &mut String, bad: bool) {
    let release = if bad {
        format!("quality = \"bad\"\nerror_rate_pct = {}\n", rng.random_range(1..50))
    } else {
        release(rng)
    };
    let _ = write!(
        t,
        "[fleet]\ninstances = {}\n[traffic]\nshape = \"replay\"\nreplay_file = \"replay.csv\"\n[release]\n{release}",
        rng.random_range(1..200),
    );
    canary(rng, t);
}

/// A sweep over `scenario.toml`: up to 12 strategies x 5 trigger sets x 3
/// fault sets, one trial a cell.
fn sweep_file<R: Rng + ?Sized>(rng: &mut R, seed: u64) -> String {
    let mut s = format!(
        "name = \"swarm-sweep-{seed}\"\nscenario = \"scenario.toml\"\ntrials = 1\nseed = {seed}\nreleases = [\"good\", \"bad\"]\n"
    );
    for i in 0..rng.random_range(1..13) {
        let _ = write!(
            s,
            "[[strategies]]\nname = \"s{i}\"\nstrategy = {{ kind = \"canary\", initial_weight_pct = {}, increment_pct = {}, increment_interval = \"{}s\" }}\n",
            rng.random_range(1..50),
            rng.random_range(1..50),
            rng.random_range(10..300)
        );
    }
    for i in 0..rng.random_range(1..6) {
        let _ = write!(
            s,
            "[[triggers]]\nname = \"t{i}\"\nrollback = {{ triggers = [{{ kind = \"error_rate\", threshold = {} }}] }}\n",
            rng.random_range(1..10)
        );
    }
    for i in 0..rng.random_range(1..4) {
        let _ = write!(
            s,
            "[[faults]]\nname = \"f{i}\"\nfaults = [{{ kind = \"error_rate\", error_rate_pct = {}, at = \"1m\", duration = \"1m\" }}]\n",
            rng.random_range(1..30)
        );
    }
    s
}

/// 1 to 25 judges on a canary or blue-green check, or 1 to 25 Flagger
/// metrics (the caps are 20).
fn many_judges<R: Rng + ?Sized>(rng: &mut R, t: &mut String) {
    let judges = (0..rng.random_range(1..26))
        .map(|i| {
            format!(
                "{{ kind = \"binomial\", alpha = 0.0{}, window = \"{}s\" }}",
                1 + i % 9,
                rng.random_range(10..600)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    match rng.random_range(0..3) {
        0 => {
            canary(rng, t);
            let _ = writeln!(t, "[strategy.success_criteria]\njudges = [{judges}]");
        }
        1 => {
            let _ = write!(t, "[strategy]\nkind = \"blue_green\"\njudges = [{judges}]\n");
        }
        _ => {
            let _ = write!(
                t,
                "[strategy]\nkind = \"flagger\"\ninterval = \"30s\"\nstep_weight = 10\nmax_weight = 50\n"
            );
            for _ in 0..rng.random_range(1..26) {
                let _ = write!(
                    t,
                    "[[strategy.metrics]]\nname = \"request-success-rate\"\nthreshold_range = {{ min = {} }}\n",
                    rng.random_range(90..100)
                );
            }
        }
    }
}

/// Whether `e` is placed: a line, a column and a field, as every input error
/// must be (a file too big to read has no place but the file).
fn located(e: &ScenarioError) -> bool {
    (e.line.is_some() && e.column.is_some()) || e.field.problem.contains("larger than")
}

/// Whether a line of an error message starts `FILE:LINE:COLUMN:`.
fn has_place(line: &str) -> bool {
    let parts: Vec<&str> = line.split(':').collect();
    parts.windows(3).any(|w| {
        w[0].chars().any(|c| !c.is_ascii_digit())
            && !w[1].is_empty()
            && w[1].bytes().all(|b| b.is_ascii_digit())
            && !w[2].is_empty()
            && w[2].bytes().all(|b| b.is_ascii_digit())
    })
}

/// Runs heavy seed `seed` and says what went wrong, if anything.
pub fn check_heavy(seed: u64, opts: &SwarmOptions) -> Option<SwarmFailure> {
    let case = heavy_case(seed, opts);
    let fail = |problem: String| {
        Some(SwarmFailure {
            seed,
            problem: format!("heavy shape \"{}\": {problem}", case.shape),
            scenario: case.scenario.clone(),
        })
    };
    let dir = std::env::temp_dir().join(format!("deploysim-swarm-{}-{seed}", std::process::id()));
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(dir.join("scenario.toml"), &case.scenario)?;
        case.files
            .iter()
            .try_for_each(|(name, text)| std::fs::write(dir.join(name), text))
    });
    let outcome = match written {
        Err(e) => Err(format!("cannot write the case's files into {}: {e}", dir.display())),
        Ok(()) => run_case(&case, &dir, opts),
    };
    let _ = std::fs::remove_dir_all(&dir);
    outcome.err().and_then(fail)
}

/// The scenarios the case runs, or an error that is not an input error.
fn run_case(case: &HeavyCase, dir: &Path, opts: &SwarmOptions) -> Result<(), String> {
    let guard = RunGuard::start(Some(opts.case_wall), Some(opts.case_bytes));
    let scenarios: Vec<scenario::Scenario> = if case.sweep {
        let path: PathBuf = dir.join("sweep.toml");
        match super::sweep::load(&path, Some(1)) {
            Ok(sweep) => {
                // Building every cell must not copy the replayed series.
                let csv_bytes = case.files.iter().map(|(_, t)| t.len() as i64).sum::<i64>();
                let allowed = 4 * csv_bytes + sweep.cells.len() as i64 * 256 * 1024 + (16 << 20);
                if metering() && guard.peak_growth() > allowed {
                    return Err(format!(
                        "building {} cells took {} MiB; at most {} MiB were expected (a copy of the replay per cell?)",
                        sweep.cells.len(),
                        guard.peak_growth() >> 20,
                        allowed >> 20
                    ));
                }
                sweep
                    .cells
                    .iter()
                    .take(SWEEP_CELLS_RUN)
                    .map(|c| c.scenario(sweep.seed, 0).clone())
                    .collect()
            }
            Err(e) => {
                // A sweep's error is text: some line of it must be placed.
                return if e.0.lines().any(has_place) {
                    Ok(())
                } else {
                    Err(format!("an input error without a place: {}", e.0))
                };
            }
        }
    } else {
        match scenario::load(&dir.join("scenario.toml")) {
            Ok(s) => vec![s],
            Err(errors) => {
                return match errors.iter().find(|e| !located(e)) {
                    Some(e) => Err(format!("an input error without a place: {e}")),
                    None => Ok(()),
                }
            }
        }
    };
    for s in &scenarios {
        let estimate = cost::estimate(s);
        let guard = RunGuard::start(Some(opts.case_wall), Some(opts.case_bytes));
        let run_opts = RunOptions {
            check_invariants: s.fleet.instances <= CHECKED_FLEET,
            keep_detail: false,
            guard: Some(guard),
            ..RunOptions::default()
        };
        let result = std::panic::catch_unwind(|| run(s, s.seed, run_opts))
            .map_err(|_| "panicked".to_string())?
            .map_err(|v| v.to_string())?;
        if result.events_handled as f64 > estimate.events {
            return Err(format!(
                "handled {} events; the cost estimate allowed {:.0}",
                result.events_handled, estimate.events
            ));
        }
        if metering() && guard.peak_growth() as f64 > estimate.memory_bytes {
            return Err(format!(
                "grew by {} MiB; the cost estimate allowed {:.0} MiB",
                guard.peak_growth() >> 20,
                estimate.memory_bytes / f64::from(1 << 20)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_file_line_column() {
        assert!(has_place("/tmp/x/sweep.toml:5:12: field `releases`: no"));
        assert!(has_place("  s.toml:1:1: bad"));
        assert!(!has_place("/tmp/x/sweep.toml: the cell s0 is not a valid scenario:"));
        assert!(!has_place("error: 12:30: no"));
    }

    #[test]
    fn a_heavy_seed_names_one_case_and_about_one_in_eight_seeds_is_heavy() {
        let opts = SwarmOptions::default();
        let heavy: Vec<u64> = (0..800).filter(|&s| is_heavy(s)).collect();
        // Binomial(800, 1/8): mean 100, sd 9.4; 4 sd either side.
        assert!((62..=138).contains(&heavy.len()), "{}", heavy.len());
        for &seed in heavy.iter().take(40) {
            assert_eq!(heavy_case(seed, &opts), heavy_case(seed, &opts));
        }
        let shapes: std::collections::BTreeSet<&str> = heavy.iter().map(|&s| heavy_case(s, &opts).shape).collect();
        assert_eq!(shapes.len(), 8, "{shapes:?}");
    }
}
