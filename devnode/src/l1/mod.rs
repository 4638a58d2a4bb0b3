//! L1: anvil, the Rollups v1 contracts at their canonical addresses, the application, test
//! tokens (Cartesi CLI 1.x's devnet tokens among them), and the InputBox watcher.
//!
//! Everything here talks to the chain through [`Rpc`], a small JSON-RPC client; contracts come
//! from the pinned npm packages under `devnode/npm/node_modules` ([`NodeModules`]). Deployment is
//! idempotent: every contract lands at a deterministic CREATE2 address and is skipped when that
//! address already has code, so a restarted node on an existing chain reuses what is there.

mod addresses;
mod anvil;
mod artifacts;
mod claims;
mod deploy;
mod error;
mod inputs;
mod rpc;
mod v2;
mod v2_calls;

pub use addresses::{checksum, keccak256, AddressBook, Application, CliDevnetTokens, RollupsV1, TestTokens};
pub use anvil::{Anvil, AnvilConfig};
pub use artifacts::{Artifact, NodeModules, NPM_HINT};
pub(crate) use claims::claim_context;
pub use claims::{get_claim, submit_claim, Claim};
pub(crate) use deploy::mine_every;
pub use deploy::{
    deploy_application, deploy_cli_devnet_tokens, deploy_devnet, deploy_rollups_v1, owner_of, write_deployment_files,
    DEVNET_ACCOUNT_0, DEVNET_CLAIMER,
};
pub use error::L1Error;
pub use inputs::{
    add_input, decode_input_added, deposit_ether, input_added_event, input_added_topic, number_of_inputs, EvmAdvance,
    InputEvent, InputWatcher, Submitted, INPUT_ADDED_SIGNATURE,
};
pub use rpc::{Log, Receipt, Rpc, TxRequest};
pub use v2::{
    deploy_application_v2, deploy_devnet_v2, deploy_rollups_v2, input_box_data_availability, write_deployment_files_v2,
    write_rollups_json, AddressBookV2, ApplicationV2, RollupsV2, APPLICATION_NAME,
};
pub use v2_calls::{
    accepted_claim_v2, add_input_v2, deposit_erc20_v2, deposit_ether_v2, execute_output_calldata, input_added_v2_topic,
    is_root_valid_v2, submit_claim_v2, validate_output_calldata, was_output_executed, SubmittedV2,
};

pub use ethabi::ethereum_types::{Address, H256, U256};
