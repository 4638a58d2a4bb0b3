// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.0;

/// @title The ledger dApp's operations, as ABI calls.
/// @notice Send `abi.encodeCall(ILedger.<fn>, (...))` as the payload of `InputBox.addInput`.
/// The acting account is always the input's `msg_sender`; no argument can name who pays.
/// Amounts are base units. Withdrawals go to `msg_sender` on L1 through a voucher that is
/// emitted when the withdrawal's block is sealed.
/// Nothing implements this interface on chain: it documents the payload layout.
interface ILedger {
    function transferEther(address to, uint256 amount) external;
    function transferCoin(address to, uint256 amount) external;
    function transferERC20(address token, address to, uint256 amount) external;
    function transferERC721(address token, address to, uint256 tokenId) external;
    function transferERC1155(address token, address to, uint256 tokenId, uint256 amount) external;

    function withdrawEther(uint256 amount) external;
    function withdrawERC20(address token, uint256 amount) external;
    function withdrawERC721(address token, uint256 tokenId) external;
    function withdrawERC1155(address token, uint256 tokenId, uint256 amount) external;

    /// Seals a block now (possibly empty); the caller is the miner and earns the block reward.
    function mine() external;
}
