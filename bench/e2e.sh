# bench/e2e.sh: sourced by the end-to-end benches' wrappers
# (bench/replies, bench/campaign, bench/soak): checks the tools they
# need, then builds.  e2e_prepare NAME (NAME for the messages).

e2e_prepare() {
    local tool
    for tool in node nginx sqlite3; do
        if ! command -v "$tool" >/dev/null; then
            echo "bench/$1: $tool is missing (scripts/install-deps)" >&2
            exit 1
        fi
    done
    if [ ! -e tests/node_modules/ws ]; then
        echo "bench/$1: tests/node_modules is missing" \
             "(cd tests && npm ci)" >&2
        exit 1
    fi
    echo "== building" >&2
    make --no-print-directory -s all >&2
}
