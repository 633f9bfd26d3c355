//! Output folders: the one place that checks `--out`, knows which files in
//! a folder deploysim wrote, and changes a folder as a whole or not at all.
//!
//! A command writes its files into a staging folder inside the output
//! folder, then moves them into place, the files they replace moved aside
//! first; a failure at any step moves everything back and removes the
//! staging folder, so the folder holds the old files or the new ones, never
//! a mix. deploysim replaces or deletes only files it wrote: each folder
//! lists them in [`RECORD`]. A folder without that list (written by an
//! older deploysim) counts as deploysim's when every file in it has a name
//! deploysim writes.

use crate::text::printable;
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The list of files deploysim wrote into a folder, one name per line.
pub const RECORD: &str = ".deploysim-files";

/// Staging folders are `<out>/.deploysim-staging-<pid>`.
const STAGING_PREFIX: &str = ".deploysim-staging-";

/// The commit's plan, kept in its staging folder while files move.
const JOURNAL: &str = "commit-plan";

/// The largest record read (about 500,000 names).
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// What `deploysim run` writes.
pub const RUN_FILES: &[&str] = &[
    "summary.csv",
    "timeline.csv",
    "events.csv",
    "timeline.svg",
    "timeline.png",
];

/// What `deploysim sweep` and `deploysim merge` may write (a shard holds
/// `trials.csv` and the manifest only; the gaming chart only with games).
pub const SWEEP_FILES: &[&str] = &[
    "trials.csv",
    "trials.csv.partial",
    "summary.csv",
    "report.html",
    "manifest.toml",
    "charts/blast_vs_ttd.svg",
    "charts/blast_vs_ttd.png",
    "charts/ttd_cdf.svg",
    "charts/ttd_cdf.png",
    "charts/blast_radius_cdf.svg",
    "charts/blast_radius_cdf.png",
    "charts/power_vs_false_rollback.svg",
    "charts/power_vs_false_rollback.png",
    "charts/gaming_comparison.svg",
    "charts/gaming_comparison.png",
];

/// What `deploysim tune` writes.
pub const TUNE_FILES: &[&str] = &[
    "candidates.csv",
    "charts/tune_blast_vs_false_rollback.svg",
    "charts/tune_blast_vs_false_rollback.png",
    "charts/tune_ttd_vs_power.svg",
    "charts/tune_ttd_vs_power.png",
];

/// The name of the scenario file `deploysim swarm` writes for a seed.
pub fn swarm_file(seed: u64) -> String {
    format!("swarm-{seed}.toml")
}

