#!/usr/bin/env bash
# run-inbox.sh: the inbox's realtime push path measured with wsbench, next
# to the nchan anchor and the nullpush floor, in one run and one table.
#
#   bench/wsbench/run-inbox.sh [all|b|rates|memory|sweep|smoke]
#
# It measures the checkout it sits in (`make all` first: it needs
# build/ws-server, build/inboxctl, build/ngx_http_inbox_module.so);
# INBOX_ROOT=DIR measures another built checkout.  `make bench-ws` installs
# what it needs (nchan with scripts/install-deps --bench), builds and runs
# the `rates` and `memory` cases.
#
# Servers (a fresh one for every run):
#   null    nullpush: one write() per delivery, the floor
#   nchan   nginx + nchan, 1 worker (nchan/nginx.conf), 64-byte messages
#   dgram1  ws-server alone: wsbench writes the event records to its unix
#           datagram socket, one message.created frame (~700 B) per
#           message, as nchan gets one message
#   dgram3  the same with the module's three frames per message
#           (message.created, conversation.updated, unread.total)
#   full1   the whole path: signed Twilio webhooks POSTed to nginx + the
#           inbox module (1 worker), stored in SQLite, sent to ws-server
#           (with --store: it fills what nginx sheds from the store),
#           pushed; the store is warmed up with 200 webhooks first
#   full2   the same with 2 nginx workers
#   full2ws2  the same with 2 ws-server processes, a port and an events
#           socket each (ports WS_PORT and WS_PORT+1): nginx hands every
#           event to both, and a channel's subscribers all connect to one
#           of them (--sub-ports), as nginx's "hash $arg_org" puts an
#           organization's sockets on one process
# For the ws-server rows every subscriber POSTs for its own ticket
# (/api/v1/realtime/ticket, one organization and API token per channel)
# and connects straight to ws-server with ?ticket=&org= and subprotocol
# inbox.v1; only message.created frames are counted (--count-type).
#
# Cases (REPS runs of each, 2 by default, servers alternating):
#   b       10,000 subscribers / 100 channels, 200 msg/s for 20 s:
#           null nchan dgram1 dgram3 full1 full2
#   rates   10,000 subscribers / 100 channels at 200 and at 1,000 msg/s
#           (RATES="200" for one of them)
#           for DURATION s (10 by default): null nchan dgram1 dgram3
#           full1 full2 full2ws2
#   memory  19,000 idle subscribers / 190 channels: nchan and ws-server,
#           server RSS per connection once they have been idle SETTLE s
#           (2 by default; 70 lets ws-server's idle pings, every 30 s,
#           go out twice), MEMORY_SERVERS="dgram1" for ws-server alone
#   sweep   dgram1 at 200, 400, 700 and 1,000 msg/s, 10,000 / 100, 10 s
#           (SWEEP_SERVERS="dgram1 full1", SWEEP_RATES="400 700" to change)
#   smoke   every server once, 1,000 / 10 at 100 msg/s for 3 s
# all = b, memory, sweep.  FROM_DUE=1 times each delivery from when the
# schedule wanted its message, not from its write (wsbench --from-due: a
# server that holds its publisher back is charged for the wait).
# SERVERS="dgram1 full1" limits the servers;
# WS_SERVER=PATH runs another ws-server build (environment passed on).
#
# Raw logs in results/inbox-<time>/ (ignored by git), the table in
# table.txt there.  Loopback only; every wait is bounded.

set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "${INBOX_ROOT:-$here/../..}" && pwd)
what=${1:-all}
reps=${REPS:-2}
only=${SERVERS:-}
out=${OUT:-$here/results/inbox-$(date +%Y%m%d-%H%M%S)}
nchan_port=8090                 # fixed in nchan/nginx.conf
null_port=${NULL_PORT:-8091}
inbox_port=${INBOX_PORT:-8092}
ws_port=${WS_PORT:-8093}
nchan_prefix=$here/nchan/run
wsbench=$here/wsbench

ws_server=${WS_SERVER:-$root/build/ws-server}   # another build to compare
inboxctl=$root/build/inboxctl
module=$root/build/ngx_http_inbox_module.so

for f in "$ws_server" "$inboxctl" "$module"; do
    if [ ! -x "$f" ] && [ ! -f "$f" ]; then
        echo "run-inbox: $f is missing: run 'make all' in $root (or set" \
             "INBOX_ROOT to a built copy)" >&2
        exit 1
    fi
