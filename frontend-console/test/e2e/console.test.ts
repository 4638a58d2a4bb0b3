/**
 * The real console against a running dev node (anvil, the Rollups contracts, the ledger backend):
 * every command a user types in the README, asserted on the console's own output.
 *
 * The dev node binary comes from DEVNODE_BIN, else `target/release/devnode`, else
 * `target/debug/devnode` of this repository (with the `dapp` backend beside it). It runs on free
 * ports with its data and deployment files in a temporary folder (`harness.ts`), with its default
 * epochs (one L1 block: a voucher is executable as soon as its block is sealed);
 * `console-epochs.test.ts` runs one with long epochs.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  BOB,
  DAPP,
  ETHER,
  ME,
  SIMPLE_ERC20,
  erc20Of,
  etherOf,
  fails,
  gasOf,
  graphqlUrl,
  inputCount,
  inspectUrl,
  ok,
  rpc,
  run,
  startNode,
  stopNode,
  untilExecutable,
  vouchersOf,
} from "./harness.ts";

describe("the console against a running dev node", { timeout: 600_000 }, () => {
  before(() => startNode());
  after(stopNode);

  let transferHash = "";

  it("deposits Ether and an ERC-20 through the portals", async () => {
    assert.equal(
      (await ok(["ether", "deposit", "--amount", "1"])).trim(),
      "deposit successfully executed as input 0",
    );
    const erc20 = await run(["erc20", "deposit", "--amount", "500"]);
    assert.equal(erc20.code, 0, erc20.stderr);
    assert.equal(erc20.stdout.trim(), "deposit successfully executed as input 1");
    assert.match(erc20.stderr, /approving allowance of 500 tokens/);
  });

  it("transfers in the ledger and reports the pending transaction", async () => {
    const out = await ok([
      "ledger",
      "transfer",
      "--to",
      BOB,
      "--asset",
      "ETH",
      "--amount",
      "0.25ether",
      "--url",
      graphqlUrl,
    ]);
    const m = /^input 2 accepted\ntransaction (0x[0-9a-f]{64}) pending$/.exec(out.trim());
    assert.ok(m, out);
    transferHash = m[1] ?? "";
    const json = JSON.parse(
      await ok([
        "ledger",
        "transfer",
        "--to",
        BOB,
        "--asset",
        "erc20:SimpleERC20",
        "--amount",
        "100",
        "--url",
        graphqlUrl,
        "--json",
      ]),
    ) as { input: number; status: string; reports: { accepted: { txs: { status: string }[] } }[] };
    assert.equal(json.input, 3);
    assert.equal(json.status, "ACCEPTED");
    assert.equal(json.reports[0]?.accepted.txs[0]?.status, "pending");
  });

  it("mines a block that `notice list` shows with the transfer", async () => {
    const out = await ok(["ledger", "mine", "--url", graphqlUrl]);
    assert.match(out, /^input 4 accepted\nsealed block \d+ 0x[0-9a-f]{64} with \d+ transactions?$/);
    const notices = JSON.parse(await ok(["notice", "list", "--url", graphqlUrl])) as {
      index: number;
      input: number;
      payload: string;
    }[];
    const blocks = notices.map((n) => ({
      ...n,
      block: JSON.parse(n.payload) as { type: string; txs: { hash: string }[] },
    }));
    const sealing = blocks.find((n) => n.block.txs.some((t) => t.hash === transferHash));
    assert.ok(sealing, `no block notice holds ${transferHash}: ${JSON.stringify(notices)}`);
    assert.equal(sealing.input, 4);
    assert.equal(sealing.block.type, "block");
    const sorted = [...notices].sort((a, b) => a.input - b.input || a.index - b.index);
    assert.deepEqual(notices, sorted);
    const byInput = JSON.parse(
      await ok(["notice", "list", "--url", graphqlUrl, "--input", "4"]),
    ) as unknown[];
    assert.equal(byInput.length, 1);
  });

  it("shows the receiver's balances", async () => {
    const out = await ok(["ledger", "balance", "--address", BOB, "--url", inspectUrl]);
    assert.match(out, new RegExp(`^${BOB}$`, "m"));
    assert.match(out, /^ {2}ETH +250000000000000000 \(0\.25 ETH\)$/m);
    assert.match(out, /^ {2}erc20:0xe0586270a262380fef6f82290b421b9008b11806 +100$/m);
    const mine = await ok(["ledger", "balance", "--asset", "ETH", "--url", inspectUrl]);
    assert.match(mine, new RegExp(`^${ME}\\n {2}ETH +750000000000000000 \\(0\\.75 ETH\\)$`));
  });

  it("sends the ILedger ABI form with --abi", async () => {
    const out = await ok([
      "ledger",
      "transfer",
      "--abi",
      "--to",
      BOB,
      "--asset",
      "COIN",
      "--amount",
      "1coin",
      "--url",
      graphqlUrl,
      "--json",
    ]);
    const sent = JSON.parse(out) as { input: number; status: string };
    assert.equal(sent.status, "ACCEPTED");
    const pool = JSON.parse(await ok(["ledger", "pool", "--url", inspectUrl, "--json"])) as {
      txs: { kind: string; asset: string; amount: string; to: string; input: number }[];
    };
    assert.deepEqual(
      pool.txs.map((t) => [t.kind, t.asset, t.amount, t.to, t.input]),
      [["transfer", "COIN", "1000000000000000000", BOB.toLowerCase(), sent.input]],
    );
  });

  it("inspects with the reference console's output", async () => {
    const out = await ok(["inspect", "--url", inspectUrl, "--payload", "info"]);
    const lines = out.trim().split("\n");
    assert.equal(lines[0], "HTTP status: 200");
    assert.equal(lines[1], 'Inspect status: "Accepted"');
    assert.equal(lines[2], "Input count: 6");
    assert.equal(lines[3], "Reports:");
    assert.match(lines[4] ?? "", /^0: \{.*"name":"ledger".*\}$/);
    const info = await ok(["ledger", "info", "--url", inspectUrl, "--json"]);
    assert.equal((JSON.parse(info) as { processed_inputs: number }).processed_inputs, 6);
  });

  it("shows the dApp's error for a bad payload, and the rejection changes nothing", async () => {
    const before = await ok(["ledger", "balance", "--url", inspectUrl, "--json"]);
    const bad = await fails(["input", "send", "--payload", "hello", "--wait", "--url", graphqlUrl]);
    assert.equal(bad.stdout, "");
    assert.match(bad.error, /^error: input 6 was rejected: MALFORMED_PAYLOAD: .+ \(hint: .+\)$/);
    const reports = JSON.parse(
      await ok(["report", "list", "--url", graphqlUrl, "--input", "6"]),
    ) as { payload: string }[];
    assert.match(reports[0]?.payload ?? "", /"code":"MALFORMED_PAYLOAD"/);
    const poor = await fails([
      "ledger",
      "transfer",
      "--to",
      BOB,
      "--asset",
      "ETH",
      "--amount",
      "5ether",
      "--url",
      graphqlUrl,
    ]);
    assert.match(poor.error, /^error: input 7 was rejected: INSUFFICIENT_FUNDS: /);
    assert.equal(await ok(["ledger", "balance", "--url", inspectUrl, "--json"]), before);
  });

  it("refuses malformed arguments before sending anything", async () => {
    const count = await inputCount();
    const badTo = await fails([
      "ledger",
      "transfer",
      "--to",
      "0x12",
      "--asset",
      "ETH",
      "--amount",
      "1",
    ]);
    assert.match(badTo.error, /^error: --to is not an address: "0x12" \(hint: .+\)$/);
    const badAsset = await fails([
      "ledger",
      "transfer",
      "--to",
      BOB,
      "--asset",
      "BTC",
      "--amount",
      "1",
    ]);
    assert.match(badAsset.error, /^error: unknown asset "BTC" \(hint: assets are ETH, COIN/);
    const missing = await fails(["input", "send"]);
    assert.equal(missing.code, 2);
    assert.match(missing.error, /^error: Missing required argument: payload \(hint: see --help\)$/);
    const down = await fails(["input", "send", "--payload", "x", "--rpc", "http://127.0.0.1:9"]);
    assert.match(
      down.error,
      /^error: cannot reach the chain at http:\/\/127\.0\.0\.1:9 \(hint: start the dev node/,
    );
    assert.equal(await inputCount(), count);
  });

  it("deposits an ERC-721 and an ERC-1155 token", async () => {
    assert.match(
      await ok(["erc721", "deposit", "--tokenId", "0"]),
      /^deposit successfully executed as input \d+$/,
    );
    assert.match(
      await ok(["erc1155", "deposit", "--tokenId", "0", "--amount", "10"]),
      /^deposit successfully executed as input \d+$/,
    );
    // Deposits wait in the pool: pending until a block confirms them. The deposit command returns
    // once L1 has the input; the node processes it a moment later.
    const erc1155Pending =
      /^ {2}erc1155:0xd728a78c93b8e193e12a0a20b88e514cf05e5f74:0 +0 {2}pending 10$/m;
    let pending = await ok(["ledger", "balance", "--url", inspectUrl]);
    for (let tries = 0; tries < 100 && !erc1155Pending.test(pending); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      pending = await ok(["ledger", "balance", "--url", inspectUrl]);
    }
    assert.match(
      pending,
      /^ {2}erc721:0x4fd594c6aa126de9389fed996337f120d4ea011b:0 +0 {2}pending 1$/m,
    );
    assert.match(pending, erc1155Pending);
    await ok(["ledger", "mine", "--url", graphqlUrl]);
    const confirmed = await ok(["ledger", "balance", "--url", inspectUrl]);
    assert.match(confirmed, /^ {2}erc721:0x4fd594c6aa126de9389fed996337f120d4ea011b:0 +1$/m);
    assert.match(confirmed, /^ {2}erc1155:0xd728a78c93b8e193e12a0a20b88e514cf05e5f74:0 +10$/m);
  });

  let tokenVouchersInput = -1;

  it("withdraws: relay the address, a voucher when the block is sealed, executed once proven", async () => {
    const withdraw = ["ledger", "withdraw", "--asset", "erc20:SimpleERC20", "--amount", "10"];
    const early = await fails([...withdraw, "--url", graphqlUrl]);
    assert.match(early.error, /DAPP_ADDRESS_UNKNOWN: .+ \(hint: run `ledger relay-address` once/);
    assert.match(
      await ok(["ledger", "relay-address", "--url", graphqlUrl]),
      /the dApp knows its address 0xab7528bb862fB57E8A2BCd567a2e929a0Be56a5e/,
    );
    const pending = await fails([...withdraw, "--url", graphqlUrl, "--execute"]);
    assert.match(pending.stdout.trim(), /^input \d+ accepted\ntransaction 0x[0-9a-f]{64} pending$/);
    assert.match(
      pending.error,
      /^error: withdrawal 0x[0-9a-f]{64} waits in the pool: its voucher is emitted when its block is sealed \(hint: run `ledger mine` to seal it, or pass --mine to seal it in the same command\)$/,
    );
    await ok([...withdraw, "--url", graphqlUrl]);
    const mined = await ok(["ledger", "mine", "--url", graphqlUrl, "--json"]);
    const input = (JSON.parse(mined) as { input: number }).input;
    tokenVouchersInput = input;
    const vouchers = await vouchersOf(input);
    assert.equal(vouchers.length, 2, "the pending withdrawal and this one, in one block");
    for (const [i, voucher] of vouchers.entries()) {
      assert.equal(voucher.index, i);
      assert.equal(voucher.destination, SIMPLE_ERC20);
      assert.match(voucher.payload, /^0xa9059cbb/); // ERC-20 transfer(address,uint256)
      assert.equal(voucher.executed, false);
    }
    await untilExecutable(input, 0);
    const before = await erc20Of(SIMPLE_ERC20, ME);
    const execute = await ok([
      "voucher",
      "execute",
      "--index",
      "0",
      "--input",
      String(input),
      "--url",
      graphqlUrl,
    ]);
    assert.match(execute.trim(), /^voucher executed! \(tx="0x[0-9a-f]{64}"\)$/);
    assert.equal(await erc20Of(SIMPLE_ERC20, ME), before + 10n);
    assert.deepEqual(
      (await vouchersOf(input)).map((v) => [v.index, v.executable, v.executed]),
      [
        [0, true, true],
        [1, true, false],
      ],
    );
  });

  let etherVoucher = { index: -1, input: -1 };

  it("withdraws Ether with --mine --execute, and the Ether comes back on L1", async () => {
    // From the second account: the first owns the Authority, so the node's claims cost it gas.
    const bob = ["--accountIndex", "1"];
    await ok(["ether", "deposit", "--amount", "1", ...bob]);
    const [bobBefore, dappBefore] = [await etherOf(BOB), await etherOf(DAPP)];
    const out = await ok([
      "ledger",
      "withdraw",
      "--asset",
      "ETH",
      "--amount",
      "0.5ether",
      "--mine",
      "--execute",
      "--url",
      graphqlUrl,
      "--json",
      ...bob,
    ]);
    const result = JSON.parse(out) as {
      transaction: string;
      status: string;
      mine: { input: number; transaction: string; status: string };
      voucher: { index: number; input: number };
      execution: {
        transaction: string;
        balance: {
          asset: string;
          address: string;
          before: string;
          after: string;
          change: string;
          gas: string;
        };
      };
    };
    assert.equal(result.status, "ACCEPTED");
    assert.equal(result.mine.status, "ACCEPTED");
    assert.equal(result.voucher.input, result.mine.input);
    etherVoucher = result.voucher;
    const half = ETHER / 2n;
    const gas = {
      withdraw: await gasOf(result.transaction),
      mine: await gasOf(result.mine.transaction),
      execute: await gasOf(result.execution.transaction),
    };
    // Back on L1: half an Ether, less the gas of the three transactions the command sent.
    assert.equal(await etherOf(BOB), bobBefore + half - gas.withdraw - gas.mine - gas.execute);
    assert.equal(await etherOf(DAPP), dappBefore - half);
    const { before, after, ...balance } = result.execution.balance;
    assert.deepEqual(balance, {
      asset: "ETH",
      address: BOB,
      change: String(half - gas.execute),
      gas: String(gas.execute),
    });
    assert.equal(BigInt(after) - BigInt(before), half - gas.execute);
  });

  it("refuses a second execution of a voucher with a clear message", async () => {
    const { index, input } = etherVoucher;
    const again = await fails([
      "voucher",
      "execute",
      "--index",
      String(index),
      "--input",
      String(input),
      "--url",
      graphqlUrl,
    ]);
    assert.equal(again.stdout, "");
    assert.equal(
      again.error,
      `error: voucher "${index}" from input "${input}" was already executed (hint: a voucher executes once; \`voucher list\` shows which ones are executed)`,
    );
    const listed = (await vouchersOf(input)).find((v) => v.index === index);
    assert.equal(listed?.executable, true);
    assert.equal(listed.executed, true);
  });

  it("validates a block notice on L1", async () => {
    const { input } = etherVoucher;
    const notices = JSON.parse(
      await ok(["notice", "list", "--url", graphqlUrl, "--input", String(input)]),
    ) as { index: number; payload: string }[];
    const block = notices.find(
      (n) => (JSON.parse(n.payload) as { type?: string }).type === "block",
    );
    assert.ok(block, `no block notice in input ${input}`);
    const args = ["--index", String(block.index), "--input", String(input), "--url", graphqlUrl];
    assert.equal(await ok(["notice", "validate", ...args]), "notice is valid!");
    assert.deepEqual(JSON.parse(await ok(["notice", "validate", ...args, "--json"])), {
      index: block.index,
      input,
      valid: true,
    });
  });

  it("names the contract's rejection of a proof with one sibling altered", async () => {
    // A reader in front of the node's that alters the first sibling of every proof it serves.
    const tamper = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        void (async () => {
          const answer = await fetch(graphqlUrl, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
          const json = (await answer.json()) as {
            data?: Record<string, { proof?: { validity: Record<string, string[]> } | null }>;
          };
          for (const output of Object.values(json.data ?? {})) {
            const siblings = output.proof?.validity.outputHashInOutputHashesSiblings;
            if (siblings !== undefined) siblings[0] = `0x${"00".repeat(31)}01`;
          }
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(json));
        })();
      });
    });
    await new Promise<void>((listening) => tamper.listen(0, "127.0.0.1", listening));
    const tamperUrl = `http://127.0.0.1:${(tamper.address() as AddressInfo).port}/graphql`;
    try {
      const input = String(tokenVouchersInput);
      const voucher = await fails([
        "voucher",
        "execute",
        "--index",
        "1",
        "--input",
        input,
        "--url",
        tamperUrl,
      ]);
      assert.equal(
        voucher.error,
        "error: COULD NOT EXECUTE VOUCHER: IncorrectOutputHashesRootHash(): the output is not in its input's output tree (hint: the node's proof and the claim on chain disagree: check the dev node's log and --url)",
      );
      assert.deepEqual(
        (await vouchersOf(tokenVouchersInput)).map((v) => [v.index, v.executed]),
        [
          [0, true],
          [1, false],
        ],
        "nothing was executed",
      );
      const notice = await fails([
        "notice",
        "validate",
        "--index",
        "0",
        "--input",
        input,
        "--url",
        tamperUrl,
      ]);
      assert.match(
        notice.error,
        /^error: COULD NOT VALIDATE NOTICE: IncorrectOutputHashesRootHash\(\): /,
      );
    } finally {
      tamper.closeAllConnections();
      await new Promise((closed) => tamper.close(closed));
    }
  });

  it("withdraws an ERC-20 with --mine --execute and shows the L1 balance change", async () => {
    const before = await erc20Of(SIMPLE_ERC20, ME);
    const out = await ok([
      "ledger",
      "withdraw",
      "--asset",
      "erc20:SimpleERC20",
      "--amount",
      "7",
      "--mine",
      "--execute",
      "--url",
      graphqlUrl,
    ]);
    assert.match(
      out,
      new RegExp(
        [
          "^input (\\d+) accepted",
          "transaction 0x[0-9a-f]{64} pending",
          "input (\\d+) accepted",
          "sealed block \\d+ 0x[0-9a-f]{64} with 1 transaction",
          "voucher 0 of input \\2 pays the withdrawal",
          "voucher 0 of input \\2 executed in L1 transaction 0x[0-9a-f]{64}",
          `erc20:${SIMPLE_ERC20} on L1 of ${ME}: ${before} -> ${before + 7n} \\(\\+7\\)$`,
        ].join("\n"),
      ),
    );
    assert.equal(await erc20Of(SIMPLE_ERC20, ME), before + 7n);
  });

  it("withdraws the ERC-721 and ERC-1155 tokens with --mine --execute", async () => {
    const erc721 = "0x4fd594c6aa126de9389fed996337f120d4ea011b";
    const erc1155 = "0xd728a78c93b8e193e12a0a20b88e514cf05e5f74";
    const word = (n: bigint | string) => BigInt(n).toString(16).padStart(64, "0");
    const ownerOf = async (id: bigint) =>
      `0x${((await rpc("eth_call", [{ to: erc721, data: `0x6352211e${word(id)}` }, "latest"])) as string).slice(-40)}`;
    const balanceOf1155 = async (id: bigint) =>
      BigInt(
        (await rpc("eth_call", [
          { to: erc1155, data: `0x00fdd58e${word(ME)}${word(id)}` },
          "latest",
        ])) as string,
      );
    assert.equal(await ownerOf(0n), DAPP.toLowerCase(), "the portal gave the token to the dApp");
    const nft = await ok([
      "ledger",
      "withdraw",
      "--asset",
      "erc721:SimpleERC721:0",
      "--mine",
      "--execute",
      "--url",
      graphqlUrl,
    ]);
    assert.match(nft, new RegExp(`^erc721:${erc721}:0 on L1 of ${ME}: 0 -> 1 \\(\\+1\\)$`, "m"));
    assert.equal(await ownerOf(0n), ME.toLowerCase());
    const before = await balanceOf1155(0n);
    const multi = await ok([
      "ledger",
      "withdraw",
      "--asset",
      "erc1155:SimpleERC1155:0",
      "--amount",
      "4",
      "--mine",
      "--execute",
      "--url",
      graphqlUrl,
    ]);
    assert.match(
      multi,
      new RegExp(
        `^erc1155:${erc1155}:0 on L1 of ${ME}: ${before} -> ${before + 4n} \\(\\+4\\)$`,
        "m",
      ),
    );
    assert.equal(await balanceOf1155(0n), before + 4n);
  });

  it("runs through `yarn start` and `npm start --`", async () => {
    const viaYarn = await ok(["ledger", "block", "latest", "--url", inspectUrl, "--json"], "yarn");
    const viaNpm = await ok(["ledger", "block", "latest", "--url", inspectUrl, "--json"], "npm");
    assert.equal(viaYarn, viaNpm);
    assert.equal(typeof (JSON.parse(viaYarn) as { hash: string }).hash, "string");
  });
});
