//! Blue-green: provision a green fleet the size of blue, wait for it to be
//! healthy, validate it with a small share of traffic, then switch traffic
//! in stages, checking green's health at each, and remove blue after
//! `scale_down_delay`. Without auto-promotion the switch waits for a manual
//! promotion, or fails after `progress_deadline`. Capacity is doubled while
//! both fleets run. Validation ends only after a check that could judge:
//! while none has, or checks are inconclusive (no requests, too few to act
//! on, a judge that cannot decide), it goes on, and fails the rollout once
//! that lasts `progress_deadline` past its end.

use super::{Abort, Command, Controller, Observation, Outcome, Phase, Report, RollbackCause};
use crate::analysis::panel::{with_judged, JudgePanel};
use crate::analysis::{game_failures, verdict_of, with_game_failures, Criterion, CriterionFailure, Verdict};
use crate::engine::SimTime;
use crate::model::Version;
use crate::scenario::{BlueGreenSpec, RecoveryKind};

#[derive(Clone, Debug, PartialEq)]
enum Stage {
    Provisioning { deadline: SimTime },
    Validating { until: SimTime, next_check: SimTime },
    AwaitingPromotion { deadline: SimTime },
    Switching { index: usize, until: SimTime },
    ScaleDown { at: SimTime, requested: bool },
    Done,
}

/// The blue-green state machine.
#[derive(Clone, Debug)]
pub struct BlueGreenController {
    spec: BlueGreenSpec,
    fleet_size: u32,
    phase: Phase,
    outcome: Option<Outcome>,
    stage: Stage,
    checks: u32,
    promotions: std::collections::VecDeque<SimTime>,
    judges: JudgePanel,
    /// No validation check has judged green yet, or the last one was
    /// inconclusive: validation goes on until a check can judge.
    held_by_check: bool,
}

impl BlueGreenController {
    /// A controller for `spec` over a fleet of `fleet_size`.
    pub fn new(spec: BlueGreenSpec, fleet_size: u32) -> Self {
        let promotions = spec.manual_promotions.iter().map(|d| SimTime::ZERO + *d).collect();
        let judges = JudgePanel::new(spec.judges.clone());
        BlueGreenController {
            judges,
            held_by_check: false,
            spec,
            fleet_size,
            phase: Phase::Preparing,
            outcome: None,
            stage: Stage::Done,
            checks: 0,
            promotions,
        }
    }

    fn abort(&mut self, outcome: Outcome, out: &mut Vec<Command>) {
        self.phase = Phase::RollingBack;
        self.outcome = Some(outcome);
        self.stage = Stage::Done;
        out.push(Command::Abort(Abort {
            recovery: RecoveryKind::BlueGreenSwitch,
            outcome,
            error_threshold_pct: self.spec.validation_max_error_rate_pct,
            window: self.spec.check_interval,
        }));
    }

    fn validation_check(&mut self, obs: &Observation, out: &mut Vec<Command>) -> bool {
        let w = obs.metrics.window(Version::New, obs.now, self.spec.check_interval);
        let mut broken = Vec::new();
        if let Some(rate) = w.error_rate_pct() {
            if rate > self.spec.validation_max_error_rate_pct {
                broken.push(CriterionFailure {
                    criterion: Criterion::ErrorRate,
                    observed: rate,
                    threshold: self.spec.validation_max_error_rate_pct,
                });
            }
        }
        if let Some(p99) = w.p99_s {
            if p99 > self.spec.validation_max_p99.as_secs_f64() {
                broken.push(CriterionFailure {
                    criterion: Criterion::LatencyP99,
                    observed: p99 * 1000.0,
                    threshold: self.spec.validation_max_p99.as_millis_f64(),
                });
            }
        }
        let mut verdict = verdict_of(broken, w.requests, self.spec.validation_min_request_count);
        let judged = self.judges.judge(obs.metrics, obs.now, self.spec.check_interval);
        verdict = with_judged(verdict, judged);
        let games = self.spec.games.as_ref().map(|g| {
            let games = obs.metrics.window(Version::New, obs.now, g.window).games;
            verdict = with_game_failures(verdict.clone(), game_failures(g, &games));
            (g.window, games)
        });
        self.checks += 1;
        out.push(Command::Report(Report::Check {
            number: self.checks,
            window: self.spec.check_interval,
            requests: w.requests,
            errors: w.errors,
            p99_s: w.p99_s,
            games,
            verdict: verdict.clone(),
        }));
        // With no validation traffic an empty window is expected, and holding
        // would wait forever.
        self.held_by_check = matches!(verdict, Verdict::Inconclusive(_)) && self.spec.validation_traffic_pct > 0.0;
        if let Verdict::Fail(failures) = verdict {
            out.push(Command::Report(Report::RollbackTriggered {
                cause: RollbackCause::Validation(failures),
            }));
            self.abort(Outcome::RolledBack, out);
            return false;
        }
        true
    }

    fn begin_switch(&mut self, index: usize, now: SimTime, out: &mut Vec<Command>) {
        self.phase = Phase::Promoting;
        let until = now + self.spec.stage_duration;
        out.push(Command::SetWeight(self.spec.switch_stages_pct[index]));
        out.push(Command::WakeAt(until));
        self.stage = Stage::Switching { index, until };
    }

