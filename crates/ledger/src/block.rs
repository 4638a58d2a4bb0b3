//! Block headers: the fixed binary layout, hashing, and the proof-of-work search.

use crate::merkle::{compress, sha256};
use crate::types::{u256_be, Address, Hash, U256};

/// Encoded header length in bytes.
pub const HEADER_LEN: usize = 200;
/// Offset of the nonce: the bytes before it are exactly three 64-byte SHA-256 blocks.
pub const NONCE_OFFSET: usize = 192;
/// The only header version this ledger writes and accepts.
pub const HEADER_VERSION: u32 = 1;

/// A block header. Layout (big-endian, offsets in bytes):
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | version |
/// | 4 | 8 | height |
/// | 12 | 8 | timestamp (seconds, from the sealing input's metadata) |
/// | 20 | 4 | difficulty (required leading zero bits of the block hash) |
/// | 24 | 4 | tx_count |
/// | 28 | 20 | miner |
/// | 48 | 32 | reward (COIN base units credited to the miner) |
/// | 80 | 32 | prev_hash |
/// | 112 | 32 | tx_root |
/// | 144 | 32 | state_root |
/// | 176 | 16 | reserved, zero |
/// | 192 | 8 | nonce |
///
/// The block hash is `sha256` of these 200 bytes. Everything before the nonce fills three whole
/// SHA-256 blocks, so a nonce try costs one compression from a cached midstate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    pub height: u64,
    pub timestamp: u64,
    pub difficulty: u32,
    pub tx_count: u32,
    pub miner: Address,
    pub reward: U256,
    pub prev_hash: Hash,
    pub tx_root: Hash,
    pub state_root: Hash,
    pub nonce: u64,
}

/// Why a header failed to decode or verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderError {
    Length(usize),
    Version(u32),
    Reserved,
    ProofOfWork { difficulty: u32, hash: Hash },
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderError::Length(n) => write!(f, "header is {n} bytes, expected {HEADER_LEN}"),
            HeaderError::Version(v) => write!(f, "unsupported header version {v}"),
            HeaderError::Reserved => write!(f, "reserved header bytes are not zero"),
            HeaderError::ProofOfWork { difficulty, hash } => {
                write!(f, "hash {hash} has fewer than {difficulty} leading zero bits")
            }
        }
    }
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&self.version.to_be_bytes());
        b[4..12].copy_from_slice(&self.height.to_be_bytes());
        b[12..20].copy_from_slice(&self.timestamp.to_be_bytes());
        b[20..24].copy_from_slice(&self.difficulty.to_be_bytes());
        b[24..28].copy_from_slice(&self.tx_count.to_be_bytes());
        b[28..48].copy_from_slice(&self.miner.0);
        b[48..80].copy_from_slice(&u256_be(self.reward));
        b[80..112].copy_from_slice(&self.prev_hash.0);
        b[112..144].copy_from_slice(&self.tx_root.0);
        b[144..176].copy_from_slice(&self.state_root.0);
        b[NONCE_OFFSET..].copy_from_slice(&self.nonce.to_be_bytes());
        b
    }

    /// Decodes and checks a header; the proof of work is checked too.
    pub fn decode(b: &[u8]) -> Result<Header, HeaderError> {
        let b: &[u8; HEADER_LEN] = b.try_into().map_err(|_| HeaderError::Length(b.len()))?;
        let u32_at = |o: usize| u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[o..o + 8]);
            u64::from_be_bytes(w)
        };
        let hash_at = |o: usize| {
            let mut h = [0u8; 32];
            h.copy_from_slice(&b[o..o + 32]);
            Hash(h)
        };
        let version = u32_at(0);
        if version != HEADER_VERSION {
            return Err(HeaderError::Version(version));
        }
        if b[176..NONCE_OFFSET].iter().any(|&x| x != 0) {
            return Err(HeaderError::Reserved);
        }
        let header = Header {
            version,
            height: u64_at(4),
            timestamp: u64_at(12),
            difficulty: u32_at(20),
            tx_count: u32_at(24),
            miner: Address::from_slice(&b[28..48]).unwrap_or_default(),
            reward: U256::from_big_endian(&b[48..80]),
            prev_hash: hash_at(80),
            tx_root: hash_at(112),
            state_root: hash_at(144),
            nonce: u64_at(NONCE_OFFSET),
        };
        header.check_pow()?;
        Ok(header)
    }

    /// The block hash: sha256 of the encoded header.
    pub fn hash(&self) -> Hash {
        sha256(&[&self.encode()])
    }

    pub fn check_pow(&self) -> Result<(), HeaderError> {
        let hash = self.hash();
        if leading_zero_bits(&hash.0) >= self.difficulty {
            Ok(())
        } else {
            Err(HeaderError::ProofOfWork { difficulty: self.difficulty, hash })
        }
    }

    /// Finds the first nonce in `0..max_tries` whose block hash has at least `difficulty`
    /// leading zero bits, sets it, and returns the number of tries; `None` if the bound is hit.
    pub fn mine(&mut self, max_tries: u64) -> Option<u64> {
        let mut miner = NonceSearch::new(self);
        let nonce = miner.search(0, max_tries)?;
        self.nonce = nonce;
        Some(nonce + 1)
    }
}

