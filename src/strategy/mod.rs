//! Deployment strategies as controllers: state machines that take
//! observations and return commands. A controller never touches the world,
//! so its logic is tested by scripting observations by hand.

pub mod blue_green;
#[cfg(test)]
mod blue_green_tests;
pub mod canary;
pub mod flagger;
#[cfg(test)]
mod flagger_tests;
pub mod none;
pub mod recovery;
pub mod recreate;
#[cfg(test)]
mod recreate_tests;
pub mod rolling;
#[cfg(test)]
mod rolling_tests;
pub mod supervisor;
#[cfg(test)]
mod supervisor_tests;
#[cfg(test)]
mod testkit;

use crate::analysis::{CriterionFailure, Verdict};
use crate::engine::{SimDuration, SimTime};
use crate::model::metrics::Gauges;
use crate::model::{InstanceStatus, Version, WindowStats};
use crate::scenario::RecoveryKind;

pub use blue_green::BlueGreenController;
pub use canary::CanaryController;
pub use flagger::FlaggerController;
pub use none::NoRollout;
pub use recreate::RecreateController;
pub use rolling::RollingController;
pub use supervisor::Supervisor;

/// The phases of a deployment, as in the chapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Before anything is provisioned.
    Preparing,
    /// New instances being provisioned and waited for.
    Deploying,
    /// New version taking a share of traffic under checks.
    Validating,
    /// Replacing the rest of the fleet with the new version.
    Promoting,
    /// Everything on the new version.
    Completed,
    /// Traffic back on stable, new instances going away.
    RollingBack,
    /// The rollout ended without promotion.
    Failed,
}

impl Phase {
    /// Lower-case name for CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Preparing => "preparing",
            Phase::Deploying => "deploying",
            Phase::Validating => "validating",
            Phase::Promoting => "promoting",
            Phase::Completed => "completed",
            Phase::RollingBack => "rolling_back",
            Phase::Failed => "failed",
        }
    }

    /// Completed and Failed are final.
    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Completed | Phase::Failed)
    }
}

/// How a rollout ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The new version serves everything.
    Promoted,
    /// A trigger fired and traffic went back to stable.
    RolledBack,
    /// The rollout could not proceed (deadline, or the run ended first).
    Failed,
}

impl Outcome {
    /// Name for CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Promoted => "promoted",
            Outcome::RolledBack => "rolled_back",
            Outcome::Failed => "failed",
        }
    }
}

/// Instance counts of one version by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VersionFleet {
    /// Count per [`InstanceStatus`], in `InstanceStatus::ALL` order.
    pub by_status: [u32; 6],
    /// Instances the load balancer routes to (Running and in service).
    pub routable: u32,
}

impl VersionFleet {
    /// Instances with this status.
    pub fn count(&self, status: InstanceStatus) -> u32 {
        self.by_status[status as usize]
    }

    /// Instances that are not Stopped or Failed.
    pub fn active(&self) -> u32 {
        InstanceStatus::ALL
            .iter()
            .filter(|s| !s.is_terminal())
            .map(|&s| self.count(s))
            .sum()
    }
}

/// Read-only access to scraped metrics, as a controller queries Prometheus.
pub trait MetricsView {
    /// Stats of `version` over (end - window, end].
    fn window(&self, version: Version, end: SimTime, window: SimDuration) -> WindowStats;
    /// Stats of both versions together over (end - window, end].
    fn window_service(&self, end: SimTime, window: SimDuration) -> WindowStats;
    /// Gauges of `version` at the last scrape at or before `t`.
    fn gauges(&self, version: Version, t: SimTime) -> Gauges;
    /// Finite latency bucket bounds, seconds.
    fn bounds_s(&self) -> &[f64];
}

