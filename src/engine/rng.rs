//! Seeded random streams, one per subsystem.
//!
//! Every trial has its own ChaCha8 key (from the seed) and every subsystem
//! draws from its own ChaCha stream under that key. Two strategies run with the
//! same seed therefore see the same arrivals, the same request outcomes and
//! the same boot times (common random numbers), and an extra draw in one
//! subsystem never shifts the numbers another subsystem sees.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The parts of the model that draw random numbers, each from its own stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subsystem {
    /// Request arrival times (or counts per tick in aggregate mode).
    Arrivals = 1,
    /// Choice of version and instance for each request.
    Routing = 2,
    /// Request latencies (and latency bucket counts in aggregate mode).
    Latency = 3,
    /// Whether a request fails (and error counts in aggregate mode).
    Errors = 4,
    /// Provisioning, boot and stop times of instances.
    Provisioning = 5,
    /// Health probe outcomes and probe phases.
    Health = 6,
    /// Injected faults.
    Faults = 7,
    /// Which session a request belongs to, and session lengths.
    Sessions = 8,
    /// Latency bucket counts in aggregate mode, apart from the latency
    /// stream so histogram draws never shift timeouts or SLO counts.
    Buckets = 9,
    /// Games: arrivals, players, phase lengths and game operations.
    Games = 10,
    /// Where the gaming-aware path moves or restores games: apart from the
    /// game stream, so plain and gaming-aware runs of one seed see the same
    /// games arrive and the same operations fail.
    GameMoves = 11,
}

/// The random streams of one trial.
pub struct Streams {
    /// Arrival stream.
    pub arrivals: ChaCha8Rng,
    /// Routing stream.
    pub routing: ChaCha8Rng,
    /// Latency stream.
    pub latency: ChaCha8Rng,
    /// Error stream.
    pub errors: ChaCha8Rng,
    /// Provisioning stream.
    pub provisioning: ChaCha8Rng,
    /// Health-check stream.
    pub health: ChaCha8Rng,
    /// Fault stream.
    pub faults: ChaCha8Rng,
    /// Session stream.
    pub sessions: ChaCha8Rng,
    /// Aggregate-mode latency bucket stream.
    pub buckets: ChaCha8Rng,
    /// Game stream.
    pub games: ChaCha8Rng,
    /// Game moves stream.
    pub game_moves: ChaCha8Rng,
}

impl Streams {
    /// The streams of trial `trial` under `seed`. A plain `run` is trial 0.
    pub fn new(seed: u64, trial: u64) -> Self {
        Streams {
            arrivals: stream(seed, trial, Subsystem::Arrivals),
            routing: stream(seed, trial, Subsystem::Routing),
            latency: stream(seed, trial, Subsystem::Latency),
            errors: stream(seed, trial, Subsystem::Errors),
            provisioning: stream(seed, trial, Subsystem::Provisioning),
            health: stream(seed, trial, Subsystem::Health),
            faults: stream(seed, trial, Subsystem::Faults),
            sessions: stream(seed, trial, Subsystem::Sessions),
            buckets: stream(seed, trial, Subsystem::Buckets),
            games: stream(seed, trial, Subsystem::Games),
            game_moves: stream(seed, trial, Subsystem::GameMoves),
        }
    }
}

/// One subsystem's generator: key from the seed, stream id from the trial
/// index and the subsystem (the trial in the high bits, so up to 2^56 trials).
pub fn stream(seed: u64, trial: u64, subsystem: Subsystem) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((trial << 8) | subsystem as u64);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn first(mut rng: ChaCha8Rng) -> u64 {
        rng.random()
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = first(stream(7, 0, Subsystem::Arrivals));
        assert_eq!(a, first(stream(7, 0, Subsystem::Arrivals)));
        assert_ne!(a, first(stream(7, 0, Subsystem::Routing)));
        assert_ne!(a, first(stream(7, 1, Subsystem::Arrivals)));
        assert_ne!(a, first(stream(8, 0, Subsystem::Arrivals)));
    }

    #[test]
    fn draws_in_one_stream_do_not_shift_another() {
        let mut s1 = Streams::new(3, 0);
        let mut s2 = Streams::new(3, 0);
        for _ in 0..100 {
            let _: u64 = s1.latency.random();
        }
        let a: u64 = s1.errors.random();
        let b: u64 = s2.errors.random();
        assert_eq!(a, b);
    }
}
