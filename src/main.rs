//! The `deploysim` command line.

use clap::{Parser, Subcommand, ValueEnum};
use deploysim::report::csv_out::{events_csv, summary_csv, timeline_csv};
use deploysim::report::narrate::{summary_text, Narrator};
use deploysim::report::write_atomic;
use deploysim::scenario::{self, Fidelity, ScenarioError};
use deploysim::sim::{run, RunOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `eprintln!` for messages that may quote the input: every control
/// character but line breaks and tabs is escaped on the way out.
macro_rules! say_error {
    ($($arg:tt)*) => {
        eprintln!("{}", deploysim::text::terminal_safe(&format!($($arg)*)))
    };
}

mod sweep_cli;
mod tune_cli;

/// Counts live bytes per thread, so the swarm can fail a case that grows
/// past its memory cap (see `deploysim::guard`).
#[global_allocator]
static ALLOCATOR: deploysim::guard::MeteredAlloc = deploysim::guard::MeteredAlloc;

/// Exit code for bad input: a scenario file or a flag.
pub(crate) const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for a failure while running: output not writable, a broken
/// invariant.
pub(crate) const EXIT_RUN_FAILED: u8 = 1;

#[derive(Parser)]
#[command(
    name = "deploysim",
    version,
    about = "Deterministic discrete-event simulator of production deployment strategies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario once and write summary.csv, timeline.csv and events.csv.
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Seed for the random streams (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: reports/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print a narrated event log.
        #[arg(long)]
        trace: bool,
        /// Override the scenario's fidelity.
        #[arg(long, value_enum)]
        fidelity: Option<FidelityArg>,
        /// Check the model's invariants after every event.
        #[arg(long)]
        check_invariants: bool,
        /// Print nothing but errors.
        #[arg(long)]
        quiet: bool,
    },
    /// Run a sweep: a base scenario crossed with variants, many trials each;
    /// writes trials.csv, summary.csv, charts and report.html.
    Sweep(sweep_cli::SweepArgs),
    /// Merge the output folders of a sweep's shards into one, byte-identical
    /// to the unsharded sweep's.
    Merge(sweep_cli::MergeArgs),
    /// Run one random scenario and fault mix per seed with every invariant
    /// checked; report any seed that breaks one, with its scenario file.
    Swarm(sweep_cli::SwarmArgs),
    /// Tune success criteria offline: run every candidate of a search space
    /// on good and bad releases, write candidates.csv with the Pareto front,
    /// chart it, and print the best candidate under the constraints.
    Tune(tune_cli::TuneArgs),
    /// Check scenario files without running them.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum FidelityArg {
    Request,
    Aggregate,
}

fn print_scenario_errors(errors: &[ScenarioError]) {
    for e in errors {
        say_error!("error: {e}");
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_BAD_INPUT)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Validate { files } => validate(&files),
        Command::Sweep(args) => sweep_cli::sweep(args),
        Command::Merge(args) => sweep_cli::merge(args),
        Command::Swarm(args) => sweep_cli::swarm(args),
        Command::Tune(args) => tune_cli::tune(args),
        Command::Run {
            scenario,
            seed,
            out,
            trace,
            fidelity,
            check_invariants,
            quiet,
        } => run_command(&scenario, seed, out, trace, fidelity, check_invariants, quiet),
    }
}

