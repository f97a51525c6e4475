//! The demo project: a tiny JavaScript shop with a 2-phase roadmap, created in
//! a temporary directory beside a bare `origin.git`, with one commit pushed.
//!
//! Everything the demo needs is here and consistent by construction: the
//! roadmap names one file per task (`Create file: src/cart.js`), the
//! simulated agent writes that file with the content listed in [`FILES`], and
//! `tests/run.sh` (the gate, plain `sh`) checks each file for the line listed
//! beside it.

use super::DemoError;
use crate::config::GitSettings;
use crate::vcs::Repo;
use git2::{Repository, RepositoryInitOptions};
use std::path::{Path, PathBuf};

/// The project directory's name inside the temporary directory.
pub const PROJECT_DIR: &str = "shop";
/// The bare repository that stands in for the remote.
pub const ORIGIN_DIR: &str = "origin.git";
/// The subcommand that makes this binary the demo's agent.
pub const AGENT_SUBCOMMAND: &str = "__simulate-agent";
pub const BRANCH: &str = "main";
pub const INITIAL_COMMIT: &str = "Initial commit: Tiny Shop skeleton, roadmap and checks";

/// A file one task of the demo roadmap creates.
#[derive(Debug, Clone, Copy)]
pub struct DemoFile {
    /// The group whose gate first checks it, as in `status/completed_tasks.txt`.
    pub group: &'static str,
    pub task: &'static str,
    pub path: &'static str,
    /// A line the file must contain: what `tests/run.sh` checks.
    pub check: &'static str,
    pub content: &'static str,
    /// What the task's agent writes first, when it gets the file wrong: the
    /// gate fails on it and a repair agent writes `content`.
    pub first_draft: Option<&'static str>,
}

/// The content of a file the demo roadmap plans, by its path.
pub fn planned_file(path: &str) -> Option<&'static DemoFile> {
    FILES.iter().find(|f| f.path == path)
}

