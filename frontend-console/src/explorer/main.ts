/// <reference lib="dom" />
/**
 * The explorer's shell: the router and the redraw loop. The pages live one family per module
 * (`chain.ts`, `accounts.ts`, `inputs.ts`, `status.ts`, `search.ts`, sharing `view.ts`). Routes
 * live in the URL's hash (`#/block/12`, `#/tx/0x…`), so every view can be shared and reloaded;
 * the chain, inputs and status views poll the node every two seconds and redraw only when what
 * they show changed.
 */
import type { Address } from "viem";
import { accountPage } from "./accounts.ts";
import { Api, fetchConfig } from "./api.ts";
import { blockPage, chainPage, txPage } from "./chain.ts";
import { markup } from "./html.ts";
import { inputPage, inputsPage } from "./inputs.ts";
import { searchPage } from "./search.ts";
import { statusPage } from "./status.ts";
import { type Page, message, text } from "./view.ts";

/** How often the live views ask the node again. */
const POLL_MS = 2000;

function route(api: Api, hash: string): Promise<Page> {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name = "", ...rest] = path.split("/");
  const arg = decodeURIComponent(rest.join("/"));
  const params = new URLSearchParams(query);
  switch (name) {
    case "":
      return chainPage(api);
    case "status":
      return statusPage(api);
    case "inputs":
      return inputsPage(api);
    case "block":
      return blockPage(api, arg, Number(params.get("offset") ?? 0) || 0);
    case "tx":
      return txPage(api, arg);
    case "account":
      return accountPage(api, arg as Address, Number(params.get("offset") ?? 0) || 0);
    case "input":
      return inputPage(api, Number(arg));
    case "search":
      return searchPage(api, arg);
    default:
      return Promise.resolve({
        title: "Not found",
        live: false,
        body: markup`<p class="bad">No page ${hash}.</p>`,
      });
  }
}

/** The failure banner on every page: a failed node says why, whatever page is open. */
async function banner(api: Api, element: HTMLElement): Promise<void> {
  try {
    const health = await api.health();
    element.innerHTML =
      health.status === "failed"
        ? markup`<b>The node has failed:</b> ${String(health.reason)}
            ${markup`<small>${text(health.hint)}</small>`}`.text
        : "";
    element.hidden = health.status !== "failed";
  } catch (e) {
    element.innerHTML = markup`<b>The node does not answer:</b> ${message(e)}`.text;
    element.hidden = false;
  }
}

async function start(): Promise<void> {
  const main = document.getElementById("page");
  const bannerElement = document.getElementById("banner");
  const form = document.getElementById("search");
  if (main === null || bannerElement === null || !(form instanceof HTMLFormElement)) return;
  let api: Api;
  try {
    api = new Api(await fetchConfig());
  } catch (e) {
    main.innerHTML = markup`<p class="bad">
      Cannot read the explorer's configuration: ${message(e)}
    </p>`.text;
    return;
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = new FormData(form).get("q");
    if (typeof q === "string" && q.trim() !== "")
      location.hash = `#/search/${encodeURIComponent(q.trim())}`;
  });
  let generation = 0;
  let shown = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const draw = async (first: boolean) => {
    const mine = ++generation;
    clearTimeout(timer);
    const hash = location.hash;
    if (first) main.setAttribute("aria-busy", "true");
    let page: Page;
    try {
      page = await route(api, hash);
    } catch (e) {
      page = {
        title: "Error",
        live: true,
        body: markup`<p class="bad" id="error">${message(e)}</p>`,
      };
    }
    void banner(api, bannerElement);
    // A newer navigation started while this one waited: its page wins.
    if (mine !== generation) return;
    if (shown !== page.body.text) {
      main.innerHTML = page.body.text;
      shown = page.body.text;
    }
    document.title = `${page.title} · ledger explorer`;
    main.setAttribute("aria-busy", "false");
    main.dataset.route = hash;
    for (const a of document.querySelectorAll("nav a")) {
      a.classList.toggle("here", a.getAttribute("href") === (hash === "" ? "#/" : hash));
    }
    if (page.live) timer = setTimeout(() => void draw(false), POLL_MS);
  };
  window.addEventListener("hashchange", () => void draw(true));
  await draw(true);
}

void start();
