//! Words for events: short fields for `events.csv`, and the narrated trace a
//! newcomer reads to follow a rollout step by step.

use crate::analysis::{Criterion, CriterionFailure, Verdict};
use crate::engine::time::format_secs;
use crate::engine::{SimDuration, SimTime};
use crate::model::games::{GameCounters, GamePhase};
use crate::model::world::{GameChange, WorldChange};
use crate::model::Version;
use crate::record::{EventSink, RunSoFar, SimEvent, Summary};
use crate::scenario::Scenario;
use crate::strategy::{Report, RollbackCause};

/// An event as three CSV fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Described {
    /// Event kind, e.g. `phase`, `weight`, `check`.
    pub kind: &'static str,
    /// What it is about: an instance name, a version, or empty.
    pub subject: String,
    /// The change, e.g. `deploying -> validating`.
    pub detail: String,
}

/// The `trigger` column: the cause's short name, empty without a rollback.
pub fn trigger_names(cause: &Option<RollbackCause>) -> String {
    cause.as_ref().map(RollbackCause::name).unwrap_or_default()
}

fn failure_text(f: &CriterionFailure) -> String {
    match f.criterion {
        Criterion::ErrorRate => format!("error rate {:.3}% > max {:.3}%", f.observed, f.threshold),
        Criterion::SuccessRate => format!("success rate {:.3}% < min {:.3}%", f.observed, f.threshold),
        Criterion::LatencyP99 => format!("p99 {:.1} ms > max {:.1} ms", f.observed, f.threshold),
        Criterion::GameCompletion => format!("game completion {:.2}% < min {:.2}%", f.observed, f.threshold),
        Criterion::BetSuccess => format!("bet success {:.2}% < min {:.2}%", f.observed, f.threshold),
        Criterion::SessionContinuity => format!("session continuity {:.2}% < min {:.2}%", f.observed, f.threshold),
        Criterion::GameLatency => format!("game latency {:.1} ms > max {:.1} ms", f.observed, f.threshold),
        Criterion::NoData => "no data in the window".to_string(),
        Criterion::TooFewRequests => format!("{} requests < min {}", f.observed, f.threshold),
        Criterion::TooFewDataPoints => format!("Kayenta has {} data points < min {}", f.observed, f.threshold),
        Criterion::Judge("kayenta") => format!("Kayenta score {:.1} < {:.1}", f.observed, f.threshold),
        Criterion::Judge(kind) => format!("judge {kind} at {:.4} against {:.4}", f.observed, f.threshold),
    }
}

fn failures_text(fs: &[CriterionFailure]) -> String {
    fs.iter().map(failure_text).collect::<Vec<_>>().join("; ")
}

/// A rollback cause in words, with its numbers.
pub fn cause_text(cause: &RollbackCause) -> String {
    match cause {
        RollbackCause::Criteria(f) => failures_text(f),
        RollbackCause::Validation(f) => format!("validation: {}", failures_text(f)),
        RollbackCause::GreenUnhealthy { routable, wanted } => {
            format!("green unhealthy: {routable} of {wanted} instances in service")
        }
        RollbackCause::FailureRatio { failed, total } => format!(
            "{failed} of {total} instances failed ({:.1}%)",
            100.0 * f64::from(*failed) / f64::from((*total).max(1))
        ),
        RollbackCause::Analysis {
            metric,
            failed,
            consecutive_errors,
        } => format!(
            "analysis metric {metric} failed ({failed} failed measurements, {consecutive_errors} consecutive errors)"
        ),
        RollbackCause::Trigger { name, .. } if name == "manual" => "manual abort by an operator".to_string(),
        RollbackCause::Trigger {
            name,
            observed,
            threshold,
        } => format!("{name} at {observed:.3} against a threshold of {threshold:.3}"),
    }
}

fn verdict_word(v: &Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail(_) => "fail",
        Verdict::Inconclusive(_) => "inconclusive",
    }
}

