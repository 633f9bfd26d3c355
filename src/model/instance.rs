//! Instances: version, lifecycle status and health status.

use crate::engine::SimTime;

/// The two versions a rollout deals with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// The version serving before the rollout.
    Stable = 0,
    /// The version being rolled out.
    New = 1,
}

impl Version {
    /// Both versions, stable first (the order of every per-version output).
    pub const ALL: [Version; 2] = [Version::Stable, Version::New];

    /// Index into per-version arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// `stable` or `new`, as used in column names.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Stable => "stable",
            Version::New => "new",
        }
    }
}

/// Where an instance is in its life, as in the chapter (plus Provisioning,
/// the time before the machine exists).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceStatus {
    /// Machine being created.
    Provisioning,
    /// Software being installed and started.
    Deploying,
    /// Process running; serves traffic once healthy.
    Running,
    /// Draining and shutting down.
    Stopping,
    /// Gone.
    Stopped,
    /// Failed to start; replaced by the fleet.
    Failed,
}

impl InstanceStatus {
    /// Every status, in lifecycle order (the order of timeline columns).
    pub const ALL: [InstanceStatus; 6] = [
        InstanceStatus::Provisioning,
        InstanceStatus::Deploying,
        InstanceStatus::Running,
        InstanceStatus::Stopping,
        InstanceStatus::Stopped,
        InstanceStatus::Failed,
    ];

    /// Lower-case name for CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Provisioning => "provisioning",
            InstanceStatus::Deploying => "deploying",
            InstanceStatus::Running => "running",
            InstanceStatus::Stopping => "stopping",
            InstanceStatus::Stopped => "stopped",
            InstanceStatus::Failed => "failed",
        }
    }

    /// Stopped and Failed instances are done: they never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, InstanceStatus::Stopped | InstanceStatus::Failed)
    }

    /// Provisioning, Deploying and Running instances: the ones a fleet
    /// counts against its desired size (neither stopping nor done).
    pub fn counts_toward_desired(self) -> bool {
        matches!(
            self,
            InstanceStatus::Provisioning | InstanceStatus::Deploying | InstanceStatus::Running
        )
    }
}

/// What the health checks last concluded, as in the chapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HealthStatus {
    /// Not yet enough probes to say.
    Unknown,
    /// Passed `healthy_threshold` probes in a row.
    Healthy,
    /// Failed `unhealthy_threshold` probes in a row.
    Unhealthy,
    /// Healthy, but its latest probes failed (fewer than the unhealthy
    /// threshold). Still in service, as with Kubernetes readiness and cloud
    /// load balancers, which act only at the threshold.
    Degraded,
}

impl HealthStatus {
    /// Lower-case name for CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Unknown => "unknown",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
            HealthStatus::Degraded => "degraded",
        }
    }

    /// Whether the load balancer keeps sending traffic.
    pub fn in_service(self) -> bool {
        matches!(self, HealthStatus::Healthy | HealthStatus::Degraded)
    }
}

/// An instance: `.0` is its slot in the world's per-instance tables (reused
/// once the instance is gone and freed, so memory follows the live fleet),
/// `.1` its creation number (never reused within a run). Ids order by
/// creation number, so "newest" and routing-table order do not depend on
/// slots; a stale id (its slot since reused) differs from the slot's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId(pub u32, pub u64);

impl Ord for InstanceId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.1.cmp(&other.1)
    }
}

impl PartialOrd for InstanceId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One instance of a version.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Its id.
    pub id: InstanceId,
    /// Which version it runs.
    pub version: Version,
    /// 1-based number among instances of its version, for names.
    pub ordinal: u32,
    /// Lifecycle status.
    pub status: InstanceStatus,
    /// Health status.
    pub health: HealthStatus,
    /// Consecutive successful probes.
    pub probe_successes: u32,
    /// Consecutive failed probes.
    pub probe_failures: u32,
    /// When the instance started running (for uptime).
    pub running_since: Option<SimTime>,
}

impl Instance {
    /// Whether the load balancer may route to it: Running and in service.
    pub fn is_routable(&self) -> bool {
        self.status == InstanceStatus::Running && self.health.in_service()
    }

    /// A readable name such as `new-3`.
    pub fn name(&self) -> String {
        format!("{}-{}", self.version.as_str(), self.ordinal)
    }
}
