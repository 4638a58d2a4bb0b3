//! Byte-exact tests of the rollup protocol layouts.
