# Convenience recipes; each is a plain command (see README).

build:
    cargo build --release

# The README's test command: installs what the tests need, then cargo test --locked.
test:
    script/test

lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

bench:
    cargo bench --bench parse
    benches/runner-vs-xargs
    benches/serve-load --binary target/release/roadmap-runner
    benches/isolation-cost
    benches/cluster-scale

# The README's first command: the whole job on a tiny shop in a temp directory.
demo *ARGS:
    cargo run --release -- demo {{ARGS}}