fn check_detail(requests: u64, errors: u64, p99_s: Option<f64>, verdict: &Verdict) -> String {
    let rate = if requests > 0 {
        format!("{:.3}%", 100.0 * errors as f64 / requests as f64)
    } else {
        "n/a".into()
    };
    let p99 = p99_s.map_or("n/a".to_string(), |p| format!("{:.1}ms", p * 1000.0));
    let mut s = format!(
        "{} requests={requests} errors={errors} error_rate={rate} p99={p99}",
        verdict_word(verdict)
    );
    if let Verdict::Fail(f) | Verdict::Inconclusive(f) = verdict {
        s.push_str(": ");
        s.push_str(&failures_text(f));
    }
    s
}

/// A window of game counts for `events.csv`.
fn games_detail(g: &GameCounters) -> String {
    let pct = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.2}%"));
    format!(
        "games_ended={} game_completion={} bet_success={} session_continuity={} game_latency={}",
        g.games_ended(),
        pct(g.completion_pct()),
        pct(g.bet_success_pct()),
        pct(g.session_continuity_pct()),
        g.avg_latency_ms().map_or("n/a".to_string(), |ms| format!("{ms:.1}ms"))
    )
}

/// A window of game counts in words.
fn games_sentence(window: SimDuration, g: &GameCounters) -> String {
    if g.games_ended() == 0 {
        return format!(" Games on it over the last {}: none ended.", format_window(window));
    }
    let pct = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.1}%"));
    format!(
        " Games on it over the last {}: {} ended, {} completed, bets {} settled, sessions {} kept, \
         {} per game operation.",
        format_window(window),
        g.games_ended(),
        pct(g.completion_pct()),
        pct(g.bet_success_pct()),
        pct(g.session_continuity_pct()),
        g.avg_latency_ms().map_or("n/a".to_string(), |ms| format!("{ms:.0} ms"))
    )
}

fn instance_name(version: Version, ordinal: u32) -> String {
    format!("{}-{ordinal}", version.as_str())
}

/// The CSV fields of a game event.
fn describe_game(g: &GameChange) -> Described {
    let d = |kind: &'static str, subject: String, detail: String| Described { kind, subject, detail };
    match g {
        GameChange::Prepared { games, open_bets } => d(
            "game_prepare",
            String::new(),
            format!("backed_up={games} escrowed_bets={open_bets}"),
        ),
        GameChange::Held {
            game,
            version,
            ordinal,
            phase,
            handling,
        } => d(
            "game_held",
            format!("game {game}"),
            format!(
                "{} on {} {}",
                phase.as_str(),
                instance_name(*version, *ordinal),
                handling.as_str()
            ),
        ),
        GameChange::Migrated { game, from, to, phase } => d(
            "game_migrated",
            format!("game {game}"),
            format!(
                "{} {} -> {}",
                phase.as_str(),
                instance_name(from.0, from.1),
                instance_name(to.0, to.1)
            ),
        ),
        GameChange::Restored {
            game,
            to,
            bets_reconciled,
        } => d(
            "game_restored",
            format!("game {game}"),
            format!("on {} reconciled_bets={bets_reconciled}", instance_name(to.0, to.1)),
        ),
        GameChange::Lost {
            game,
            version,
            ordinal,
            players,
            bets,
            backed_up,
        } => d(
            "game_lost",
            format!("game {game}"),
            format!(
                "on {} players={players} bets={bets} backed_up={backed_up}",
                instance_name(*version, *ordinal)
            ),
        ),
        GameChange::DrainTimedOut {
            version,
            ordinal,
            games,
        } => d(
            "drain_timeout",
            instance_name(*version, *ordinal),
            format!("games={games}"),
        ),
        GameChange::Drained { version, ordinal } => d("drained", instance_name(*version, *ordinal), String::new()),
    }
}

