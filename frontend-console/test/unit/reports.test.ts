/** The ledger's reports decoded and described, balances formatted, and its inspect routes. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Hex, stringToHex } from "viem";
import { ConsoleError } from "../../src/lib/errors.ts";
import { type Balance, formatBalances, formatUnits } from "../../src/lib/format.ts";
import { routes } from "../../src/lib/queries.ts";
import { type LedgerReport, decodeLedgerReport, describeAccepted } from "../../src/lib/reports.ts";

const TX1 = `0x${"ab".repeat(32)}`;
const TX2 = `0x${"cd".repeat(32)}`;
const BLOCK1 = `0x${"01".repeat(32)}`;
const BLOCK2 = `0x${"02".repeat(32)}`;
const ALICE = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

const hexJson = (value: unknown): Hex => stringToHex(JSON.stringify(value));

/** Decodes a report that must be an accepted one and describes it. */
function describeHex(payload: Hex): string[] {
  const report = decodeLedgerReport(payload);
  assert.ok(report !== undefined && "accepted" in report, "an accepted report");
  return describeAccepted(report);
}

describe("decodeLedgerReport", () => {
  it("decodes an accepted report", () => {
    const accepted = {
      input: 2,
      sealed_blocks: [],
      sealed_count: 0,
      tx_count: 1,
      txs: [{ hash: TX1, status: "pending" }],
    };
    const report = decodeLedgerReport(hexJson({ accepted }));
    assert.deepEqual(report, { accepted });
  });

  it("decodes an error report", () => {
    const report = decodeLedgerReport(
      hexJson({ error: { code: "INSUFFICIENT_FUNDS", message: "balance 5 < 10" } }),
    );
    assert.deepEqual(report, { error: { code: "INSUFFICIENT_FUNDS", message: "balance 5 < 10" } });
  });

  it("gives an error without a message an empty one", () => {
    assert.deepEqual(decodeLedgerReport(hexJson({ error: { code: "UNKNOWN_OP" } })), {
      error: { code: "UNKNOWN_OP", message: "" },
    });
  });

  it("is undefined for payloads that are not ledger reports", () => {
    assert.equal(decodeLedgerReport(stringToHex("hello")), undefined);
    assert.equal(decodeLedgerReport(stringToHex("{not json")), undefined);
    assert.equal(decodeLedgerReport("0xff"), undefined);
    assert.equal(decodeLedgerReport("0xc328"), undefined);
    assert.equal(decodeLedgerReport("0x"), undefined);
    assert.equal(decodeLedgerReport(hexJson({ status: "ok" })), undefined);
    assert.equal(decodeLedgerReport(hexJson(42)), undefined);
    assert.equal(decodeLedgerReport(hexJson("accepted")), undefined);
    assert.equal(decodeLedgerReport(hexJson(null)), undefined);
    assert.equal(decodeLedgerReport(hexJson({ error: { message: "no code" } })), undefined);
    assert.equal(decodeLedgerReport(hexJson({ accepted: { txs: [] } })), undefined);
    assert.equal(decodeLedgerReport(hexJson({ accepted: { sealed_blocks: [] } })), undefined);
  });

  it("is undefined for null error and accepted fields", () => {
    assert.equal(decodeLedgerReport(hexJson({ error: null })), undefined);
    assert.equal(decodeLedgerReport(hexJson({ accepted: null })), undefined);
    assert.equal(decodeLedgerReport(hexJson({ error: null, accepted: null })), undefined);
  });
});

describe("describeAccepted", () => {
  const accepted = (
    fields: Partial<Extract<LedgerReport, { accepted: unknown }>["accepted"]>,
  ): Hex =>
    hexJson({
      accepted: { input: 2, sealed_blocks: [], sealed_count: 0, tx_count: 0, txs: [], ...fields },
    });

  it("describes a pending transaction", () => {
    assert.deepEqual(
      describeHex(accepted({ tx_count: 1, txs: [{ hash: TX1, status: "pending" }] })),
      [`transaction ${TX1} pending`],
    );
  });

  it("describes a sealed transaction with its block", () => {
    assert.deepEqual(
      describeHex(accepted({ tx_count: 1, txs: [{ hash: TX1, status: "sealed", block: 3 }] })),
      [`transaction ${TX1} sealed in block 3`],
    );
  });

  it("describes sealed blocks with the number of their transactions", () => {
    assert.deepEqual(
      describeHex(
        accepted({
          tx_count: 1,
          txs: [{ hash: TX2, status: "sealed", block: 7 }],
          sealed_count: 2,
          sealed_blocks: [
            { height: 6, hash: BLOCK1, tx_count: 1 },
            { height: 7, hash: BLOCK2, tx_count: 3 },
          ],
        }),
      ),
      [
        `transaction ${TX2} sealed in block 7`,
        `sealed block 6 ${BLOCK1} with 1 transaction`,
        `sealed block 7 ${BLOCK2} with 3 transactions`,
      ],
    );
  });

  it("says an empty block has 0 transactions", () => {
    assert.deepEqual(
      describeHex(
        accepted({ sealed_count: 1, sealed_blocks: [{ height: 1, hash: BLOCK1, tx_count: 0 }] }),
      ),
      [`sealed block 1 ${BLOCK1} with 0 transactions`],
    );
  });

  it("counts what truncated lists leave out", () => {
    assert.deepEqual(
      describeHex(
        accepted({
          tx_count: 5,
          txs: [
            { hash: TX1, status: "pending" },
            { hash: TX2, status: "pending" },
          ],
          sealed_count: 4,
          sealed_blocks: [{ height: 9, hash: BLOCK1, tx_count: 2 }],
        }),
      ),
      [
        `transaction ${TX1} pending`,
        `transaction ${TX2} pending`,
        "… and 3 more transactions",
        `sealed block 9 ${BLOCK1} with 2 transactions`,
        "… and 3 more blocks",
      ],
    );
  });

  it("counts one left-out transaction and block in the singular", () => {
    assert.deepEqual(
      describeHex(
        accepted({
          tx_count: 2,
          txs: [{ hash: TX1, status: "pending" }],
          sealed_count: 2,
          sealed_blocks: [{ height: 9, hash: BLOCK1, tx_count: 2 }],
        }),
      ),
      [
        `transaction ${TX1} pending`,
        "… and 1 more transaction",
        `sealed block 9 ${BLOCK1} with 2 transactions`,
        "… and 1 more block",
      ],
    );
  });

  it("says nothing to do for an input that changed nothing", () => {
    assert.deepEqual(describeHex(accepted({})), ["nothing to do"]);
  });
});