/// Every file the demo's tasks create, in roadmap order.
pub const FILES: &[DemoFile] = &[
    DemoFile {
        group: "PHASE_1:A",
        task: "A1",
        path: "src/catalog.js",
        check: "export function findProduct(id) {",
        content: r#"// The product catalog: everything the shop sells, prices in cents.
export const products = [
  { id: "mug", name: "Coffee mug", priceCents: 1250 },
  { id: "tee", name: "T-shirt", priceCents: 1900 },
  { id: "stickers", name: "Sticker pack", priceCents: 450 },
];

export function listProducts() {
  return products.slice();
}

export function findProduct(id) {
  return products.find((p) => p.id === id) ?? null;
}
"#,
        first_draft: None,
    },
    DemoFile {
        group: "PHASE_1:A",
        task: "A2",
        path: "src/money.js",
        check: "export function formatPrice(cents) {",
        content: r#"// Money formatting: amounts are integer cents everywhere, shown as $12.50.
export function formatPrice(cents) {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100);
  const rest = String(abs % 100).padStart(2, "0");
  return `${sign}$${dollars}.${rest}`;
}
"#,
        first_draft: None,
    },
    DemoFile {
        group: "PHASE_1:B",
        task: "B1",
        path: "src/pages/products.js",
        check: "export function renderProductList() {",
        content: r#"// The product list page: every product with its price.
import { listProducts } from "../catalog.js";
import { formatPrice } from "../money.js";

export function renderProductList() {
  const items = listProducts()
    .map((p) => `  <li data-id="${p.id}">${p.name} <b>${formatPrice(p.priceCents)}</b></li>`)
    .join("\n");
  return `<ul class="products">\n${items}\n</ul>`;
}
"#,
        first_draft: None,
    },
    DemoFile {
        group: "PHASE_1:B",
        task: "B2",
        path: "src/search.js",
        check: "export function searchProducts(query) {",
        content: r#"// Search: the products whose name contains the query, ignoring case.
import { listProducts } from "./catalog.js";

export function searchProducts(query) {
  const q = query.trim().toLowerCase();
  if (q === "") return listProducts();
  return listProducts().filter((p) => p.name.toLowerCase().includes(q));
}
"#,
        first_draft: None,
    },
    DemoFile {
        group: "PHASE_2:C",
        task: "C1",
        path: "src/cart.js",
        check: "export function cartTotalCents(cart) {",
        content: r#"// The cart: product ids with quantities; the total comes from the catalog.
import { findProduct } from "./catalog.js";

export function createCart() {
  return { lines: new Map() };
}

export function addToCart(cart, productId, quantity = 1) {
  if (!findProduct(productId)) throw new Error(`unknown product: ${productId}`);
  cart.lines.set(productId, (cart.lines.get(productId) ?? 0) + quantity);
  return cart;
}

export function removeFromCart(cart, productId) {
  cart.lines.delete(productId);
  return cart;
}

export function cartTotalCents(cart) {
  let total = 0;
  for (const [id, quantity] of cart.lines) total += findProduct(id).priceCents * quantity;
  return total;
}
"#,
        first_draft: None,
    },
    DemoFile {
        group: "PHASE_2:C",
        task: "C2",
        path: "src/pages/cart.js",
        check: "export function renderCart(cart) {",
        content: r#"// The cart page: one row per product, then the total.
import { findProduct } from "../catalog.js";
import { cartTotalCents } from "../cart.js";
import { formatPrice } from "../money.js";

export function renderCart(cart) {
  if (cart.lines.size === 0) return `<p class="cart-empty">Your cart is empty.</p>`;
  const rows = [...cart.lines]
    .map(([id, quantity]) => {
      const p = findProduct(id);
      return `  <tr><td>${p.name}</td><td>${quantity}</td><td>${formatPrice(p.priceCents * quantity)}</td></tr>`;
    })
    .join("\n");
  return `<table class="cart">\n${rows}\n</table>\n<p>Total: ${formatPrice(cartTotalCents(cart))}</p>`;
}
"#,
        first_draft: None,
    },
    DemoFile {
        group: "PHASE_2:C",
        task: "C3",
        path: "src/discounts.js",
        // The demo's one mistake: the function is misnamed, the gate says so,
        // and the repair agent mends it.
        check: "export function applyDiscount(totalCents, code) {",
        content: r#"// Discount codes: a percentage off the cart total, rounded down to the cent.
const CODES = { WELCOME10: 10, FRIENDS20: 20 };

export function isValidCode(code) {
  return Object.hasOwn(CODES, code.trim().toUpperCase());
}

export function applyDiscount(totalCents, code) {
  const percent = CODES[code.trim().toUpperCase()] ?? 0;
  return totalCents - Math.floor((totalCents * percent) / 100);
}
"#,
        first_draft: Some(
            r#"// Discount codes: a percentage off the cart total, rounded down to the cent.
const CODES = { WELCOME10: 10, FRIENDS20: 20 };

export function applyDiscounts(totalCents, code) {
  const percent = CODES[code.trim().toUpperCase()] ?? 0;
  return totalCents - Math.floor((totalCents * percent) / 100);
}
"#,
        ),
    },
    DemoFile {
        group: "PHASE_2:D",
        task: "D1",
        path: "src/checkout.js",
        check: "export function placeOrder(cart, discountCode = \"\") {",
        content: r#"// Checkout: turns a cart into an order with its final total.
import { cartTotalCents } from "./cart.js";
import { applyDiscount } from "./discounts.js";

let nextOrder = 1000;

export function placeOrder(cart, discountCode = "") {
  if (cart.lines.size === 0) throw new Error("cannot check out an empty cart");
  const subtotalCents = cartTotalCents(cart);
  const totalCents = applyDiscount(subtotalCents, discountCode);
  return { id: `ORD-${nextOrder++}`, lines: [...cart.lines], subtotalCents, totalCents };
}
"#,
        first_draft: None,
    },
    DemoFile {
        group: "PHASE_2:D",
        task: "D2",
        path: "src/email.js",
        check: "export function confirmationEmail(order) {",
        content: r#"// The order confirmation email, as plain text.
import { formatPrice } from "./money.js";

export function confirmationEmail(order) {
  return [
    `Thank you for your order ${order.id}!`,
    "",
    `Items: ${order.lines.length}`,
    `Total paid: ${formatPrice(order.totalCents)}`,
    "",
    "Tiny Shop",
  ].join("\n");
}
"#,
        first_draft: None,
    },
];

/// The demo roadmap: all three task syntaxes, group annotations, phase
/// deliverables, and one `Create file:` line per task (a table column for the
/// table rows).
pub const ROADMAP: &str = r#"# Tiny Shop