/// The CSV fields of an event.
pub fn describe(event: &SimEvent) -> Described {
    let d = |kind, subject: &str, detail: String| Described {
        kind,
        subject: subject.to_string(),
        detail,
    };
    match event {
        SimEvent::RolloutStarted { strategy } => d("rollout_started", "", strategy.to_string()),
        SimEvent::Phase { from, to } => d("phase", "", format!("{} -> {}", from.as_str(), to.as_str())),
        SimEvent::RunEnded => d("run_ended", "", String::new()),
        SimEvent::World(c) => match c {
            WorldChange::Status {
                version,
                ordinal,
                from,
                to,
                ..
            } => d(
                "instance_status",
                &instance_name(*version, *ordinal),
                format!("{} -> {}", from.as_str(), to.as_str()),
            ),
            WorldChange::Health {
                version,
                ordinal,
                from,
                to,
                ..
            } => d(
                "instance_health",
                &instance_name(*version, *ordinal),
                format!("{} -> {}", from.as_str(), to.as_str()),
            ),
            WorldChange::Weight { from, to } => d("weight", "new", format!("{from:.2} -> {to:.2}")),
            WorldChange::RoutedByInstance => d("routing", "", "by instance count".into()),
            WorldChange::Fault { name, started } => {
                d("fault", name, if *started { "started".into() } else { "ended".into() })
            }
            WorldChange::Scaled { version, from, to } => d("scale", version.as_str(), format!("{from} -> {to}")),
            WorldChange::Game(g) => describe_game(g),
        },
        SimEvent::Controller(r) => match r {
            Report::Check {
                number,
                requests,
                errors,
                p99_s,
                verdict,
                games,
                ..
            } => {
                let mut detail = check_detail(*requests, *errors, *p99_s, verdict);
                if let Some((_, g)) = games {
                    detail.push_str(&format!(" {}", games_detail(g)));
                }
                d("check", &format!("#{number}"), detail)
            }
            Report::RollbackTriggered { cause } => d("rollback_triggered", &cause.name(), cause_text(cause)),
            Report::NoConclusiveCheck { since } => d(
                "no_conclusive_check",
                "new",
                format!("held since {}s", format_secs(since.0)),
            ),
            Report::DeadlineExceeded { wanted, ready } => d(
                "deadline_exceeded",
                "new",
                format!("{ready} of {wanted} instances ready"),
            ),
            Report::Recovered => d(
                "recovered",
                "stable",
                "all traffic on stable and stable within threshold".into(),
            ),
            Report::StagePassed { what } => d("stage_passed", what, String::new()),
            Report::BatchDone { number, failed } => d("batch_done", &format!("#{number}"), format!("failed={failed}")),
            Report::Promoted => d("promoted", "", "manual promotion".into()),
            Report::AwaitingPromotion => d("awaiting_promotion", "", String::new()),
            Report::Measurement {
                metric,
                measurement,
                result,
            } => d(
                "measurement",
                metric,
                format!(
                    "{} result={}",
                    measurement.as_str(),
                    result.map_or("n/a".to_string(), |r| format!("{r:.3}"))
                ),
            ),
            Report::AnalysisInconclusive { metric } => d("analysis_inconclusive", metric, String::new()),
            Report::RecoveryFallback { wanted, used } => d(
                "recovery_fallback",
                used.as_str(),
                format!("{} impossible: previous fleet gone", wanted.as_str()),
            ),
            Report::RecoveryStarted { kind } => d("recovery_started", kind.as_str(), String::new()),
            Report::RollbackVerified { verified } => d("rollback_verified", "", verified.to_string()),
        },
    }
}

/// Turns events into sentences, with the scenario's version labels.
pub struct Narrator<'a> {
    scenario: &'a Scenario,
    first_exposure: Option<SimTime>,
}