/// Whether `name` is a swarm's saved scenario file (`swarm-<seed>.toml`).
fn is_swarm_file(name: &str) -> bool {
    name.strip_prefix("swarm-")
        .and_then(|s| s.strip_suffix(".toml"))
        .is_some_and(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether deploysim writes a file of this name (relative to an output
/// folder). Only such names are ever replaced or deleted, whatever a record
/// says.
pub fn is_output_name(name: &str) -> bool {
    is_swarm_file(name) || [RUN_FILES, SWEEP_FILES, TUNE_FILES].iter().any(|l| l.contains(&name))
}

/// Leftovers of a command that was killed: staging folders and the
/// temporary files of older versions (`.<name>.tmp-<pid>`). Neither ours to
/// keep nor a stranger's; removed at the next commit.
fn is_leftover(name: &str) -> bool {
    name.strip_prefix(STAGING_PREFIX)
        .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        || name
            .strip_prefix('.')
            .and_then(|n| n.rsplit_once(".tmp-"))
            .is_some_and(|(n, pid)| (is_output_name(n) || n == RECORD) && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Why an output folder cannot be written.
#[derive(Debug)]
pub enum OutError {
    /// `--out` names something that cannot be the output folder (bad input).
    BadOut {
        /// The `--out` path.
        out: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The command would overwrite a file deploysim did not write (bad
    /// input: the user moves it away or picks another folder).
    NotOurs {
        /// The output folder.
        out: PathBuf,
        /// The file in the way.
        file: PathBuf,
        /// Why it is not deploysim's.
        why: String,
    },
    /// The folder's list of deploysim's files is not one deploysim wrote
    /// (bad input).
    BadRecord {
        /// The list.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// Reading or writing failed (a run failure).
    Io {
        /// What could not be done: "write", "create", "read", "move",
        /// "delete".
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The system's reason.
        error: io::Error,
    },
}

impl OutError {
    /// A failure to `action` `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, error: io::Error) -> Self {
        OutError::Io {
            action,
            path: path.into(),
            error,
        }
    }

    /// Whether the input is to blame (exit code 2) rather than the run
    /// (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, OutError::Io { .. })
    }
}

fn shown(p: &Path) -> String {
    printable(&p.display().to_string()).into_owned()
}

impl std::fmt::Display for OutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutError::BadOut { out, problem } => write!(
                f,
                "--out {}: {problem}\n  allowed: a folder, or a path where one can be created",
                shown(out)
            ),
            OutError::NotOurs { out, file, why } => write!(
                f,
                "--out {}: {} {why}; deploysim replaces only files it wrote\n  \
                 allowed: move {} away, or choose another --out (a new or empty folder, or one deploysim wrote)",
                shown(out),
                shown(file),
                shown(file)
            ),
            OutError::BadRecord { path, problem } => write!(
                f,
                "{}: {problem}\n  allowed: the list of files deploysim wrote into the folder, one name per line; \
                 without it a folder counts as deploysim's only if every file in it has a name deploysim writes",
                shown(path)
            ),
            OutError::Io { action, path, error } => {
                write!(f, "cannot {action} {}: {}", shown(path), printable(&error.to_string()))
            }
        }
    }
}

impl std::error::Error for OutError {}

/// Checks that `out` is or can become a folder, without creating anything:
/// not a file, not under a file, not a symbolic link that leads nowhere or
/// loops. The one `--out` check of every command.
pub fn check_out(out: &Path) -> Result<(), OutError> {
    let bad = |problem: String| OutError::BadOut {
        out: out.to_path_buf(),
        problem,
    };
    if out.as_os_str().is_empty() {
        return Err(bad("an empty path".into()));
    }
    // From the top down: the first part that is not a folder decides.
    let mut parts: Vec<&Path> = out.ancestors().filter(|p| !p.as_os_str().is_empty()).collect();
    parts.reverse();
    for part in parts {
        let what = if part == out {
            String::new()
        } else {
            format!("{} ", shown(part))
        };
        let under = if part == out {
            ""
        } else {
            ", so no folder can be made under it"
        };
        match fs::metadata(part) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => {
                let link = fs::symlink_metadata(part).is_ok_and(|m| m.file_type().is_symlink());
                let kind = if link { "a symbolic link to a file" } else { "a file" };
                return Err(bad(format!("{what}is {kind}{under}")));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if fs::symlink_metadata(part).is_ok() {
                    return Err(bad(format!(
                        "{what}is a symbolic link to a path that does not exist{under}"
                    )));
                }
                // Missing: created, with everything under it.
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                return Err(OutError::io("reach", part, e));
            }
            Err(e) => {
                // A loop of symbolic links, a name too long, ...
                let link = fs::symlink_metadata(part).is_ok_and(|m| m.file_type().is_symlink());
                let kind = if link {
                    "is a symbolic link that does not lead to a folder"
                } else {
                    "cannot be a folder"
                };
                return Err(bad(format!("{what}{kind} ({}){under}", printable(&e.to_string()))));
            }
        }
    }
    Ok(())
}

/// An output folder, checked, created, and with its list of deploysim's
/// files read.
#[derive(Debug)]
pub struct OutDir {
    dir: PathBuf,
    /// Names of the files in the folder that deploysim wrote.
    owned: BTreeSet<String>,
    /// Whether the folder has a record (else `owned` was inferred).
    recorded: bool,
    /// Without a record: a file in the folder deploysim does not write.
    stranger: Option<String>,
    /// Whether this command created the folder (removed again when nothing
    /// was committed into it).
    created: bool,
}

impl OutDir {
    /// Checks `out` ([`check_out`]), creates it if missing, and reads which
    /// of its files deploysim wrote.
    pub fn open(out: &Path) -> Result<OutDir, OutError> {
        check_out(out)?;
        let created = !out.exists();
        if created {
            fs::create_dir_all(out).map_err(|e| OutError::io("create the folder", out, e))?;
        } else {
            recover(out)?;
        }
        let mut dir = OutDir {
            dir: out.to_path_buf(),
            owned: BTreeSet::new(),
            recorded: false,
            stranger: None,
            created,
        };
        match read_record(out)? {
            Some(owned) => {
                dir.owned = owned;
                dir.recorded = true;
            }
            None => dir.infer()?,
        }
        Ok(dir)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Whether deploysim wrote `name` in this folder.
    pub fn owns(&self, name: &str) -> bool {
        self.owned.contains(name)
    }

    /// Without a record: the folder is deploysim's when every file in it
    /// (and in `charts/`) has a name deploysim writes.
    fn infer(&mut self) -> Result<(), OutError> {
        let mut found = BTreeSet::new();
        for (name, is_file) in list(&self.dir)? {
            if is_leftover(&name) {
                continue;
            }
            if name == "charts" && is_real_dir(&self.dir.join("charts")) {
                for (chart, is_file) in list(&self.dir.join("charts"))? {
                    let name = format!("charts/{chart}");
                    if is_file && is_output_name(&name) {
                        found.insert(name);
                    } else {
                        self.stranger = Some(name);
                        return Ok(());
                    }
                }
            } else if is_file && is_output_name(&name) {
                found.insert(name);
            } else {
                self.stranger = Some(name);
                return Ok(());
            }
        }
        self.owned = found;
        Ok(())
    }

    /// Checks that each of `names` can be written: absent, or a file
    /// deploysim wrote (and `charts/` a folder). Fails with the first file
    /// in the way.
    pub fn check_writes<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Result<(), OutError> {
        for name in names {
            if let Some((parent, _)) = name.split_once('/') {
                let p = self.dir.join(parent);
                match fs::symlink_metadata(&p) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => return Err(self.not_ours(&p, "is not a folder, where deploysim keeps its charts".into())),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(OutError::io("read", p, e)),
                }
            }
            let p = self.dir.join(name);
            match fs::symlink_metadata(&p) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(OutError::io("read", p, e)),
                Ok(m) if m.is_file() && self.owns(name) => {}
                Ok(m) if m.is_file() => {
                    let why = match &self.stranger {
                        _ if self.recorded => format!("is not in {}, the list of files deploysim wrote there", RECORD),
                        Some(s) => format!(
                            "may not be deploysim's: the folder has no {RECORD} (the list of files deploysim wrote) \
                             and holds {}, which deploysim does not write",
                            shown(&self.dir.join(s))
                        ),
                        None => "is not a file deploysim wrote".into(),
                    };
                    return Err(self.not_ours(&p, why));
                }
                Ok(m) => {
                    let kind = if m.is_dir() { "a folder" } else { "not a plain file" };
                    return Err(self.not_ours(&p, format!("is {kind}, where deploysim writes a file")));
                }
            }
        }
        Ok(())
    }

    fn not_ours(&self, file: &Path, why: String) -> OutError {
        OutError::NotOurs {
            out: self.dir.clone(),
            file: file.to_path_buf(),
            why,
        }
    }

    /// Records `names` as deploysim's before a command writes them in place
    /// (a sweep's rows and manifest, which `--resume` needs as they are).
    /// Fails, changing nothing, if one of them is a file deploysim did not
    /// write.
    pub fn claim(&mut self, names: &[&str]) -> Result<(), OutError> {
        self.check_writes(names.iter().copied())?;
        let mut owned = self.owned.clone();
        owned.extend(names.iter().map(|n| n.to_string()));
        write_record(&self.dir, &owned)?;
        self.owned = owned;
        self.recorded = true;
        self.created = false;
        Ok(())
    }

    /// Starts the folder afresh for a command that writes in place: deletes
    /// every report file deploysim wrote there (a swarm's saved scenarios
    /// stay), then records `claims`.
    pub fn restart(&mut self, claims: &[&str]) -> Result<(), OutError> {
        self.check_writes(claims.iter().copied())?;
        let mut listed = self.owned.clone();
        listed.extend(claims.iter().map(|n| n.to_string()));
        // Listed before anything is deleted: a stop part-way leaves every
        // file of ours still listed.
        write_record(&self.dir, &listed)?;
        let (gone, kept): (BTreeSet<String>, BTreeSet<String>) =
            self.owned.iter().cloned().partition(|n| !is_swarm_file(n));
        for name in &gone {
            if !is_real_file(&self.dir, name) {
                continue;
            }
            let p = self.dir.join(name);
            match fs::remove_file(&p) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(OutError::io("delete", p, e)),
                _ => {}
            }
        }
        if gone.iter().any(|n| n.starts_with("charts/")) && is_real_dir(&self.dir.join("charts")) {
            // Only if now empty: a file of the user's there stays.
            let _ = fs::remove_dir(self.dir.join("charts"));
        }
        self.owned = kept.into_iter().chain(claims.iter().map(|n| n.to_string())).collect();
        write_record(&self.dir, &self.owned)?;
        self.recorded = true;
        self.created = false;
        Ok(())
    }

    /// A staging folder for the command's files, inside this folder.
    pub fn stage(&mut self) -> Result<Staging<'_>, OutError> {
        let dir = self.dir.join(format!("{STAGING_PREFIX}{}", std::process::id()));
        // A staging folder of this process id is a leftover of a killed run.
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(|e| OutError::io("delete", &dir, e))?;
        }
        fs::create_dir(&dir).map_err(|e| OutError::io("create the folder", &dir, e))?;
        Ok(Staging {
            out: self,
            dir,
            files: Vec::new(),
            #[cfg(test)]
            fail_at: None,
            #[cfg(test)]
            kill_at_failure: false,
            #[cfg(test)]
            kill_after_placing: false,
        })
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        // Nothing was committed into a folder this command created: leave
        // no empty folder behind.
        if self.created {
            let _ = fs::remove_dir(&self.dir);
        }
    }
}

