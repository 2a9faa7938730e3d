#!/usr/bin/env bash
# supervise.sh NAME CMD [ARGS...]
#
# Keeps CMD running for hosts where PID 1 is not systemd: restarts it one second after
# it exits (as systemd's Restart=always would), appends its output to
# /var/log/stratus/NAME.out, and records the supervisor's PID in /run/stratus/NAME.pid and
# the daemon's in /run/stratus/NAME.child.pid. SIGTERM to the supervisor stops both.
set -u
name=$1; shift
run_dir=${STRATUS_RUN_DIR:-/run/stratus}
log_dir=${STRATUS_LOG_DIR:-/var/log/stratus}
mkdir -p "$run_dir" "$log_dir"
echo $$ > "$run_dir/$name.pid"
child=0
stopping=0
stop() {
    stopping=1
    if [ "$child" -gt 0 ]; then
        kill -TERM "$child" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$child" 2>/dev/null
    fi
    rm -f "$run_dir/$name.pid" "$run_dir/$name.child.pid"
    exit 0
}
trap stop TERM INT
while [ "$stopping" = 0 ]; do
    "$@" >> "$log_dir/$name.out" 2>&1 < /dev/null &
    child=$!
    echo "$child" > "$run_dir/$name.child.pid"
    wait "$child"
    rc=$?
    [ "$stopping" = 1 ] && break
    echo "$(date -u +%FT%TZ) supervise: $name exited with status $rc; restarting in 1s" \
        >> "$log_dir/$name.out"
    sleep 1
done
