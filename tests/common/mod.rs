//! Helpers shared by the integration tests.
#![allow(dead_code)]

use deploysim::scenario::{self, Scenario};
use std::path::{Path, PathBuf};

/// Path of a shipped scenario.
pub fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

/// Loads a shipped scenario.
pub fn load(name: &str) -> Scenario {
    scenario::load(&scenario_path(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

/// Parses scenario text written by a test.
pub fn parse(text: &str) -> Scenario {
    scenario::parse(Path::new("inline.toml"), text, "inline").unwrap_or_else(|e| panic!("{e:?}"))
}

/// A fresh empty folder under the system temp folder.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("deploysim-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// P(X = k) for X ~ Poisson(mu), in log space for large k.
pub fn poisson_pmf(k: u64, mu: f64) -> f64 {
    (k as f64 * mu.ln() - mu - ln_factorial(k)).exp()
}

/// P(X = k) for X ~ Binomial(n, p).
pub fn binomial_pmf(k: u64, n: u64, p: f64) -> f64 {
    if k > n {
        return 0.0;
    }
    let ln =
        ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k) + k as f64 * p.ln() + (n - k) as f64 * (1.0 - p).ln();
    ln.exp()
}

/// ln(n!) by summation (exact enough for n up to a few thousand).
pub fn ln_factorial(n: u64) -> f64 {
    (2..=n).map(|i| (i as f64).ln()).sum()
}