impl MetricsView for crate::model::MetricsStore {
    fn window(&self, version: Version, end: SimTime, window: SimDuration) -> WindowStats {
        crate::model::MetricsStore::window(self, version, end, window)
    }
    fn window_service(&self, end: SimTime, window: SimDuration) -> WindowStats {
        crate::model::MetricsStore::window_service(self, end, window)
    }
    fn gauges(&self, version: Version, t: SimTime) -> Gauges {
        crate::model::MetricsStore::gauges(self, version, t)
    }
    fn bounds_s(&self) -> &[f64] {
        crate::model::MetricsStore::bounds_s(self)
    }
}

/// What a controller sees when it is woken.
pub struct Observation<'a> {
    /// Simulated now.
    pub now: SimTime,
    /// Current traffic share of the new version, percent.
    pub weight_pct: f64,
    /// Instance counts per version (index by `Version::index`).
    pub fleet: [VersionFleet; 2],
    /// Scraped metrics.
    pub metrics: &'a dyn MetricsView,
}

impl Observation<'_> {
    /// The counts of one version.
    pub fn of(&self, v: Version) -> &VersionFleet {
        &self.fleet[v.index()]
    }
}

/// Something a controller asks the world to do, or tells the recorder.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Keep this many active instances of `version` (like a ReplicaSet): the
    /// world provisions or stops instances to match and replaces failed ones.
    Scale {
        /// Which version.
        version: Version,
        /// Desired active instances.
        replicas: u32,
    },
    /// Send this percentage of traffic to the new version (the rest to stable).
    SetWeight(f64),
    /// Split traffic by instance counts (no traffic router), as a plain
    /// Kubernetes Service does.
    RouteByInstance,
    /// Stop the rollout and return to the previous version. Strategies emit
    /// this; the [`Supervisor`] carries it out.
    Abort(Abort),
    /// Wake the controller at this time.
    WakeAt(SimTime),
    /// Something worth recording.
    Report(Report),
}

/// A request to stop the rollout and recover.
#[derive(Clone, Debug, PartialEq)]
pub struct Abort {
    /// How to return to the previous version.
    pub recovery: RecoveryKind,
    /// `RolledBack` for a fired trigger, `Failed` for a rollout that could
    /// not proceed.
    pub outcome: Outcome,
    /// Stable's error rate must be under this (percent) for recovery.
    pub error_threshold_pct: f64,
    /// The window over which that error rate is judged.
    pub window: SimDuration,
}

/// Why a rollback was started.
#[derive(Clone, Debug, PartialEq)]
pub enum RollbackCause {
    /// A success-criteria check failed.
    Criteria(Vec<CriterionFailure>),
    /// A blue-green validation check failed.
    Validation(Vec<CriterionFailure>),
    /// A blue-green stage found green unhealthy.
    GreenUnhealthy {
        /// Green instances in service.
        routable: u32,
        /// Green instances wanted.
        wanted: u32,
    },
    /// A rolling update's failed share reached the limit.
    FailureRatio {
        /// Instances counted as failed.
        failed: u32,
        /// Fleet size.
        total: u32,
    },
    /// An Argo-style analysis metric failed: more failed measurements than
    /// its failure limit, or more consecutive errors than its error limit.
    Analysis {
        /// The metric's name.
        metric: String,
        /// Failed measurements so far.
        failed: u32,
        /// Consecutive errors (no data) at the end.
        consecutive_errors: u32,
    },
    /// A rollback trigger of `[rollback]` fired.
    Trigger {
        /// `error_rate`, `latency`, `availability`, `custom_metric:<metric>` or `manual`.
        name: String,
        /// The value seen (percent, ms, or the metric's unit).
        observed: f64,
        /// The threshold.
        threshold: f64,
    },
}

