//! Every scenario in tests/regressions/ once broke something (found by
//! proptest, the swarm or a review). Each runs with its own `seed`, every
//! invariant checked, and must give the same bytes twice; a file marked
//! `# expect: rejected` was fixed by validation and must stay an input
//! error, located (line, column, field), and at the field named after
//! `at` when the mark names one (`# expect: rejected at strategy.preset`).

use deploysim::report::csv_out::{events_csv, summary_csv};
use deploysim::sim::{run, RunOptions};

#[test]
fn every_regression_scenario_runs_clean_and_replays_exactly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the shipped regressions are there");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        if let Some(mark) = text.lines().find_map(|l| l.trim().strip_prefix("# expect: rejected")) {
            let Err(errors) = deploysim::scenario::load(&path) else {
                panic!("{} must be rejected", path.display())
            };
            // The count of errors not shown closes a long list.
            for e in errors
                .iter()
                .filter(|e| !e.field.problem.ends_with("more errors not shown"))
            {
                assert!(
                    e.line.is_some() && e.column.is_some() && !e.field.path.is_empty(),
                    "{}: not located: {e}",
                    path.display()
                );
            }
            if let Some(field) = mark.trim().strip_prefix("at ") {
                assert!(
                    errors.iter().any(|e| e.field.path == field),
                    "{}: no error at {field}: {errors:?}",
                    path.display()
                );
            }
            continue;
        }
        let scenario = deploysim::scenario::load(&path).unwrap_or_else(|e| panic!("{}: {}", path.display(), e[0]));
        let opts = RunOptions {
            check_invariants: true,
            ..RunOptions::default()
        };
        let a = run(&scenario, scenario.seed, opts).unwrap_or_else(|v| panic!("{}: {v}", path.display()));
        let b = run(&scenario, scenario.seed, opts).unwrap();
        assert_eq!(summary_csv(&a.summary), summary_csv(&b.summary), "{}", path.display());
        assert_eq!(events_csv(&a.events), events_csv(&b.events), "{}", path.display());
    }
}
