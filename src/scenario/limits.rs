//! Upper limits on everything a scenario file can ask for, so that a typo of
//! three extra zeros gets a message instead of an out-of-memory kill or a
//! run that never ends. One home for every limit: validation, the pre-scan
//! of the text and the cost estimate read them from here, and the README's
//! "Limits" section states them.

/// Most instances in a fleet (and most instances any count, such as
/// `max_surge` or `set_canary_scale.replicas`, may name).
pub const MAX_INSTANCES: i64 = 10_000;
/// Highest arrival rate, requests per second.
pub const MAX_RATE_RPS: f64 = 1_000_000.0;
/// Longest simulated run, seconds (30 days).
pub const MAX_DURATION_S: u64 = 30 * 24 * 3600;
/// Most simulated requests per run in request mode (rate x duration).
pub const MAX_REQUEST_MODE_REQUESTS: f64 = 500_000_000.0;
/// Most latency histogram buckets.
pub const MAX_BUCKETS: usize = 64;
/// Most aggregate-mode ticks per run.
pub const MAX_TICKS: u64 = 10_000_000;
/// Most scrapes per run (each is kept for the run's queries).
pub const MAX_SCRAPES: u64 = 1_000_000;
/// Most checks, trigger evaluations or timeline rows per run.
pub const MAX_SAMPLES: u64 = 1_000_000;
/// Most health probes per run (instances x run length / interval).
pub const MAX_PROBES: f64 = 200_000_000.0;
/// Most requests in flight at once in request mode (rate x mean latency).
pub const MAX_IN_FLIGHT: f64 = 10_000_000.0;
/// Largest scenario, sweep or tune file, bytes. Real scenarios are a few
/// KB; the parser's tree costs far more than the text, so the text is kept
/// small (and its values counted first, see [`MAX_TOML_VALUES`]).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Largest replayed traffic CSV, bytes (read row by row, not as a tree).
pub const MAX_REPLAY_BYTES: u64 = 10 * 1024 * 1024;
/// Most rows of a replayed traffic series.
pub const MAX_REPLAY_ROWS: usize = 1_000_000;
/// Most values in a TOML file (keys, tables, array entries), counted by a
/// pre-scan of the text before the parser builds its tree.
pub const MAX_TOML_VALUES: usize = 100_000;
/// Most sessions opened in one run (each is remembered for users harmed).
pub const MAX_SESSIONS: f64 = 10_000_000.0;
/// Most sessions open at once.
pub const MAX_LIVE_SESSIONS: f64 = 1_000_000.0;
/// Most games started in one run (each is kept to the end).
pub const MAX_GAMES: f64 = 1_000_000.0;
/// Most game operations (bets, rolls, payouts) in one run, counted at the
/// most players and rounds.
pub const MAX_GAME_OPERATIONS: f64 = 200_000_000.0;

/// Most steps a canary may have written out, and most weights the
/// shorthand or a preset may expand to (each with its pause).
pub const MAX_STEPS: usize = 1000;
/// Most weights a Flagger canary may step through.
pub const MAX_WEIGHTS: usize = 1000;
/// Most stages of a blue-green switch.
pub const MAX_SWITCH_STAGES: usize = 100;
/// Most manual promotions.
pub const MAX_MANUAL_PROMOTIONS: usize = 1000;
/// Most metrics of an Argo-style analysis.
pub const MAX_ANALYSIS_METRICS: usize = 100;
/// Most metrics of a Flagger analysis.
pub const MAX_FLAGGER_METRICS: usize = 20;
/// Most judges in one `judges` list.
pub const MAX_JUDGES: usize = 20;
/// Most rollback triggers.
pub const MAX_TRIGGERS: usize = 100;
/// Most window pairs of a burn-rate trigger.
pub const MAX_BURN_WINDOWS: usize = 10;
/// Most metrics of a Kayenta judge.
pub const MAX_KAYENTA_METRICS: usize = 20;
/// Most data points of a Kayenta judge's series (window / step).
pub const MAX_KAYENTA_POINTS: u64 = 1_000;
/// Most faults.
pub const MAX_FAULTS: usize = 100;
/// Most traffic spikes.
pub const MAX_SPIKES: usize = 100;
/// Most entries of `[[history]]`.
pub const MAX_HISTORY: usize = 1000;
/// Most expected health-check status codes.
pub const MAX_STATUS_CODES: usize = 100;

/// Shortest `after` of a crash loop and `mtbf` of instance crashes,
/// seconds. Shorter lives make replacements feed on each other (every crash
/// schedules a reconcile that replaces every dead instance), and the churn
/// grows faster than the run.
pub const MIN_CRASH_LIFE_S: u64 = 1;

/// Default work budget of one run, in work units (about one event of the
/// loop each; see [`super::cost`]).
pub const DEFAULT_WORK_BUDGET: f64 = 1e9;
/// Highest work budget a scenario may set.
pub const MAX_WORK_BUDGET: f64 = 1e13;
/// Default memory budget of one run, MB.
pub const DEFAULT_MEMORY_BUDGET_MB: f64 = 2048.0;
/// Highest memory budget a scenario may set, MB (1 TiB).
pub const MAX_MEMORY_BUDGET_MB: f64 = 1_048_576.0;
