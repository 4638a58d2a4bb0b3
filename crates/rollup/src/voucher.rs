//! Withdrawal vouchers.

use ethabi::Token;
use ledger::{Address, Asset, U256};

use crate::wire::{HexBytes, RollupsVersion, Voucher};

/// `transfer(address,uint256)`
pub const ERC20_TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// `safeTransferFrom(address,address,uint256)`
pub const ERC721_SAFE_TRANSFER_FROM: [u8; 4] = [0x42, 0x84, 0x2e, 0x0e];
/// `safeTransferFrom(address,address,uint256,uint256,bytes)`
pub const ERC1155_SAFE_TRANSFER_FROM: [u8; 4] = [0xf2, 0x42, 0x43, 0x2a];
/// `withdrawEther(address,uint256)` of the v1 CartesiDApp.
pub const WITHDRAW_ETHER: [u8; 4] = [0x52, 0x2f, 0x68, 0x15];

fn call(selector: [u8; 4], args: &[Token]) -> HexBytes {
    let mut out = selector.to_vec();
    out.extend(ethabi::encode(args));
    HexBytes(out)
}

/// The voucher that pays `receiver` on L1 for a confirmed withdrawal, or `None` for COIN,
/// which never leaves the ledger.
///
/// - ERC-20: to the token, `transfer(receiver, amount)`.
/// - ERC-721: to the token, `safeTransferFrom(dapp, receiver, id)`.
/// - ERC-1155: to the token, `safeTransferFrom(dapp, receiver, id, amount, "")`.
/// - Ether v1: to the dApp itself, `withdrawEther(receiver, amount)`.
/// - Ether v2: to the receiver with `value = amount` and an empty payload.
///
/// v2 vouchers always carry `value` as 32 bytes (zero for tokens); v1 vouchers never do.
pub fn withdrawal_voucher(
    version: RollupsVersion,
    dapp: Address,
    receiver: Address,
    asset: &Asset,
    amount: U256,
) -> Option<Voucher> {
    let (destination, payload, value) = match *asset {
        Asset::Coin => return None,
        Asset::Erc20(token) => {
            (token, call(ERC20_TRANSFER, &[Token::Address(receiver.to_ethabi()), Token::Uint(amount)]), U256::zero())
        }
        Asset::Erc721(token, id) => {
            let args = [Token::Address(dapp.to_ethabi()), Token::Address(receiver.to_ethabi()), Token::Uint(id)];
            (token, call(ERC721_SAFE_TRANSFER_FROM, &args), U256::zero())
        }
        Asset::Erc1155(token, id) => {
            let args = [
                Token::Address(dapp.to_ethabi()),
                Token::Address(receiver.to_ethabi()),
                Token::Uint(id),
                Token::Uint(amount),
                Token::Bytes(Vec::new()),
            ];
            (token, call(ERC1155_SAFE_TRANSFER_FROM, &args), U256::zero())
        }
        Asset::Eth => match version {
            RollupsVersion::V1 => {
                (dapp, call(WITHDRAW_ETHER, &[Token::Address(receiver.to_ethabi()), Token::Uint(amount)]), U256::zero())
            }
            RollupsVersion::V2 => (receiver, HexBytes(Vec::new()), amount),
        },
    };
    let value = (version == RollupsVersion::V2).then(|| HexBytes::u256(value));
    Some(Voucher { destination, value, payload })
}
