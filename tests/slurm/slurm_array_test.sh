#!/usr/bin/env bash
# Runs examples/slurm/study_array.sbatch as an 8-task job array on a real one-node Slurm cluster
# brought up on this machine (as the team's shared/slurm/README.md describes), then checks the study.
#
#   bash tests/slurm/slurm_array_test.sh /abs/path/to/gpbo
#
# Needs root (the Slurm daemons run as root); installs slurmctld slurmd slurm-client munge with
# apt-get when missing. Exit 0: pass, 1: fail, 77: skipped (cannot bring the cluster up).
set -euo pipefail

SKIP=77
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
example="$(cd "$here/../../examples/slurm" && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 /path/to/gpbo" >&2; exit 1; }
gpbo="$(realpath "$1")"
[ -x "$gpbo" ] || { echo "FAIL: gpbo binary '$1' is not executable" >&2; exit 1; }
ROUNDS="${ROUNDS:-3}"
TASKS=8
SLURM_DIR=/tmp/slurmtest   # the paths of the shared slurm.conf
started=$(date +%s)

skip() { echo "SKIP: $*" >&2; exit "$SKIP"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "slurm-test: $*" >&2; }

# ---- bring the cluster up --------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "needs root to run the Slurm daemons (running as $(id -un))"
command -v python3 >/dev/null || skip "python3 (used by the objective and the checks) is missing"

