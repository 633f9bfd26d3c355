//! Load-balancer policies: which routable instance takes a request.

/// How the balancer picks among routable instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BalancerPolicy {
    /// Uniformly at random.
    Random,
    /// In turn, through the routing table.
    RoundRobin,
    /// The instance with the fewest requests outstanding (queued or in
    /// service); ties go to the first after a random starting point.
    LeastOutstanding,
    /// Consistent (rendezvous) hashing on the session: a session keeps its
    /// instance while that instance serves. Needs `[sessions]`.
    ConsistentHash,
}

impl BalancerPolicy {
    /// The name used in scenario files.
    pub fn as_str(self) -> &'static str {
        match self {
            BalancerPolicy::Random => "random",
            BalancerPolicy::RoundRobin => "round_robin",
            BalancerPolicy::LeastOutstanding => "least_outstanding",
            BalancerPolicy::ConsistentHash => "consistent_hash",
        }
    }
}

/// A balancer: a policy and its round-robin cursors.
#[derive(Clone, Debug)]
pub struct Balancer {
    policy: BalancerPolicy,
    cursors: [u64; 3],
}

impl Balancer {
    /// A balancer with `policy`.
    pub fn new(policy: BalancerPolicy) -> Self {
        Balancer {
            policy,
            cursors: [0; 3],
        }
    }

    /// Picks an index in `0..n` (n > 0). `u` is a uniform draw in [0, 1)
    /// (always drawn by the caller, so streams stay aligned whatever the
    /// policy), `pool` names the round-robin cursor (stable, new, or all),
    /// and `outstanding(i)` is the load of candidate `i`.
    pub fn pick(&mut self, n: usize, u: f64, pool: usize, outstanding: impl Fn(usize) -> u32) -> usize {
        let start = ((u * n as f64) as usize).min(n - 1);
        match self.policy {
            // Consistent hashing is done by the world, which knows the
            // session; without one it is random.
            BalancerPolicy::Random | BalancerPolicy::ConsistentHash => start,
            BalancerPolicy::RoundRobin => {
                let c = &mut self.cursors[pool];
                let i = (*c % n as u64) as usize;
                *c = c.wrapping_add(1);
                i
            }
            BalancerPolicy::LeastOutstanding => {
                let mut best = start;
                let mut best_load = outstanding(start);
                for k in 1..n {
                    let i = (start + k) % n;
                    let load = outstanding(i);
                    if load < best_load {
                        best = i;
                        best_load = load;
                    }
                }
                best
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_cycles_per_pool() {
        let mut b = Balancer::new(BalancerPolicy::RoundRobin);
        let picks: Vec<usize> = (0..5).map(|_| b.pick(3, 0.9, 0, |_| 0)).collect();
        assert_eq!(picks, vec![0, 1, 2, 0, 1]);
        assert_eq!(b.pick(3, 0.9, 1, |_| 0), 0, "another pool has its own cursor");
    }

    #[test]
    fn least_outstanding_takes_the_idlest() {
        let mut b = Balancer::new(BalancerPolicy::LeastOutstanding);
        let load = [5, 2, 7, 2];
        assert_eq!(b.pick(4, 0.0, 0, |i| load[i]), 1);
        assert_eq!(b.pick(4, 0.5, 0, |i| load[i]), 3, "ties: first after the random start");
    }

    #[test]
    fn random_follows_the_draw() {
        let mut b = Balancer::new(BalancerPolicy::Random);
        assert_eq!(b.pick(4, 0.0, 0, |_| 0), 0);
        assert_eq!(b.pick(4, 0.999, 0, |_| 0), 3);
    }
}