impl<'a> Narrator<'a> {
    /// A narrator for a finished run of `scenario` whose summary is
    /// `summary` (to narrate a run as it goes, use [`TraceWriter`]).
    pub fn new(scenario: &'a Scenario, summary: &Summary) -> Self {
        Narrator {
            scenario,
            first_exposure: summary.first_exposure,
        }
    }

    fn label(&self, v: Version) -> &str {
        match v {
            Version::Stable => &self.scenario.stable.label,
            Version::New => &self.scenario.release.new.label,
        }
    }

    fn world_line(&self, c: &WorldChange) -> String {
        match c {
            WorldChange::Status {
                version, ordinal, to, ..
            } => format!(
                "Instance {} ({}) is now {}.",
                instance_name(*version, *ordinal),
                self.label(*version),
                to.as_str()
            ),
            WorldChange::Health {
                version,
                ordinal,
                from,
                to,
                ..
            } => format!(
                "Health checks: {} {} -> {}{}.",
                instance_name(*version, *ordinal),
                from.as_str(),
                to.as_str(),
                if to.in_service() {
                    " (the load balancer routes to it)"
                } else {
                    " (out of the load balancer)"
                }
            ),
            WorldChange::Weight { to, .. } => format!(
                "Traffic split: {to:.1}% to {}, {:.1}% to {}.",
                self.label(Version::New),
                100.0 - to,
                self.label(Version::Stable)
            ),
            WorldChange::RoutedByInstance => {
                "Traffic now follows instance counts: every in-service instance of either version takes an equal share."
                    .to_string()
            }
            WorldChange::Scaled { version, from, to } => {
                format!("Want {to} instances of {} (was {from}).", self.label(*version))
            }
            WorldChange::Game(g) => self.game_line(g),
            WorldChange::Fault { name, started: true } => format!("FAULT {name} begins."),
            WorldChange::Fault { name, started: false } => format!("Fault {name} ends."),
        }
    }

    fn game_line(&self, g: &GameChange) -> String {
        let at = |(v, n): (Version, u32)| format!("{} ({})", instance_name(v, n), self.label(v));
        match g {
            GameChange::Prepared { games, open_bets } => format!(
                "Gaming prepare: {games} live games backed up, {open_bets} open bets escrowed; session migration ready."
            ),
            GameChange::Held {
                game,
                version,
                ordinal,
                phase,
                handling,
            } => format!(
                "Game {game} is {} on stopping {}: {} (the instance drains).",
                phase.as_str(),
                at((*version, *ordinal)),
                handling.as_str()
            ),
            GameChange::Migrated { game, from, to, phase } => format!(
                "Game {game} ({}) moves from {} to {}: {}.",
                phase.as_str(),
                at(*from),
                at(*to),
                match phase {
                    GamePhase::Waiting => "waiting, nothing at stake",
                    _ => "betting closes within the cutoff, so its open bets move with it",
                }
            ),
            GameChange::Restored {
                game,
                to,
                bets_reconciled,
            } => format!(
                "Game {game} restored from its backup on {}; {bets_reconciled} open bets reconciled from escrow.",
                at(*to)
            ),
            GameChange::Lost {
                game,
                version,
                ordinal,
                players,
                bets,
                backed_up,
            } => format!(
                "GAME LOST: game {game} went with {}: {players} players cut off, {bets} open bets {}.",
                at((*version, *ordinal)),
                if *backed_up { "reconciled" } else { "lost" }
            ),
            GameChange::DrainTimedOut {
                version,
                ordinal,
                games,
            } => format!(
                "DRAIN TIMEOUT: {} still holds {games} games past its stop time and the drain timeout: they are restored elsewhere and it stops.",
                at((*version, *ordinal))
            ),
            GameChange::Drained { version, ordinal } => {
                format!("{} has no games left and finishes stopping.", at((*version, *ordinal)))
            }
        }
    }