/// The entries of `dir`: name and whether it is a plain file (a symbolic
/// link is neither a file nor a folder here: it is never followed).
fn list(dir: &Path) -> Result<Vec<(String, bool)>, OutError> {
    let entries = fs::read_dir(dir).map_err(|e| OutError::io("read", dir, e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| OutError::io("read", dir, e))?;
        // `DirEntry::file_type` does not follow links.
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        // A name that is not UTF-8 is nothing deploysim writes.
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != RECORD {
            names.push((name, is_file));
        }
    }
    names.sort();
    Ok(names)
}

/// Whether `path` is a folder itself, not a link to one.
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Whether `name` (relative to `out`) is a plain file reached through real
/// folders only: `charts/x` through a `charts` that is a link is not, so
/// nothing is ever moved or deleted outside the output folder.
fn is_real_file(out: &Path, name: &str) -> bool {
    let through_folders = match name.rsplit_once('/') {
        Some((parent, _)) => is_real_dir(&out.join(parent)),
        None => true,
    };
    through_folders && fs::symlink_metadata(out.join(name)).is_ok_and(|m| m.is_file())
}

/// Reads `dir`'s record: `None` when there is none.
fn read_record(dir: &Path) -> Result<Option<BTreeSet<String>>, OutError> {
    let path = dir.join(RECORD);
    let bad = |problem: String| OutError::BadRecord {
        path: path.clone(),
        problem,
    };
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(OutError::io("read", &path, e)),
        Ok(m) if !m.is_file() => return Err(bad("is not a plain file".into())),
        Ok(m) if m.len() > MAX_RECORD_BYTES => {
            return Err(bad(format!("is larger than {} MiB", MAX_RECORD_BYTES / 1024 / 1024)))
        }
        Ok(_) => {}
    }
    let bytes = fs::read(&path).map_err(|e| OutError::io("read", &path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("is not UTF-8 text".into()))?;
    let mut owned = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !is_output_name(line) {
            return Err(bad(format!(
                "line {}: \"{}\" is not a file deploysim writes",
                i + 1,
                printable(line)
            )));
        }
        owned.insert(line.to_string());
    }
    Ok(Some(owned))
}

