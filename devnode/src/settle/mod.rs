//! Settlement on the dev node: epochs, claims through the application's Authority, and the
//! proofs that make vouchers executable and notices valid on L1.

pub mod merkle;
