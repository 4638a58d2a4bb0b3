/** Payload building: bytes.ts conversions, and the ledger's assets, amounts and operations. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { type Address, decodeFunctionData, parseEther, toFunctionSignature } from "viem";
import { hexToJson, hexToText, isBytesLike, payloadToHex } from "../../src/lib/bytes.ts";
import { ConsoleError } from "../../src/lib/errors.ts";
import { type Asset, assetText, parseAmount, parseAsset } from "../../src/lib/asset.ts";
import { LEDGER_ABI, abiPayload, jsonPayload } from "../../src/lib/payload.ts";

const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const TOKEN_LOWER = TOKEN.toLowerCase();
const BOB = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const BOB_LOWER = BOB.toLowerCase();
const MAX_UINT256 = (1n << 256n) - 1n;

/** Asserts that `fn` throws a ConsoleError whose message matches `message` when given. */
function throwsConsoleError(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConsoleError, `expected a ConsoleError, got ${String(e)}`);
    if (message !== undefined) assert.match(e.message, message);
    return true;
  });
}

describe("isBytesLike", () => {
  it("accepts 0x and 0x with an even number of hex digits, in either case", () => {
    for (const s of ["0x", "0x00", "0xdeadBEEF", "0x68656c6c6f"]) {
      assert.equal(isBytesLike(s), true, s);
    }
  });

  it("rejects odd lengths, non-hex digits, a missing or uppercase prefix, and text", () => {
    for (const s of ["0x1", "0xabc", "0xzz", "0x12 ", "abcd", "", "0X12", "hello", "x12"]) {
      assert.equal(isBytesLike(s), false, s);
    }
  });
});

describe("payloadToHex", () => {
  it("encodes text as UTF-8", () => {
    assert.equal(payloadToHex("hello"), "0x68656c6c6f");
    assert.equal(payloadToHex(""), "0x");
    assert.equal(payloadToHex("0x1"), "0x307831"); // odd-length hex is text
  });

  it("encodes non-ASCII text as UTF-8 bytes", () => {
    assert.equal(payloadToHex("é"), "0xc3a9");
    assert.equal(payloadToHex("€1"), "0xe282ac31");
    assert.equal(payloadToHex("🙂"), "0xf09f9982");
  });

  it("passes hex bytes through, lowercased", () => {
    assert.equal(payloadToHex("0xDEADbeef"), "0xdeadbeef");
    assert.equal(payloadToHex("0x"), "0x");
  });
});

describe("hexToText", () => {
  it("decodes valid UTF-8", () => {
    assert.equal(hexToText("0x68656c6c6f"), "hello");
    assert.equal(hexToText("0xC3A9"), "é");
    assert.equal(hexToText("0xf09f9982"), "🙂");
  });

  it("returns the empty string for 0x", () => {
    assert.equal(hexToText("0x"), "");
  });

  it("returns invalid UTF-8 unchanged", () => {
    assert.equal(hexToText("0xff"), "0xff");
    assert.equal(hexToText("0xc3"), "0xc3"); // truncated sequence
    assert.equal(hexToText("0x68ff"), "0x68ff");
  });

  it("returns what is not hex bytes unchanged", () => {
    assert.equal(hexToText("hello"), "hello");
    assert.equal(hexToText("0x123"), "0x123");
  });

  it("round-trips with payloadToHex", () => {
    for (const s of ["hello", "ünïcödé ✓", '{"op":"mine"}']) {
      assert.equal(hexToText(payloadToHex(s)), s);
    }
  });
});

describe("hexToJson", () => {
  it("parses a UTF-8 JSON payload", () => {
    assert.deepEqual(hexToJson(payloadToHex('{"a":[1,"b"],"c":null}')), { a: [1, "b"], c: null });
    assert.equal(hexToJson(payloadToHex("42")), 42);
  });

  it("is undefined for text that is not JSON, invalid UTF-8 and the empty payload", () => {
    assert.equal(hexToJson(payloadToHex("hello")), undefined);
    assert.equal(hexToJson("0xff"), undefined);
    assert.equal(hexToJson("0x"), undefined);
    assert.equal(hexToJson("not hex"), undefined);
  });
});