/// Writes `dir`'s record listing `names` (atomically).
fn write_record(dir: &Path, names: &BTreeSet<String>) -> Result<(), OutError> {
    let mut text = String::from(
        "# Written by deploysim: the files it wrote into this folder. It replaces or deletes\n\
         # only these; files of yours beside them are left alone.\n",
    );
    for name in names {
        text.push_str(name);
        text.push('\n');
    }
    let path = dir.join(RECORD);
    super::write_atomic(&path, text.as_bytes()).map_err(|e| OutError::io("write", path, e))
}

/// How a commit treats the files deploysim wrote into the folder before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit {
    /// The new files replace every earlier report file deploysim wrote
    /// there, so the folder holds one command's output (run, tune, a
    /// finished sweep or merge), never two mixed; a swarm's saved scenario
    /// files, which are kept for replaying, stay.
    Replace,
    /// The new files are added, replacing those of the same names only
    /// (swarm's scenario files; a sweep's final files beside its rows).
    Add,
}

impl Commit {
    /// Whether an earlier file `name` goes when `staged` come in.
    fn replaces(self, name: &str, staged: &BTreeSet<String>) -> bool {
        staged.contains(name) || (self == Commit::Replace && !is_swarm_file(name))
    }
}

/// Files being written for one command, committed into the folder together.
pub struct Staging<'a> {
    out: &'a mut OutDir,
    dir: PathBuf,
    files: Vec<String>,
    /// Tests: moving this file into place fails, as a full disk would.
    #[cfg(test)]
    fail_at: Option<String>,
    /// Tests: the failure at `fail_at` is a kill: nothing is undone.
    #[cfg(test)]
    kill_at_failure: bool,
    /// Tests: killed after every file is in place, before the record.
    #[cfg(test)]
    kill_after_placing: bool,
}

