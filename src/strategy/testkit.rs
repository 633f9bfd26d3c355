//! Test support for controllers: scripted metric windows and fleets, and
//! filters over the commands a controller returns.

use super::{Abort, Command, MetricsView, Observation, Report, VersionFleet};
use crate::engine::{SimDuration, SimTime};
use crate::model::metrics::Gauges;
use crate::model::{InstanceStatus, Version, WindowStats};

/// Metric windows set by the test, per version.
pub struct Script {
    pub windows: [WindowStats; 2],
}

impl MetricsView for Script {
    fn window(&self, version: Version, _end: SimTime, _window: SimDuration) -> WindowStats {
        self.windows[version.index()].clone()
    }
    fn window_service(&self, _end: SimTime, _window: SimDuration) -> WindowStats {
        let (a, b) = (&self.windows[0], &self.windows[1]);
        window(a.requests + b.requests, a.errors + b.errors)
    }
    fn gauges(&self, _version: Version, _t: SimTime) -> Gauges {
        Gauges::default()
    }
    fn bounds_s(&self) -> &[f64] {
        &[0.1, 1.0]
    }
}

pub fn window(requests: u64, errors: u64) -> WindowStats {
    WindowStats {
        requests,
        errors,
        buckets: vec![],
        p99_s: Some(0.1),
        games: Default::default(),
    }
}

pub fn healthy() -> Script {
    Script {
        windows: [window(2000, 2), window(300, 0)],
    }
}

/// A fleet with `stable_running` and `new_ready` routable instances, plus
/// `stopping` new instances.
pub fn fleet(stable_running: u32, new_ready: u32, new_stopping: u32) -> [VersionFleet; 2] {
    let mut f = [VersionFleet::default(); 2];
    f[0].by_status[InstanceStatus::Running as usize] = stable_running;
    f[0].routable = stable_running;
    f[1].by_status[InstanceStatus::Running as usize] = new_ready;
    f[1].by_status[InstanceStatus::Stopping as usize] = new_stopping;
    f[1].routable = new_ready;
    f
}

pub fn obs<'a>(t: u64, f: [VersionFleet; 2], m: &'a Script) -> Observation<'a> {
    Observation {
        now: SimTime::from_secs(t),
        weight_pct: 0.0,
        fleet: f,
        metrics: m,
    }
}

pub fn weights(cmds: &[Command]) -> Vec<f64> {
    cmds.iter()
        .filter_map(|c| if let Command::SetWeight(w) = c { Some(*w) } else { None })
        .collect()
}

pub fn scales(cmds: &[Command]) -> Vec<(Version, u32)> {
    cmds.iter()
        .filter_map(|c| {
            if let Command::Scale { version, replicas } = c {
                Some((*version, *replicas))
            } else {
                None
            }
        })
        .collect()
}

pub fn reports(cmds: &[Command]) -> Vec<Report> {
    cmds.iter()
        .filter_map(|c| {
            if let Command::Report(r) = c {
                Some(r.clone())
            } else {
                None
            }
        })
        .collect()
}

pub fn aborts(cmds: &[Command]) -> Vec<Abort> {
    cmds.iter()
        .filter_map(|c| {
            if let Command::Abort(a) = c {
                Some(a.clone())
            } else {
                None
            }
        })
        .collect()
}

/// A fleet where every Running instance is routable: stable running and
/// stopping, new provisioning, running and stopping.
pub fn mixed(
    stable_running: u32,
    stable_stopping: u32,
    new_provisioning: u32,
    new_running: u32,
    new_stopping: u32,
) -> [VersionFleet; 2] {
    let mut f = [VersionFleet::default(); 2];
    f[0].by_status[InstanceStatus::Running as usize] = stable_running;
    f[0].by_status[InstanceStatus::Stopping as usize] = stable_stopping;
    f[0].routable = stable_running;
    f[1].by_status[InstanceStatus::Provisioning as usize] = new_provisioning;
    f[1].by_status[InstanceStatus::Running as usize] = new_running;
    f[1].by_status[InstanceStatus::Stopping as usize] = new_stopping;
    f[1].routable = new_running;
    f
}

/// An observation with an explicit weight.
pub fn obs_w<'a>(t: u64, weight_pct: f64, f: [VersionFleet; 2], m: &'a Script) -> Observation<'a> {
    Observation {
        now: SimTime::from_secs(t),
        weight_pct,
        fleet: f,
        metrics: m,
    }
}
