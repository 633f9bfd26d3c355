//! Files are written under a temporary name and renamed when complete, so a
//! reader never sees a half-written file and an interrupted run leaves none.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Creates the temporary file `path` is written through: `.<name>.tmp-<pid>`
/// in the same folder, made new (never opened through a symbolic link or
/// over a file someone left there: a stale one of that name is removed
/// first, the link itself and not what it points to).
pub fn create_temp_for(path: &Path) -> std::io::Result<(PathBuf, File)> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let create = || OpenOptions::new().write(true).create_new(true).open(&tmp);
    match create() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(&tmp)?;
            create().map(|f| (tmp, f))
        }
        other => other.map(|f| (tmp.clone(), f)),
    }
}

/// Writes `bytes` to `path` via a temporary file in the same folder and a
/// rename. Creates the folder if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let (tmp, mut f) = create_temp_for(path)?;
    let result = (|| {
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("deploysim-atomic-{}", std::process::id()));
        let path = dir.join("nested").join("out.csv");
        write_atomic(&path, b"a,b\n1,2\n").unwrap();
        write_atomic(&path, b"a,b\n3,4\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n3,4\n");
        let names: Vec<_> = std::fs::read_dir(dir.join("nested"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.csv")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_at_the_temporary_name_is_not_followed() {
        let dir = std::env::temp_dir().join(format!("deploysim-atomic-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let tmp = dir.join(format!(".out.csv.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        write_atomic(&dir.join("out.csv"), b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(dir.join("out.csv")).unwrap(), b"new");
        assert!(std::fs::symlink_metadata(&tmp).is_err(), "no temporary file is left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