impl Staging<'_> {
    /// Where the file `name` goes once committed (for messages).
    pub fn target(&self, name: &str) -> PathBuf {
        self.out.dir.join(name)
    }

    /// Registers `name` (a name deploysim writes) and returns the path in
    /// the staging folder the caller writes it to.
    pub fn path_for(&mut self, name: &str) -> Result<PathBuf, OutError> {
        if !is_output_name(name) {
            let e = io::Error::new(io::ErrorKind::InvalidInput, "not a name deploysim writes");
            return Err(OutError::io("write", self.target(name), e));
        }
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| OutError::io("write", self.target(name), e))?;
        }
        if !self.files.iter().any(|f| f == name) {
            self.files.push(name.to_string());
        }
        Ok(path)
    }

    /// Stages `name` with `bytes`.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), OutError> {
        let path = self.path_for(name)?;
        fs::write(&path, bytes).map_err(|e| OutError::io("write", self.target(name), e))
    }

    /// Stages `name` for writing as a stream (e.g. `events.csv` as the run
    /// goes).
    pub fn create(&mut self, name: &str) -> Result<fs::File, OutError> {
        let path = self.path_for(name)?;
        fs::File::create(&path).map_err(|e| OutError::io("write", self.target(name), e))
    }

    /// Stages a chart's SVG and PNG as `<prefix><name>.svg|png`.
    pub fn chart(&mut self, prefix: &str, chart: &super::charts::Chart) -> Result<(), OutError> {
        self.write(&format!("{prefix}{}.svg", chart.name), chart.svg.as_bytes())?;
        self.write(&format!("{prefix}{}.png", chart.name), &chart.png)
    }

    /// Moves every staged file into the folder: all of them, or (on any
    /// failure, which names the file) none, with the old files back in
    /// place. Returns the files written.
    pub fn commit(self, mode: Commit) -> Result<Vec<PathBuf>, OutError> {
        let out = &self.out.dir;
        self.out.check_writes(self.files.iter().map(String::as_str))?;
        for name in &self.files {
            let synced = fs::File::open(self.dir.join(name)).and_then(|f| f.sync_all());
            synced.map_err(|e| OutError::io("write", out.join(name), e))?;
        }
        let staged: BTreeSet<String> = self.files.iter().cloned().collect();
        let old = self.out.owned.clone();
        let aside: Vec<&String> = old
            .iter()
            .filter(|n| mode.replaces(n, &staged))
            .filter(|n| is_real_file(out, n))
            .collect();
        let mut owned: BTreeSet<String> = old.iter().filter(|n| !mode.replaces(n, &staged)).cloned().collect();
        owned.extend(staged.iter().cloned());
        // The plan, so that a command killed part-way is undone (or, if
        // every new file is in place, finished) by the next one.
        let journal = Journal {
            old: old.clone(),
            aside: aside.iter().map(|n| n.to_string()).collect(),
            new: self.files.clone(),
            owned: owned.clone(),
        };
        journal
            .write(&self.dir)
            .map_err(|e| OutError::io("write", self.dir.join(JOURNAL), e))?;
        // Listed first: a stop part-way leaves every file of ours listed.
        write_record(out, &old.union(&staged).cloned().collect())?;
        let old_dir = self.dir.join(".old");
        let mut moved: Vec<&String> = Vec::new();
        let mut placed: Vec<&String> = Vec::new();
        let charts_existed = out.join("charts").is_dir();
        let result = (|| {
            for name in &aside {
                let to = old_dir.join(name);
                let made = to.parent().map_or(Ok(()), fs::create_dir_all);
                made.and_then(|()| fs::rename(out.join(name), &to))
                    .map_err(|e| OutError::io("move aside", out.join(name), e))?;
                moved.push(name);
            }
            for name in &self.files {
                let to = out.join(name);
                #[cfg(test)]
                if self.fail_at.as_ref() == Some(name) {
                    if self.kill_at_failure {
                        return Err(OutError::io("write", to, io::Error::other("killed")));
                    }
                    return Err(OutError::io("write", to, io::Error::other("injected failure")));
                }
                let made = to.parent().map_or(Ok(()), fs::create_dir_all);
                made.and_then(|()| fs::rename(self.dir.join(name), &to))
                    .map_err(|e| OutError::io("write", to.clone(), e))?;
                placed.push(name);
            }
            Ok(())
        })();
        if let Err(e) = result {
            #[cfg(test)]
            if self.kill_at_failure {
                // As a kill would leave it: no rollback, staging kept.
                std::mem::forget(self);
                return Err(e);
            }
            for name in placed.iter().rev() {
                let _ = fs::rename(out.join(name), self.dir.join(name));
            }
            for name in moved.iter().rev() {
                let _ = fs::rename(old_dir.join(name), out.join(name));
            }
            if !charts_existed {
                let _ = fs::remove_dir(out.join("charts"));
            }
            let _ = write_record(out, &old);
            return Err(e);
        }
        #[cfg(test)]
        if self.kill_after_placing {
            // As a kill would leave it: nothing after this point happens.
            let e = OutError::io("write", out.clone(), io::Error::other("killed"));
            std::mem::forget(self);
            return Err(e);
        }
        owned.retain(|n| is_real_file(out, n));
        write_record(out, &owned)?;
        if aside.iter().any(|n| n.starts_with("charts/")) {
            // Only if now empty: a file of the user's there stays.
            let _ = fs::remove_dir(out.join("charts"));
        }
        remove_leftovers(out);
        let written = self.files.iter().map(|n| out.join(n)).collect();
        self.out.owned = owned;
        self.out.recorded = true;
        self.out.created = false;
        Ok(written)
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        // After a commit this removes the replaced files; after a failure,
        // whatever was staged.
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// What a commit is about to do, written into its staging folder before
/// any file moves: the record before, the old files it moves aside (into
/// `.old/`), the new files it places, and the record after.
#[derive(Debug, Default, PartialEq)]
struct Journal {
    old: BTreeSet<String>,
    aside: Vec<String>,
    new: Vec<String>,
    owned: BTreeSet<String>,
}

impl Journal {
    fn write(&self, staging: &Path) -> io::Result<()> {
        let mut text = String::new();
        let lines = [
            ("old", self.old.iter().collect::<Vec<_>>()),
            ("aside", self.aside.iter().collect()),
            ("new", self.new.iter().collect()),
            ("owned", self.owned.iter().collect()),
        ];
        for (tag, names) in lines {
            for name in names {
                text.push_str(&format!("{tag}\t{name}\n"));
            }
        }
        super::write_atomic(&staging.join(JOURNAL), text.as_bytes())
    }

    /// Reads a journal; `None` when there is none, an error when it is not
    /// one deploysim wrote.
    fn read(staging: &Path) -> Result<Option<Journal>, OutError> {
        let path = staging.join(JOURNAL);
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() <= MAX_RECORD_BYTES) {
            return Ok(None);
        }
        let bad = |problem: String| OutError::BadRecord {
            path: path.clone(),
            problem,
        };
        let text = fs::read_to_string(&path).map_err(|e| OutError::io("read", &path, e))?;
        let mut j = Journal::default();
        for (i, line) in text.lines().enumerate() {
            let Some((tag, name)) = line.split_once('\t').filter(|(_, n)| is_output_name(n)) else {
                return Err(bad(format!("line {}: not a line of a commit's plan", i + 1)));
            };
            match tag {
                "old" => drop(j.old.insert(name.into())),
                "aside" => j.aside.push(name.into()),
                "new" => j.new.push(name.into()),
                "owned" => drop(j.owned.insert(name.into())),
                _ => return Err(bad(format!("line {}: not a line of a commit's plan", i + 1))),
            }
        }
        Ok(Some(j))
    }
}

