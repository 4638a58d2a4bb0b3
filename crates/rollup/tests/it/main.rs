//! Byte-exact tests of the rollup protocol layouts.

mod portals;
mod vouchers;