impl RollbackCause {
    /// Short name for the `trigger` column.
    pub fn name(&self) -> String {
        let names = |f: &[CriterionFailure]| f.iter().map(|x| x.criterion.as_str()).collect::<Vec<_>>().join("+");
        match self {
            RollbackCause::Criteria(f) => names(f),
            RollbackCause::Validation(f) => format!("validation:{}", names(f)),
            RollbackCause::GreenUnhealthy { .. } => "green_unhealthy".into(),
            RollbackCause::FailureRatio { .. } => "failure_ratio".into(),
            RollbackCause::Analysis { metric, .. } => format!("analysis:{metric}"),
            RollbackCause::Trigger { name, .. } if name == "manual" => "manual".into(),
            RollbackCause::Trigger { name, .. } => format!("trigger:{name}"),
        }
    }
}

/// Controller happenings that the recorder keeps (not world changes).
#[derive(Clone, Debug, PartialEq)]
pub enum Report {
    /// A success-criteria check ran.
    Check {
        /// 1-based check number.
        number: u32,
        /// The window judged.
        window: SimDuration,
        /// Requests in the window.
        requests: u64,
        /// Errors in the window.
        errors: u64,
        /// p99 in the window, seconds.
        p99_s: Option<f64>,
        /// With gaming criteria: their window and the new version's game
        /// counts in it.
        games: Option<(SimDuration, crate::model::games::GameCounters)>,
        /// The verdict.
        verdict: Verdict,
    },
    /// An Argo-style analysis took a measurement.
    Measurement {
        /// The metric's name.
        metric: String,
        /// How it was judged.
        measurement: crate::analysis::argo::Measurement,
        /// The query's result, when it had data.
        result: Option<f64>,
    },
    /// An Argo-style analysis came out inconclusive: the rollout pauses
    /// until a manual promotion.
    AnalysisInconclusive {
        /// The metric over its inconclusive limit.
        metric: String,
    },
    /// A rollback trigger fired.
    RollbackTriggered {
        /// Why.
        cause: RollbackCause,
    },
    /// No check could judge the new version for `progress_deadline`: the
    /// rollout fails, as a stalled rollout does.
    NoConclusiveCheck {
        /// Since when the rollout has been held.
        since: SimTime,
    },
    /// New instances were not ready in time.
    DeadlineExceeded {
        /// Instances wanted.
        wanted: u32,
        /// Instances ready.
        ready: u32,
    },
    /// After a rollback: all traffic on stable and stable within criteria.
    Recovered,
    /// A blue-green validation or switch stage passed.
    StagePassed {
        /// What passed, e.g. `validation` or `stage 50%`.
        what: String,
    },
    /// A rolling batch finished.
    BatchDone {
        /// 1-based batch number.
        number: u32,
        /// Instances of the batch that were not ready by the deadline.
        failed: u32,
    },
    /// An operator promotion was applied.
    Promoted,
    /// The rollout waits for a manual promotion.
    AwaitingPromotion,
    /// The recovery asked for could not be used and another was.
    RecoveryFallback {
        /// Asked for.
        wanted: RecoveryKind,
        /// Used instead.
        used: RecoveryKind,
    },
    /// Recovery began with this kind.
    RecoveryStarted {
        /// The kind.
        kind: RecoveryKind,
    },
    /// The chapter's rollback verification concluded.
    RollbackVerified {
        /// Whether the service met the bar within the window.
        verified: bool,
    },
}

/// A deployment strategy as a state machine.
pub trait Controller {
    /// Strategy name for outputs.
    fn name(&self) -> &'static str;
    /// When the rollout begins.
    fn start_at(&self) -> SimTime;
    /// Called once at `start_at`.
    fn start(&mut self, obs: &Observation) -> Vec<Command>;
    /// Called at every requested wake and whenever the fleet changes.
    fn observe(&mut self, obs: &Observation) -> Vec<Command>;
    /// Current phase.
    fn phase(&self) -> Phase;
    /// How it ended, once the phase is final.
    fn outcome(&self) -> Option<Outcome>;
    /// Nothing is left to do or watch (post-deploy monitoring and rollback
    /// verification included); the run can end after its cooldown.
    fn finished(&self) -> bool {
        self.phase().is_terminal()
    }
}
