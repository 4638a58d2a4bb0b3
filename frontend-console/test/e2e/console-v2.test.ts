/**
 * The real console against a dev node running Rollups v2 (`devnode --rollups v2`): deposits of
 * every kind through the v2 portals, a transfer, `mine`, withdrawals of every kind executed on
 * L1 through `executeOutput` with the balances checked before and after, a second execution
 * refused, a notice validated with `validateOutput`, a tampered proof refused, and a rejected
 * input. The console finds the version, the JSON-RPC URL and the application in the
 * `rollups.json` the node writes; no command here names them.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { BOB, DevNode, ETHER, ME } from "./harness.ts";

interface Listed {
  index: number;
  input: number;
  destination?: string;
  value?: string;
  payload: string;
  executable?: boolean;
  executed?: boolean;
}

interface Balance {
  asset: string;
  confirmed: string;
  pending: string;
}

describe("the console against a Rollups v2 dev node", { timeout: 900_000 }, () => {
  let node: DevNode;
  let app = "";
  let tokens = { erc20: "", erc721: "", erc1155: "" };

  before(async () => {
    node = await DevNode.start(["--rollups", "v2"]);
    app = node.deployment("rollups", "application");
    tokens = {
      erc20: node.deployment("SimpleERC20", "address").toLowerCase(),
      erc721: node.deployment("SimpleERC721", "address").toLowerCase(),
      erc1155: node.deployment("SimpleERC1155", "address").toLowerCase(),
    };
  });
  after(() => node.stop());

  const balancesOf = async (address: string): Promise<Balance[]> =>
    (
      JSON.parse(await node.ok(["ledger", "balance", "--address", address, "--json"])) as {
        balances: Balance[];
      }
    ).balances;
  const vouchersOf = async (input: number): Promise<Listed[]> =>
    JSON.parse(await node.ok(["voucher", "list", "--input", String(input), "--json"])) as Listed[];
  const ownerOf = async (id: bigint) => node.call(tokens.erc721, "0x6352211e", id);
  const erc1155Of = (id: bigint) => node.call(tokens.erc1155, "0x00fdd58e", ME, id);
  const erc20Of = (who: string) => node.call(tokens.erc20, "0x70a08231", who);

  it("writes rollups.json for v2, and inspects through it", async () => {
    assert.equal(node.deployment("rollups", "version"), "2.2.0");
    assert.match(node.deployment("rollups", "rpc"), /\/rpc$/);
    const out = await node.ok(["inspect", "--payload", "info"]);
    assert.match(out, /^HTTP status: 200$/m);
    assert.match(out, /^Input count: 0$/m);
  });

  it("deposits Ether, an ERC-20 (approving first), an ERC-721 and ERC-1155 single and batch", async () => {
    assert.equal(
      await node.ok(["ether", "deposit", "--amount", "1"]),
      "deposit successfully executed as input 0",
    );
    const erc20 = await node.run(["erc20", "deposit", "--amount", "500"]);
    assert.equal(erc20.code, 0, erc20.stderr);
    assert.equal(erc20.stdout.trim(), "deposit successfully executed as input 1");
    assert.match(erc20.stderr, /approving allowance of 500 tokens/);
    assert.equal(
      await node.ok(["erc721", "deposit", "--tokenId", "0"]),
      "deposit successfully executed as input 2",
    );
    assert.equal(
      await node.ok(["erc1155", "deposit", "--tokenId", "0", "--amount", "10"]),
      "deposit successfully executed as input 3",
    );
    assert.equal(
      await node.ok([
        "erc1155",
        "deposit",
        // The dev node mints token 0 only; a batch may name an id twice.
        "--tokenId",
        "0",
        "--amount",
        "3",
        "--tokenId",
        "0",
        "--amount",
        "4",
      ]),
      "deposit successfully executed as input 4",
    );
    assert.equal(
      await ownerOf(0n),
      BigInt(app),
      "the ERC721Portal gave the token to the application",
    );
    assert.equal(
      await node.etherOf(app),
      ETHER,
      "the EtherPortal sent the Ether to the application",
    );
  });

  it("mines, and the deposits are confirmed balances", async () => {
    const out = await node.ok(["ledger", "mine"]);
    assert.match(out, /^input 5 accepted\n/);
    assert.match(out, /^sealed block \d+ 0x[0-9a-f]{64} with \d+ transactions?$/m);
    const balances = Object.fromEntries((await balancesOf(ME)).map((b) => [b.asset, b.confirmed]));
    assert.equal(balances.ETH, String(ETHER));
    assert.equal(balances[`erc20:${tokens.erc20}`], "500");
    assert.equal(balances[`erc721:${tokens.erc721}:0`], "1");
    assert.equal(balances[`erc1155:${tokens.erc1155}:0`], "17");
  });

  it("transfers in the ledger, and `mine` confirms it for the receiver", async () => {
    const transfer = await node.ok([
      "ledger",
      "transfer",
      "--to",
      BOB,
      "--asset",
      "ETH",
      "--amount",
      "0.25ether",
    ]);
    assert.match(transfer, /^input 6 accepted\ntransaction 0x[0-9a-f]{64} pending$/);
    await node.ok(["ledger", "mine"]);
    const bob = await balancesOf(BOB);
    assert.deepEqual(
      bob.find((b) => b.asset === "ETH"),
      { asset: "ETH", confirmed: String(ETHER / 4n), pending: String(ETHER / 4n) },
    );
    const notices = JSON.parse(await node.ok(["notice", "list", "--json"])) as Listed[];
    assert.ok(notices.length >= 2, "a notice for each sealed block");
    assert.deepEqual(
      notices.map((n) => n.index),
      [...notices.map((n) => n.index)].sort((a, b) => a - b),
    );
  });

  it("rejects a payload that is no operation, with the dApp's error, and changes nothing", async () => {
    const before = await balancesOf(ME);
    const bad = await node.fails(["input", "send", "--payload", "hello", "--wait"]);
    assert.match(bad.error, /^error: input \d+ was rejected: MALFORMED_PAYLOAD: .+ \(hint: .+\)$/);
    assert.deepEqual(await balancesOf(ME), before);
    const input = Number(/input (\d+) was rejected/.exec(bad.error)?.[1]);
    const reports = JSON.parse(
      await node.ok(["report", "list", "--input", String(input), "--json"]),
    ) as Listed[];
    assert.equal(reports.length, 1);
    assert.match(reports[0]?.payload ?? "", /MALFORMED_PAYLOAD/);
  });

  it("says v2 needs no address relay", async () => {
    assert.match(
      await node.ok(["ledger", "relay-address"]),
      /Rollups v2 tells the dApp its address/,
    );
  });

  let etherVoucher = { index: -1, input: -1 };

  it("withdraws Ether with --mine --execute: the voucher's value comes back on L1", async () => {
    // From the second account: the first owns the Authority, so the node's claims cost it gas.
    const bob = ["--accountIndex", "1"];
    const [bobBefore, appBefore] = [await node.etherOf(BOB), await node.etherOf(app)];
    const out = await node.ok([
      "ledger",
      "withdraw",
      "--asset",
      "ETH",
      "--amount",
      "0.25ether",
      "--mine",
      "--execute",
      "--json",
      ...bob,
    ]);
    const result = JSON.parse(out) as {
      transaction: string;
      status: string;
      mine: { input: number; transaction: string; status: string };
      voucher: { index: number; input: number };
      execution: { transaction: string; balance: { change: string; gas: string } };
    };
    assert.equal(result.status, "ACCEPTED");
    assert.equal(result.voucher.input, result.mine.input);
    etherVoucher = result.voucher;
    const quarter = ETHER / 4n;
    const gas = {
      withdraw: await node.gasOf(result.transaction),
      mine: await node.gasOf(result.mine.transaction),
      execute: await node.gasOf(result.execution.transaction),
    };
    assert.equal(
      await node.etherOf(BOB),
      bobBefore + quarter - gas.withdraw - gas.mine - gas.execute,
    );
    assert.equal(await node.etherOf(app), appBefore - quarter);
    assert.equal(result.execution.balance.change, String(quarter - gas.execute));
    const listed = (await vouchersOf(result.voucher.input)).find(
      (v) => v.index === result.voucher.index,
    );
    assert.deepEqual(
      { ...listed, destination: listed?.destination?.toLowerCase() },
      {
        index: result.voucher.index,
        input: result.voucher.input,
        destination: BOB.toLowerCase(),
        value: String(quarter),
        payload: "",
        executable: true,
        executed: true,
      },
    );
  });

  it("refuses a second execution of a voucher with a clear message", async () => {
    const { index, input } = etherVoucher;
    const again = await node.fails([
      "voucher",
      "execute",
      "--index",
      String(index),
      "--input",
      String(input),
    ]);
    assert.equal(again.stdout, "");
    assert.equal(
      again.error,
      `error: voucher "${index}" from input "${input}" was already executed (hint: a voucher executes once; \`voucher list\` shows which ones are executed)`,
    );
  });

  it("withdraws an ERC-20 with --mine --execute and shows the L1 balance change", async () => {
    const before = await erc20Of(ME);
    const out = await node.ok([
      "ledger",
      "withdraw",
      "--asset",
      "erc20:SimpleERC20",
      "--amount",
      "7",
      "--mine",
      "--execute",
    ]);
    assert.match(out, /^voucher \d+ of input \d+ executed in L1 transaction 0x[0-9a-f]{64}$/m);
    assert.match(
      out,
      new RegExp(
        `^erc20:${tokens.erc20} on L1 of ${ME}: ${before} -> ${before + 7n} \\(\\+7\\)$`,
        "m",
      ),
    );
    assert.equal(await erc20Of(ME), before + 7n);
  });

  it("withdraws the ERC-721 and ERC-1155 tokens with --mine --execute", async () => {
    const nft = await node.ok([
      "ledger",
      "withdraw",
      "--asset",
      "erc721:SimpleERC721:0",
      "--mine",
      "--execute",
    ]);
    assert.match(
      nft,
      new RegExp(`^erc721:${tokens.erc721}:0 on L1 of ${ME}: 0 -> 1 \\(\\+1\\)$`, "m"),
    );
    assert.equal(await ownerOf(0n), BigInt(ME));
    for (const [id, amount] of [
      [0n, 4n],
      [0n, 5n],
    ] as const) {
      const before = await erc1155Of(id);
      const multi = await node.ok([
        "ledger",
        "withdraw",
        "--asset",
        `erc1155:SimpleERC1155:${id}`,
        "--amount",
        String(amount),
        "--mine",
        "--execute",
      ]);
      assert.match(
        multi,
        new RegExp(
          `^erc1155:${tokens.erc1155}:${id} on L1 of ${ME}: ${before} -> ${before + amount} \\(\\+${amount}\\)$`,
          "m",
        ),
      );
      assert.equal(await erc1155Of(id), before + amount);
    }
  });

  it("validates a block notice on L1", async () => {
    const { input } = etherVoucher;
    const notices = JSON.parse(
      await node.ok(["notice", "list", "--input", String(input), "--json"]),
    ) as Listed[];
    const block = notices.find(
      (n) => (JSON.parse(n.payload) as { type?: string }).type === "block",
    );
    assert.ok(block, `no block notice in input ${input}`);
    const args = ["--index", String(block.index), "--input", String(input)];
    assert.equal(await node.ok(["notice", "validate", ...args]), "notice is valid!");
  });

  it("names the contract's rejection of a proof with one sibling altered", async () => {
    // A JSON-RPC API in front of the node's that alters the first sibling of every output.
    const rpcUrl = node.deployment("rollups", "rpc");
    const tamper = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        void (async () => {
          const answer = await fetch(rpcUrl, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
          const json = (await answer.json()) as {
            result?: { data?: { output_hashes_siblings?: string[] | null } };
          };
          const siblings = json.result?.data?.output_hashes_siblings;
          if (Array.isArray(siblings)) siblings[0] = `0x${"00".repeat(31)}01`;
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(json));
        })();
      });
    });
    await new Promise<void>((listening) => tamper.listen(0, "127.0.0.1", listening));
    const tamperUrl = `http://127.0.0.1:${(tamper.address() as AddressInfo).port}/rpc`;
    try {
      // A fresh voucher, proven but not executed: withdraw without --execute, then wait.
      const out = await node.ok([
        "ledger",
        "withdraw",
        "--asset",
        "erc20:SimpleERC20",
        "--amount",
        "1",
        "--mine",
      ]);
      const m = /^voucher (\d+) of input (\d+) pays the withdrawal$/m.exec(out);
      assert.ok(m, out);
      const [index, input] = [m[1] ?? "", m[2] ?? ""];
      const deadline = Date.now() + 60_000;
      while (!(await vouchersOf(Number(input))).some((v) => v.executable)) {
        assert.ok(Date.now() < deadline, "the voucher got no proof in 60 s");
        await new Promise((done) => setTimeout(done, 500));
      }
      const voucher = await node.fails([
        "voucher",
        "execute",
        "--index",
        index,
        "--input",
        input,
        "--rpc-url",
        tamperUrl,
      ]);
      assert.match(
        voucher.error,
        /^error: COULD NOT EXECUTE VOUCHER: InvalidOutputsMerkleRoot\(0x[0-9a-f]{64}\): the proof leads to an outputs root the application's consensus has not accepted \(hint: the node's proof and the claim on chain disagree/,
      );
      assert.equal(
        (await vouchersOf(Number(input))).find((v) => v.index === Number(index))?.executed,
        false,
        "nothing was executed",
      );
      const notice = (
        JSON.parse(await node.ok(["notice", "list", "--input", input, "--json"])) as Listed[]
      )[0];
      assert.ok(notice, `no notice in input ${input}`);
      const refused = await node.fails([
        "notice",
        "validate",
        "--index",
        String(notice.index),
        "--input",
        input,
        "--rpc-url",
        tamperUrl,
      ]);
      assert.match(refused.error, /^error: COULD NOT VALIDATE NOTICE: InvalidOutputsMerkleRoot\(/);
      // The untampered proof executes.
      assert.match(
        await node.ok(["voucher", "execute", "--index", index, "--input", input]),
        /^voucher executed! \(tx="0x[0-9a-f]{64}"\)$/,
      );
    } finally {
      tamper.closeAllConnections();
      await new Promise((closed) => tamper.close(closed));
    }
  });
});

describe("the console against a Rollups v2 dev node with long epochs", { timeout: 600_000 }, () => {
  // Epochs of 1000 L1 blocks, aligned to absolute block numbers as the v2 Authority counts them:
  // nothing is claimed while the test runs, so "no proof yet" holds.
  const EPOCH = 1000;
  let node: DevNode;
  before(async () => {
    node = await DevNode.start(["--rollups", "v2", "--epoch-length", String(EPOCH)]);
  });
  after(() => node.stop());

  const epochLine = new RegExp(
    `^the epoch ends in \\d+ L1 blocks, with L1 block \\d+, when the node claims it \\(epochs of ${EPOCH} L1 blocks\\)$`,
  );

  it("says a voucher and a notice have no proof yet, and how long the epoch has left", async () => {
    await node.ok(["ether", "deposit", "--amount", "1"]);
    const out = await node.ok([
      "ledger",
      "withdraw",
      "--asset",
      "ETH",
      "--amount",
      "0.25ether",
      "--mine",
      "--json",
    ]);
    const { index, input } = (JSON.parse(out) as { voucher: { index: number; input: number } })
      .voucher;
    const args = ["--index", String(index), "--input", String(input)];
    const [first, second, ...rest] = (await node.ok(["voucher", "execute", ...args])).split("\n");
    assert.equal(first, `voucher "${index}" from input "${input}" has no associated proof yet`);
    assert.match(second ?? "", epochLine);
    assert.deepEqual(rest, []);
    const json = JSON.parse(await node.ok(["voucher", "execute", ...args, "--json"])) as {
      proof: null;
      epoch: { epochLength: number; blocksLeft: number };
    };
    assert.equal(json.proof, null);
    assert.equal(json.epoch.epochLength, EPOCH);
    assert.ok(json.epoch.blocksLeft > 0, JSON.stringify(json));
    const notices = JSON.parse(
      await node.ok(["notice", "list", "--input", String(input), "--json"]),
    ) as Listed[];
    const notice = notices[0];
    assert.ok(notice, `no notice in input ${input}`);
    const said = await node.ok([
      "notice",
      "validate",
      "--index",
      String(notice.index),
      "--input",
      String(input),
    ]);
    assert.equal(
      said.split("\n")[0],
      `notice "${notice.index}" from input "${input}" has no associated proof yet`,
    );
    const listed = JSON.parse(
      await node.ok(["voucher", "list", "--input", String(input), "--json"]),
    ) as Listed[];
    assert.deepEqual(
      listed.map((v) => [v.index, v.executable, v.executed]),
      [[index, false, false]],
    );
  });

  it("gives up waiting for a proof at --timeout, naming the voucher to execute later", async () => {
    const late = await node.fails([
      "ledger",
      "withdraw",
      "--asset",
      "ETH",
      "--amount",
      "0.25ether",
      "--mine",
      "--execute",
      "--timeout",
      "2",
    ]);
    const m = /^voucher (\d+) of input (\d+) pays the withdrawal$/m.exec(late.stdout);
    assert.ok(m, late.stdout);
    const [, index, input] = m;
    assert.match(
      late.error,
      new RegExp(
        `^error: voucher ${index} of input ${input} has no proof after 2 s: the epoch ends in .+ \\(hint: the withdrawal is done and its voucher stays: run \`voucher execute --index ${index} --input ${input}\` later, or give --timeout more seconds\\)$`,
      ),
    );
  });
});
