/** Unit tests of readPemFile: the server's TLS files and the terminal client's CA file. */
import { assertEquals } from "@std/assert";
import { readPemFile } from "../lib/pem_file.ts";

Deno.test("readPemFile gives a PEM file's text, or says in words why it cannot be used", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    const cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    Deno.writeTextFileSync(`${dir}/key.pem`, key);
    Deno.writeTextFileSync(`${dir}/cert.pem`, cert);
    Deno.writeTextFileSync(`${dir}/plain.txt`, "hello\n");

    assertEquals(readPemFile(`${dir}/key.pem`), { text: key });
    assertEquals(readPemFile(`${dir}/cert.pem`, "CERTIFICATE"), { text: cert });
    assertEquals(readPemFile(`${dir}/key.pem`, "CERTIFICATE"), {
      problem: "not a PEM certificate",
    });
    assertEquals(readPemFile(`${dir}/plain.txt`), { problem: "not a PEM file" });
    assertEquals(readPemFile(`${dir}/none.pem`), { problem: "no such file" });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
