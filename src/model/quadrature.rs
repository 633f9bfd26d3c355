//! Adaptive numerical integration, for the one integral of the model that
//! has no closed form: a log-normal service time convolved with the
//! truncated-exponential wait of an M/M/c+D queue (see `queueing`).
//!
//! Gauss–Kronrod 7/15: on each panel the 15-point Kronrod rule gives the
//! value and its difference from the embedded 7-point Gauss rule the error
//! estimate (a large overestimate for smooth integrands: the Kronrod rule is
//! exact for polynomials of degree 22, the Gauss rule only to degree 13).
//! The panel with the largest estimate is halved until the estimates sum to
//! the tolerance, or a panel budget bounds the work.

/// Kronrod nodes on [-1, 1] (positive half; the rule is symmetric). Odd
/// indices are also the Gauss nodes, the last is 0.
const NODES: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];

/// Kronrod weights for `NODES`.
const KRONROD: [f64; 8] = [
    0.022_935_322_010_529_225,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_18,
    0.140_653_259_715_525_92,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_83,
];

/// Gauss weights for `NODES[1]`, `NODES[3]`, `NODES[5]`, `NODES[7]`.
const GAUSS: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

/// Most panels one integral may use: bounds the work (15 evaluations a
/// panel) whatever the integrand.
pub const MAX_PANELS: usize = 200;

/// One panel: bounds, Kronrod value, error estimate.
#[derive(Clone, Copy)]
struct Panel {
    a: f64,
    b: f64,
    value: f64,
    error: f64,
}

fn panel(f: &impl Fn(f64) -> f64, a: f64, b: f64) -> Panel {
    let half = 0.5 * (b - a);
    let mid = 0.5 * (a + b);
    let centre = f(mid);
    let mut kronrod = KRONROD[7] * centre;
    let mut gauss = GAUSS[3] * centre;
    for (k, (&x, &w)) in NODES[..7].iter().zip(&KRONROD[..7]).enumerate() {
        let pair = f(mid - half * x) + f(mid + half * x);
        kronrod += w * pair;
        if k % 2 == 1 {
            gauss += GAUSS[k / 2] * pair;
        }
    }
    Panel {
        a,
        b,
        value: kronrod * half,
        error: ((kronrod - gauss) * half).abs(),
    }
}

/// The integral of `f` from the first to the last of `points` (ascending;
/// the integrand's features should lie at or between them, so that no
/// panel's 15 nodes can all miss one) and its error estimate. Halves the
/// worst panel until the estimates sum to at most `tolerance` or
/// [`MAX_PANELS`] are in use (then the estimate returned says so).
pub fn integrate(f: impl Fn(f64) -> f64, points: &[f64], tolerance: f64) -> (f64, f64) {
    let mut panels: Vec<Panel> = points
        .windows(2)
        .filter(|w| w[1] > w[0])
        .map(|w| panel(&f, w[0], w[1]))
        .collect();
    loop {
        let error: f64 = panels.iter().map(|p| p.error).sum();
        let value = || panels.iter().map(|p| p.value).sum();
        if error <= tolerance || panels.len() >= MAX_PANELS {
            return (value(), error);
        }
        let worst = (0..panels.len())
            .max_by(|&i, &j| panels[i].error.total_cmp(&panels[j].error))
            .expect("a panel with an error above the tolerance");
        let Panel { a, b, .. } = panels[worst];
        let mid = 0.5 * (a + b);
        if mid <= a || mid >= b {
            // The panel is as narrow as floats allow: nothing left to refine.
            return (value(), error);
        }
        panels[worst] = panel(&f, a, mid);
        panels.push(panel(&f, mid, b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_have_their_degrees_of_exactness() {
        // Kronrod 15 integrates x^k exactly for k <= 22, Gauss 7 for
        // k <= 13: over [0, 1] the integral is 1 / (k + 1). A wrong digit in
        // a node or weight breaks this far above rounding (1e-15).
        for k in 0..=22 {
            let p = panel(&|x: f64| x.powi(k), 0.0, 1.0);
            let exact = 1.0 / f64::from(k + 1);
            assert!((p.value - exact).abs() < 1e-15, "k = {k}: {}", p.value);
            if k <= 13 {
                assert!(p.error < 1e-15, "k = {k}: Gauss error {}", p.error);
            }
        }
        assert!((KRONROD.iter().sum::<f64>() * 2.0 - KRONROD[7] - 2.0).abs() < 1e-15);
        assert!((GAUSS.iter().sum::<f64>() * 2.0 - GAUSS[3] - 2.0).abs() < 1e-15);
    }

    #[test]
    fn adaptive_integration_reaches_its_tolerance_on_a_steep_step() {
        // A logistic step of width 1e-6 at 0.3: integral over [0, 1] is
        // 0.7 + w ln((1 + e^(-0.3/w)) / (1 + e^(-0.7/w))) = 0.7 to 1e-300.
        let w = 1e-6;
        let (v, e) = integrate(|x| 1.0 / (1.0 + (-(x - 0.3) / w).exp()), &[0.0, 1.0], 1e-12);
        assert!(e <= 1e-12, "estimate {e}");
        assert!((v - 0.7).abs() < 1e-12, "{v}");
        // The panel budget bounds the work even when no tolerance is met.
        let calls = std::cell::Cell::new(0usize);
        let (_, e) = integrate(
            |x: f64| {
                calls.set(calls.get() + 1);
                (1e4 * x).sin()
            },
            &[0.0, 1.0],
            0.0,
        );
        assert!(calls.get() <= 15 * (2 * MAX_PANELS), "{} calls", calls.get());
        assert!(e > 0.0, "the estimate must say the tolerance was not met");
    }
}
