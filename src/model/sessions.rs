//! User sessions: who a request belongs to, so affinity can keep a user on
//! one version and harm can be counted in users as well as requests.
//!
//! Sessions start as a thinning of the request stream: a request opens a new
//! session with probability 1 / `mean_requests` (so sessions arrive as a
//! Poisson process at rate / mean_requests), otherwise it belongs to an
//! active session chosen uniformly. A session lasts an exponential time with
//! mean `mean_duration`.

use super::instance::Version;
use crate::engine::{SimDuration, SimTime};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp};
use std::collections::BTreeSet;

/// How sessions behave.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionSpec {
    /// Mean requests per session.
    pub mean_requests: f64,
    /// Mean session length.
    pub mean_duration: SimDuration,
    /// Keep a session on the version its first request went to.
    pub affinity: bool,
}

#[derive(Clone, Debug)]
struct Session {
    id: u64,
    ends: SimTime,
    version: Option<Version>,
}

/// The active sessions and the users harmed so far.
#[derive(Clone, Debug)]
pub struct Sessions {
    spec: SessionSpec,
    length: Option<Exp<f64>>,
    active: Vec<Session>,
    next_id: u64,
    hurt_by_new: BTreeSet<u64>,
}

/// The session a request belongs to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Assigned {
    /// Its id.
    pub id: u64,
    /// The version it is pinned to, with affinity.
    pub pinned: Option<Version>,
    index: usize,
}

impl Sessions {
    /// No sessions yet.
    pub fn new(spec: SessionSpec) -> Self {
        let mean_s = spec.mean_duration.as_secs_f64();
        Sessions {
            length: (mean_s > 0.0).then(|| Exp::new(1.0 / mean_s).expect("positive rate")),
            spec,
            active: Vec::new(),
            next_id: 0,
            hurt_by_new: BTreeSet::new(),
        }
    }

    /// Whether sessions stay on their first version.
    pub fn affinity(&self) -> bool {
        self.spec.affinity
    }

