/**
 * The search page: an address opens its account; a hash or number opens the one block,
 * transaction or input it names, or lists them when it names more than one.
 */
import { type Api, oneInput } from "./api.ts";
import { classifySearch, link, markup } from "./html.ts";
import type { Page } from "./view.ts";

export async function searchPage(api: Api, query: string): Promise<Page> {
  const target = classifySearch(query);
  /** The pages that match, as [route, label]. */
  const found: [string, string][] = [];
  const go = (route: string) => {
    location.replace(`#/${route}`);
    return { title: "Search", live: false, body: markup`<p>Opening ${route}…</p>` };
  };
  const exists = (p: Promise<unknown>) => p.then(() => true).catch(() => false);
  switch (target.kind) {
    case "invalid":
      return { title: "Search", live: false, body: markup`<p class="bad">${target.why}.</p>` };
    case "address":
      return go(`account/${target.value}`);
    case "hash": {
      if (await exists(api.ledger(`block/${target.value}`))) return go(`block/${target.value}`);
      if (await exists(api.ledger(`tx/${target.value}`))) return go(`tx/${target.value}`);
      break;
    }
    case "number": {
      // A number is a block height or an input index: both are offered when both exist.
      const [block, input] = await Promise.all([
        exists(api.ledger(`block/${target.value}`)),
        exists(oneInput(api, target.value)),
      ]);
      if (block) found.push([`block/${target.value}`, `block ${target.value}`]);
      if (input) found.push([`input/${target.value}`, `input ${target.value}`]);
      const only = found.length === 1 ? found[0] : undefined;
      if (only !== undefined) return go(only[0]);
      break;
    }
  }
  return {
    title: "Search",
    live: false,
    body: markup`<h2>Search <span class="mono">${query}</span></h2>
      ${
        found.length === 0
          ? markup`<p class="muted">Nothing found: no block, transaction or input has that hash or number.</p>`
          : markup`<ul>${found.map(([route, label]) => markup`<li>${link(route, label)}</li>`)}</ul>`
      }`,
  };
}
