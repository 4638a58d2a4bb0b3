/** The node's status page: its phase, the L1 it talks to, and how far settlement has come. */
import type { Api } from "./api.ts";
import { markup } from "./html.ts";
import { type Page, fields, message, text } from "./view.ts";

const phaseClass = (status: string) =>
  status === "ready" ? "ok" : status === "failed" ? "bad" : "warn";

export async function statusPage(api: Api): Promise<Page> {
  const [health, chainId, l1Block, inputs, processed] = await Promise.all([
    api.health(),
    api.rpc("eth_chainId", []).catch((e: unknown) => `unreachable (${message(e)})`),
    api.rpc("eth_blockNumber", []).catch(() => undefined),
    api
      .query<{ inputs: { totalCount: number } }>("{ inputs { totalCount } }")
      .catch(() => undefined),
    api.processedInputs().catch(() => undefined),
  ]);
  const settlement = health.settlement as Record<string, unknown> | undefined;
  const status = String(health.status);
  const num = (v: unknown) => (typeof v === "string" && v.startsWith("0x") ? Number(BigInt(v)) : v);
  return {
    title: "Node",
    live: true,
    body: markup`<h2>Node</h2>
      ${fields([
        ["phase", markup`<span class="${phaseClass(status)}" id="phase">${status}</span>`],
        ...(status === "failed"
          ? ([
              ["failure", markup`<span class="bad" id="failure">${String(health.reason)}</span>`],
              ["what to do", text(health.hint)],
            ] as [string, unknown][])
          : []),
        ...(status === "replaying"
          ? ([["replayed", `${String(health.replayed)} of ${String(health.total)}`]] as [
              string,
              unknown,
            ][])
          : []),
        ["backend", markup`<span class="mono">${api.config.backend}</span>`],
        ["L1 RPC", markup`<span class="mono">${api.config.rpc}</span>`],
        ["L1 chain", num(chainId)],
        ["L1 block", num(l1Block) ?? "unknown"],
        ["application", markup`<span class="mono">${api.config.application}</span>`],
        ["inspect", markup`<span class="mono">${api.config.inspect}</span>`],
        ["inputs seen", inputs?.inputs.totalCount ?? "unknown"],
        ["inputs processed", processed ?? "unknown (inspect does not answer)"],
      ])}
      <h2>Epochs and claims</h2>
      ${
        settlement === undefined
          ? markup`<p class="muted">This node reports no settlement.</p>`
          : fields([
              [
                "mode",
                settlement.mode === "validate"
                  ? "validator: compares the chain's claims with its own"
                  : "claims its epochs",
              ],
              [
                "epoch length",
                `${text(settlement.epoch_length)} L1 block${settlement.epoch_length === 1 ? "" : "s"}`,
              ],
              ["claims", settlement.claims],
              ["last claimed input", settlement.last_claimed_input ?? "none yet"],
              [
                "next claim",
                settlement.next_claim_block === null || settlement.next_claim_block === undefined
                  ? "when inputs arrive"
                  : `after L1 block ${text(settlement.next_claim_block)}`,
              ],
              ...(settlement.mode === "validate"
                ? ([
                    ["claims agreed", settlement.agreed],
                    [
                      "disagreement",
                      settlement.disagreement === null
                        ? "none"
                        : JSON.stringify(settlement.disagreement),
                    ],
                  ] as [string, unknown][])
                : []),
            ])
      }`,
  };
}