done
for tool in nginx sqlite3 curl python3; do
    command -v "$tool" >/dev/null || {
        echo "run-inbox: $tool is missing" >&2; exit 1; }
done
[ -e /usr/lib/nginx/modules/ngx_nchan_module.so ] || {
    echo "run-inbox: nchan is missing (apt-get install libnginx-mod-nchan)" >&2
    exit 1; }

ulimit -n "$(ulimit -Hn)"       # servers and wsbench inherit it
tmp=$(mktemp -d "${TMPDIR:-/tmp}/run-inbox.XXXXXX")
pids_started=()                 # servers, killed by pid on exit
dir=

stop_pid() {                    # pid signal: up to 10 s, then KILL
    local p=$1
    kill -"$2" "$p" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
}

stop_servers() {
    local p
    for p in "${pids_started[@]}"; do
        # nginx: graceful (QUIT); nullpush and ws-server: TERM
        if [ "$(cat /proc/"$p"/comm 2>/dev/null)" = nginx ]; then
            stop_pid "$p" QUIT
        else
            stop_pid "$p" TERM
        fi
    done
    pids_started=()
}

cleanup() {
    stop_servers
    rm -rf "$tmp"
}
trap cleanup EXIT

wait_listening() {              # pid port: up to 10 s
    for _ in $(seq 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
            return 0
        fi
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

wait_workers() {                # master workers: up to 10 s
    for _ in $(seq 100); do
        [ "$(pgrep -c -P "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# One organization per channel (190 at most): a number with its Twilio
# auth token and an API token.  Each run copies this store.
make_template() {
    local n=$1 i org num auth tok store=sqlite:$tmp/template/inbox.db
    mkdir -p "$tmp/template"
    : >"$tmp/orgs.txt"; : >"$tmp/tokens.txt"; : >"$tmp/numbers.txt"
    for i in $(seq 0 $((n - 1))); do
        org=$("$inboxctl" --store "$store" org create "Bench $i")
        num=$(printf '+1500555%04d' $((1000 + i)))
        auth=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
        "$inboxctl" --store "$store" number add "$org" "$num" \
            --carrier twilio --account-sid AC0123456789abcdef0123456789abcdef \
            --auth-token "$auth" >/dev/null
        tok=$("$inboxctl" --store "$store" token create "$org")
        echo "$org" >>"$tmp/orgs.txt"
        echo "$tok" >>"$tmp/tokens.txt"
        echo "$num $auth" >>"$tmp/numbers.txt"
    done
    sqlite3 "$tmp/template/inbox.db" 'PRAGMA wal_checkpoint(TRUNCATE);' \
        >/dev/null
}

start_null() {
    "$here/nullpush" "$null_port" &
    pids_started+=($!)
    server_pids=$!
    wait_listening "$!" "$null_port" || { echo "nullpush did not start" >&2
                                          return 1; }
}

start_nchan() {                 # workers
    local m
    rm -rf "$nchan_prefix"
    mkdir -p "$nchan_prefix/logs" "$nchan_prefix/tmp"
    nginx -p "$nchan_prefix/" -c "$here/nchan/nginx.conf" \
        -g "daemon off; worker_processes $1;" \
        2>>"$nchan_prefix/logs/stderr.log" &
    m=$!
    pids_started+=("$m")
    wait_workers "$m" "$1" && wait_listening "$m" "$nchan_port" || {
        cat "$nchan_prefix/logs/stderr.log" >&2
        echo "nginx + nchan did not start" >&2; return 1; }
    server_pids=$m,$(pgrep -P "$m" | paste -sd,)
}

start_inbox() {                 # nginx workers, ws-server processes, store
    local w=$1 nws=${2:-1} k m user_line="" socks="" ws_store=()
    dir=$tmp/run
    rm -rf "$dir"
    mkdir -p "$dir/var/run" "$dir/tmp"
    chmod 700 "$dir/var" "$dir/var/run"
    cp "$tmp/template/inbox.db" "$dir/var/inbox.db"
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/var/realtime.key"
    [ "$(id -u)" = 0 ] && user_line="user root root;"
    # the full path's ws-server fills gaps from the store, as make run's
    # does; the dgram rows' events are not in it
    [ "${3:-}" = store ] && ws_store=(--store "sqlite:$dir/var/inbox.db")
    for k in $(seq "$nws"); do
        socks="$socks $dir/var/run/events-$k.sock"
    done

    cat >"$dir/nginx.conf" <<EOF
# generated by run-inbox.sh
load_module $module;
$user_line
worker_processes $w;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
thread_pool inbox threads=4 max_queue=4096;
events {
    worker_connections 4096;
}
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;

    inbox_store sqlite:$dir/var/inbox.db;
    inbox_thread_pool inbox;
    inbox_public_url http://127.0.0.1:$inbox_port;
    inbox_events_socket$socks;
    inbox_realtime_secret $dir/var/realtime.key;
    inbox_default_country US;
    inbox_ticket_rate off;          # 100 sockets per token at once

    server {
        # reuseport: the publisher's keep-alive connections are spread
        # over the workers (as in nchan/nginx.conf)
        listen 127.0.0.1:$inbox_port reuseport;
        location = /webhooks/twilio/inbound {
            client_body_buffer_size 64k;
            inbox_twilio_inbound;
        }
        location /api/v1/ {
            inbox_api;
        }
        location = /healthz {
            inbox_health;
        }
    }
}
EOF

    ws_pid=
    for k in $(seq "$nws"); do
        "$ws_server" --listen "127.0.0.1:$((ws_port + k - 1))" \
            --events "$dir/var/run/events-$k.sock" \
            --secret "$dir/var/realtime.key" "${ws_store[@]}" \
            2>>"$dir/ws-server.log" &
        ws_pid=${ws_pid:+$ws_pid,}$!
        pids_started+=("$!")
        wait_listening "$!" "$((ws_port + k - 1))" || {
            cat "$dir/ws-server.log" >&2; echo "ws-server did not start" >&2
            return 1; }
    done

    nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" \
        2>>"$dir/nginx.stderr" &
    m=$!
    pids_started+=("$m")
    wait_workers "$m" "$w" || true
    for _ in $(seq 100); do
        curl -fs -o /dev/null "http://127.0.0.1:$inbox_port/healthz" && break
        sleep 0.1
    done
    curl -fs -o /dev/null "http://127.0.0.1:$inbox_port/healthz" || {
        tail -5 "$dir/error.log" >&2; echo "nginx + inbox did not start" >&2
        return 1; }
    nginx_pids=$m,$(pgrep -P "$m" | paste -sd,)
}


# server case n channels rate secs rep ("-" for secs: connect only)
run_one() {
    local srv=$1 case=$2 n=$3 c=$4 r=$5 d=$6 rep=$7 log args pids
    local limit stored extra="" run_hex ws load
    case " ${only:-$srv} " in *" $srv "*) ;; *) return 0 ;; esac

    log=$out/$case-$srv-r$r-$rep.log
    ws=(--sub "ws://127.0.0.1:$ws_port/ws" --sub-protocol inbox.v1
        --sub-ticket "http://127.0.0.1:$inbox_port/api/v1/realtime/ticket"
        --sub-token-file "$tmp/tokens.txt" --sub-orgs "$tmp/orgs.txt"
        --count-type message.created)
    case $srv in
    null)
        start_null || { stop_servers; return 0; }
        pids=$server_pids
        args=(--sub "ws://127.0.0.1:$null_port/sub/${case}_%d"
              --pub "http://127.0.0.1:$null_port/pub/${case}_%d") ;;
    nchan)
        start_nchan 1 || { stop_servers; return 0; }
        pids=$server_pids
        args=(--sub "ws://127.0.0.1:$nchan_port/sub/${case}_%d"
              --pub "http://127.0.0.1:$nchan_port/pub/${case}_%d") ;;
    dgram1|dgram3)
        start_inbox 1 || { stop_servers; return 0; }
        pids=$ws_pid            # nginx only hands out tickets here
        args=("${ws[@]}" --publisher dgram --dgram-frames "${srv#dgram}"
              --pub "unix:$dir/var/run/events-1.sock"
              --pub-orgs "$tmp/orgs.txt") ;;
    full1|full2|full2ws2)
        case $srv in
        full2ws2) extra="ws=2"; start_inbox 2 2 store &&
                  ws+=(--sub-ports "$ws_port,$((ws_port + 1))") ;;
        *) start_inbox "${srv#full}" 1 store ;;
        esac || { stop_servers; return 0; }
        pids=$ws_pid,$nginx_pids
        args=("${ws[@]}" --publisher twilio
              --pub "http://127.0.0.1:$inbox_port/webhooks/twilio/inbound"
              --twilio-numbers "$tmp/numbers.txt")
        # warm-up: pool threads' SQLite connections, statements, pages
        "$wsbench" "${args[@]}" -n 1 -c 1 -r 200 -m 200 --settle 0 \
            --drain 1 >"$out/warmup-$case-$srv-$rep.log" 2>&1 || true ;;
    esac

    if [ "$d" = - ]; then
        args+=(-m 0 --settle "${SETTLE:-2}")
        limit=$((300 + ${SETTLE:-2}))
    else
        args+=(-r "$r" -d "$d")
        limit=$((d * 2 + 300))
    fi
    if [ -n "${FROM_DUE:-}" ]; then
        args+=(--from-due)
    fi

    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "== $case $srv (rep $rep): $n subscribers / $c channels," \
         "${r} msg/s for ${d} s, pids $pids, load $load" | tee "$log"
    timeout "$limit" "$wsbench" "${args[@]}" -n "$n" -c "$c" \
        --rss-pid "$pids" 2>&1 | tee -a "$log" || true

    if [ "${srv#full}" != "$srv" ] && [ "$d" != - ]; then
        # what the store holds of this run: every accepted webhook, once
        run_hex=$(sed -n 's/^wsbench: run \([0-9]*\):.*/\1/p' "$log" \
                  | head -1)
        run_hex=$(printf '%08x' "$((run_hex & 0xffffffff))")
        stored=$(sqlite3 "$dir/var/inbox.db" "SELECT count(*) || '/' ||
                 count(DISTINCT provider_id) FROM messages
                 WHERE provider_id LIKE 'SM${run_hex}%';" 2>/dev/null \
                 || echo "?/?")
        extra="$extra stored=$stored"
        echo "store: $stored rows/distinct MessageSids for run $run_hex" \
            | tee -a "$log"
    fi
    grep '^RESULT ' "$log" \
        | sed "s|^RESULT |RESULT case=$case server=$srv rep=$rep load=$load $extra |" \
        >>"$out/results.txt" || true

    stop_servers
    if [ -n "$dir" ] && [ -d "$dir" ]; then
        { grep -E '\[(alert|crit|emerg|error)\]' "$dir/error.log" 2>/dev/null \
              | head -5
          grep -vE 'listening on|^\s*$' "$dir/ws-server.log" 2>/dev/null \
              | sort | uniq -c | sort -rn | head -5
        } | sed "s/^/  [$case $srv] /" | tee -a "$log" >&2 || true
        cp "$dir/error.log" "$out/nginx-$case-$srv-r$r-$rep.error.log" \
            2>/dev/null || true
        cp "$dir/ws-server.log" "$out/ws-server-$case-$srv-r$r-$rep.log" \
            2>/dev/null || true
        rm -rf "$dir"
        dir=
    fi
    if [ "$srv" = nchan ]; then
        grep -E '\[(alert|crit|emerg|error)\]' \
            "$nchan_prefix/logs/error.log" 2>/dev/null \
            | grep -v 'setrlimit(RLIMIT_NOFILE' | head -3 >&2 || true
    fi
}