    /// `first_exposure`: the first request to the new version at or
    /// before `t`, if any.
    fn report_line(&self, t: SimTime, r: &Report, first_exposure: Option<SimTime>) -> String {
        let new = self.label(Version::New);
        let stable = self.label(Version::Stable);
        match r {
            Report::Check {
                number,
                window,
                requests,
                errors,
                p99_s,
                verdict,
                games,
            } => {
                let games = games.map_or(String::new(), |(w, g)| games_sentence(w, &g));
                let rate = if *requests > 0 {
                    format!("{:.2}%", 100.0 * *errors as f64 / *requests as f64)
                } else {
                    "no data".into()
                };
                let p99 = p99_s.map_or("no data".to_string(), |p| format!("{:.0} ms", p * 1000.0));
                let judged = match verdict {
                    Verdict::Pass => "PASS".to_string(),
                    Verdict::Fail(f) => format!("FAIL ({})", failures_text(f)),
                    Verdict::Inconclusive(f) => {
                        format!("INCONCLUSIVE ({}); the rollout holds until a check can judge", failures_text(f))
                    }
                };
                format!(
                    "Check {number}: over the last {} {new} saw {requests} requests, {errors} errors ({rate}), \
                     p99 {p99}.{games} -> {judged}.",
                    format_window(*window)
                )
            }
            Report::RollbackTriggered { cause } => {
                // Nothing to count from when no request reached the new
                // version first (the summary then counts from the rollout
                // start).
                let since = first_exposure
                    .map(|f| {
                        format!(
                            " Time to detect: {}s after the first request reached {new}.",
                            format_secs((t - f).0)
                        )
                    })
                    .unwrap_or_default();
                format!("ROLLBACK triggered: {}.{since}", cause_text(cause))
            }
            Report::NoConclusiveCheck { since } => format!(
                "Progress deadline exceeded: no check could judge {new} since t = {}s (no data, too few requests, \
                 or a judge that cannot decide). The rollout fails.",
                format_secs(since.0)
            ),
            Report::DeadlineExceeded { wanted, ready } => format!(
                "Progress deadline exceeded: {ready} of {wanted} {new} instances ready (or no promotion came). The \
                 rollout fails."
            ),
            Report::Recovered => {
                format!("Recovered: all traffic is on {stable} and its error rate is back under the threshold.")
            }
            Report::StagePassed { what } => format!("Passed: {what}."),
            Report::BatchDone { number, failed } => {
                format!("Batch {number} done ({failed} instances not ready in time).")
            }
            Report::Promoted => "An operator promotes the rollout.".to_string(),
            Report::AwaitingPromotion => "Paused: waiting for a manual promotion.".to_string(),
            Report::Measurement {
                metric,
                measurement,
                result,
            } => format!(
                "Analysis {metric}: {} -> {}.",
                result.map_or("no data".to_string(), |r| format!("result {r:.3}")),
                measurement.as_str()
            ),
            Report::AnalysisInconclusive { metric } => format!(
                "Analysis inconclusive: {metric} is over its inconclusive limit; the rollout pauses, as Argo Rollouts does."
            ),
            Report::RecoveryFallback { wanted, used } => format!(
                "Recovery {} is impossible (the previous fleet is gone); using {} instead.",
                wanted.as_str(),
                used.as_str()
            ),
            Report::RecoveryStarted { kind } => format!("Recovery begins: {}, back to {stable}.", kind.as_str()),
            Report::RollbackVerified { verified: true } => {
                "Rollback verified: the service is under 1% errors and over 99% availability.".to_string()
            }
            Report::RollbackVerified { verified: false } => {
                "Rollback NOT verified: the service did not get under 1% errors and over 99% availability in time."
                    .to_string()
            }
        }
    }

    /// One line of the trace, or `None` for events not worth a line.
    pub fn line(&self, t: SimTime, event: &SimEvent) -> Option<String> {
        self.line_with(t, event, self.first_exposure.filter(|&f| f <= t))
    }

