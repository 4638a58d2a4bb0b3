//! L1: anvil, the Rollups contracts, and the InputBox watcher.
