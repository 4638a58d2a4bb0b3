/** Proof structs for the CartesiDApp ABI, error lines and JSON output, and error conversion. */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { closedPortUrl } from "./helpers.ts";
import {
  BaseError,
  decodeFunctionData,
  encodeFunctionData,
  stringToHex,
  toFunctionSelector,
} from "viem";
import {
  ConsoleError,
  fetchText,
  firstLine,
  isUnreachable,
  toConsoleError,
} from "../../src/lib/errors.ts";
import type { Proof } from "../../src/lib/graphql.ts";
import { type Sink, errorLine, makeOut, toJson } from "../../src/lib/output.ts";
import { OUTPUT_ABI, proofStruct } from "../../src/lib/proofs.ts";

const h = (byte: string) => `0x${byte.repeat(32)}` as const;

/** A proof as the reader's GraphQL client hands it over, `__typename` keys included. */
const readerProof = {
  __typename: "Proof",
  validity: {
    __typename: "OutputValidityProof",
    inputIndexWithinEpoch: 3,
    outputIndexWithinInput: 1,
    outputHashesRootHash: h("11"),
    vouchersEpochRootHash: h("22"),
    noticesEpochRootHash: h("33"),
    machineStateHash: h("44"),
    outputHashInOutputHashesSiblings: [h("55"), h("66")],
    outputHashesInEpochSiblings: [h("77")],
  },
  context: "0xbeef",
};

function hasTypename(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasTypename);
  if (typeof value !== "object" || value === null) return false;
  return "__typename" in value || Object.values(value).some(hasTypename);
}

describe("proofStruct", () => {
  const proof: Proof = readerProof;

  it("converts the reader's proof into the contract's struct", () => {
    const struct = proofStruct(proof);
    assert.deepEqual(struct, {
      validity: {
        inputIndexWithinEpoch: 3n,
        outputIndexWithinInput: 1n,
        outputHashesRootHash: h("11"),
        vouchersEpochRootHash: h("22"),
        noticesEpochRootHash: h("33"),
        machineStateHash: h("44"),
        outputHashInOutputHashesSiblings: [h("55"), h("66")],
        outputHashesInEpochSiblings: [h("77")],
      },
      context: "0xbeef",
    });
    assert.equal(hasTypename(struct), false);
    assert.equal(hasTypename(readerProof), true, "the check sees the reader's keys");
  });

  it("is accepted by CartesiDApp.validateNotice", () => {
    const payload = stringToHex("a notice");
    const struct = proofStruct(proof);
    const data = encodeFunctionData({
      abi: OUTPUT_ABI,
      functionName: "validateNotice",
      args: [payload, struct],
    });
    assert.equal(
      data.slice(0, 10),
      toFunctionSelector(
        "validateNotice(bytes,((uint64,uint64,bytes32,bytes32,bytes32,bytes32,bytes32[],bytes32[]),bytes))",
      ),
    );
    const decoded = decodeFunctionData({ abi: OUTPUT_ABI, data });
    assert.equal(decoded.functionName, "validateNotice");
    assert.deepEqual(decoded.args, [payload, struct]);
  });

  it("is accepted by CartesiDApp.executeVoucher", () => {
    const destination = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const struct = proofStruct(proof);
    const data = encodeFunctionData({
      abi: OUTPUT_ABI,
      functionName: "executeVoucher",
      args: [destination, "0x1234", struct],
    });
    const decoded = decodeFunctionData({ abi: OUTPUT_ABI, data });
    assert.equal(decoded.functionName, "executeVoucher");
    assert.deepEqual(decoded.args, [destination, "0x1234", struct]);
  });
});

describe("errorLine", () => {
  it("writes text with and without a hint", () => {
    assert.equal(errorLine(new ConsoleError("msg", "h"), false), "error: msg (hint: h)");
    assert.equal(errorLine(new ConsoleError("msg"), false), "error: msg");
  });

  it("writes JSON with and without a hint", () => {
    assert.equal(errorLine(new ConsoleError("msg", "h"), true), '{"error":"msg","hint":"h"}');
    assert.equal(errorLine(new ConsoleError('say "hi"'), true), '{"error":"say \\"hi\\""}');
  });
});

describe("toJson", () => {
  it("writes bigints as decimal strings, at any depth", () => {
    assert.equal(
      toJson({ a: 1n, b: [2n ** 200n, "x"], c: { d: 0n }, e: 1.5 }),
      `{"a":"1","b":["${2n ** 200n}","x"],"c":{"d":"0"},"e":1.5}`,
    );
    assert.equal(toJson(-5n), '"-5"');
  });
});

