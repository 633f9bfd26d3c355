use super::*;
use crate::report::csv_out::summary_record;
use crate::sim::{run, RunOptions};

fn reader(text: &str) -> RowReader<&[u8]> {
    RowReader::new(text.as_bytes(), Path::new("t.csv"))
}

fn header_line() -> String {
    trial_header().join(",") + "\n"
}

/// Rows as `run` writes them for shipped scenarios that fill every kind of
/// column: request and aggregate mode, rollbacks, sessions, games, queues.
fn real_rows() -> Vec<Vec<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut rows = Vec::new();
    for name in [
        "reference-canary.toml",
        "faults/failure-for-segment.toml",
        "faults/failure-under-load.toml",
        "bitcraps/gaming-canary-bad.toml",
        "strategies/blue-green-bad.toml",
        "triggers/manual-bad.toml",
    ] {
        let scenario = crate::scenario::load(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let result = run(&scenario, 1, RunOptions::default()).unwrap();
        let mut row: Vec<String> = ["s", "t", "f", "good", "0"].map(String::from).to_vec();
        row.extend(summary_record(&result.summary));
        rows.push(row);
    }
    rows
}

fn line_of(row: &[String]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(row).unwrap();
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

#[test]
fn every_row_run_writes_passes_its_column_checks() {
    let rows = real_rows();
    let text: String = std::iter::once(header_line())
        .chain(rows.iter().map(|r| line_of(r)))
        .collect();
    let mut r = reader(&text);
    let header = r.next_fields().unwrap().unwrap();
    r.check_header(&header).unwrap();
    let mut n = 0;
    while let Some(fields) = r.next_fields().unwrap() {
        r.check_row(&fields).unwrap_or_else(|e| panic!("{e}"));
        n += 1;
    }
    assert_eq!(n, rows.len());
    assert!(r.canonical(), "the writer's own bytes");
    // The rows exercise the optional columns both ways.
    let filled = |name: &str| {
        let k = r.index_of(name).unwrap();
        rows.iter().any(|row| !row[k].is_empty())
    };
    for name in [
        "ttd_s",
        "blast_radius_users",
        "games_started",
        "excess_failed_requests",
        "rollback_verified",
    ] {
        assert!(filled(name), "{name} is never filled");
    }
}

#[test]
fn garbage_values_are_located_by_line_column_and_name() {
    let row = real_rows().swap_remove(0);
    let k_ttd = reader("").index_of("ttd_s").unwrap();
    let k_avail = reader("").index_of("availability_pct").unwrap();
    let k_failed = reader("").index_of("failed_requests").unwrap();
    let k_flag = reader("").index_of("rollback_performed").unwrap();
    for (k, value, expect) in [
        (k_ttd, "abc", "ttd_s"),
        (k_ttd, "-1.000", "ttd_s"),
        (k_ttd, "1e3", "ttd_s"),
        (k_ttd, "NaN", "ttd_s"),
        (k_avail, "100.5000", "availability_pct"),
        (k_failed, "", "failed_requests"),
        (k_failed, "007", "failed_requests"),
        (k_failed, "99999999999999999999", "failed_requests"),
        (k_flag, "yes", "rollback_performed"),
        (0, "a\u{1b}[2J", "strategy"),
        (4, "-1", "trial"),
    ] {
        let mut bad = row.clone();
        bad[k] = value.to_string();
        let text = header_line() + &line_of(&row) + &line_of(&bad);
        let mut r = reader(&text);
        r.next_fields().unwrap();
        r.next_fields().unwrap();
        let fields = r.next_fields().unwrap().unwrap();
        let e = r.check_row(&fields).unwrap_err();
        assert_eq!(e.line, 3, "{value:?}");
        assert_eq!(e.name.as_deref(), Some(expect), "{value:?}: {e}");
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("t.csv:3:{}: column `{expect}`", e.column.unwrap())),
            "{shown}"
        );
        assert!(!shown.chars().any(|c| c.is_control() && c != '\n'), "{shown:?}");
        // The column is where the value starts on the line.
        // (No value of these rows needs quotes.)
        let before: usize = bad[..k].iter().map(|v| v.chars().count() + 1).sum();
        assert_eq!(e.column, Some(before + 1), "{value:?}");
    }
}

#[test]
fn a_row_of_the_wrong_width_or_quoting_is_an_error() {
    let row = real_rows().swap_remove(0);
    let mut r = reader("a,b\n\"x\"y,z\n\"open\n");
    let fields = r.next_fields().unwrap().unwrap();
    assert!(r.check_row(&fields).unwrap_err().problem.contains("has 2 values"));
    assert!(r.check_header(&fields).is_err());
    assert!(r.next_fields().unwrap_err().problem.contains("follows a quoted value"));
    assert!(r.next_fields().unwrap_err().problem.contains("no closing quote"));
    let one = line_of(&row);
    let mut r = reader(&one);
    assert!(r.next_fields().unwrap().is_some());
    assert!(r.next_fields().unwrap().is_none());
}

#[test]
fn crlf_and_a_byte_order_mark_are_read_but_not_canonical() {
    let row = real_rows().swap_remove(0);
    let plain = header_line() + &line_of(&row);
    for text in [
        plain.replace('\n', "\r\n"),
        format!("\u{feff}{plain}"),
        plain.replacen("strategy", "\"strategy\"", 1),
    ] {
        let mut r = reader(&text);
        let header = r.next_fields().unwrap().unwrap();
        r.check_header(&header).unwrap();
        let fields = r.next_fields().unwrap().unwrap();
        assert_eq!(fields, row);
        assert!(!r.canonical(), "{text:?}");
    }
    let mut r = reader(&plain);
    while r.next_fields().unwrap().is_some() {}
    assert!(r.canonical());
    assert_eq!(r.offset(), plain.len() as u64);
    // Quotes where the writer puts them are what it writes.
    let mut quoted = row.clone();
    quoted[0] = "a,\"b\"".into();
    let text = line_of(&quoted);
    assert!(text.starts_with("\"a,\"\"b\"\"\","), "{text}");
    let mut r = reader(&text);
    assert_eq!(r.next_fields().unwrap().unwrap(), quoted);
    assert!(r.canonical());
}

#[test]
fn damaged_lines_are_errors_without_reading_past_the_cap() {
    // A file of NUL bytes (a power loss) and one endless line: the error
    // comes after at most one line's cap of bytes, however long the input.
    struct Endless(u8, u64);
    impl std::io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.1 += buf.len() as u64;
            buf.fill(self.0);
            Ok(buf.len())
        }
    }
    for byte in [0u8, b'x'] {
        let mut source = Endless(byte, 0);
        let mut r = RowReader::new(std::io::BufReader::new(&mut source), Path::new("zero"));
        let e = r.next_fields().unwrap_err();
        assert!(e.problem.contains("longer than 65536 bytes"), "{e}");
        drop(r);
        assert!(
            source.1 <= (MAX_LINE_BYTES + 16 * 1024) as u64,
            "read {} bytes",
            source.1
        );
    }
    let mut r = reader("a,\0b\n");
    let e = r.next_fields().unwrap_err();
    assert!(e.problem.contains("NUL") && e.column == Some(3), "{e}");
    let mut r = RowReader::new(&b"ab\xffc\n"[..], Path::new("t.csv"));
    assert_eq!(r.next_fields().unwrap_err().column, Some(3));
    let mut r = reader("a,b");
    assert!(r.next_fields().unwrap_err().problem.contains("cut off"));
}