describe("parseAsset", () => {
  it("reads ETH and COIN in any case", () => {
    assert.deepEqual(parseAsset("ETH"), { kind: "ETH" });
    assert.deepEqual(parseAsset("eth"), { kind: "ETH" });
    assert.deepEqual(parseAsset(" Eth "), { kind: "ETH" });
    assert.deepEqual(parseAsset("COIN"), { kind: "COIN" });
    assert.deepEqual(parseAsset("coin"), { kind: "COIN" });
  });

  it("reads an ERC-20 token, checksumming its address", () => {
    assert.deepEqual(parseAsset(`erc20:${TOKEN_LOWER}`), { kind: "erc20", token: TOKEN });
    assert.deepEqual(parseAsset(`ERC20:${TOKEN}`), { kind: "erc20", token: TOKEN });
  });

  it("reads ERC-721 and ERC-1155 tokens with decimal or hex ids", () => {
    assert.deepEqual(parseAsset(`erc721:${TOKEN}:7`), { kind: "erc721", token: TOKEN, id: 7n });
    assert.deepEqual(parseAsset(`erc721:${TOKEN_LOWER}:0x10`), {
      kind: "erc721",
      token: TOKEN,
      id: 16n,
    });
    assert.deepEqual(parseAsset(`erc1155:${TOKEN}:0`), { kind: "erc1155", token: TOKEN, id: 0n });
    assert.deepEqual(parseAsset(`erc1155:${TOKEN}:${MAX_UINT256}`), {
      kind: "erc1155",
      token: TOKEN,
      id: MAX_UINT256,
    });
  });

  it("resolves a token given by name, and only names", () => {
    const asked: string[] = [];
    const resolve = (name: string): Address | undefined => {
      asked.push(name);
      return name === "SimpleERC20" ? TOKEN : undefined;
    };
    assert.deepEqual(parseAsset("erc20:SimpleERC20", resolve), { kind: "erc20", token: TOKEN });
    assert.deepEqual(parseAsset("erc1155:SimpleERC20:3", resolve), {
      kind: "erc1155",
      token: TOKEN,
      id: 3n,
    });
    assert.deepEqual(parseAsset(`erc20:${BOB}`, resolve), { kind: "erc20", token: BOB });
    assert.deepEqual(asked, ["SimpleERC20", "SimpleERC20"]);
    throwsConsoleError(() => parseAsset("erc20:Unknown", resolve), /not an address/);
    throwsConsoleError(() => parseAsset("erc20:SimpleERC20"), /not an address/);
  });

  it("rejects unknown and malformed assets with a ConsoleError", () => {
    throwsConsoleError(() => parseAsset("BTC"), /unknown asset "BTC"/);
    throwsConsoleError(() => parseAsset("erc20"), /unknown asset/);
    throwsConsoleError(() => parseAsset("ETH:1"), /unknown asset/);
    throwsConsoleError(() => parseAsset(""), /unknown asset/);
    throwsConsoleError(() => parseAsset(`erc721:${TOKEN}`), /unknown asset/);
    throwsConsoleError(() => parseAsset(`erc20:${TOKEN}:1`), /unknown asset/);
    throwsConsoleError(() => parseAsset(`erc1155:${TOKEN}:1:2`), /unknown asset/);
    throwsConsoleError(() => parseAsset("erc20:0x12"), /not an address/);
    throwsConsoleError(() => parseAsset(`erc721:${TOKEN}:abc`), /not a non-negative integer/);
    throwsConsoleError(() => parseAsset(`erc721:${TOKEN}:-1`), /not a non-negative integer/);
    throwsConsoleError(() => parseAsset(`erc721:${TOKEN}:1.5`), /not a non-negative integer/);
    throwsConsoleError(() => parseAsset(`erc721:${TOKEN}:${1n << 256n}`), /256 bits/);
  });

  it("hints at the asset forms", () => {
    try {
      parseAsset("BTC");
      assert.fail("no error");
    } catch (e) {
      assert.ok(e instanceof ConsoleError);
      assert.match(e.hint ?? "", /erc721:<token>:<id>/);
    }
  });
});

describe("assetText", () => {
  it("gives the ledger's canonical forms", () => {
    assert.equal(assetText({ kind: "ETH" }), "ETH");
    assert.equal(assetText({ kind: "COIN" }), "COIN");
    assert.equal(assetText({ kind: "erc20", token: TOKEN }), `erc20:${TOKEN_LOWER}`);
    assert.equal(assetText({ kind: "erc721", token: TOKEN, id: 16n }), `erc721:${TOKEN_LOWER}:16`);
    assert.equal(
      assetText({ kind: "erc1155", token: TOKEN, id: 255n }),
      `erc1155:${TOKEN_LOWER}:255`,
    );
  });

  it("normalizes what parseAsset reads", () => {
    assert.equal(assetText(parseAsset(`ERC721:${TOKEN}:0x10`)), `erc721:${TOKEN_LOWER}:16`);
    assert.equal(assetText(parseAsset("eth")), "ETH");
    assert.equal(assetText(parseAsset("Coin")), "COIN");
  });
});

