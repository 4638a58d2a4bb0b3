/**
 * The explorer's decoding: inputs (portal deposits, the relay, JSON and ABI operations, anything
 * else), block notices and withdrawal vouchers, read back from payloads the console itself builds;
 * HTML escaping and the search box's classification; and the committed bundle is the one its
 * sources build.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  type Address,
  type Hex,
  encodeAbiParameters,
  encodePacked,
  parseAbiParameters,
  stringToHex,
} from "viem";
import { BUNDLE_DIR, buildExplorer } from "../../src/explorer/build.ts";
import {
  PORTALS,
  decodeBlockNotice,
  decodeInput,
  decodeVoucher,
} from "../../src/explorer/decode.ts";
import { age, classifySearch, link, markup } from "../../src/explorer/html.ts";
import type { Asset } from "../../src/lib/asset.ts";
import { abiPayload, jsonPayload } from "../../src/lib/payload.ts";
import { expectedVoucher } from "../../src/lib/withdrawal.ts";

const [V1, V2] = PORTALS;
if (V1 === undefined || V2 === undefined) throw new Error("both Rollups versions have portals");
const ME: Address = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const BOB: Address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const TOKEN: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const DAPP: Address = "0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e";
const token = TOKEN.toLowerCase();

describe("decodeInput: portal deposits", () => {
  it("reads an Ether deposit: depositor, then the amount", () => {
    const payload = encodePacked(["address", "uint256", "bytes"], [ME, 10n ** 18n, "0x"]);
    assert.deepEqual(decodeInput(V1.ether, payload), {
      kind: "deposit",
      portal: "Ether",
      depositor: ME,
      assets: [{ asset: "ETH", amount: 10n ** 18n }],
    });
    // The sender is compared without regard to case.
    assert.equal(decodeInput(V1.ether.toLowerCase(), payload).kind, "deposit");
  });

  it("reads v1's ERC-20 success byte, and marks a failed transfer", () => {
    const deposit = (ok: boolean) =>
      encodePacked(["bool", "address", "address", "uint256", "bytes"], [ok, TOKEN, ME, 500n, "0x"]);
    assert.deepEqual(decodeInput(V1.erc20, deposit(true)), {
      kind: "deposit",
      portal: "ERC-20",
      depositor: ME,
      assets: [{ asset: `erc20:${token}`, amount: 500n }],
    });
    const failed = decodeInput(V1.erc20, deposit(false));
    assert.equal(failed.kind === "deposit" && failed.failed, true);
  });

  it("reads v2's ERC-20 layout, without the success byte", () => {
    const payload = encodePacked(["address", "address", "uint256"], [TOKEN, ME, 7n]);
    const decoded = decodeInput(V2.erc20, payload);
    assert.deepEqual(decoded.kind === "deposit" && decoded.assets, [
      { asset: `erc20:${token}`, amount: 7n },
    ]);
  });

  it("reads ERC-721 and ERC-1155 single and batch deposits", () => {
    const nft = encodePacked(["address", "address", "uint256", "bytes"], [TOKEN, ME, 3n, "0x"]);
    const one = decodeInput(V1.erc721, nft);
    assert.deepEqual(one.kind === "deposit" && one.assets, [
      { asset: `erc721:${token}:3`, amount: 1n },
    ]);
    const single = encodePacked(
      ["address", "address", "uint256", "uint256", "bytes"],
      [TOKEN, ME, 0n, 10n, "0x"],
    );
    const s = decodeInput(V1.erc1155Single, single);
    assert.deepEqual(s.kind === "deposit" && s.assets, [
      { asset: `erc1155:${token}:0`, amount: 10n },
    ]);
    const rest = encodeAbiParameters(parseAbiParameters("uint256[], uint256[], bytes, bytes"), [
      [1n, 2n],
      [5n, 6n],
      "0x",
      "0x",
    ]);
    const batch = decodeInput(
      V1.erc1155Batch,
      `${encodePacked(["address", "address"], [TOKEN, ME])}${rest.slice(2)}` as Hex,
    );
    assert.deepEqual(batch.kind === "deposit" && batch.assets, [
      { asset: `erc1155:${token}:1`, amount: 5n },
      { asset: `erc1155:${token}:2`, amount: 6n },
    ]);
  });

  it("says why a short deposit cannot be read instead of inventing amounts", () => {
    const d = decodeInput(V1.ether, encodePacked(["address"], [ME]));
    assert.ok(d.kind === "other", d.kind);
    assert.match(d.why, /Ether deposit needs 52 bytes, this one has 20/);
  });

  it("reads the relay's address", () => {
    assert.deepEqual(decodeInput(V1.relay ?? "", DAPP.toLowerCase() as Hex), {
      kind: "relay",
      dapp: DAPP,
    });
  });
});

describe("decodeInput: ledger operations, as the console sends them", () => {
  const erc20: Asset = { kind: "erc20", token: TOKEN };
  const nft: Asset = { kind: "erc721", token: TOKEN, id: 9n };

  it("reads JSON operations", () => {
    const payload = stringToHex(
      jsonPayload({ op: "transfer", to: BOB, asset: { kind: "ETH" }, amount: 250n }),
    );
    assert.deepEqual(decodeInput(ME, payload), {
      kind: "operation",
      form: "json",
      operation: { op: "transfer", to: BOB.toLowerCase(), asset: "ETH", amount: 250n },
    });
    assert.deepEqual(decodeInput(ME, stringToHex(jsonPayload({ op: "mine" }))), {
      kind: "operation",
      form: "json",
      operation: { op: "mine" },
    });
  });

  it("reads every ILedger call into the same shape as its JSON form", () => {
    const cases: [Parameters<typeof abiPayload>[0], object][] = [
      [
        { op: "transfer", to: BOB, asset: { kind: "ETH" }, amount: 1n },
        { asset: "ETH", to: BOB },
      ],
      [
        { op: "transfer", to: BOB, asset: { kind: "COIN" }, amount: 2n },
        { asset: "COIN", to: BOB },
      ],
      [
        { op: "transfer", to: BOB, asset: erc20, amount: 3n },
        { asset: `erc20:${token}`, to: BOB },
      ],
      [
        { op: "transfer", to: BOB, asset: nft, amount: 1n },
        { asset: `erc721:${token}:9`, to: BOB },
      ],
      [{ op: "withdraw", asset: { kind: "ETH" }, amount: 4n }, { asset: "ETH" }],
      [{ op: "withdraw", asset: erc20, amount: 5n }, { asset: `erc20:${token}` }],
      [
        { op: "withdraw", asset: { kind: "erc1155", token: TOKEN, id: 1n }, amount: 6n },
        { asset: `erc1155:${token}:1` },
      ],
    ];
    for (const [operation, expected] of cases) {
      const decoded = decodeInput(ME, abiPayload(operation));
      assert.ok(decoded.kind === "operation", JSON.stringify(expected));
      assert.equal(decoded.form, "abi");
      assert.equal(decoded.operation.op, operation.op);
      assert.equal(decoded.operation.amount, "amount" in operation ? operation.amount : undefined);
      assert.deepEqual(
        { ...decoded.operation, op: undefined, amount: undefined },
        {
          op: undefined,
          amount: undefined,
          ...expected,
        },
      );
    }
    assert.deepEqual(decodeInput(ME, abiPayload({ op: "mine" })), {
      kind: "operation",
      form: "abi",
      operation: { op: "mine" },
    });
  });

  it("shows anything else as text or bytes, with the reason", () => {
    const hello = decodeInput(ME, stringToHex("hello"));
    assert.deepEqual(hello, {
      kind: "other",
      text: "hello",
      why: "neither a JSON operation nor an ILedger call",
    });
    const json = decodeInput(ME, stringToHex('{"nope":1}'));
    assert.equal(json.kind === "other" && json.why, "text that is not a JSON operation");
    assert.equal(decodeInput(ME, "0xdeadbeef").kind, "other");
    assert.equal(decodeInput(ME, "zz").kind, "other");
  });
});

describe("decodeVoucher", () => {
  it("reads back every withdrawal voucher the console expects", () => {
    const assets: [Asset, bigint, string][] = [
      [{ kind: "ETH" }, 10n, "ETH"],
      [{ kind: "erc20", token: TOKEN }, 20n, `erc20:${token}`],
      [{ kind: "erc721", token: TOKEN, id: 4n }, 1n, `erc721:${token}:4`],
      [{ kind: "erc1155", token: TOKEN, id: 5n }, 30n, `erc1155:${token}:5`],
    ];
    for (const [asset, amount, text] of assets) {
      const v = expectedVoucher(asset, amount, BOB, DAPP);
      assert.deepEqual(decodeVoucher(v.destination, v.payload), {
        receiver: BOB,
        asset: text,
        amount,
      });
    }
  });

  it("gives nothing for a call that is not a withdrawal", () => {
    assert.equal(decodeVoucher(TOKEN, "0x12345678"), undefined);
    assert.equal(decodeVoucher("not an address", "0x"), undefined);
  });
});

describe("decodeBlockNotice", () => {
  it("reads a block notice's header and part", () => {
    const notice = stringToHex(
      JSON.stringify({
        height: 2,
        hash: `0x${"ab".repeat(32)}`,
        tx_count: 3,
        type: "block",
        part: 1,
        parts: 2,
        txs: [],
      }),
    );
    assert.deepEqual(decodeBlockNotice(notice), {
      height: 2,
      hash: `0x${"ab".repeat(32)}`,
      part: 1,
      parts: 2,
      txCount: 3,
    });
    assert.equal(decodeBlockNotice(stringToHex('{"type":"other"}')), undefined);
    assert.equal(decodeBlockNotice("0xff"), undefined);
  });
});

describe("html", () => {
  it("escapes every interpolated value, and only those", () => {
    const evil = `<img src=x onerror="alert('x')">&`;
    assert.equal(
      markup`<p title="${evil}">${evil}</p>`.text,
      `<p title="&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;">&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;</p>`,
    );
    assert.equal(markup`${[markup`<b>${1}</b>`, 2n, null, undefined, false]}`.text, "<b>1</b>2");
    assert.equal(link("tx/0x<>", "<").text, `<a href="#/tx/0x&lt;&gt;">&lt;</a>`);
  });

  it("tells ages in the largest sensible unit", () => {
    assert.equal(age(100, 112_000), "12 s ago");
    assert.equal(age(0, 600_000), "10 min ago");
    assert.equal(age(0, 3 * 3600_000), "3 h ago");
    assert.equal(age(0, 3 * 86400_000), "3 days ago");
    assert.equal(age(200, 100_000), "0 s ago");
  });
});

describe("classifySearch", () => {
  it("tells numbers, hashes and addresses apart, and refuses the rest", () => {
    assert.deepEqual(classifySearch(" 12 "), { kind: "number", value: 12 });
    const hash = `0x${"AB".repeat(32)}`;
    assert.deepEqual(classifySearch(hash), { kind: "hash", value: hash.toLowerCase() });
    assert.deepEqual(classifySearch(BOB), { kind: "address", value: BOB });
    for (const q of ["", "0x12", "latest", "-1", "1.5", `${BOB}00`]) {
      assert.equal(classifySearch(q).kind, "invalid", q);
    }
  });
});

describe("the committed bundle", () => {
  it("is what the sources build (run `yarn build:explorer` after changing src/explorer or src/lib)", async () => {
    for (const [name, bytes] of await buildExplorer()) {
      const committed = readFileSync(join(BUNDLE_DIR, name));
      assert.ok(
        Buffer.from(bytes).equals(committed),
        `devnode/explorer/${name} is stale: run \`yarn build:explorer\` and commit it`,
      );
    }
  });
});