table() {
    python3 - "$1" <<'PY'
import os, statistics, sys
rows = {}
order = []
for line in open(sys.argv[1]):
    if not line.startswith("RESULT "):
        continue
    v = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    key = (v["case"], v["server"], v["rate"] if v["msgs"] != "0" else "-")
    if key not in rows:
        rows[key] = []
        order.append(key)
    rows[key].append(v)

def f(x):
    return float(x) if x not in ("", "-", None) else 0.0

def med(vals, scale=1.0, fmt="%.1f"):
    xs = [f(x) / scale for x in vals]
    m = statistics.median(xs)
    if len(xs) == 1:
        return fmt % m
    return (fmt + " [" + fmt + "-" + fmt + "]") % (m, min(xs), max(xs))

hdr = ("| case | server | msg/s | runs | subs ok / failed / closed | "
       "deliveries/s | missing | dup | p50 ms | p90 ms | p99 ms | "
       "p99.9 ms | max ms | pub late p99 ms | server CPU % | "
       "ws-server CPU % | wsbench sub CPU % | machine % | RSS/conn B |")
print(hdr)
print("|" + "---|" * (hdr.count("|") - 1))
for key in order:
    rs = rows[key]
    case, srv, rate = key
    conns = "%s / %s / %s" % (
        "+".join(sorted(set(r["established"] for r in rs))),
        sum(int(r["failed"]) for r in rs), sum(int(r["closed"]) for r in rs))
    ws = "-"
    if srv.startswith(("dgram", "full")):
        ws = med([sum(f(x) for x in r["srv_cpu_pids"].split("/")
                      [:int(r.get("ws", "1"))]) for r in rs], fmt="%.0f")
    if rate == "-":
        lat = ["-"] * 6
        deliv = miss = dup = "-"
    else:
        lat = [med([r[k] for r in rs], 1000.0) for k in
               ("p50_us", "p90_us", "p99_us", "p999_us", "max_us",
                "lag_p99_us")]
        deliv = med([r["deliv_per_s"] for r in rs], fmt="%.0f")
        miss = str(sum(int(r["missing"]) for r in rs))
        dup = str(sum(int(r["dup"]) for r in rs))
    print("| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | "
          "%s | %s | %s | %s | %s | %s | %s |" % (
              case, srv, rate, len(rs), conns, deliv, miss, dup, *lat,
              med([r["srv_cpu_pct"] for r in rs], fmt="%.0f"), ws,
              med([r["cpu_busiest_pct"] for r in rs], fmt="%.0f"),
              med([r["machine_pct"] for r in rs], fmt="%.0f"),
              med([r["rss_per_conn_b"] for r in rs], fmt="%.0f")))
stored = ["%s %s: %s of %s" % (k[0], k[1], r["stored"], r["accepted"])
          for k in order for r in rows[k] if "stored" in r]
if stored:
    print()
    print("full path, rows stored / distinct MessageSids of webhooks "
          "accepted: " + ", ".join(stored))
print("""
Median [min-max] over the runs; missing, dup, failed and closed are sums.
Latency: the publisher's write (POST, webhook or datagram) to the
subscriber's read.  pub late: how far the publisher fell behind its
schedule.  server CPU: all --rss-pid processes (nginx master + workers,
ws-server), %% of one core; ws-server CPU: ws-server alone.  wsbench sub
CPU: its busiest subscriber process.  machine: %% of both cores busy.
RSS/conn: server RSS growth per connection after connecting and SETTLE s
idle (%s; for full rows nginx + ws-server).""" % os.environ.get("SETTLE", "2"))
PY
}