A small web shop in plain JavaScript modules: a product catalog, search, a
cart and a checkout. Conventions: ES modules under `src/`, one module per
feature, prices as integer cents. `sh tests/run.sh` checks the work after
every group.

## Phase 1: Catalog

Products and prices: everything later builds on them.

**Phase 1 Deliverables:**
- A product catalog with prices in cents
- Prices formatted the same way on every page
- A product list page and a search

### Group A: Foundations (Parallel)

| Task | Create file | Notes |
|------|-------------|-------|
| **A1: Product catalog** | `src/catalog.js` | Three products; `listProducts()` and `findProduct(id)` |
| **A2: Money formatting** | `src/money.js` | `formatPrice(cents)` gives `$12.50` |

### Group B: Browsing (Parallel, after A)

- **B1**: Product list page
  - Create file: `src/pages/products.js`
  - Every product with its formatted price
- **B2**: Search
  - Create file: `src/search.js`
  - Case-insensitive match on product names; an empty query lists everything

## Phase 2: Checkout

From a cart to a confirmed order.

**Phase 2 Deliverables:**
- A cart with quantities and a total
- Discount codes
- Orders with a confirmation email

### Group C: Cart (Parallel)

#### C1: Cart

Create file: `src/cart.js`

Add and remove products; the total in cents comes from the catalog.

#### C2: Cart page

Create file: `src/pages/cart.js`

One row per product with its quantity, then the total; a message when the cart is empty.

#### C3: Discount codes

Create file: `src/discounts.js`

`WELCOME10` and `FRIENDS20` take 10% and 20% off, rounded down to the cent.

### Group D: Orders (after C)

- [ ] D1 — Checkout
  - Create file: `src/checkout.js`
  - Refuse an empty cart; apply the discount code to the total
- [ ] D2 — Confirmation email
  - Create file: `src/email.js`
  - Plain text: the order number, the number of items, the total paid
"#;

const README: &str = "# Tiny Shop

A small web shop in plain JavaScript modules, built by coding agents from
[ROADMAP.md](ROADMAP.md) with roadmap-runner. `sh tests/run.sh` checks it.
";

const PACKAGE_JSON: &str = r#"{
  "name": "tiny-shop",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": {
    "test": "sh tests/run.sh"
  }
}
"#;

/// `tests/run.sh`: the gate. Plain `sh`, checking the files of every group
/// up to the one being gated, the first group not yet listed in
/// `status/completed_tasks.txt` (the runner records a group there only after
/// its gate passed).
pub fn run_sh() -> String {
    let mut s = String::from(
        r#"#!/bin/sh
# The shop's checks. roadmap-runner runs them as the gate after every group
# (roadmap-runner.toml, [[gate.steps]]); `roadmap-runner gate` runs them alone.
#
# Each group of ROADMAP.md adds modules. The checks of a group run once the
# runner has reached it: the groups in status/completed_tasks.txt are done, and
# the first group that is not there is the one being checked now; the checks
# stop after it.
set -u
failed=0
current=""

check() { # FILE LINE: FILE exists and contains LINE
  if [ ! -f "$1" ]; then
    echo "FAIL $1: missing"
    failed=1
  elif ! grep -qF -- "$2" "$1"; then
    echo "FAIL $1: does not contain: $2"
    failed=1
  else
    echo "ok   $1"
  fi
}

finish() {
  if [ "$failed" -eq 0 ]; then echo "all checks passed"; fi
  exit "$failed"
}

group() { # PHASE_N:X: start the checks of this group, or stop after the current one
  if [ -n "$current" ]; then finish; fi
  if ! tr -d ' \t\r' < status/completed_tasks.txt 2>/dev/null | grep -qix -- "$1"; then
    current=$1
  fi
  echo "== $1"
}
"#,
    );
    let mut last_group = "";
    for f in FILES {
        if f.group != last_group {
            s.push_str(&format!("\ngroup {}\n", f.group));
            last_group = f.group;
        }
        s.push_str(&format!(
            "check {} {}\n",
            shell_quote(f.path),
            shell_quote(f.check)
        ));
    }
    s.push_str("\nfinish\n");
    s
}