    fn step(&mut self, obs: &Observation, out: &mut Vec<Command>) {
        let n = self.fleet_size;
        match self.stage.clone() {
            Stage::Provisioning { deadline } => {
                if obs.of(Version::New).routable >= n {
                    self.phase = Phase::Validating;
                    out.push(Command::SetWeight(self.spec.validation_traffic_pct));
                    self.held_by_check = self.spec.validation_traffic_pct > 0.0;
                    let until = obs.now + self.spec.validation_duration;
                    let next_check = obs.now + self.spec.check_interval;
                    out.push(Command::WakeAt(next_check));
                    out.push(Command::WakeAt(until));
                    self.stage = Stage::Validating { until, next_check };
                } else if obs.now >= deadline {
                    out.push(Command::Report(Report::DeadlineExceeded {
                        wanted: n,
                        ready: obs.of(Version::New).routable,
                    }));
                    self.abort(Outcome::Failed, out);
                }
            }
            Stage::Validating { until, mut next_check } => {
                if obs.now >= next_check {
                    if !self.validation_check(obs, out) {
                        return;
                    }
                    while next_check <= obs.now {
                        next_check += self.spec.check_interval;
                    }
                    out.push(Command::WakeAt(next_check));
                    self.stage = Stage::Validating { until, next_check };
                }
                if obs.now >= until && self.held_by_check {
                    // Validation is over but nothing could judge green: a
                    // hold that lasts progress_deadline fails the rollout.
                    if obs.now.saturating_since(until) >= self.spec.progress_deadline {
                        out.push(Command::Report(Report::NoConclusiveCheck { since: until }));
                        self.abort(Outcome::Failed, out);
                    }
                } else if obs.now >= until {
                    // As in the chapter: traffic back to blue, then switch.
                    out.push(Command::SetWeight(0.0));
                    out.push(Command::Report(Report::StagePassed {
                        what: "validation".into(),
                    }));
                    if self.spec.auto_promote {
                        self.begin_switch(0, obs.now, out);
                    } else {
                        let deadline = obs.now + self.spec.progress_deadline;
                        out.push(Command::Report(Report::AwaitingPromotion));
                        out.push(Command::WakeAt(deadline));
                        if let Some(&p) = self.promotions.front() {
                            out.push(Command::WakeAt(p.max(obs.now)));
                        }
                        self.stage = Stage::AwaitingPromotion { deadline };
                        self.step(obs, out);
                    }
                }
            }
            Stage::AwaitingPromotion { deadline } => {
                if self.promotions.front().is_some_and(|&p| p <= obs.now) {
                    self.promotions.pop_front();
                    out.push(Command::Report(Report::Promoted));
                    self.begin_switch(0, obs.now, out);
                } else if obs.now >= deadline {
                    out.push(Command::Report(Report::DeadlineExceeded {
                        wanted: n,
                        ready: obs.of(Version::New).routable,
                    }));
                    self.abort(Outcome::Failed, out);
                }
            }
            Stage::Switching { index, until } => {
                if obs.now < until {
                    return;
                }
                let routable = obs.of(Version::New).routable;
                if routable < n {
                    out.push(Command::Report(Report::RollbackTriggered {
                        cause: RollbackCause::GreenUnhealthy { routable, wanted: n },
                    }));
                    self.abort(Outcome::RolledBack, out);
                    return;
                }
                let pct = self.spec.switch_stages_pct[index];
                out.push(Command::Report(Report::StagePassed {
                    what: format!("stage {pct}%"),
                }));
                if index + 1 < self.spec.switch_stages_pct.len() {
                    self.begin_switch(index + 1, obs.now, out);
                } else {
                    let at = obs.now + self.spec.scale_down_delay;
                    out.push(Command::WakeAt(at));
                    self.stage = Stage::ScaleDown { at, requested: false };
                    self.step(obs, out);
                }
            }
            Stage::ScaleDown { at, requested } => {
                if obs.now < at {
                    return;
                }
                if !requested {
                    out.push(Command::Scale {
                        version: Version::Stable,
                        replicas: 0,
                    });
                    self.stage = Stage::ScaleDown { at, requested: true };
                    // Blue may have nothing left to stop (all failed and
                    // waiting for a replacement): look again shortly rather
                    // than wait for a change that will not come.
                    out.push(Command::WakeAt(obs.now + self.spec.check_interval));
                    return;
                }
                if obs.of(Version::Stable).active() > 0 {
                    out.push(Command::WakeAt(obs.now + self.spec.check_interval));
                } else {
                    self.phase = Phase::Completed;
                    self.outcome = Some(Outcome::Promoted);
                    self.stage = Stage::Done;
                }
            }
            Stage::Done => {}
        }
    }
}

impl Controller for BlueGreenController {
    fn name(&self) -> &'static str {
        "blue_green"
    }

    fn start_at(&self) -> SimTime {
        SimTime::ZERO + self.spec.start_at
    }

    fn start(&mut self, obs: &Observation) -> Vec<Command> {
        self.phase = Phase::Deploying;
        let deadline = obs.now + self.spec.progress_deadline;
        self.stage = Stage::Provisioning { deadline };
        let mut out = vec![
            Command::Scale {
                version: Version::New,
                replicas: self.fleet_size,
            },
            Command::WakeAt(deadline),
        ];
        self.step(obs, &mut out);
        out
    }

    fn observe(&mut self, obs: &Observation) -> Vec<Command> {
        let mut out = Vec::new();
        self.step(obs, &mut out);
        out
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn outcome(&self) -> Option<Outcome> {
        self.phase.is_terminal().then_some(self.outcome).flatten()
    }
}