describe("formatUnits", () => {
  it("adds whole units for ETH and COIN", () => {
    assert.equal(formatUnits("ETH", "250000000000000000"), "250000000000000000 (0.25 ETH)");
    assert.equal(formatUnits("COIN", "50000000000000000000"), "50000000000000000000 (50 COIN)");
    assert.equal(formatUnits("ETH", "1000"), "1000 (0.000000000000001 ETH)");
  });

  it("leaves zero, tokens and non-numbers plain", () => {
    assert.equal(formatUnits("ETH", "0"), "0");
    assert.equal(
      formatUnits(`erc20:${TOKEN.toLowerCase()}`, "250000000000000000"),
      "250000000000000000",
    );
    assert.equal(formatUnits("ETH", "n/a"), "n/a");
  });
});

describe("formatBalances", () => {
  it("says when an account holds nothing", () => {
    assert.deepEqual(formatBalances(ALICE, []), [`${ALICE} holds nothing`]);
  });

  it("lists balances aligned, with pending amounts only when they differ", () => {
    const erc20 = `erc20:${TOKEN.toLowerCase()}`;
    const balances: Balance[] = [
      { asset: "ETH", confirmed: "250000000000000000", pending: "250000000000000000" },
      { asset: "COIN", confirmed: "1000000000000000000", pending: "0" },
      { asset: erc20, confirmed: "100", pending: "60" },
    ];
    const pad = (s: string) => s.padEnd(erc20.length);
    assert.deepEqual(formatBalances(ALICE, balances), [
      ALICE,
      `  ${pad("ETH")}  250000000000000000 (0.25 ETH)`,
      `  ${pad("COIN")}  1000000000000000000 (1 COIN)  pending 0`,
      `  ${erc20}  100  pending 60`,
    ]);
  });
});

describe("routes", () => {
  it("accepts latest, a height and a block hash", () => {
    assert.equal(routes.block("latest"), "block/latest");
    assert.equal(routes.block("12"), "block/12");
    assert.equal(routes.block(" 0 "), "block/0");
    assert.equal(routes.block(`0x${"AB".repeat(32)}`), `block/0x${"ab".repeat(32)}`);
  });

  it("rejects other block references with a ConsoleError", () => {
    for (const ref of ["abc", "-1", "", "1.5", "0x1234", `0x${"ab".repeat(33)}`, "latest1"]) {
      assert.throws(
        () => routes.block(ref),
        (e: unknown) => e instanceof ConsoleError && e.message.includes("invalid block"),
        ref,
      );
    }
  });

  it("builds balance routes with a lowercase address", () => {
    assert.equal(routes.balance(ALICE), `balance/${ALICE.toLowerCase()}`);
    assert.equal(routes.balance(ALICE, undefined, 0), `balance/${ALICE.toLowerCase()}`);
    assert.equal(routes.balance(ALICE, undefined, 50), `balance/${ALICE.toLowerCase()}?offset=50`);
    assert.equal(routes.balance(ALICE, { kind: "ETH" }), `balance/${ALICE.toLowerCase()}/ETH`);
    assert.equal(
      routes.balance(ALICE, { kind: "erc721", token: TOKEN, id: 16n }),
      `balance/${ALICE.toLowerCase()}/erc721:${TOKEN.toLowerCase()}:16`,
    );
  });

  it("builds an account's transactions route with a lowercase address", () => {
    assert.equal(routes.txs(ALICE, 0), `txs/${ALICE.toLowerCase()}?offset=0`);
    assert.equal(routes.txs(ALICE, 20, 5), `txs/${ALICE.toLowerCase()}?offset=20&limit=5`);
  });

  it("builds pool, info and tx routes", () => {
    assert.equal(routes.pool(0, 5), "pool?offset=0&limit=5");
    assert.equal(routes.pool(10), "pool?offset=10");
    assert.equal(routes.info(), "info");
    assert.equal(routes.tx(`0x${"AB".repeat(32)}`), `tx/0x${"ab".repeat(32)}`);
  });
});
