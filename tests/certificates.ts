/**
 * Test certificates made with openssl: a CA and a server certificate it
 * signed for localhost and 127.0.0.1.
 *
 * @module
 */
import { assertEquals } from "@std/assert";

async function openssl(args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, `openssl ${args.join(" ")}: ${new TextDecoder().decode(stderr)}`);
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * A test CA and a server certificate it signed for localhost and 127.0.0.1,
 * made with openssl in `dir`. Clients trust `ca`.
 */
export async function makeCertificate(
  dir: string,
  name = "server",
): Promise<{ cert: string; key: string; ca: string }> {
  const ca = `${dir}/${name}-ca.crt`;
  const cert = `${dir}/${name}.crt`;
  const key = `${dir}/${name}.key`;
  await openssl([
    "req",
    "-x509",
    ...EC_KEY,
    "-days",
    "1",
    "-subj",
    "/CN=test CA",
    "-keyout",
    `${dir}/${name}-ca.key`,
    "-out",
    ca,
  ]);
  await openssl([
    "req",
    ...EC_KEY,
    "-subj",
    "/CN=localhost",
    "-keyout",
    key,
    "-out",
    `${dir}/${name}.csr`,
  ]);
  await Deno.writeTextFile(
    `${dir}/${name}.ext`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    `${dir}/${name}.csr`,
    "-CA",
    ca,
    "-CAkey",
    `${dir}/${name}-ca.key`,
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    `${dir}/${name}.ext`,
    "-out",
    cert,
  ]);
  return { cert, key, ca };
}
