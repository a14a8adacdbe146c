/*
 * certgen.h - a self-signed TLS key and certificate for first use
 * (`ftxd --gen-cert DIR`, `make cert`).
 *
 * The key is EC P-256, the certificate X.509 v3, self-signed with
 * SHA-256, valid from an hour ago (clock skew) for FTX_CERT_DAYS days,
 * for the host name and for localhost, 127.0.0.1 and ::1.  ftx trusts
 * such a certificate by its fingerprint (trust on first use or --pin),
 * so the fingerprint is what the operator passes on to the users.
 */
#ifndef FTX_CERTGEN_H
#define FTX_CERTGEN_H

#include <stddef.h>

/* The file names inside DIR. */
#define CERTGEN_KEY_NAME "ftxd.key"
#define CERTGEN_CRT_NAME "ftxd.crt"

/*
 * Create DIR (mode 0700; an existing directory is fine) and write
 * DIR/ftxd.key (mode 0600) and DIR/ftxd.crt (mode 0644), each atomically.
 * Existing files are never overwritten: if either exists the call fails
 * and names it.  `cn` is the host name the certificate is for (NULL: the
 * output of gethostname).  On success `fp` (at least FTX_FP_LEN bytes)
 * holds the certificate's fingerprint "SHA256:<64 lowercase hex>".
 * Returns 0, or -1 with `err` filled.
 */
int certgen_write(const char *dir, const char *cn, char *fp, size_t fplen,
    char *err, size_t errlen);

#endif /* FTX_CERTGEN_H */