    /// One line of the trace, given the first request to the new version at
    /// or before `t` (the only fact of the run a line needs).
    fn line_with(&self, t: SimTime, event: &SimEvent, first_exposure: Option<SimTime>) -> Option<String> {
        let text = match event {
            SimEvent::RolloutStarted { strategy } => format!(
                "The {strategy} rollout of {} ({} release) begins. {} instances of {} serve all traffic at {} \
                 requests/s.",
                self.label(Version::New),
                self.scenario.release.quality.as_str(),
                self.scenario.fleet.instances,
                self.label(Version::Stable),
                self.scenario.traffic.shape.rate_at(t.as_secs_f64())
            ),
            SimEvent::Phase { from, to } => format!("Phase {} -> {}.", from.as_str(), to.as_str()),
            SimEvent::RunEnded => "The simulation ends.".to_string(),
            SimEvent::World(c) => self.world_line(c),
            SimEvent::Controller(r) => self.report_line(t, r, first_exposure),
        };
        Some(format!("[{:>10}s] {text}", format_secs(t.0)))
    }
}

/// The narrated trace, written line by line as the run goes.
///
/// A rollback's line says how long after the first request to the new
/// version it came; in aggregate mode that request may be counted a little
/// after the trigger (when its stretch is drawn), so the lines from such a
/// trigger on wait until it is known: at most until the next draw, which
/// the recovery's first change or the next scrape makes.
pub struct TraceWriter<'a, W: std::io::Write> {
    narrator: Narrator<'a>,
    out: W,
    waiting: std::collections::VecDeque<(SimTime, SimEvent)>,
    failed: bool,
}

impl<'a, W: std::io::Write> TraceWriter<'a, W> {
    /// A trace of a run of `scenario`, written to `out`. Every line is made
    /// terminal-safe. A write error (a closed pipe) ends the trace quietly.
    pub fn new(scenario: &'a Scenario, out: W) -> Self {
        TraceWriter {
            narrator: Narrator {
                scenario,
                first_exposure: None,
            },
            out,
            waiting: std::collections::VecDeque::new(),
            failed: false,
        }
    }

    /// The output, after the run.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The output so far (lines waiting for the first exposure are not in
    /// it yet).
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    fn write(&mut self, t: SimTime, event: &SimEvent, first_exposure: Option<SimTime>) {
        if self.failed {
            return;
        }
        if let Some(line) = self.narrator.line_with(t, event, first_exposure) {
            let line = crate::text::terminal_safe(&line);
            self.failed = writeln!(self.out, "{line}").is_err();
        }
    }
}

/// Whether `event`'s line needs the first exposure.
fn needs_exposure(event: &SimEvent) -> bool {
    matches!(event, SimEvent::Controller(Report::RollbackTriggered { .. }))
}

impl<W: std::io::Write> EventSink for TraceWriter<'_, W> {
    fn event(&mut self, t: SimTime, event: &SimEvent, so_far: &RunSoFar) {
        if self.waiting.is_empty() {
            match so_far.first_exposure_by(t) {
                Some(first) => return self.write(t, event, first),
                None if !needs_exposure(event) => return self.write(t, event, None),
                None => {}
            }
        }
        self.waiting.push_back((t, event.clone()));
        while let Some((t, event)) = self.waiting.front() {
            let first = match so_far.first_exposure_by(*t) {
                Some(first) => first,
                None if !needs_exposure(event) => None,
                None => break,
            };
            let (t, event) = self.waiting.pop_front().expect("front exists");
            self.write(t, &event, first);
        }
    }
}

fn format_window(w: SimDuration) -> String {
    let s = w.0 / 1_000_000;
    if w.0 % 1_000_000 == 0 {
        if s % 60 == 0 && s >= 60 {
            return format!("{} min", s / 60);
        }
        return format!("{s} s");
    }
    format!("{}s", format_secs(w.0))
}

