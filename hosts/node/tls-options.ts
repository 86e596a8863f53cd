/**
 * The node:tls options of a link, from Paho's tls_set arguments: shared by the TCP link and the
 * WebSocket link (wss://), so both verify, present certificates and fail the same way.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import type tls from "node:tls";
import type { LinkParams, TlsOptions } from "../../src/connection/host.js";

/** A PEM value may be given as the PEM text itself or as a file path, as Paho's tls_set takes paths. */
function pem(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.includes("-----BEGIN") ? value : readFileSync(value, "utf8");
}

/** Throws when a certificate or key file cannot be read; the links report that as a TLS failure. */
export function tlsConnectOptions(params: LinkParams, t: TlsOptions): tls.ConnectionOptions {
  // tls.connect passes socket options such as localAddress through to net.connect.
  const options: tls.ConnectionOptions & { localAddress?: string } = { host: params.host, port: params.port };
  if (params.bindAddress !== "") options.localAddress = params.bindAddress;
  if (net.isIP(params.host) === 0) options.servername = params.host;
  if (t.context !== undefined) options.secureContext = t.context as tls.SecureContext;
  const ca = pem(t.caCerts);
  if (ca !== undefined) options.ca = ca;
  const cert = pem(t.certfile);
  if (cert !== undefined) options.cert = cert;
  const key = pem(t.keyfile);
  if (key !== undefined) options.key = key;
  options.rejectUnauthorized = t.certReqs !== false;
  if (t.tlsVersion !== undefined) options.minVersion = t.tlsVersion as tls.SecureVersion;
  if (t.ciphers !== undefined) options.ciphers = t.ciphers;
  // Over WebSockets the upgrade speaks HTTP/1.1; an ALPN list given for an MQTT broker is passed as it is.
  if (t.alpnProtocols !== undefined) options.ALPNProtocols = t.alpnProtocols;
  if (t.insecure === true) options.checkServerIdentity = () => undefined;
  return options;
}
