# Convenience recipes; each is a plain cargo command (see README).

build:
    cargo build --release

test:
    cargo test

lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

bench:
    cargo bench --bench parse
    benches/runner-vs-xargs

demo:
    cargo run -- -C . --roadmap ROADMAP.example.md validate
    cargo run -- -C . --roadmap ROADMAP.example.md status
