//! Integration tests of the dev node.