describe("parseAmount", () => {
  const ETH: Asset = { kind: "ETH" };
  const COIN: Asset = { kind: "COIN" };
  const ERC20: Asset = { kind: "erc20", token: TOKEN };
  const ERC721: Asset = { kind: "erc721", token: TOKEN, id: 1n };
  const ERC1155: Asset = { kind: "erc1155", token: TOKEN, id: 1n };

  it("reads base units in decimal and hex", () => {
    assert.equal(parseAmount("1000", ETH), 1000n);
    assert.equal(parseAmount(" 1000 ", ERC20), 1000n);
    assert.equal(parseAmount("0x3e8", ERC20), 1000n);
    assert.equal(parseAmount("0", ERC1155), 0n);
    assert.equal(parseAmount(MAX_UINT256.toString(), ETH), MAX_UINT256);
    assert.equal(parseAmount(`0x${"f".repeat(64)}`, ETH), MAX_UINT256);
  });

  it("reads whole units with a suffix for ETH and COIN", () => {
    assert.equal(parseAmount("0.5ether", ETH), 500000000000000000n);
    assert.equal(parseAmount("2eth", ETH), 2000000000000000000n);
    assert.equal(parseAmount("1.25 ETH", ETH), 1250000000000000000n);
    assert.equal(parseAmount(".5ether", ETH), parseEther("0.5"));
    assert.equal(parseAmount("1coin", COIN), 1000000000000000000n);
    assert.equal(parseAmount("0.000000000000000001coin", COIN), 1n);
  });

  it("rejects a unit suffix for tokens", () => {
    throwsConsoleError(() => parseAmount("1ether", ERC20), /unit suffix is for ETH and COIN/);
    throwsConsoleError(() => parseAmount("1coin", ERC1155), /unit suffix/);
  });

  it("defaults to 1 for an ERC-721 token and requires an amount otherwise", () => {
    assert.equal(parseAmount(undefined, ERC721), 1n);
    throwsConsoleError(() => parseAmount(undefined, ETH), /--amount is required/);
    throwsConsoleError(() => parseAmount(undefined, COIN), /--amount is required/);
    throwsConsoleError(() => parseAmount(undefined, ERC20), /--amount is required/);
    throwsConsoleError(() => parseAmount(undefined, ERC1155), /--amount is required/);
  });

  it("rejects base-unit values of 2^256 and more", () => {
    throwsConsoleError(() => parseAmount((1n << 256n).toString(), ETH), /256 bits/);
    throwsConsoleError(() => parseAmount(`0x1${"0".repeat(64)}`, ERC20), /256 bits/);
  });

  it("rejects whole-unit values of 2^256 wei and more", () => {
    throwsConsoleError(() => parseAmount(`1${"0".repeat(80)}ether`, ETH), /256 bits/);
    throwsConsoleError(() => parseAmount(`1${"0".repeat(60)}coin`, COIN), /256 bits/);
  });

  it("rejects whole units finer than one base unit instead of rounding them", () => {
    throwsConsoleError(
      () => parseAmount("0.0000000000000000001ether", ETH),
      /more than 18 decimals/,
    );
    throwsConsoleError(() => parseAmount("0.0000000000000000009coin", COIN), /18 decimals/);
    assert.equal(parseAmount("1.000000000000000001eth", ETH), 1000000000000000001n);
  });

  it("rejects negative and malformed amounts", () => {
    for (const text of [
      "-1",
      "-1ether",
      "",
      "abc",
      "1.5",
      "1e18",
      "0x",
      "12abc",
      "1 000",
      "1wei",
    ]) {
      throwsConsoleError(() => parseAmount(text, ETH));
    }
    throwsConsoleError(() => parseAmount("-5", ERC20), /not a non-negative integer/);
  });
});

describe("jsonPayload", () => {
  it("writes a transfer with the fields in the ledger's order", () => {
    assert.equal(
      jsonPayload({ op: "transfer", to: BOB, asset: { kind: "ETH" }, amount: 1000n }),
      `{"op":"transfer","to":"${BOB_LOWER}","asset":"ETH","amount":"1000"}`,
    );
    assert.equal(
      jsonPayload({
        op: "transfer",
        to: BOB,
        asset: { kind: "erc721", token: TOKEN, id: 16n },
        amount: 1n,
      }),
      `{"op":"transfer","to":"${BOB_LOWER}","asset":"erc721:${TOKEN_LOWER}:16","amount":"1"}`,
    );
  });

  it("writes amounts beyond 2^53 exactly", () => {
    assert.equal(
      jsonPayload({ op: "transfer", to: BOB, asset: { kind: "COIN" }, amount: MAX_UINT256 }),
      `{"op":"transfer","to":"${BOB_LOWER}","asset":"COIN","amount":"${MAX_UINT256}"}`,
    );
  });

  it("writes a withdrawal and mine", () => {
    assert.equal(
      jsonPayload({ op: "withdraw", asset: { kind: "erc20", token: TOKEN }, amount: 5n }),
      `{"op":"withdraw","asset":"erc20:${TOKEN_LOWER}","amount":"5"}`,
    );
    assert.equal(
      jsonPayload({ op: "withdraw", asset: { kind: "erc1155", token: TOKEN, id: 2n }, amount: 3n }),
      `{"op":"withdraw","asset":"erc1155:${TOKEN_LOWER}:2","amount":"3"}`,
    );
    assert.equal(jsonPayload({ op: "mine" }), '{"op":"mine"}');
  });
});