fn validate(files: &[PathBuf]) -> ExitCode {
    let mut bad = false;
    for file in files {
        match scenario::load(file) {
            Ok(s) => print_to_stdout(&format!(
                "ok: {} ({}, {} instances, {} strategy)\n",
                file.display(),
                s.name,
                s.fleet.instances,
                s.strategy.kind()
            )),
            Err(errors) => {
                print_scenario_errors(&errors);
                bad = true;
            }
        }
    }
    if bad {
        ExitCode::from(EXIT_BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_command(
    path: &Path,
    seed: Option<u64>,
    out: Option<PathBuf>,
    trace: bool,
    fidelity: Option<FidelityArg>,
    check_invariants: bool,
    quiet: bool,
) -> ExitCode {
    // The override is validated like the file's own setting: each mode has
    // its own limits and features.
    let fidelity = fidelity.map(|f| match f {
        FidelityArg::Request => Fidelity::Request,
        FidelityArg::Aggregate => Fidelity::Aggregate,
    });
    let scenario = match scenario::load_with(path, fidelity) {
        Ok(s) => s,
        Err(errors) => {
            print_scenario_errors(&errors);
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    let seed = seed.unwrap_or(scenario.seed);
    let dir = out.unwrap_or_else(|| Path::new("reports").join(&scenario.name));
    if dir.exists() && !dir.is_dir() {
        say_error!(
            "error: --out {}: exists and is not a folder\n  allowed: a folder (created if missing)",
            dir.display()
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    }
    let defaults = RunOptions::default();
    let opts = RunOptions {
        check_invariants: check_invariants || defaults.check_invariants,
        ..defaults
    };
    let result = match run(&scenario, seed, opts) {
        Ok(r) => r,
        Err(violation) => {
            say_error!("error: {violation}");
            say_error!(
                "  seed {seed}; replay with: deploysim run {} --seed {seed} --fidelity {} --check-invariants",
                path.display(),
                scenario.fidelity.as_str()
            );
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    };
    let files = [
        ("summary.csv", summary_csv(&result.summary)),
        ("timeline.csv", timeline_csv(&result.timeline)),
        ("events.csv", events_csv(&result.events)),
    ];
    for (name, bytes) in &files {
        let target = dir.join(name);
        if let Err(e) = write_atomic(&target, bytes) {
            say_error!("error: cannot write {}: {e}", target.display());
            return ExitCode::from(EXIT_RUN_FAILED);
        }
    }
    let mut chart = timeline_chart(&scenario, &result);
    chart.name = "timeline".into();
    if let Err(e) = deploysim::report::charts::write_chart(&dir, &chart) {
        say_error!("error: cannot write {}: {e}", dir.join("timeline.svg").display());
        return ExitCode::from(EXIT_RUN_FAILED);
    }
    if !quiet {
        let mut text = String::new();
        if trace {
            let narrator = Narrator::new(&scenario, &result.summary);
            for (t, e) in &result.events {
                if let Some(line) = narrator.line(*t, e) {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            text.push('\n');
        }
        text.push_str(&summary_text(&result.summary));
        text.push_str(&format!(
            "  wrote:              {}\n",
            dir.join("{summary,timeline,events}.csv, timeline.{svg,png}").display()
        ));
        print_to_stdout(&text);
    }
    ExitCode::SUCCESS
}

/// The run's timeline chart, with a mark where a rollback trigger fired and
/// where the rollout ended.
fn timeline_chart(
    scenario: &scenario::Scenario,
    result: &deploysim::sim::RunResult,
) -> deploysim::report::charts::Chart {
    use deploysim::record::SimEvent;
    use deploysim::report::charts::{run_timeline, Mark};
    use deploysim::strategy::Report;
    let marks: Vec<Mark> = result
        .events
        .iter()
        .filter_map(|(t, e)| match e {
            SimEvent::Controller(Report::RollbackTriggered { cause }) => Some(Mark {
                t_s: t.as_secs_f64(),
                label: format!("rollback: {}", cause.name()),
            }),
            SimEvent::Controller(Report::Recovered) => Some(Mark {
                t_s: t.as_secs_f64(),
                label: "recovered".into(),
            }),
            _ => None,
        })
        .collect();
    let title = format!(
        "{} ({} release, seed {})",
        scenario.name,
        result.summary.release.as_str(),
        result.summary.seed
    );
    run_timeline(&title, &result.timeline, &marks)
}

/// Prints `text`; a closed pipe (e.g. `| head`) is not an error.
pub(crate) fn print_to_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let text = deploysim::text::terminal_safe(text);
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
