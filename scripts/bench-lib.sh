# Shared by the benchmark scripts (scripts/bench-*.sh): source it, then run
# every timed step as `measured LABEL COMMAND...`.
#
# `measured` records the 1-minute load average before and after the step and
# the CPU time other processes used during it (all CPU time in /proc/stat
# minus this step's own processes, their children, and the peers named in
# PEER_PIDS, e.g. nginx or PostgreSQL), and prints its verdict on standard
# error (standard output stays the command's). A step during which others used more
# than 10% of one core, or that started at a load average above 0.5, is
# marked UNDER LOAD: its figures are not evidence. WAIT_QUIET=N (seconds)
# waits up to N seconds for the load average to drop below 0.5 first.
# BENCH_LOAD_LOG=FILE also appends "label, load before, load after, others'
# share of one core (%), verdict" to FILE, one line a step, so a script can
# print the verdict beside its table (`load_verdicts`).
measured() {
  local label=$1; shift
  MEASURE_LABEL=$label MEASURE_WAIT=${WAIT_QUIET:-0} MEASURE_EXTRA_PIDS="${PEER_PIDS:-}" python3 -c "$_MEASURED_PY" "$@"
}

# The monitor (run with -c, so that the measured command keeps the shell's
# standard input: `producer | measured label consumer` works).
_MEASURED_PY=$(cat <<'PY'
import os, resource, subprocess, sys, time
hz = os.sysconf("SC_CLK_TCK")
def busy():
    f = open("/proc/stat").readline().split()[1:]
    v = list(map(int, f))
    return (sum(v) - v[3] - v[4]) / hz      # all but idle and iowait
def load1():
    return float(open("/proc/loadavg").read().split()[0])
def stat(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return None
def extra_cpu():
    # The peers' processes (nginx, PostgreSQL): their own CPU, what they
    # reaped from exited children, and their live children's.
    pids = set(os.environ.get("MEASURE_EXTRA_PIDS", "").split())
    t = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        f = stat(p)
        if f is None:
            continue
        if p in pids:
            t += int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        elif f[1] in pids:
            t += int(f[11]) + int(f[12])
    return t / hz
label = os.environ["MEASURE_LABEL"]
wait = int(os.environ.get("MEASURE_WAIT") or 0)
deadline = time.time() + wait
while load1() > 0.5 and time.time() < deadline:
    time.sleep(5)
l0, b0, e0, t0 = load1(), busy(), extra_cpu(), time.time()
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
rc = subprocess.call(sys.argv[1:])
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
l1, b1, e1, t1 = load1(), busy(), extra_cpu(), time.time()
own = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime) + (e1 - e0)
other = max(0.0, (b1 - b0) - own)
share = other / max(t1 - t0, 1e-9)
quiet = l0 <= 0.5 and share <= 0.10
verdict = "QUIET" if quiet else "UNDER LOAD: not evidence"
log = os.environ.get("BENCH_LOAD_LOG")
if log:
    with open(log, "a") as f:
        f.write(f"{label}\t{l0:.2f}\t{l1:.2f}\t{share*100:.0f}\t{verdict}\n")
print(f"   [{label}] load average before {l0:.2f}, after {l1:.2f}; "
      f"CPU used by other processes during the step: {other:.1f} s "
      f"({share*100:.0f}% of one core over {t1-t0:.1f} s) -> "
      + verdict, file=sys.stderr, flush=True)
sys.exit(rc)
PY
)

# Prints the verdicts collected in BENCH_LOAD_LOG, and a warning line when any
# step was under load.
load_verdicts() {
  [ -n "${BENCH_LOAD_LOG:-}" ] && [ -f "$BENCH_LOAD_LOG" ] || return 0
  echo "== load (label, load average before, after, others' CPU % of one core, verdict)"
  cat "$BENCH_LOAD_LOG"
  if grep -q "UNDER LOAD" "$BENCH_LOAD_LOG"; then
    echo "WARNING: at least one step ran UNDER LOAD; mark its rows so in docs/benchmarks.md"
  fi
}
