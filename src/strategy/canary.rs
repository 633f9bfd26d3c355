//! The canary: a step program in the style of Argo Rollouts (set_weight,
//! pause, analysis, set_canary_scale) with the chapter's success criteria
//! checked every `check_interval` in the background. The chapter's
//! initial/increment/interval form and the CodeDeploy-style presets arrive
//! here already turned into steps.
//!
//! Phases: Preparing -> Deploying (canary instances provisioned and waited
//! for) -> Validating (the steps run; checks every `check_interval`) ->
//! Promoting (after the last step: the new version is scaled to the full
//! fleet, gets 100% of traffic, and stable is scaled to zero) -> Completed.
//! A failed check, or instances not ready within `progress_deadline`, emits
//! an abort with an immediate switch back to stable. With checks, the weight
//! is raised only after a check has judged the canary at its weight (passed
//! with a window that began after the weight was set): an
//! inconclusive check (no requests in its window, too few to act on a broken
//! criterion, or a judge that cannot decide) holds the rollout at its step,
//! and a hold that lasts `progress_deadline` fails it. No data is never a
//! pass.

use super::{Abort, Command, Controller, Observation, Outcome, Phase, Report, RollbackCause};
use crate::analysis::argo::{AnalysisStatus, ArgoAnalysis};
use crate::analysis::panel::{with_judged, JudgePanel};
use crate::analysis::{evaluate, game_failures, with_game_failures, Verdict};
use crate::engine::SimTime;
use crate::model::Version;
use crate::scenario::{AnalysisLength, CanaryScale, CanarySpec, CanaryStep, RecoveryKind};

/// Canary instances for a weight: max(1, ceil(fleet x weight / 100)).
pub fn canary_replicas(fleet_size: u32, weight_pct: f64) -> u32 {
    // The small epsilon keeps an exact product such as 20 x 30 / 100 = 6 from
    // rounding up on float noise.
    let exact = f64::from(fleet_size) * weight_pct / 100.0;
    ((exact - 1e-9).ceil() as u32).clamp(1, fleet_size.max(1))
}

/// What the current step is waiting for.
#[derive(Clone, Debug, PartialEq)]
enum Wait {
    /// Nothing: run the next step.
    None,
    /// Enough routable canary instances, then set `weight`.
    Replicas { weight: f64 },
    /// A time.
    Until(SimTime),
    /// A manual promotion.
    Promotion,
    /// This many more checks.
    Checks(u32),
}

/// The canary state machine.
#[derive(Clone, Debug)]
pub struct CanaryController {
    spec: CanarySpec,
    fleet_size: u32,
    phase: Phase,
    outcome: Option<Outcome>,
    weight: f64,
    scale: CanaryScale,
    step: usize,
    wait: Wait,
    wanted: u32,
    ready_deadline: Option<SimTime>,
    next_check: SimTime,
    checks: u32,
    promotions: std::collections::VecDeque<SimTime>,
    promoted_traffic: bool,
    /// The Argo-style background analysis, once started.
    analysis: Option<ArgoAnalysis>,
    /// Paused by an inconclusive analysis until a manual promotion.
    analysis_paused: bool,
    /// The success criteria's judges.
    judges: JudgePanel,
    /// No check has judged the canary at its weight yet, or the last one was
    /// inconclusive: the rollout holds at its step until a check can judge.
    held_by_check: bool,
    /// The last check was inconclusive (at a weight above 0).
    last_inconclusive: bool,
    /// When the weight in force was set: a passing check judges it only if
    /// its window began at or after this.
    weight_set_at: SimTime,
    /// Since when a step that could go on has been held; the rollout fails
    /// once that lasts `progress_deadline`.
    held_since: Option<SimTime>,
}

impl CanaryController {
    /// A controller for `spec` over a fleet of `fleet_size` stable instances.
    pub fn new(spec: CanarySpec, fleet_size: u32) -> Self {
        let promotions = spec.manual_promotions.iter().map(|d| SimTime::ZERO + *d).collect();
        let judges = JudgePanel::new(spec.criteria.judges.clone());
        CanaryController {
            spec,
            fleet_size,
            phase: Phase::Preparing,
            outcome: None,
            weight: 0.0,
            scale: CanaryScale::MatchTrafficWeight,
            step: 0,
            wait: Wait::None,
            wanted: 0,
            ready_deadline: None,
            next_check: SimTime::ZERO,
            checks: 0,
            promotions,
            promoted_traffic: false,
            analysis: None,
            analysis_paused: false,
            judges,
            held_by_check: false,
            weight_set_at: SimTime::ZERO,
            last_inconclusive: false,
            held_since: None,
        }
    }