/// Single-quoted for `sh`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `roadmap-runner.toml`: this binary as the agent, the real gate.
/// `IS_SANDBOX=1` is set for the agents only when running as root, where
/// `--dangerously-skip-permissions` needs it (the runner's preflight checks
/// it, and the simulated agent refuses without it, as Claude Code does).
pub fn config_toml(exe: &Path, is_root: bool) -> Result<String, DemoError> {
    let exe = exe.to_str().ok_or_else(|| DemoError::Io {
        context: format!("the path of this program, {}", exe.display()),
        source: std::io::Error::other("it is not valid UTF-8"),
    })?;
    let command = [
        exe,
        AGENT_SUBCOMMAND,
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--dangerously-skip-permissions",
    ]
    .iter()
    .map(|a| toml_string(a))
    .collect::<Vec<_>>()
    .join(", ");
    let env = if is_root {
        "# Running as root: Claude Code (and the simulation) refuse\n\
         # --dangerously-skip-permissions there unless IS_SANDBOX=1.\n\
         env = { IS_SANDBOX = \"1\" }\n"
    } else {
        ""
    };
    Ok(format!(
        r#"# roadmap-runner settings of the demo shop.

[run]
max_parallel = 3
timeout = "2m"
grace_period = "2s"

[agent]
# The agent is roadmap-runner itself in a simulation mode: it reads the prompt
# on stdin like `claude -p --output-format stream-json --verbose`, prints the
# same stream-json events, and writes the file its task names. For real work,
# delete `command` and `output`: Claude Code is the default agent.
command = [{command}]
output = "stream-json"
{env}
[[gate.steps]]
name = "test"
command = "sh tests/run.sh"
"#
    ))
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The demo's temporary directory: `origin.git` and the project `shop/`.
/// Dropping it deletes everything; [`DemoProject::keep`] keeps it.
pub struct DemoProject {
    tmp: tempfile::TempDir,
    /// The temporary directory (canonical).
    pub root: PathBuf,
    pub shop: PathBuf,
    pub origin: PathBuf,
}

impl DemoProject {
    /// Keeps the directory on disk; returns its path.
    pub fn keep(self) -> PathBuf {
        let _ = self.tmp.keep();
        self.root
    }

    /// Deletes the directory now, reporting failure (a drop would not).
    pub fn remove(self) -> std::io::Result<()> {
        self.tmp.close()
    }
}

/// Creates the demo in a new temporary directory: the bare `origin.git`, the
/// project `shop/` (branch `main`, a local identity) with the roadmap, the
/// settings, the checks and a first commit pushed to origin, upstream set.
/// `exe` is the program the agents run as (this binary).
pub fn create(exe: &Path) -> Result<DemoProject, DemoError> {
    let tmp = tempfile::Builder::new()
        .prefix("roadmap-runner-demo-")
        .tempdir()
        .map_err(DemoError::io("cannot create a temporary directory"))?;
    let root = tmp
        .path()
        .canonicalize()
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let shop = root.join(PROJECT_DIR);
    let origin = root.join(ORIGIN_DIR);

    let mut opts = RepositoryInitOptions::new();
    opts.bare(true).initial_head(BRANCH);
    Repository::init_opts(&origin, &opts).map_err(DemoError::git(format!(
        "git init --bare {}",
        origin.display()
    )))?;

    let mut opts = RepositoryInitOptions::new();
    opts.initial_head(BRANCH);
    let repo = Repository::init_opts(&shop, &opts)
        .map_err(DemoError::git(format!("git init {}", shop.display())))?;
    {
        let mut config = repo
            .config()
            .and_then(|c| c.open_level(git2::ConfigLevel::Local))
            .map_err(DemoError::git("cannot open the repository's config"))?;
        for (key, value) in [
            ("user.name", "Roadmap Runner Demo"),
            ("user.email", "demo@roadmap-runner.invalid"),
            ("commit.gpgsign", "false"),
        ] {
            config
                .set_str(key, value)
                .map_err(DemoError::git(format!("git config {key}")))?;
        }
    }
    let is_root = crate::exec::unix::running_as_root();
    let files = [
        ("README.md", README.to_string()),
        ("ROADMAP.md", ROADMAP.to_string()),
        ("package.json", PACKAGE_JSON.to_string()),
        ("roadmap-runner.toml", config_toml(exe, is_root)?),
        ("tests/run.sh", run_sh()),
    ];
    for (rel, text) in files {
        let path = shop.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(DemoError::io(format!("cannot create {}", dir.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(DemoError::io(format!("cannot write {}", path.display())))?;
    }
    let origin_url = origin
        .to_str()
        .ok_or_else(|| DemoError::Git {
            context: "git remote add origin".into(),
            message: format!("{} is not valid UTF-8", origin.display()),
        })?
        .to_string();
    repo.remote("origin", &origin_url)
        .map_err(DemoError::git("git remote add origin"))?;
    drop(repo);

    let vcs_err = |context: &str| {
        let context = context.to_string();
        move |e: crate::vcs::VcsError| DemoError::Git {
            context,
            message: e.to_string(),
        }
    };
    let repo = Repo::open(&shop).map_err(vcs_err("cannot open the project"))?;
    repo.commit_all(INITIAL_COMMIT)
        .map_err(vcs_err("git commit"))?;
    repo.push(&GitSettings::default())
        .map_err(vcs_err("git push -u origin main"))?;
    Ok(DemoProject {
        tmp,
        root,
        shop,
        origin,
    })
}

/// `git log --oneline` of `main` in the bare origin: short id and subject,
/// newest first.
pub fn remote_log(origin: &Path) -> Result<Vec<(String, String)>, DemoError> {
    let repo = Repository::open_bare(origin)
        .map_err(DemoError::git(format!("cannot open {}", origin.display())))?;
    let mut walk = repo
        .revwalk()
        .map_err(DemoError::git("cannot walk the remote's history"))?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)
        .map_err(DemoError::git("cannot walk the remote's history"))?;
    walk.push_ref(&format!("refs/heads/{BRANCH}"))
        .map_err(DemoError::git(format!("the remote has no branch {BRANCH}")))?;
    let mut lines = Vec::new();
    for id in walk {
        let id = id.map_err(DemoError::git("cannot walk the remote's history"))?;
        let commit = repo
            .find_commit(id)
            .map_err(DemoError::git("cannot read a commit"))?;
        let short = id.to_string()[..7].to_string();
        lines.push((
            short,
            String::from_utf8_lossy(commit.summary_bytes().unwrap_or_default()).into_owned(),
        ));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roadmap::parse;

    #[test]
    fn the_roadmap_plans_exactly_the_catalog_files() {
        let parsed = parse(ROADMAP);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let r = &parsed.roadmap;
        assert_eq!(r.phases.len(), 2);
        assert_eq!(r.group_count(), 4);
        assert_eq!(r.task_count(), FILES.len());
        for f in FILES {
            let line = format!("Create file: `{}`", f.path);
            let cell = format!("| `{}` |", f.path);
            assert!(
                ROADMAP.contains(&line) || ROADMAP.contains(&cell),
                "{} is not in the roadmap",
                f.path
            );
            assert!(f.content.contains(f.check), "{}", f.path);
        }
    }

    #[test]
    fn run_sh_checks_every_file_by_group() {
        let s = run_sh();
        for f in FILES {
            assert!(s.contains(&format!("check '{}' ", f.path)), "{s}");
        }
        for g in ["PHASE_1:A", "PHASE_1:B", "PHASE_2:C", "PHASE_2:D"] {
            assert!(s.contains(&format!("\ngroup {g}\n")), "{s}");
        }
    }

    #[test]
    fn config_is_valid_and_quotes_the_program_path() {
        let text = config_toml(Path::new("/opt/my \"tools\"/roadmap-runner"), true).unwrap();
        let file = crate::config::FileConfig::parse(&text, Path::new("x.toml")).unwrap();
        let cmd = file.agent.command.unwrap();
        assert_eq!(cmd[0], "/opt/my \"tools\"/roadmap-runner");
        assert_eq!(cmd[1], AGENT_SUBCOMMAND);
        assert_eq!(
            file.agent.env.get("IS_SANDBOX").map(String::as_str),
            Some("1")
        );
        assert_eq!(file.run.max_parallel, Some(3));
        let text = config_toml(Path::new("/bin/rr"), false).unwrap();
        let file = crate::config::FileConfig::parse(&text, Path::new("x.toml")).unwrap();
        assert!(file.agent.env.is_empty());
    }
}
