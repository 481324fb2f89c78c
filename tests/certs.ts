/**
 * Throwaway TLS certificates for tests, made with the `openssl` command (tests that need one
 * are ignored, with the reason in their name, where it is not installed).
 *
 * @module
 */

/** True if the `openssl` command runs here. */
export const hasOpenssl: boolean = (() => {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

/** Appended to the names of tests that need openssl, when it is missing. */
export const needsOpenssl: string = hasOpenssl
  ? ""
  : " (IGNORED: openssl is not installed; .ci/run installs it)";

/** Paths of a certificate and its key. */
export interface CertFiles {
  /** The PEM certificate (self-signed, so it is also its own CA). */
  cert: string;
  /** The PEM private key. */
  key: string;
}

/**
 * Makes a self-signed EC certificate for `localhost` and 127.0.0.1, valid one day, in `dir`
 * as `NAME-cert.pem` and `NAME-key.pem`. `basicConstraints=critical,CA:FALSE` is what rustls
 * (Deno's TLS) needs to accept a self-signed end-entity certificate as its own anchor.
 */
export async function makeCertificate(dir: string, name: string): Promise<CertFiles> {
  const files = { cert: `${dir}/${name}-cert.pem`, key: `${dir}/${name}-key.pem` };
  const made = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      files.key,
      "-out",
      files.cert,
      "-subj",
      `/CN=${name}`,
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!made.success) {
    throw new Error(
      `openssl could not make a certificate: ${new TextDecoder().decode(made.stderr)}`,
    );
  }
  return files;
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
export async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "chat-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
