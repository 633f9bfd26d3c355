//! The `deploysim` command line.

use clap::{Parser, Subcommand, ValueEnum};
use deploysim::engine::SimTime;
use deploysim::record::{EventSink, RunSoFar, SimEvent};
use deploysim::report::charts::{run_timeline, Mark};
use deploysim::report::csv_out::{summary_csv, timeline_csv, EventsCsv};
use deploysim::report::narrate::{summary_text, TraceWriter};
use deploysim::report::outdir::{self, Commit, OutDir, OutError};
use deploysim::scenario::{self, Fidelity, ScenarioError};
use deploysim::sim::{run_into, RunOptions};
use deploysim::strategy::Report;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `eprintln!` for messages that may quote the input: every control
/// character but line breaks and tabs is escaped on the way out, and a
/// closed stderr is not a panic (the exit code still says what happened).
macro_rules! say_error {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let text = deploysim::text::terminal_safe(&format!($($arg)*)).into_owned();
        let _ = writeln!(std::io::stderr(), "{text}");
    }};
}

/// `eprint!` for the progress bar: a closed stderr is not a panic.
macro_rules! say_progress {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
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
    // The folder is checked before the run, so a bad one costs no time.
    let mut outdir = match OutDir::open(&dir) {
        Ok(d) => d,
        Err(e) => return out_failed(&e),
    };
    if let Err(e) = outdir.check_writes(outdir::RUN_FILES.iter().copied()) {
        return out_failed(&e);
    }
    let defaults = RunOptions::default();
    let opts = RunOptions {
        check_invariants: check_invariants || defaults.check_invariants,
        ..defaults
    };
    let mut stage = match outdir.stage() {
        Ok(s) => s,
        Err(e) => return out_failed(&e),
    };
    let events_file = match stage.create("events.csv") {
        Ok(f) => f,
        Err(e) => return out_failed(&e),
    };
    // Events stream to events.csv (and the trace to stdout) as they happen:
    // memory does not grow with the run.
    let stdout = std::io::stdout();
    let mut sinks = RunSinks {
        events: EventsCsv::new(events_file),
        trace: (trace && !quiet).then(|| TraceWriter::new(&scenario, std::io::BufWriter::new(stdout.lock()))),
        marks: Vec::new(),
    };
    let result = run_into(&scenario, seed, opts, &mut sinks);
    let RunSinks {
        events,
        trace: narration,
        marks,
    } = sinks;
    if let Some(narration) = narration {
        // A closed pipe is not an error.
        let _ = narration.into_inner().flush();
    }
    let result = match result {
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
    if let Err(e) = events.finish() {
        return out_failed(&OutError::io("write", stage.target("events.csv"), e));
    }
    let mut chart = timeline_chart(&scenario, &result, &marks);
    chart.name = "timeline".into();
    let staged = stage
        .write("summary.csv", &summary_csv(&result.summary))
        .and_then(|()| stage.write("timeline.csv", &timeline_csv(&result.timeline)))
        .and_then(|()| stage.chart("", &chart));
    if let Err(e) = staged.and_then(|()| stage.commit(Commit::Replace)) {
        return out_failed(&e);
    }
    if !quiet {
        let mut text = String::new();
        if trace {
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

/// Prints an output-folder error; exit code 2 when the input is to blame
/// (a bad `--out`, a file deploysim did not write in the way), 1 when
/// writing failed.
pub(crate) fn out_failed(e: &OutError) -> ExitCode {
    say_error!("error: {e}");
    ExitCode::from(if e.is_bad_input() {
        EXIT_BAD_INPUT
    } else {
        EXIT_RUN_FAILED
    })
}

/// Where `run` sends its events: `events.csv`, the trace, the chart's marks.
struct RunSinks<'a, W: std::io::Write> {
    events: EventsCsv<std::fs::File>,
    trace: Option<TraceWriter<'a, W>>,
    marks: Vec<Mark>,
}

impl<W: std::io::Write> EventSink for RunSinks<'_, W> {
    fn event(&mut self, t: SimTime, event: &SimEvent, so_far: &RunSoFar) {
        self.events.event(t, event, so_far);
        if let Some(trace) = self.trace.as_mut() {
            trace.event(t, event, so_far);
        }
        // The timeline chart marks where a rollback trigger fired and where
        // the service recovered.
        let label = match event {
            SimEvent::Controller(Report::RollbackTriggered { cause }) => format!("rollback: {}", cause.name()),
            SimEvent::Controller(Report::Recovered) => "recovered".into(),
            _ => return,
        };
        self.marks.push(Mark {
            t_s: t.as_secs_f64(),
            label,
        });
    }
}

/// The run's timeline chart, with its marks.
fn timeline_chart(
    scenario: &scenario::Scenario,
    result: &deploysim::sim::RunResult,
    marks: &[Mark],
) -> deploysim::report::charts::Chart {
    let title = format!(
        "{} ({} release, seed {})",
        scenario.name,
        result.summary.release.as_str(),
        result.summary.seed
    );
    run_timeline(&title, &result.timeline, marks)
}

/// Prints `text`; a closed pipe (e.g. `| head`) is not an error.
pub(crate) fn print_to_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let text = deploysim::text::terminal_safe(text);
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}