packages=(slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || skip "no apt-get to install ${missing[*]}"
  note "installing ${missing[*]}"
  apt-get update -qq >/dev/null 2>&1 || skip "apt-get update failed (no network?)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 ||
    skip "apt-get install ${missing[*]} failed"
fi

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# Never take over (or later kill) a cluster someone else is running with these paths.
for f in "$SLURM_DIR/slurmctld.pid" "$SLURM_DIR/slurmd.pid"; do
  alive "$f" && skip "a Slurm daemon is already running (pid file $f); not touching it"
done
alive /run/munge/munged.pid && skip "munged is already running (/run/munge/munged.pid)"

work=""
stop_all() {
  local rc=$?
  set +e
  for f in "$SLURM_DIR/slurmd.pid" "$SLURM_DIR/slurmctld.pid" /run/munge/munged.pid; do
    if alive "$f"; then
      local pid
      pid=$(cat "$f")
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
  done
  if [ "$rc" -ne 0 ] && [ "$rc" -ne "$SKIP" ]; then
    for log in "$SLURM_DIR"/log/*.log; do
      [ -f "$log" ] && { echo "---- tail $log" >&2; tail -n 20 "$log" >&2; }
    done
  fi
  [ -n "$work" ] && rm -rf "$work"
  rm -rf "$SLURM_DIR"
  note "wall time $(($(date +%s) - started)) s, exit $rc"
  exit "$rc"
}
trap stop_all EXIT
trap 'exit 1' INT TERM

rm -rf "$SLURM_DIR"
mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/log" && chmod 777 "$SLURM_DIR"
# The team's shared/ folder sits beside the repository checkout (as on CI).
conf_src="$(cd "$(dirname "$0")/../.." && pwd)/../shared/slurm/slurm.conf"
node="$(hostname -s)"
if [ -f "$conf_src" ]; then
  sed "s/NODE/$node/g" "$conf_src" > /etc/slurm/slurm.conf
else
  # The same minimal configuration, for machines without shared/ beside the checkout.
  cat > /etc/slurm/slurm.conf <<EOF
ClusterName=ci
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
ReturnToService=2
NodeName=$node CPUs=2 RealMemory=20000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
fi

install -d -o munge -g munge -m 755 /run/munge /var/log/munge /var/lib/munge
[ -f /etc/munge/munge.key ] || mungekey -c -f -k /etc/munge/munge.key
su -s /bin/sh munge -c /usr/sbin/munged || skip "munged did not start"
/usr/sbin/slurmctld || skip "slurmctld did not start"
/usr/sbin/slurmd || skip "slurmd did not start"

state=""
for _ in $(seq 60); do
  state=$(sinfo -h -o %T 2>/dev/null | head -n 1) || true
  [ "$state" = idle ] && break
  sleep 1
done
[ "$state" = idle ] || skip "the node did not become idle within 60 s (last state '${state:-none}')"
note "cluster up after $(($(date +%s) - started)) s"

# ---- the study ---------------------------------------------------------------------------------
work=$(mktemp -d /tmp/gpbo-slurm.XXXXXX)
chmod 777 "$work"   # jobs may run as another user; SQLite also writes -wal/-shm files beside the db
export GPBO="$gpbo"
export GPBO_STORAGE="sqlite://$work/study.db"
export STUDY=branin
export OBJECTIVE="python3 $example/objective.py"
export ROUNDS
export HEARTBEAT_SECONDS=0
unset GPBO_WORKER_PREFIX

"$gpbo" create-study --study "$STUDY" --space "$example/space.json" --direction minimize \
  --n-initial 5 --lease-seconds 600 >/dev/null || fail "gpbo create-study failed"
# A second create with --skip-if-exists is how every run script can safely (re)create it.
"$gpbo" create-study --study "$STUDY" --space "$example/space.json" --skip-if-exists >/dev/null ||
  fail "gpbo create-study --skip-if-exists failed on an existing study"

rc=0
submit_out=$(cd "$work" && timeout 300 sbatch --wait --parsable --array=0-$((TASKS - 1)) \
  --output="$work/task-%A_%a.out" "$example/study_array.sbatch") || rc=$?
job_id="${submit_out%%;*}"
note "array job ${job_id:-?} ended with sbatch exit $rc after $(($(date +%s) - started)) s"
if [ "$rc" -ne 0 ]; then
  for f in "$work"/task-*.out; do [ -f "$f" ] && { echo "---- $f" >&2; cat "$f" >&2; }; done
  [ "$rc" -eq 124 ] && fail "the job array did not finish within 300 s"
  fail "sbatch --wait exited $rc"
fi

# sacct needs accounting, which this cluster does not have: check each task's output instead.
n_out=$(find "$work" -maxdepth 1 -name "task-${job_id}_*.out" | wc -l)
[ "$n_out" -eq "$TASKS" ] || fail "expected $TASKS task output files, found $n_out"
for ((t = 0; t < TASKS; t++)); do
  f="$work/task-${job_id}_$t.out"
  grep -q "gpbo-array\[$job_id-$t\]: done: $ROUNDS complete, 0 failed" "$f" ||
    { cat "$f" >&2; fail "task $t did not finish its $ROUNDS rounds"; }
done

# check_trials N_COMPLETE: the study holds exactly N complete trials with distinct ids, no running
# or failed ones, every array task (worker "$job_id-$t") has ROUNDS of them (+ EXTRA_3 for task 3).
check_trials() {
  "$gpbo" trials --study "$STUDY" > "$work/trials.json" || fail "gpbo trials failed"
  python3 - "$work/trials.json" "$1" "$job_id" "$TASKS" "$ROUNDS" "${2:-0}" <<'EOF' ||
import collections, json, math, sys
path, expected, job, tasks, rounds, extra3 = sys.argv[1], *map(str, sys.argv[2:])
expected, tasks, rounds, extra3 = int(expected), int(tasks), int(rounds), int(extra3)
trials = json.load(open(path))["trials"]
errors = []
states = collections.Counter(t["state"] for t in trials)
if states != {"complete": expected}:
    errors.append(f"states {dict(states)}, expected {expected} complete and nothing else")
ids = [t["id"] for t in trials]
if len(set(ids)) != len(ids):
    errors.append(f"duplicate trial ids: {sorted(ids)}")
for t in trials:
    if t["state"] == "complete" and not (isinstance(t["value"], float) and math.isfinite(t["value"])):
        errors.append(f"trial {t['id']} has value {t['value']!r}")
    p = t["params"]
    if not (-5 <= p["x0"] <= 10 and 0 <= p["x1"] <= 15):
        errors.append(f"trial {t['id']} params {p} outside the space")
workers = collections.Counter(t["worker_id"] for t in trials)
want = {f"{job}-{i}": rounds + (extra3 if i == 3 else 0) for i in range(tasks)}
if dict(workers) != want:
    errors.append(f"trials per worker {dict(workers)}, expected {want}")
points = {(t["params"]["x0"], t["params"]["x1"]) for t in trials}
if len(points) != len(trials):
    errors.append("two trials have the same point")
for e in errors:
    print("check:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
    { cat "$work/trials.json" >&2; fail "gpbo trials does not show the expected trials"; }
}
check_trials $((TASKS * ROUNDS))

best=$("$gpbo" best --study "$STUDY") || fail "gpbo best failed"
python3 - "$best" "$work/trials.json" <<'EOF' || fail "gpbo best is not the lowest complete trial: $best"
import json, sys
best = json.loads(sys.argv[1])
values = [t["value"] for t in json.load(open(sys.argv[2]))["trials"] if t["state"] == "complete"]
sys.exit(0 if best["state"] == "complete" and best["value"] == min(values) else 1)
EOF
note "best: $best"

# ---- resume: a re-submitted task picks up the trial its worker id left RUNNING ------------------
# Simulate task 3 dying mid-trial: its worker asks and never tells. Re-submitting task 3 with the
# old array job id as worker prefix must evaluate that same trial, not a new one.
held=$("$gpbo" ask --study "$STUDY" --worker-id "$job_id-3") || fail "gpbo ask for the resume failed"
held_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["trials"][0]["id"])' "$held")
rc=0
resub=$(cd "$work" && GPBO_WORKER_PREFIX="$job_id" ROUNDS=1 timeout 120 sbatch --wait --parsable \
  --array=3 --output="$work/resume-%A_%a.out" "$example/study_array.sbatch") || rc=$?
[ "$rc" -eq 0 ] || { cat "$work"/resume-*.out >&2 || true; fail "re-submitted task exited $rc"; }
grep -q "trial $held_id params" "$work/resume-${resub%%;*}_3.out" ||
  { cat "$work/resume-${resub%%;*}_3.out" >&2; fail "the re-submitted task did not resume trial $held_id"; }
check_trials $((TASKS * ROUNDS + 1)) 1

note "PASS: $TASKS tasks x $ROUNDS rounds, distinct trials, best works, re-submission resumed trial $held_id"
