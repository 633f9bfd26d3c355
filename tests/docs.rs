//! The README stays true: every scenario field and every output column it
//! should describe is there.

mod common;

use deploysim::model::InstanceStatus;
use deploysim::report::csv_out::{timeline_columns, EVENT_COLUMNS, SUMMARY_COLUMNS};
use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The keys of a TOML text: `key` for `key = value` (also inside inline
/// tables) and `[table]` for headers.
fn keys_of(text: &str) -> Vec<String> {
    let mut keys = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        if let Some(table) = line.strip_prefix("[[") {
            keys.push(format!("[[{table}"));
            continue;
        }
        if let Some(table) = line.strip_prefix('[') {
            keys.push(format!("[{table}"));
            continue;
        }
        // Every `name =` on the line, inline tables included.
        for part in line.split(['{', ',']) {
            if let Some((key, _)) = part.split_once('=') {
                let key = key.trim();
                if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    keys.push(format!("`{key}`"));
                }
            }
        }
    }
    keys
}

#[test]
fn every_scenario_field_is_documented() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let readme = readme();
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.file_name().unwrap().to_str().unwrap().starts_with("all-fields")
            || path.extension().is_some_and(|e| e != "toml")
        {
            continue;
        }
        files += 1;
        deploysim::scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        let text = std::fs::read_to_string(&path).unwrap();
        for key in keys_of(&text) {
            assert!(
                readme.contains(&key),
                "README.md does not document {key} ({})",
                path.display()
            );
        }
    }
    assert_eq!(files, 8);
}

#[test]
fn every_output_column_is_documented() {
    let readme = readme();
    for col in SUMMARY_COLUMNS.iter().chain(EVENT_COLUMNS.iter()) {
        assert!(readme.contains(&format!("| `{col}` |")), "summary/events column {col}");
    }
    for col in deploysim::experiment::tally::CELL_COLUMNS {
        assert!(readme.contains(&format!("`{col}`")), "sweep summary column {col}");
    }
    // Status columns are documented as a family: `stable_provisioning` ...
    // with the list of statuses.
    let statuses: Vec<&str> = InstanceStatus::ALL.iter().map(|s| s.as_str()).collect();
    assert!(readme.contains(&format!("({})", statuses.join(", "))), "status list");
    for col in timeline_columns() {
        let is_status = statuses
            .iter()
            .any(|s| col == format!("stable_{s}") || col == format!("new_{s}"));
        assert!(
            is_status || readme.contains(&format!("`{col}`")),
            "timeline column {col}"
        );
    }
}

#[test]
fn the_readme_commands_are_the_ones_that_work() {
    let readme = readme();
    assert!(readme.contains("cargo run --release -- run scenarios/reference-canary.toml --trace"));
    assert!(readme.contains("\ncargo test\n"));
    assert!(common::scenario_path("reference-canary.toml").exists());
}

#[test]
fn the_gaming_walkthrough_shows_what_the_run_prints() {
    use deploysim::report::narrate::{summary_text, Narrator};
    let readme = readme();
    let section = &readme[readme.find("## Gaming-aware rollouts (BitCraps)").expect("the section")..];
    assert!(section.contains("cargo run --release -- run scenarios/bitcraps/gaming-canary-bad.toml --trace"));
    let s = common::load("bitcraps/gaming-canary-bad.toml");
    let r = deploysim::sim::run(&s, s.seed, deploysim::sim::RunOptions::default()).unwrap();
    let narrator = Narrator::new(&s, &r.summary);
    let mut printed: Vec<String> = r.events.iter().filter_map(|(t, e)| narrator.line(*t, e)).collect();
    printed.extend(summary_text(&r.summary).lines().map(str::to_string));
    // The first two text blocks of the section: the trace and the summary's
    // game lines, each line as the program prints it ("..." marks a cut).
    let blocks: Vec<&str> = section.split("```text\n").skip(1).take(2).collect();
    assert_eq!(blocks.len(), 2);
    let mut checked = 0;
    for block in blocks {
        for line in block.split("```").next().unwrap().lines().filter(|l| *l != "...") {
            assert!(printed.iter().any(|p| p == line), "README line not printed: {line}");
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked}");
}
