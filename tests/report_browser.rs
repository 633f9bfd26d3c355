//! The HTML report as a browser sees it: headless Chromium loads the page
//! from a file and dumps the DOM it built, and the test checks that the
//! table and every chart figure came through parsing intact (string checks
//! on our own output cannot catch markup a browser would restructure).
//!
//! Skips, passing, when no Chromium is installed; set `CHROMIUM` to a
//! binary to choose one.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use deploysim::report::charts::{self, CellPoint, PowerPoint, Series};
use deploysim::report::html::{self, ReportPage};
use deploysim::report::write_atomic;

/// Kill Chromium if it has not finished by then; a healthy run takes a
/// second or two.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);
/// How often to check whether Chromium has exited.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Removes the test folder when dropped, so it goes even if an assertion
/// fails.
struct TempFolder(PathBuf);

impl TempFolder {
    fn new(tag: &str) -> TempFolder {
        let path = std::env::temp_dir().join(format!("deploysim-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp folder");
        TempFolder(path)
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `$CHROMIUM` if set, else the first of the usual names on `PATH`.
fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The Chromium to use, or `None` after saying the test is skipped.
fn chromium_or_skip() -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() {
        println!("skipped: no Chromium installed (set CHROMIUM or install chromium)");
    }
    found
}

fn sample_page() -> ReportPage {
    let cells = vec![
        cell("canary", "canary 5%", 40.0, 12.0),
        cell("canary", "canary 25%", 35.0, 300.0),
        cell("rolling", "rolling 10%", 80.0, 2500.0),
        cell("recreate", "recreate", 5.0, 0.0),
    ];
    let series = vec![
        Series {
            label: "canary".into(),
            points: vec![(10.0, 0.1), (30.0, 0.5), (90.0, 1.0)],
        },
        Series {
            label: "rolling".into(),
            points: vec![(20.0, 0.2), (60.0, 0.7), (200.0, 1.0)],
        },
    ];
    let power = vec![
        PowerPoint {
            group: "canary".into(),
            label: "err>1%".into(),
            false_rollback_pct: 3.0,
            power_pct: 90.0,
        },
        PowerPoint {
            group: "canary".into(),
            label: "err>5%".into(),
            false_rollback_pct: 0.5,
            power_pct: 60.0,
        },
        PowerPoint {
            group: "rolling".into(),
            label: "p99>2x".into(),
            false_rollback_pct: 1.0,
            power_pct: 70.0,
        },
    ];
    ReportPage {
        title: "Sweep: canary vs rolling".into(),
        question: "Which strategy catches a bad release soonest?".into(),
        command: "deploysim sweep sweeps/example.toml --seed 1".into(),
        facts: vec![("Trials".into(), "1,200".into()), ("Seed".into(), "1".into())],
        header: vec!["strategy".into(), "ttd_p50_s".into(), "note".into()],
        rows: vec![
            vec!["canary".into(), "40.0".into(), "ok".into()],
            vec!["rolling".into(), "80.0".into(), "<b>not bold</b>".into()],
            vec![
                "recreate".into(),
                "5.0".into(),
                "<script>document.title='x'</script>".into(),
            ],
        ],
        reproduce: vec![
            "deploysim run canary --seed 1".into(),
            "deploysim run rolling --seed 1".into(),
            "deploysim run recreate --seed 1".into(),
        ],
        charts: vec![
            charts::blast_vs_ttd(&cells),
            charts::cdf("ttd_cdf", "Time to detect", "time to detect (s)", &series),
            charts::power_vs_false_rollback(&power),
        ],
    }
}

fn cell(strategy: &str, label: &str, ttd: f64, blast: f64) -> CellPoint {
    CellPoint {
        strategy: strategy.into(),
        label: label.into(),
        ttd_p50_s: ttd,
        ttd_p95_s: ttd * 1.8,
        blast_p50: blast,
        blast_p95: blast * 2.5,
    }
}

/// Runs headless Chromium on `page` and returns the DOM it printed.
fn dump_dom(chromium: &Path, page: &Path, work: &Path) -> String {
    let dom_path = work.join("dom.html");
    let log_path = work.join("chromium.log");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", work.join("profile").display()))
        .arg("--virtual-time-budget=2000")
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        // Files, not pipes: a full pipe would stall the browser while this
        // thread polls for its exit.
        .stdout(File::create(&dom_path).expect("create dom file"))
        .stderr(File::create(&log_path).expect("create log file"))
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", chromium.display()));
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        match child.try_wait().expect("poll chromium") {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
            }
            None => std::thread::sleep(POLL_INTERVAL),
        }
    };
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "chromium failed ({status}):\n{log}");
    std::fs::read_to_string(&dom_path).expect("read dumped DOM")
}

/// The text between `start` and the next `end` after it.
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("DOM lacks {start}"));
    let rest = &text[from..];
    let to = rest
        .find(end)
        .unwrap_or_else(|| panic!("DOM lacks {end} after {start}"));
    &rest[..to]
}

#[test]
fn chromium_renders_table_and_every_chart() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let folder = TempFolder::new("report-browser");
    let page = sample_page();
    let page_path = folder.0.join("report.html");
    write_atomic(&page_path, html::render(&page).as_bytes()).expect("write page");
    for chart in &page.charts {
        charts::write_chart(&folder.0, chart).expect("write chart files");
    }

    let dom = dump_dom(&chromium, &page_path, &folder.0);

    assert!(dom.contains("id=\"summary\""), "summary table in DOM");
    let body = section(&dom, "<tbody>", "</tbody>");
    assert_eq!(
        body.matches("<tr").count(),
        page.rows.len(),
        "one <tr> per row:\n{body}"
    );
    assert!(body.contains("&lt;b&gt;not bold&lt;/b&gt;"), "cell markup stayed text");
    assert!(!dom.contains("<script"), "no script element from cell text");
    assert!(body.contains("deploysim run recreate --seed 1"), "reproduce column");
    for chart in &page.charts {
        let figure = section(&dom, &format!("id=\"chart-{}\"", chart.name), "</figure>");
        assert!(
            figure.contains("<svg") || figure.contains("<img"),
            "{} has an image",
            chart.name
        );
        assert!(figure.contains("<figcaption>"), "{} has a caption", chart.name);
    }
}

#[test]
fn chromium_renders_a_real_sweep_report() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let folder = TempFolder::new("report-browser-sweep");
    let sweep = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps/all-strategies.toml");
    let out = folder.0.join("out");
    let r = Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args(["sweep", sweep.to_str().expect("utf-8 path"), "--trials", "2", "--quiet"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run deploysim");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let dom = dump_dom(&chromium, &out.join("report.html"), &folder.0);
    let body = section(&dom, "<tbody>", "</tbody>");
    assert_eq!(body.matches("<tr").count(), 288, "one row per cell");
    assert!(body.contains("--cell 288"), "a reproduce command per cell");
    for name in ["blast_vs_ttd", "ttd_cdf", "blast_radius_cdf", "power_vs_false_rollback"] {
        let figure = section(&dom, &format!("id=\"chart-{name}\""), "</figure>");
        assert!(figure.contains("<svg"), "chart {name} is drawn inline");
    }
    assert!(dom.contains("how much harm gets through"), "the sweep's question");
}
