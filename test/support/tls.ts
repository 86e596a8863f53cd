/**
 * A throwaway PKI for TLS tests, made with the system's openssl at test time (EC P-256 keys: fast).
 *
 *   const pki = makeTestPki();
 *   after(() => pki.remove());
 *   // pki.ca, pki.server.cert, pki.server.key, pki.client.cert ... are file paths
 *
 * What it makes, all in one temporary folder (0755, files 0644: mosquitto, started as root, drops to the
 * `mosquitto` user before it reads them):
 * - ca: the test CA; server: a server certificate from it with SAN IP:127.0.0.1 and DNS:localhost;
 * - otherCa: a second, unrelated CA (a broker signed by it is "unknown CA" to a client trusting ca);
 * - mismatch: a server certificate from ca for DNS:elsewhere.invalid only (host-name mismatch);
 * - expired: a server certificate from ca, SAN as server's, valid only during January 2020;
 * - client: a client certificate from ca (extendedKeyUsage clientAuth), for mutual TLS;
 * - rogueClient: a client certificate from otherCa.
 * The folder is removed by remove(), and when the process exits.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const OPENSSL = process.env["OPENSSL"] ?? "openssl";

export interface CertFiles {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  /** The test CA's certificate (PEM file path). */
  ca: string;
  /** An unrelated CA's certificate. */
  otherCa: string;
  server: CertFiles;
  mismatch: CertFiles;
  expired: CertFiles;
  client: CertFiles;
  rogueClient: CertFiles;
  /** The PEM text of a file made here. */
  read(path: string): string;
  remove(): void;
}

const made = new Set<string>();
let hooked = false;

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync(OPENSSL, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args.join(" ")} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

function key(dir: string, name: string): string {
  openssl(dir, ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", `${name}.key`]);
  return join(dir, `${name}.key`);
}

function selfSignedCa(dir: string, name: string, subject: string): string {
  key(dir, name);
  openssl(dir, ["req", "-new", "-x509", "-key", `${name}.key`, "-sha256", "-days", "2", "-subj", subject,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", `${name}.crt`]);
  return join(dir, `${name}.crt`);
}

/** A leaf certificate signed by CA `ca`, with the given extensions. */
function leaf(dir: string, name: string, ca: string, subject: string, extensions: string): CertFiles {
  key(dir, name);
  openssl(dir, ["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial",
    "-sha256", "-days", "2", "-extfile", `${name}.ext`, "-out", `${name}.crt`]);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/**
 * A leaf valid only in the past: `openssl x509` (3.0) cannot backdate, `openssl ca` can, with a minimal
 * CA database of its own.
 */
function expiredLeaf(dir: string, name: string, ca: string, subject: string, extensions: string): CertFiles {
  key(dir, name);
  openssl(dir, ["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "1000\n");
  writeFileSync(join(dir, "ca.cnf"), [
    "[ ca ]", "default_ca = test", "[ test ]", `dir = ${dir}`, "database = $dir/index.txt", "serial = $dir/serial",
    "new_certs_dir = $dir", "default_md = sha256", "policy = any", "unique_subject = no", "[ any ]", "commonName = supplied", "",
  ].join("\n"));
  openssl(dir, ["ca", "-batch", "-config", "ca.cnf", "-cert", `${ca}.crt`, "-keyfile", `${ca}.key`, "-in", `${name}.csr`,
    "-startdate", "20200101000000Z", "-enddate", "20200131000000Z", "-extfile", `${name}.ext`, "-notext", "-out", `${name}.crt`]);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

const SERVER_EXT = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n";
const MISMATCH_EXT = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:elsewhere.invalid\n";
const CLIENT_EXT = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";

export function makeTestPki(): TestPki {
  if (!hooked) {
    hooked = true;
    process.on("exit", () => {
      for (const dir of made) rmSync(dir, { recursive: true, force: true });
    });
  }
  const dir = mkdtempSync(join(tmpdir(), "tinymqtt-pki-"));
  made.add(dir);
  chmodSync(dir, 0o755);
  const ca = selfSignedCa(dir, "ca", "/CN=tinymqtt test CA");
  const otherCa = selfSignedCa(dir, "other-ca", "/CN=tinymqtt unrelated CA");
  const server = leaf(dir, "server", "ca", "/CN=127.0.0.1", SERVER_EXT);
  const mismatch = leaf(dir, "mismatch", "ca", "/CN=elsewhere.invalid", MISMATCH_EXT);
  const expired = expiredLeaf(dir, "expired", "ca", "/CN=127.0.0.1", SERVER_EXT);
  const client = leaf(dir, "client", "ca", "/CN=tinymqtt-client", CLIENT_EXT);
  const rogueClient = leaf(dir, "rogue-client", "other-ca", "/CN=rogue-client", CLIENT_EXT);
  // Readable to the mosquitto user (test keys, worth nothing outside this folder's life).
  for (const name of readdirSync(dir)) chmodSync(join(dir, name), 0o644);
  return {
    dir, ca, otherCa, server, mismatch, expired, client, rogueClient,
    read: (path) => readFileSync(path, "utf8"),
    remove() {
      made.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** mosquitto config lines for a TLS listener on 127.0.0.1:port. */
export function tlsListener(port: number, files: { ca: string; cert: string; key: string }, extra: string[] = []): string {
  return [`listener ${port} 127.0.0.1`, `cafile ${files.ca}`, `certfile ${files.cert}`, `keyfile ${files.key}`, ...extra].join("\n");
}

/**
 * mosquitto config lines for a WebSocket listener on 127.0.0.1:port (TLS too when files are given).
 * mosquitto 2.0.11 binds a WebSocket listener to every interface unless `socket_domain ipv4` is set with
 * the address; and it refuses to start with WebSocket listeners alone (startMosquitto always adds a plain
 * one first).
 */
export function wsListener(port: number, files?: { ca: string; cert: string; key: string }, extra: string[] = []): string {
  const lines = [`listener ${port} 127.0.0.1`, "socket_domain ipv4", "protocol websockets"];
  if (files !== undefined) lines.push(`cafile ${files.ca}`, `certfile ${files.cert}`, `keyfile ${files.key}`);
  return [...lines, ...extra].join("\n");
}