    /// The session of a request arriving at `now`. Draws three numbers,
    /// and one more each time the pick lands on a session that has ended
    /// but is not yet purged: that one is dropped and the pick is redrawn,
    /// so the session chosen is uniform over the live ones (reusing the
    /// number would land on the session moved into the freed place, the
    /// newest, and lean requests towards young sessions). Each ended
    /// session is dropped once, so this costs O(1) per request on average.
    /// The draws depend only on arrivals and this stream, so the stream
    /// stays aligned across strategies.
    pub fn assign<R: Rng + ?Sized>(&mut self, now: SimTime, rng: &mut R) -> Assigned {
        let u_new: f64 = rng.random();
        let mut u_pick: f64 = rng.random();
        let length = self.length.map_or(0.0, |e| e.sample(rng));
        let opens = u_new * self.spec.mean_requests < 1.0;
        if !opens {
            while !self.active.is_empty() {
                let index = ((u_pick * self.active.len() as f64) as usize).min(self.active.len() - 1);
                let s = &self.active[index];
                if s.ends > now {
                    return Assigned {
                        id: s.id,
                        pinned: s.version,
                        index,
                    };
                }
                self.active.swap_remove(index);
                u_pick = rng.random();
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.active.push(Session {
            id,
            ends: now + SimDuration::from_secs_f64(length).max(SimDuration(1)),
            version: None,
        });
        Assigned {
            id,
            pinned: None,
            index: self.active.len() - 1,
        }
    }

    /// Pins a session to `version` (with affinity).
    pub fn pin(&mut self, a: &Assigned, version: Version) {
        if self.spec.affinity {
            self.active[a.index].version = Some(version);
        }
    }

    /// Drops sessions that have ended (kept in order: deterministic).
    pub fn purge(&mut self, now: SimTime) {
        self.active.retain(|s| s.ends > now);
    }

    /// Records that session `id` saw a failure from the new version.
    pub fn hurt_by_new(&mut self, id: u64) {
        self.hurt_by_new.insert(id);
    }

    /// Distinct sessions that saw at least one failure from the new version.
    pub fn hurt_count(&self) -> u64 {
        self.hurt_by_new.len() as u64
    }

    /// Sessions opened so far.
    pub fn opened(&self) -> u64 {
        self.next_id
    }

    /// Sessions active now (including ended ones not yet purged).
    pub fn active(&self) -> usize {
        self.active.len()
    }
}

/// Rendezvous hashing: the candidate with the highest hash of (session,
/// instance). A session keeps its instance while that instance stays, and
/// only the sessions of a removed instance move.
pub fn rendezvous(session: u64, candidates: impl Iterator<Item = u64>) -> Option<u64> {
    candidates.max_by_key(|&inst| (mix(session ^ mix(inst.wrapping_add(0x9E37_79B9_7F4A_7C15))), inst))
}

/// A session's fixed position in [0, 1), for choosing user segments.
pub fn unit_hash(session: u64) -> f64 {
    (mix(session.wrapping_add(0x2545_F491_4F6C_DD1D)) >> 11) as f64 / (1u64 << 53) as f64
}

/// SplitMix64's finaliser: a fixed, well-spread 64-bit mix.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{stream, Subsystem};

    #[test]
    fn sessions_open_at_the_thinned_rate() {
        // 100,000 requests, one new session per 20 on average: 5,000 opened
        // (binomial sd 69; 5 sd = 345).
        let mut s = Sessions::new(SessionSpec {
            mean_requests: 20.0,
            mean_duration: SimDuration::from_secs(3600),
            affinity: true,
        });
        let mut rng = stream(1, 0, Subsystem::Sessions);
        for i in 0..100_000u64 {
            s.assign(SimTime(i * 1000), &mut rng);
        }
        assert!((s.opened() as f64 - 5000.0).abs() < 345.0, "{}", s.opened());
    }

    #[test]
    fn ended_sessions_are_not_chosen() {
        let mut s = Sessions::new(SessionSpec {
            mean_requests: 1e9,
            mean_duration: SimDuration::from_secs(1),
            affinity: true,
        });
        let mut rng = stream(2, 0, Subsystem::Sessions);
        let first = s.assign(SimTime::ZERO, &mut rng);
        let later = s.assign(SimTime::from_secs(3600), &mut rng);
        assert_ne!(first.id, later.id, "the first session ended long before");
        s.pin(&later, Version::New);
        let again = s.assign(SimTime::from_secs(3600) + SimDuration(1), &mut rng);
        assert_eq!((again.id, again.pinned), (later.id, Some(Version::New)));
    }

    #[test]
    fn the_pick_is_uniform_over_live_sessions_when_ended_ones_are_not_purged() {
        // Four live sessions among four ended ones not yet purged, the newest
        // live one last. Reusing the pick after dropping an ended session
        // lands on the one moved into its place, the newest (which got 38%
        // of the picks that way, the oldest 14%). Each live one should get
        // 1/4: over 20,000 picks, 5,000 with sd sqrt(20000 x 1/4 x 3/4) = 61;
        // 5 sd = 306.
        let now = SimTime::from_secs(10);
        let live = [0u64, 2, 5, 7];
        let mut rng = stream(3, 0, Subsystem::Sessions);
        let mut picked = [0u32; 8];
        for _ in 0..20_000 {
            let mut s = Sessions::new(SessionSpec {
                mean_requests: f64::INFINITY,
                mean_duration: SimDuration::from_secs(60),
                affinity: false,
            });
            s.active = (0..8u64)
                .map(|id| Session {
                    id,
                    ends: if live.contains(&id) { now + SimDuration(1) } else { now },
                    version: None,
                })
                .collect();
            picked[s.assign(now, &mut rng).id as usize] += 1;
        }
        for (id, &n) in picked.iter().enumerate() {
            let want = if live.contains(&(id as u64)) { 5000.0 } else { 0.0 };
            assert!((f64::from(n) - want).abs() < 306.0, "{picked:?}");
        }
    }

    #[test]
    fn rendezvous_moves_only_the_sessions_of_a_removed_instance() {
        let before: Vec<u64> = (0..1000).map(|s| rendezvous(s, 0..5).unwrap()).collect();
        let after: Vec<u64> = (0..1000)
            .map(|s| rendezvous(s, [0, 1, 3, 4].into_iter()).unwrap())
            .collect();
        for (b, a) in before.iter().zip(&after) {
            if *b != 2 {
                assert_eq!(a, b);
            }
        }
        let on_two = before.iter().filter(|&&i| i == 2).count();
        assert!((120..280).contains(&on_two), "about a fifth: {on_two}");
    }
}