describe("makeOut", () => {
  /** A stand-in for stdout or stderr that keeps what is written to it. */
  function capture(): Sink & { chunks: string[] } {
    const chunks: string[] = [];
    return {
      chunks,
      write: (text: string) => {
        chunks.push(text);
        return true;
      },
    };
  }

  it("writes text results and progress to their streams", () => {
    const stdout = capture();
    const stderr = capture();
    const out = makeOut(false, stdout, stderr);
    out.progress("working");
    out.result(["a", "b"], { ignored: 1n });
    out.result("c", null);
    assert.deepEqual(stdout.chunks, ["a\nb\n", "c\n"]);
    assert.deepEqual(stderr.chunks, ["working\n"]);
  });

  it("writes one JSON value per result with --json", () => {
    const stdout = capture();
    const stderr = capture();
    const out = makeOut(true, stdout, stderr);
    out.result(["ignored"], { input: 3, amount: 10n });
    assert.deepEqual(stdout.chunks, ['{"input":3,"amount":"10"}\n']);
    assert.deepEqual(stderr.chunks, []);
  });
});

describe("toConsoleError", () => {
  it("keeps a ConsoleError", () => {
    const e = new ConsoleError("already", "hint");
    assert.equal(toConsoleError(e), e);
  });

  it("takes the first non-empty line of an Error's message", () => {
    const e = toConsoleError(new Error("\n  \n  first line  \nsecond line"));
    assert.ok(e instanceof ConsoleError);
    assert.equal(e.message, "first line");
    assert.equal(e.hint, undefined);
  });

  it("prefers a viem-style shortMessage", () => {
    const plain = Object.assign(new Error("long\nmessage"), { shortMessage: "short one" });
    assert.equal(toConsoleError(plain).message, "short one");
    const empty = Object.assign(new Error("long\nmessage"), { shortMessage: "" });
    assert.equal(toConsoleError(empty).message, "long");
    const viem = new BaseError("Execution reverted.", { details: "some details" });
    assert.notEqual(firstLine(viem.message), viem.message, "viem's message spans lines");
    assert.equal(toConsoleError(viem).message, "Execution reverted.");
  });

  it("turns other thrown values into text", () => {
    assert.equal(toConsoleError("plain string").message, "plain string");
    assert.equal(toConsoleError(42).message, "42");
  });
});

describe("firstLine", () => {
  it("trims the first non-empty line", () => {
    assert.equal(firstLine("  a  \nb"), "a");
    assert.equal(firstLine("\n\nb\n"), "b");
    assert.equal(firstLine("  "), "");
  });
});

describe("isUnreachable", () => {
  const withCode = (code: string) => Object.assign(new Error("connect"), { code });

  it("sees a refused connection in the cause chain", () => {
    assert.equal(
      isUnreachable(new Error("fetch failed", { cause: withCode("ECONNREFUSED") })),
      true,
    );
    assert.equal(isUnreachable(new Error("x", { cause: withCode("ECONNREFUSED") })), true);
    assert.equal(
      isUnreachable(new Error("a", { cause: new Error("b", { cause: withCode("ENOTFOUND") }) })),
      true,
    );
    assert.equal(isUnreachable(withCode("ECONNRESET")), true);
  });

  it("sees viem's HttpRequestError by name", () => {
    const e = new Error("HTTP request failed.");
    e.name = "HttpRequestError";
    assert.equal(isUnreachable(e), true);
  });

  it("is false for other errors and values", () => {
    assert.equal(isUnreachable(new Error("boom")), false);
    assert.equal(isUnreachable(new Error("x", { cause: withCode("EACCES") })), false);
    assert.equal(isUnreachable("ECONNREFUSED"), false);
    assert.equal(isUnreachable(undefined), false);
  });

  it("is true for what fetch throws on a closed port", async () => {
    const error: unknown = await fetch(`${await closedPortUrl()}/`).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof Error);
    assert.equal(isUnreachable(error), true);
  });
});

describe("fetchText", () => {
  it("returns the status and body of any answer", async () => {
    const s = createServer((req, res) => {
      res.writeHead(req.url === "/missing" ? 404 : 200).end(`${req.method ?? ""} ${req.url ?? ""}`);
    });
    await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
    const { port } = s.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    try {
      assert.deepEqual(await fetchText(`${base}/x`, "server", base), {
        status: 200,
        text: "GET /x",
      });
      assert.deepEqual(await fetchText(`${base}/missing`, "server", base, { method: "POST" }), {
        status: 404,
        text: "POST /missing",
      });
    } finally {
      s.closeAllConnections();
      await new Promise<void>((ok) =>
        s.close(() => {
          ok();
        }),
      );
    }
  });

  it("names the server the user gave when it cannot be reached", async () => {
    const url = await closedPortUrl();
    await assert.rejects(fetchText(`${url}/deep/path`, "thing server", url), (e: unknown) => {
      assert.ok(e instanceof ConsoleError);
      assert.equal(e.message, `cannot reach the thing server at ${url}`);
      assert.match(e.hint ?? "", /--url/);
      return true;
    });
  });
});
