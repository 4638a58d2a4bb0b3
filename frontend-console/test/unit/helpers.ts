/** Helpers shared by the unit tests. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A URL of a port nothing listens on (a server's, closed). */
export async function closedPortUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((ok) =>
    s.close(() => {
      ok();
    }),
  );
  return `http://127.0.0.1:${port}`;
}