/// Counts the leading zero bits of a hash.
pub fn leading_zero_bits(hash: &[u8; 32]) -> u32 {
    let mut bits = 0;
    for &byte in hash {
        if byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// A nonce search that reuses the SHA-256 midstate of the 192 bytes before the nonce: each try
/// is exactly one compression of the final block (nonce ‖ padding ‖ length).
#[derive(Clone, Debug)]
pub struct NonceSearch {
    midstate: [u32; 8],
    tail: [u8; 64],
    difficulty: u32,
}

impl NonceSearch {
    pub fn new(header: &Header) -> NonceSearch {
        let encoded = header.encode();
        let mut midstate =
            [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
        for block in encoded[..NONCE_OFFSET].chunks_exact(64) {
            let mut b = [0u8; 64];
            b.copy_from_slice(block);
            compress(&mut midstate, &b);
        }
        // The final block: nonce (8 bytes), the 0x80 terminator, zeros, and the bit length.
        let mut tail = [0u8; 64];
        tail[8] = 0x80;
        tail[56..].copy_from_slice(&((HEADER_LEN as u64) * 8).to_be_bytes());
        NonceSearch { midstate, tail, difficulty: header.difficulty }
    }

    /// Tries nonces `start..start + count` in order and returns the first that meets the target.
    pub fn search(&mut self, start: u64, count: u64) -> Option<u64> {
        let end = start.checked_add(count)?;
        (start..end).find(|&nonce| self.meets_target(nonce))
    }

    /// One try: a single compression from the midstate.
    #[inline]
    pub fn meets_target(&mut self, nonce: u64) -> bool {
        self.tail[..8].copy_from_slice(&nonce.to_be_bytes());
        let mut state = self.midstate;
        compress(&mut state, &self.tail);
        let mut need = self.difficulty;
        for word in state {
            if need == 0 {
                return true;
            }
            if need >= 32 {
                if word != 0 {
                    return false;
                }
                need -= 32;
            } else {
                return word.leading_zeros() >= need;
            }
        }
        need == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            version: HEADER_VERSION,
            height: 7,
            timestamp: 1_700_000_000,
            difficulty: 12,
            tx_count: 3,
            miner: Address([0xaa; 20]),
            reward: U256::from(50u64),
            prev_hash: Hash([1; 32]),
            tx_root: Hash([2; 32]),
            state_root: Hash([3; 32]),
            nonce: 0,
        }
    }

    #[test]
    fn layout_puts_fields_at_documented_offsets() {
        let mut h = sample();
        h.nonce = 0x0102030405060708;
        let b = h.encode();
        assert_eq!(&b[0..4], &[0, 0, 0, 1]);
        assert_eq!(&b[4..12], &7u64.to_be_bytes());
        assert_eq!(&b[28..48], &[0xaa; 20]);
        assert_eq!(b[79], 50);
        assert_eq!(&b[80..112], &[1; 32]);
        assert_eq!(&b[144..176], &[3; 32]);
        assert_eq!(&b[176..192], &[0; 16]);
        assert_eq!(&b[192..200], &[1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn midstate_search_agrees_with_full_hashing() {
        let mut h = sample();
        let tries = h.mine(1 << 24).unwrap();
        let found = h.nonce;
        assert_eq!(tries, found + 1);
        assert!(leading_zero_bits(&h.hash().0) >= 12);
        // Every earlier nonce fails when hashed the slow way: the search takes the first.
        for n in 0..found {
            h.nonce = n;
            assert!(leading_zero_bits(&h.hash().0) < 12, "nonce {n} also meets the target");
        }
        h.nonce = found;
        assert_eq!(Header::decode(&h.encode()).unwrap(), h);
    }

    #[test]
    fn decode_checks_proof_of_work_version_and_reserved_bytes() {
        let mut h = sample();
        h.mine(1 << 24).unwrap();
        let good = h.encode();
        let mut bad_nonce = h.clone();
        bad_nonce.nonce += 1;
        while bad_nonce.check_pow().is_ok() {
            bad_nonce.nonce += 1;
        }
        assert!(matches!(Header::decode(&bad_nonce.encode()), Err(HeaderError::ProofOfWork { .. })));
        let mut reserved = good;
        reserved[180] = 1;
        assert_eq!(Header::decode(&reserved), Err(HeaderError::Reserved));
        let mut version = good;
        version[3] = 2;
        assert_eq!(Header::decode(&version), Err(HeaderError::Version(2)));
        assert_eq!(Header::decode(&good[..199]), Err(HeaderError::Length(199)));
    }

    #[test]
    fn the_search_is_bounded() {
        let mut h = sample();
        h.difficulty = 64;
        assert_eq!(h.mine(1000), None);
        assert_eq!(h.nonce, 0);
    }
}
