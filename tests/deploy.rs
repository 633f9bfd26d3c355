//! The shipped cluster script (deploy/run-shard.sh) runs the shards a
//! Kubernetes Indexed Job or a Slurm array would, and their merge is the
//! unsharded sweep, byte for byte.

mod common;

use std::path::Path;
use std::process::Command;

fn run_shard(out: &Path, index_var: &str, index: &str) -> std::process::Output {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new("bash")
        .arg(root.join("deploy/run-shard.sh"))
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SHARD")
        .env(index_var, index)
        .env("SWEEP", root.join("scenarios/sweeps/all-strategies.toml"))
        .env("SHARDS", "3")
        .env("TRIALS", "2")
        .env("THREADS", "1")
        .env("OUT", out)
        .env("DEPLOYSIM", env!("CARGO_BIN_EXE_deploysim"))
        .output()
        .unwrap()
}

#[test]
fn the_cluster_script_runs_shards_that_merge_into_the_unsharded_sweep() {
    let dir = common::temp_dir("deploy-shards");
    let shards = dir.join("shards");
    // Kubernetes numbers pods from 0, Slurm's array here from 1.
    for (var, index) in [
        ("JOB_COMPLETION_INDEX", "0"),
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("JOB_COMPLETION_INDEX", "2"),
    ] {
        let r = run_shard(&shards, var, index);
        assert!(
            r.status.success(),
            "{var}={index}: {}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
    let merged = dir.join("merged");
    let mut merge = Command::new(env!("CARGO_BIN_EXE_deploysim"));
    merge.args(["merge", "--quiet", "--out", merged.to_str().unwrap()]);
    for k in 1..=3 {
        merge.arg(shards.join(format!("shard-{k:05}")));
    }
    let r = merge.output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let whole = dir.join("whole");
    let sweep = common::scenario_path("sweeps/all-strategies.toml");
    let r = Command::new(env!("CARGO_BIN_EXE_deploysim"))
        .args(["sweep", sweep.to_str().unwrap(), "--trials", "2", "--quiet"])
        .args(["--out", whole.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(r.status.success());
    for f in ["trials.csv", "summary.csv"] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(merged.join(f)).unwrap(),
            "{f}"
        );
    }
    // No index at all is a usage error, not a silent shard 1.
    let r = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/run-shard.sh"))
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SHARD")
        .env("SWEEP", "x.toml")
        .env("SHARDS", "3")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
}