/// Finishes or undoes the commits of commands that were killed part-way
/// (their staging folders still hold a plan): when every new file is in
/// place the commit is finished, otherwise every old file goes back; then
/// the staging folder goes. The folder then holds the old output or the
/// new one, never a mix.
fn recover(out: &Path) -> Result<(), OutError> {
    // This process has no commit under way in a folder it is opening, so a
    // staging folder with its own id is a killed command's too (an id
    // reused).
    for (name, _) in list(out)? {
        let staging = out.join(&name);
        if !is_leftover(&name) || !name.starts_with(STAGING_PREFIX) || !is_real_dir(&staging) {
            continue;
        }
        let Some(plan) = Journal::read(&staging)? else {
            continue; // killed while staging: nothing moved, removed later
        };
        let placed: Vec<&String> = plan.new.iter().filter(|n| !is_real_file(&staging, n)).collect();
        let record = if placed.len() == plan.new.len() {
            plan.owned.clone()
        } else {
            let old_dir = staging.join(".old");
            for name in &placed {
                if is_real_file(out, name) && !is_real_file(&old_dir, name) {
                    fs::remove_file(out.join(name)).map_err(|e| OutError::io("delete", out.join(name), e))?;
                }
            }
            for name in &plan.aside {
                if is_real_file(&old_dir, name) {
                    let to = out.join(name);
                    let made = to.parent().map_or(Ok(()), fs::create_dir_all);
                    made.and_then(|()| fs::rename(old_dir.join(name), &to))
                        .map_err(|e| OutError::io("move back", to.clone(), e))?;
                }
            }
            plan.old.clone()
        };
        let record: BTreeSet<String> = record.into_iter().filter(|n| is_real_file(out, n)).collect();
        write_record(out, &record)?;
        fs::remove_dir_all(&staging).map_err(|e| OutError::io("delete", &staging, e))?;
    }
    Ok(())
}

/// Removes staging folders and temporary files that killed commands left.
fn remove_leftovers(out: &Path) {
    let Ok(entries) = list(out) else { return };
    let own = format!("{STAGING_PREFIX}{}", std::process::id());
    for (name, is_file) in entries {
        if !is_leftover(&name) || name == own {
            continue;
        }
        let p = out.join(name);
        let _ = if is_file {
            fs::remove_file(p)
        } else {
            fs::remove_dir_all(p)
        };
    }
}

#[cfg(test)]
#[path = "outdir_tests.rs"]
mod tests;