    /// The weight last set, percent.
    pub fn weight(&self) -> f64 {
        self.weight
    }

    fn replicas_for(&self, weight: f64) -> u32 {
        match self.scale {
            CanaryScale::Replicas(r) => r.min(self.fleet_size),
            CanaryScale::Weight(w) => canary_replicas(self.fleet_size, w),
            CanaryScale::MatchTrafficWeight => canary_replicas(self.fleet_size, weight),
        }
    }

    fn request_replicas(&mut self, now: SimTime, wanted: u32, out: &mut Vec<Command>) {
        if wanted != self.wanted {
            self.wanted = wanted;
            out.push(Command::Scale {
                version: Version::New,
                replicas: wanted,
            });
        }
        let deadline = now + self.spec.progress_deadline;
        self.ready_deadline = Some(deadline);
        out.push(Command::WakeAt(deadline));
    }

    fn enter_validating(&mut self, now: SimTime, out: &mut Vec<Command>) {
        if self.phase == Phase::Deploying {
            self.phase = Phase::Validating;
            if self.spec.criteria_checks {
                self.next_check = now + self.spec.check_interval;
                out.push(Command::WakeAt(self.next_check));
            }
            if !self.spec.analysis.is_empty() {
                // Argo starts a background analysis with the rollout; here it
                // starts with the first weight, when there is traffic to judge.
                let run = ArgoAnalysis::start(self.spec.analysis.clone(), now);
                out.extend(run.next_due().map(Command::WakeAt));
                self.analysis = Some(run);
            }
        }
    }

    /// Takes the analysis measurements due now; returns false after an
    /// abort. An inconclusive analysis pauses the rollout.
    fn run_analysis(&mut self, obs: &Observation, out: &mut Vec<Command>) -> bool {
        let Some(run) = self.analysis.as_mut() else { return true };
        if self.phase != Phase::Validating || run.next_due().is_none_or(|t| obs.now < t) {
            return true;
        }
        let taken = run.run_due(obs.now, |w| obs.metrics.window(Version::New, obs.now, w));
        for t in taken {
            out.push(Command::Report(Report::Measurement {
                metric: run.metrics()[t.metric].name.clone(),
                measurement: t.measurement,
                result: t.result,
            }));
        }
        out.extend(run.next_due().map(Command::WakeAt));
        match run.status() {
            AnalysisStatus::Failed => {
                let (metric, failed, consecutive_errors) = run.culprit().expect("a failed metric");
                let cause = RollbackCause::Analysis {
                    metric: metric.to_string(),
                    failed,
                    consecutive_errors,
                };
                out.push(Command::Report(Report::RollbackTriggered { cause }));
                self.abort(Outcome::RolledBack, out);
                false
            }
            AnalysisStatus::Inconclusive => {
                let metric = run.culprit().map_or(String::new(), |c| c.0.to_string());
                self.analysis = None;
                self.analysis_paused = true;
                out.push(Command::Report(Report::AnalysisInconclusive { metric }));
                out.push(Command::Report(Report::AwaitingPromotion));
                if let Some(&p) = self.promotions.front() {
                    out.push(Command::WakeAt(p.max(obs.now)));
                }
                true
            }
            AnalysisStatus::Running | AnalysisStatus::Successful => true,
        }
    }

    /// Whether an inconclusive analysis still holds the rollout (a manual
    /// promotion due by now releases it).
    fn held_by_analysis(&mut self, obs: &Observation, out: &mut Vec<Command>) -> bool {
        if !self.analysis_paused {
            return false;
        }
        match self.promotions.front() {
            Some(&p) if p <= obs.now => {
                self.promotions.pop_front();
                self.analysis_paused = false;
                out.push(Command::Report(Report::Promoted));
                false
            }
            _ => true,
        }
    }