/// The short human summary printed after a run.
pub fn summary_text(s: &Summary) -> String {
    let mut out = format!(
        "{}: {} rollout of a {} release (seed {}, {} fidelity)\n",
        s.scenario,
        s.strategy,
        s.release.as_str(),
        s.seed,
        s.fidelity
    );
    let outcome = s.outcome.map_or("no rollout", |o| o.as_str());
    out.push_str(&format!("  outcome:            {outcome}"));
    if let Some(d) = s.deploy_duration() {
        out.push_str(&format!(" after {}s", format_secs(d.0)));
    }
    out.push('\n');
    if !s.final_phase.is_terminal() && s.outcome.is_some() {
        out.push_str(&format!(
            "  note:               the run ended (simulation.max_duration) in phase {} before the rollout finished\n",
            s.final_phase.as_str()
        ));
    }
    if let Some(cause) = &s.trigger {
        let when = if s.rolled_back_after_completion() {
            " (after completion)"
        } else {
            ""
        };
        out.push_str(&format!("  trigger:            {}{when}\n", cause_text(cause)));
    }
    if let Some(kind) = s.recovery {
        let verified = match s.rollback_verified {
            Some(true) => "verified",
            Some(false) => "NOT verified",
            None => "not yet verified",
        };
        out.push_str(&format!("  recovery:           {} ({verified})\n", kind.as_str()));
    }
    let ttd = s.ttd().map_or("-".into(), |d| format!("{}s", format_secs(d.0)));
    let ttr = s.ttr().map_or("-".into(), |d| format!("{}s", format_secs(d.0)));
    out.push_str(&format!("  time to detect:     {ttd}\n  time to recover:    {ttr}\n"));
    out.push_str(&format!(
        "  requests:           {} in all, {} failed ({} dropped); {} exposed to the new version\n",
        s.requests_total(),
        s.failed_requests(),
        s.totals.dropped.iter().sum::<u64>(),
        s.exposed_requests()
    ));
    out.push_str(&format!(
        "  blast radius:       {} failed requests on the new version\n",
        s.blast_radius_requests()
    ));
    if let Some(users) = s.blast_radius_users {
        out.push_str(&format!(
            "  users harmed:       {users} sessions saw a failure from the new version\n"
        ));
    }
    if let Some(g) = &s.gaming {
        let t = &g.totals;
        out.push_str(&format!(
            "  games:              {} started, {} completed, {} failed; {} disrupted by lost instances \
             ({} restored from backup, {} lost); {} moved while safe; {} drain timeouts\n",
            t.games_started,
            t.games_completed,
            t.games_failed,
            t.games_disrupted,
            t.games_restored,
            t.games_lost,
            t.games_migrated,
            t.drain_timeouts
        ));
        out.push_str(&format!(
            "  bets:               {} placed, {} settled, {} refunded, {} reconciled, {} LOST, {} open\n",
            t.bets.placed, t.bets.settled, t.bets.refunded, t.bets.reconciled, t.bets.lost, t.bets.open
        ));
        let continuity = t.session_continuity_pct().map_or("-".into(), |c| format!("{c:.2}%"));
        out.push_str(&format!(
            "  players:            {} sessions, {} dropped (continuity {continuity}); {} players harmed after the rollout began\n",
            t.sessions, t.sessions_dropped, t.players_harmed
        ));
        if let Some((n, through)) = g.recovery {
            out.push_str(&format!(
                "  rollback games:     {through} of the {n} games on the new version at the rollback came through\n"
            ));
        }
    }
    if let Some(excess) = s.excess_failed_requests() {
        out.push_str(&format!(
            "  excess failures:    {excess} more failed requests than with no rollout\n"
        ));
    }
    let avail = s.availability_pct().map_or("-".into(), |a| format!("{a:.4}%"));
    out.push_str(&format!("  availability:       {avail}\n"));
    out
}