make -s -C "$here" wsbench nullpush
mkdir -p "$out"
echo "results: $out; inbox: $root ($(git -C "$root" rev-parse --short HEAD \
     2>/dev/null || echo '?')); RLIMIT_NOFILE $(ulimit -n)"
echo "== store: 190 organizations, numbers and API tokens"
make_template 190

case_b() {
    local rep srv
    for rep in $(seq "$reps"); do
        for srv in null nchan dgram1 dgram3 full1 full2; do
            run_one "$srv" b 10000 100 200 20 "$rep"
        done
    done
}

case_rates() {
    local rep srv r
    for rep in $(seq "$reps"); do
        for r in ${RATES:-200 1000}; do
            for srv in null nchan dgram1 dgram3 full1 full2 full2ws2; do
                run_one "$srv" rates 10000 100 "$r" "${DURATION:-10}" "$rep"
            done
        done
    done
}

case_memory() {
    local rep srv
    for rep in $(seq "$reps"); do
        for srv in ${MEMORY_SERVERS:-nchan dgram1}; do
            run_one "$srv" mem 19000 190 0 - "$rep"
        done
    done
}

case_sweep() {
    local rep r srv
    for rep in $(seq "$reps"); do
        for srv in ${SWEEP_SERVERS:-dgram1}; do
            for r in ${SWEEP_RATES:-200 400 700 1000}; do
                run_one "$srv" sweep 10000 100 "$r" 10 "$rep"
            done
        done
    done
}

case $what in
all)    case_b; case_memory; case_sweep ;;
b)      case_b ;;
rates)  case_rates ;;
memory) case_memory ;;
sweep)  case_sweep ;;
smoke)
    for srv in null nchan dgram1 dgram3 full1 full2 full2ws2; do
        run_one "$srv" smoke 1000 10 100 3 1
    done ;;
*)      echo "usage: $0 [all|b|rates|memory|sweep|smoke]" >&2; exit 1 ;;
esac

echo
echo "results: $out"
table "$out/results.txt" | tee "$out/table.txt"