describe("abiPayload", () => {
  const decode = (data: `0x${string}`) => {
    const { functionName, args } = decodeFunctionData({ abi: LEDGER_ABI, data });
    return { functionName, args: args as readonly unknown[] | undefined };
  };

  it("encodes each kind of transfer as its ILedger call", () => {
    const cases: { asset: Asset; amount: bigint; fn: string; args: readonly unknown[] }[] = [
      { asset: { kind: "ETH" }, amount: 10n, fn: "transferEther", args: [BOB, 10n] },
      { asset: { kind: "COIN" }, amount: 11n, fn: "transferCoin", args: [BOB, 11n] },
      {
        asset: { kind: "erc20", token: TOKEN },
        amount: 12n,
        fn: "transferERC20",
        args: [TOKEN, BOB, 12n],
      },
      {
        asset: { kind: "erc721", token: TOKEN, id: 13n },
        amount: 1n,
        fn: "transferERC721",
        args: [TOKEN, BOB, 13n],
      },
      {
        asset: { kind: "erc1155", token: TOKEN, id: 14n },
        amount: 15n,
        fn: "transferERC1155",
        args: [TOKEN, BOB, 14n, 15n],
      },
    ];
    for (const c of cases) {
      const decoded = decode(
        abiPayload({ op: "transfer", to: BOB, asset: c.asset, amount: c.amount }),
      );
      assert.equal(decoded.functionName, c.fn);
      assert.deepEqual(decoded.args, c.args);
    }
  });

  it("encodes each kind of withdrawal as its ILedger call", () => {
    const cases: { asset: Asset; amount: bigint; fn: string; args: readonly unknown[] }[] = [
      { asset: { kind: "ETH" }, amount: MAX_UINT256, fn: "withdrawEther", args: [MAX_UINT256] },
      {
        asset: { kind: "erc20", token: TOKEN },
        amount: 22n,
        fn: "withdrawERC20",
        args: [TOKEN, 22n],
      },
      {
        asset: { kind: "erc721", token: TOKEN, id: 23n },
        amount: 1n,
        fn: "withdrawERC721",
        args: [TOKEN, 23n],
      },
      {
        asset: { kind: "erc1155", token: TOKEN, id: 24n },
        amount: 25n,
        fn: "withdrawERC1155",
        args: [TOKEN, 24n, 25n],
      },
    ];
    for (const c of cases) {
      const decoded = decode(abiPayload({ op: "withdraw", asset: c.asset, amount: c.amount }));
      assert.equal(decoded.functionName, c.fn);
      assert.deepEqual(decoded.args, c.args);
    }
  });

  it("encodes mine as the bare selector", () => {
    const data = abiPayload({ op: "mine" });
    assert.equal(data.length, 10);
    assert.equal(decode(data).functionName, "mine");
  });

  it("refuses to withdraw COIN", () => {
    throwsConsoleError(
      () => abiPayload({ op: "withdraw", asset: { kind: "COIN" }, amount: 1n }),
      /COIN .*cannot be withdrawn/,
    );
  });

  it("refuses an ERC-721 amount other than 1", () => {
    const asset: Asset = { kind: "erc721", token: TOKEN, id: 1n };
    for (const amount of [0n, 2n]) {
      throwsConsoleError(
        () => abiPayload({ op: "transfer", to: BOB, asset, amount }),
        /amount must be 1/,
      );
      throwsConsoleError(() => abiPayload({ op: "withdraw", asset, amount }), /amount must be 1/);
    }
  });
});

describe("LEDGER_ABI", () => {
  it("has exactly the functions of abi/ILedger.sol", () => {
    const sol = readFileSync(new URL("../../../abi/ILedger.sol", import.meta.url), "utf8");
    const fromSol = new Set<string>();
    for (const m of sol.matchAll(/function\s+(\w+)\s*\(([^)]*)\)\s*external\s*;/g)) {
      const params = (m[2] ?? "").trim();
      const types = params === "" ? [] : params.split(",").map((p) => p.trim().split(/\s+/)[0]);
      fromSol.add(`${m[1] ?? ""}(${types.join(",")})`);
    }
    const fromAbi = new Set(LEDGER_ABI.map((item) => toFunctionSignature(item)));
    assert.equal(fromSol.size, 10);
    assert.ok(fromSol.has("transferERC1155(address,address,uint256,uint256)"));
    assert.ok(fromSol.has("mine()"));
    assert.deepEqual(fromAbi, fromSol);
  });
});
