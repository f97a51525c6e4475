//! The files the demo's tasks create: for each, the group whose gate first
//! checks it, the line `tests/run.sh` looks for, and the content the
//! simulated agent writes (a first draft that fails the gate, for the one
//! task a repair agent mends).

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

/// Every file the demo's tasks create, in roadmap order (a split task's
/// sub-tasks' files in its place).
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
    // D1 splits itself into these three (see `super::split`): its
    // sub-roadmap's groups are gated in turn.
    DemoFile {
        group: "PHASE_2:D:D1/1:A",
        task: "A1",
        path: "src/checkout/validate.js",
        check: "export function assertCanCheckOut(cart) {",
        content: r#"// The rules a cart must meet before it becomes an order.
export function assertCanCheckOut(cart) {
  if (cart.lines.size === 0) throw new Error("cannot check out an empty cart");
}
"#,
        first_draft: None,
    },
    DemoFile {
        group: "PHASE_2:D:D1/1:A",
        task: "A2",
        path: "src/checkout/orders.js",
        check: "export function nextOrderId() {",
        content: r#"// Order numbers: ORD-1000, ORD-1001, ... in the order they are placed.
let nextOrder = 1000;

export function nextOrderId() {
  return `ORD-${nextOrder++}`;
}
"#,
        first_draft: None,
    },
    DemoFile {
        group: "PHASE_2:D:D1/1:B",
        task: "B1",
        path: "src/checkout.js",
        check: "export function placeOrder(cart, discountCode = \"\") {",
        content: r#"// Checkout: turns a cart into an order with its final total.
import { cartTotalCents } from "./cart.js";
import { applyDiscount } from "./discounts.js";
import { assertCanCheckOut } from "./checkout/validate.js";
import { nextOrderId } from "./checkout/orders.js";

export function placeOrder(cart, discountCode = "") {
  assertCanCheckOut(cart);
  const subtotalCents = cartTotalCents(cart);
  const totalCents = applyDiscount(subtotalCents, discountCode);
  return { id: nextOrderId(), lines: [...cart.lines], subtotalCents, totalCents };
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
