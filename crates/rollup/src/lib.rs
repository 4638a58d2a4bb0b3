//! Cartesi Rollups protocol types, shared by the backend (`dapp`) and the dev node.
//!
//! - [`wire`]: the JSON of the rollup HTTP API (requests from `/finish`, output bodies), with
//!   typed hex and addresses, in both the Rollups v1 and v2 shapes;
//! - [`portals`]: canonical portal addresses and the byte layouts of their deposit payloads;
//! - [`voucher`]: withdrawal vouchers, ABI-encoded with `ethabi`, in v1 and v2 forms;
//! - [`status`]: where an input is in its life, as a node keeps and shows it.
//!
//! Nothing here does I/O.

#![warn(unreachable_pub)]

pub mod portals;
pub mod status;
pub mod voucher;
pub mod wire;

pub use portals::{decode_deposit, PortalAddresses, PortalKind};
pub use status::InputStatus;
pub use voucher::withdrawal_voucher;
pub use wire::{Advance, AdvanceMetadata, HexBytes, Inspect, OutputKind, RollupRequest, RollupsVersion, Voucher};