    /// Runs steps until one has to wait.
    fn run_steps(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        loop {
            match self.wait.clone() {
                Wait::None => {}
                Wait::Replicas { weight } => {
                    if obs.of(Version::New).routable < self.wanted {
                        self.enforce_deadline(obs, out);
                        return;
                    }
                    self.ready_deadline = None;
                    self.set_weight(weight, obs.now, out);
                }
                Wait::Until(t) => {
                    if obs.now < t {
                        return;
                    }
                }
                Wait::Promotion => {
                    // The k-th manual promotion resumes the k-th indefinite
                    // pause, at the later of the two times.
                    match self.promotions.front() {
                        Some(&p) if p <= obs.now => {
                            self.promotions.pop_front();
                            out.push(Command::Report(Report::Promoted));
                        }
                        _ => return,
                    }
                }
                Wait::Checks(n) if n > 0 => {
                    // An analysis of checks that cannot judge is stalled too.
                    if self.last_inconclusive {
                        self.stall(obs, out);
                    } else {
                        self.held_since = None;
                    }
                    return;
                }
                Wait::Checks(_) => {}
            }
            self.wait = Wait::None;
            // Pauses, analyses and lower weights may start at an unjudged
            // weight; raising it (or promoting) waits for a check that
            // judged it.
            let raises = match self.spec.steps.get(self.step) {
                None => true,
                Some(CanaryStep::SetWeight(w)) => *w > self.weight,
                Some(_) => false,
            };
            if self.held_by_check && raises {
                self.stall(obs, out);
                return;
            }
            self.held_since = None;
            let Some(step) = self.spec.steps.get(self.step).cloned() else {
                self.begin_promotion(obs, out);
                return;
            };
            self.step += 1;
            match step {
                CanaryStep::SetWeight(w) if w >= 100.0 => {
                    self.begin_promotion(obs, out);
                    return;
                }
                CanaryStep::SetWeight(w) => {
                    let wanted = self.replicas_for(w);
                    if wanted < self.wanted {
                        // Fewer canary instances: move the weight first.
                        self.set_weight(w, obs.now, out);
                        self.request_replicas(obs.now, wanted, out);
                        self.ready_deadline = None;
                        continue;
                    }
                    self.request_replicas(obs.now, wanted, out);
                    self.wait = Wait::Replicas { weight: w };
                }
                CanaryStep::Pause(Some(d)) => {
                    self.enter_validating(obs.now, out);
                    self.wait = Wait::Until(obs.now + d);
                    out.push(Command::WakeAt(obs.now + d));
                }
                CanaryStep::Pause(None) => {
                    self.enter_validating(obs.now, out);
                    self.wait = Wait::Promotion;
                    out.push(Command::Report(Report::AwaitingPromotion));
                    if let Some(&p) = self.promotions.front() {
                        out.push(Command::WakeAt(p.max(obs.now)));
                    }
                }
                CanaryStep::Analysis(AnalysisLength::Duration(d)) => {
                    self.enter_validating(obs.now, out);
                    self.wait = Wait::Until(obs.now + d);
                    out.push(Command::WakeAt(obs.now + d));
                }
                CanaryStep::Analysis(AnalysisLength::Checks(n)) => {
                    self.enter_validating(obs.now, out);
                    self.wait = Wait::Checks(n);
                }
                CanaryStep::SetCanaryScale(scale) => {
                    self.scale = scale;
                    let wanted = self.replicas_for(self.weight.max(f64::MIN_POSITIVE));
                    self.request_replicas(obs.now, wanted, out);
                    self.ready_deadline = None;
                }
            }
        }
    }

    /// Sends `w` percent to the canary. Traffic at a new weight has not been
    /// judged: with checks, the next step waits for one that can judge it.
    fn set_weight(&mut self, w: f64, now: SimTime, out: &mut Vec<Command>) {
        self.weight = w;
        self.weight_set_at = now;
        out.push(Command::SetWeight(w));
        self.enter_validating(now, out);
        self.held_by_check = self.spec.criteria_checks && w > 0.0;
    }

    /// The rollout would go on but no check has judged the canary: it fails
    /// once that has lasted `progress_deadline`, as a stalled rollout does.
    fn stall(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        let since = *self.held_since.get_or_insert(obs.now);
        if obs.now.saturating_since(since) >= self.spec.progress_deadline {
            out.push(Command::Report(Report::NoConclusiveCheck { since }));
            self.abort(Outcome::Failed, out);
        }
    }

    fn begin_promotion(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        self.phase = Phase::Promoting;
        self.request_replicas(obs.now, self.fleet_size, out);
        self.promote_when_ready(obs, out);
    }

