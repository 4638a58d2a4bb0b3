/**
 * The real console against a dev node with long epochs, so that "not proven yet" holds until the
 * test mines L1 blocks: proofs that are not there yet, and waiting for them.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  fails,
  graphqlUrl,
  ok,
  rpc,
  runInBackground,
  startNode,
  stopNode,
  untilExecutable,
  vouchersOf,
} from "./harness.ts";

describe("the console against a dev node with long epochs", { timeout: 600_000 }, () => {
  // Epochs of 1000 L1 blocks: nothing is claimed until the test mines past the first epoch's
  // end, so "no proof yet" holds while the console is asked, and the wait for a proof is seen.
  const EPOCH = 1000;
  before(() => startNode(["--epoch-length", String(EPOCH)]));
  after(stopNode);

  let voucher = { index: -1, input: -1 };
  const epochLine = new RegExp(
    `^the epoch ends in \\d+ L1 blocks, with L1 block \\d+, when the node claims it \\(epochs of ${EPOCH} L1 blocks\\)$`,
  );

  it("says a voucher and a notice have no proof yet, and how long the epoch has left", async () => {
    await ok(["ether", "deposit", "--amount", "1"]);
    await ok(["ledger", "relay-address", "--url", graphqlUrl]);
    const out = await ok([
      "ledger",
      "withdraw",
      "--asset",
      "ETH",
      "--amount",
      "0.25ether",
      "--mine",
      "--url",
      graphqlUrl,
      "--json",
    ]);
    voucher = (JSON.parse(out) as { voucher: typeof voucher }).voucher;
    const { index, input } = voucher;
    const args = ["--index", String(index), "--input", String(input), "--url", graphqlUrl];
    const [first, second, ...rest] = (await ok(["voucher", "execute", ...args])).split("\n");
    assert.equal(first, `voucher "${index}" from input "${input}" has no associated proof yet`);
    assert.match(second ?? "", epochLine);
    assert.deepEqual(rest, []);
    const json = JSON.parse(await ok(["voucher", "execute", ...args, "--json"])) as {
      proof: null;
      epoch: { epochLength: number; lastClaimedInput: number | null; blocksLeft: number };
    };
    assert.equal(json.proof, null);
    assert.equal(json.epoch.epochLength, EPOCH);
    assert.equal(json.epoch.lastClaimedInput, null);
    assert.ok(json.epoch.blocksLeft > 0, JSON.stringify(json));
    const notice = (await ok(["notice", "validate", ...args])).split("\n");
    assert.equal(notice[0], `notice "${index}" from input "${input}" has no associated proof yet`);
    assert.match(notice[1] ?? "", epochLine);
    assert.deepEqual(
      (await vouchersOf(input)).map((v) => [v.index, v.executable, v.executed]),
      [[index, false, false]],
    );
  });

  it("gives up waiting for a proof at --timeout, naming the voucher to execute later", async () => {
    const late = await fails([
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
      "--url",
      graphqlUrl,
    ]);
    const m = /^voucher (\d+) of input (\d+) pays the withdrawal$/m.exec(late.stdout);
    assert.ok(m, late.stdout);
    const [, index, input] = m;
    assert.match(
      late.stderr,
      /^waiting for the proof of voucher \d+ of input \d+: the epoch ends in/m,
    );
    assert.match(
      late.error,
      new RegExp(
        `^error: voucher ${index} of input ${input} has no proof after 2 s: the epoch ends in .+ \\(hint: the withdrawal is done and its voucher stays: run \`voucher execute --index ${index} --input ${input}\` later, or give --timeout more seconds\\)$`,
      ),
    );
  });

  it("waits for the proof while L1 advances, then executes", async () => {
    const withdrawing = runInBackground([
      "ledger",
      "withdraw",
      "--asset",
      "ETH",
      "--amount",
      "0.25ether",
      "--mine",
      "--execute",
      "--url",
      graphqlUrl,
    ]);
    await withdrawing.stderrShows("waiting for the proof of voucher");
    // The test, not the console, moves L1 past the epoch's end.
    await rpc("anvil_mine", [`0x${EPOCH.toString(16)}`]);
    const done = await withdrawing.done;
    assert.equal(done.code, 0, done.stderr);
    assert.match(
      done.stdout,
      /^voucher 0 of input \d+ executed in L1 transaction 0x[0-9a-f]{64}$/m,
    );
    assert.match(
      done.stdout,
      /^ETH on L1 of 0x[0-9a-fA-F]{40}: .+ \(\+0\.2\d+ ETH: 0\.25 ETH paid by the voucher, .+ ETH for gas\)$/m,
    );
    // The first withdrawal's voucher, of the same epoch, is executable now too.
    const { index, input } = voucher;
    await untilExecutable(input, index);
    assert.match(
      await ok([
        "voucher",
        "execute",
        "--index",
        String(index),
        "--input",
        String(input),
        "--url",
        graphqlUrl,
      ]),
      /^voucher executed! \(tx="0x[0-9a-f]{64}"\)$/,
    );
  });
});