    fn promote_when_ready(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        if !self.promoted_traffic {
            if obs.of(Version::New).routable < self.wanted {
                self.enforce_deadline(obs, out);
                return;
            }
            self.promoted_traffic = true;
            self.ready_deadline = None;
            self.weight = 100.0;
            out.push(Command::SetWeight(100.0));
            out.push(Command::Scale {
                version: Version::Stable,
                replicas: 0,
            });
        }
        if obs.of(Version::Stable).active() == 0 {
            self.phase = Phase::Completed;
            self.outcome = Some(Outcome::Promoted);
        }
    }

    fn enforce_deadline(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        if self.ready_deadline.is_some_and(|d| obs.now >= d) {
            out.push(Command::Report(Report::DeadlineExceeded {
                wanted: self.wanted,
                ready: obs.of(Version::New).routable,
            }));
            self.abort(Outcome::Failed, out);
        }
    }

    fn abort(&mut self, outcome: Outcome, out: &mut Vec<Command>) {
        self.phase = Phase::RollingBack;
        self.outcome = Some(outcome);
        let c = &self.spec.criteria;
        out.push(Command::Abort(Abort {
            recovery: RecoveryKind::ImmediateSwitch,
            outcome,
            error_threshold_pct: c.max_error_rate_pct.unwrap_or(1.0),
            window: c.evaluation_window,
        }));
    }

    /// Runs the check that is due now, if any; returns false after an abort.
    fn run_due_check(&mut self, obs: &Observation, out: &mut Vec<Command>) -> bool {
        if !self.spec.criteria_checks || self.phase != Phase::Validating || obs.now < self.next_check {
            return true;
        }
        while self.next_check <= obs.now {
            self.next_check += self.spec.check_interval;
        }
        out.push(Command::WakeAt(self.next_check));
        let c = &self.spec.criteria;
        let window = obs.metrics.window(Version::New, obs.now, c.evaluation_window);
        let mut verdict = evaluate(c, &window);
        let judged = self.judges.judge(obs.metrics, obs.now, self.spec.check_interval);
        verdict = with_judged(verdict, judged);
        let c = &self.spec.criteria;
        let games = c.games.as_ref().map(|g| {
            let games = obs.metrics.window(Version::New, obs.now, g.window).games;
            verdict = with_game_failures(verdict.clone(), game_failures(g, &games));
            (g.window, games)
        });
        self.checks += 1;
        out.push(Command::Report(Report::Check {
            number: self.checks,
            window: c.evaluation_window,
            requests: window.requests,
            errors: window.errors,
            p99_s: window.p99_s,
            games,
            verdict: verdict.clone(),
        }));
        if let Verdict::Fail(failures) = verdict {
            out.push(Command::Report(Report::RollbackTriggered {
                cause: RollbackCause::Criteria(failures),
            }));
            self.abort(Outcome::RolledBack, out);
            return false;
        }
        let inconclusive = matches!(verdict, Verdict::Inconclusive(_));
        // A pass judges the weight in force only if its window holds nothing
        // from before the weight was set. At weight 0 nothing is meant to
        // reach the canary: an empty window is expected, and holding would
        // wait forever.
        let window_after_weight = obs.now.saturating_sub(self.spec.criteria.evaluation_window) >= self.weight_set_at;
        if self.weight <= 0.0 {
            self.held_by_check = false;
        } else if inconclusive {
            self.held_by_check = true;
        } else if window_after_weight {
            self.held_by_check = false;
        }
        self.last_inconclusive = inconclusive && self.weight > 0.0;
        if let (Wait::Checks(n), false) = (&mut self.wait, self.last_inconclusive) {
            *n = n.saturating_sub(1);
        }
        true
    }
}

impl Controller for CanaryController {
    fn name(&self) -> &'static str {
        "canary"
    }

    fn start_at(&self) -> SimTime {
        SimTime::ZERO + self.spec.start_at
    }

    fn start(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        self.phase = Phase::Deploying;
        self.run_steps(obs, &mut out);
        out
    }

    fn observe(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        let phase = self.phase;
        match phase {
            // Judge the traffic seen so far before changing anything.
            Phase::Deploying | Phase::Validating
                if self.run_due_check(obs, &mut out)
                    && self.run_analysis(obs, &mut out)
                    && !self.held_by_analysis(obs, &mut out) =>
            {
                self.run_steps(obs, &mut out);
            }
            Phase::Promoting => self.promote_when_ready(obs, &mut out),
            _ => {}
        }
        out
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn outcome(&self) -> Option<Outcome> {
        self.phase.is_terminal().then_some(self.outcome).flatten()
    }
}

#[cfg(test)]
mod tests;
