/*
 * test_certgen.c - ftxd/certgen.c: the self-signed key and certificate
 * of `ftxd --gen-cert DIR`.
 *
 * Everything is checked from the files, by an independent path: the
 * X509 API for the fields, the openssl(1) command for what an
 * administrator sees, a real TLS handshake for "it works".
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certgen.h"
#include "ftx_limits.h"
#include "str.h"

#define CN "ftx-test.example.org"

struct fx {
	char tmp[64]; /* from mkdtemp, removed in teardown */
	char dir[128]; /* tmp/certs: does not exist yet */
	char key[160];
	char crt[160];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(
	    str_copy(f->tmp, sizeof(f->tmp), "/tmp/ftx-certgen-XXXXXX"), 0);
	assert_non_null(mkdtemp(f->tmp));
	assert_int_equal(
	    str_fmt(f->dir, sizeof(f->dir), "%s/certs", f->tmp), 0);
	assert_int_equal(
	    str_fmt(f->key, sizeof(f->key), "%s/%s", f->dir, CERTGEN_KEY_NAME),
	    0);
	assert_int_equal(
	    str_fmt(f->crt, sizeof(f->crt), "%s/%s", f->dir, CERTGEN_CRT_NAME),
	    0);
	*state = f;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	/* Tests make directories read-only; removal needs them writable. */
	if (flag == FTW_DP)
		(void)chmod(path, 0700);
	return remove(path) == -1 ? -1 : 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	(void)chmod(f->tmp, 0700);
	(void)chmod(f->dir, 0700);
	(void)nftw(f->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static X509 *
load_cert(const char *path)
{
	FILE *fp = fopen(path, "r");
	X509 *x;

	assert_non_null(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *
load_key(const char *path)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *k;

	assert_non_null(fp);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(k);
	return k;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode;
}

/* Entries in `dir` other than . and .. (no temporaries left behind). */
static int
count_entries(const char *dir)
{
	char cmd[256], line[256];
	FILE *p;
	int n = 0;

	assert_int_equal(str_fmt(cmd, sizeof(cmd), "ls -A '%s'", dir), 0);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL)
		n++;
	assert_int_equal(pclose(p), 0);
	return n;
}

/* Seconds from now to `t` (negative: in the past). */
static long
secs_from_now(const ASN1_TIME *t)
{
	int days = 0, secs = 0;

	assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL, t), 1);
	return (long)days * 86400 + secs;
}

/* The subjectAltName entries as "DNS:x" / "IP:x" joined with ", ". */
static void
san_string(X509 *x, char *out, size_t n)
{
	GENERAL_NAMES *gens =
	    X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	char item[128];
	size_t pos = 0;
	int i;

	assert_non_null(gens);
	out[0] = '\0';
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int len;

		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			len = ASN1_STRING_length(g->d.dNSName);
			assert_int_equal(str_fmt(item, sizeof(item), "DNS:%.*s",
					     len, (const char *)d),
			    0);
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			len = ASN1_STRING_length(g->d.iPAddress);
			if (len == 4) {
				assert_int_equal(str_fmt(item, sizeof(item),
						     "IP:%u.%u.%u.%u", d[0],
						     d[1], d[2], d[3]),
				    0);
			} else {
				assert_int_equal(len, 16);
				str_copy(item, sizeof(item), "IP:");
				str_hex(item + 3, d, 16);
			}
		} else {
			str_copy(item, sizeof(item), "OTHER");
		}
		assert_int_equal(str_fmt(out + pos, n - pos, "%s%s",
				     i > 0 ? ", " : "", item),
		    0);
		pos += strlen(out + pos);
	}
	GENERAL_NAMES_free(gens);
}

static int
ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	assert_true(i >= 0);
	return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

/* "SHA256:" and the SHA-256 of the DER form, computed independently. */
static void
expected_fp(X509 *x, char *out, size_t n)
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	char hex[65];
	int len = i2d_X509(x, &der);

	assert_true(len > 0);
	assert_int_equal(
	    EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(mdlen, 32);
	OPENSSL_free(der);
	str_hex(hex, md, 32);
	assert_int_equal(str_fmt(out, n, "SHA256:%s", hex), 0);
}

static void
test_generate(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], fp[FTX_FP_LEN], want[FTX_FP_LEN], san[512];
	char cn[128];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	X509 *x, *x2;
	EVP_PKEY *k, *pub;
	const ASN1_INTEGER *sn;
	BIGNUM *bn;
	size_t i;

	memset(fp, 'X', sizeof(fp));
	assert_int_equal(
	    certgen_write(f->dir, CN, fp, sizeof(fp), err, sizeof(err)), 0);

	/* Modes: nothing but the owner may read the key or enter the dir. */
	assert_true(S_ISDIR(mode_of(f->dir)));
	assert_int_equal(mode_of(f->dir) & 07777, 0700);
	assert_true(S_ISREG(mode_of(f->key)));
	assert_int_equal(mode_of(f->key) & 07777, 0600);
	assert_true(S_ISREG(mode_of(f->crt)));
	assert_int_equal(mode_of(f->crt) & 07777, 0644);
	assert_int_equal(count_entries(f->dir), 2);

	x = load_cert(f->crt);
	k = load_key(f->key);

	/* The key: EC P-256, and the certificate's. */
	assert_int_equal(EVP_PKEY_get_base_id(k), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_bits(k), 256);
	assert_int_equal(X509_check_private_key(x, k), 1);
	pub = X509_get0_pubkey(x);
	assert_non_null(pub);
	assert_int_equal(EVP_PKEY_eq(pub, k), 1);

	/* v3, self-signed with ECDSA-SHA256, signature valid. */
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_int_equal(
	    X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)),
	    0);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
			NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, CN);

	/* A random positive serial of up to 128 bits, at least 64 of them
	 * (2^-64 odds of a false failure). */
	sn = X509_get0_serialNumber(x);
	bn = ASN1_INTEGER_to_BN(sn, NULL);
	assert_non_null(bn);
	assert_false(BN_is_negative(bn));
	assert_true(BN_num_bits(bn) > 64);
	assert_true(BN_num_bits(bn) <= 128);
	BN_free(bn);

	/* Valid from an hour ago for FTX_CERT_DAYS days (a minute of
	 * slack for a slow test machine). */
	assert_in_range(
	    secs_from_now(X509_get0_notBefore(x)) + 3600 + 60, 0, 120);
	assert_in_range(secs_from_now(X509_get0_notAfter(x)) -
		(long)FTX_CERT_DAYS * 86400 + 60,
	    0, 120);

	/* Names. */
	san_string(x, san, sizeof(san));
	assert_string_equal(san,
	    "DNS:" CN ", DNS:localhost, IP:127.0.0.1, "
	    "IP:00000000000000000000000000000001");
	assert_int_equal(X509_check_host(x, CN, 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	assert_int_equal(
	    X509_check_host(x, "other.example.org", 0, 0, NULL), 0);

	/* A server certificate that is not a CA. */
	assert_int_equal(ext_critical(x, NID_basic_constraints), 1);
	assert_int_equal(X509_get_extension_flags(x) & EXFLAG_CA, 0);
	assert_int_equal(ext_critical(x, NID_key_usage), 1);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_int_equal(ext_critical(x, NID_ext_key_usage), 0);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
	assert_int_equal(X509_check_ca(x), 0);

	/* The fingerprint: format, and the digest of the DER. */
	assert_int_equal(strlen(fp), FTX_FP_LEN - 1);
	assert_memory_equal(fp, "SHA256:", 7);
	for (i = 7; i < FTX_FP_LEN - 1; i++)
		assert_non_null(strchr("0123456789abcdef", fp[i]));
	expected_fp(x, want, sizeof(want));
	assert_string_equal(fp, want);
	assert_int_equal(X509_digest(x, EVP_sha256(), md, &mdlen), 1);
	str_hex(want, md, mdlen);
	assert_string_equal(fp + 7, want);

	/* A second certificate has another key and serial. */
	assert_int_equal(str_fmt(f->dir, sizeof(f->dir), "%s/two", f->tmp), 0);
	assert_int_equal(
	    certgen_write(f->dir, CN, want, sizeof(want), err, sizeof(err)), 0);
	assert_string_not_equal(fp, want);
	assert_int_equal(
	    str_fmt(f->crt, sizeof(f->crt), "%s/%s", f->dir, CERTGEN_CRT_NAME),
	    0);
	x2 = load_cert(f->crt);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(x),
				 X509_get0_serialNumber(x2)),
	    0);
	assert_int_equal(X509_check_private_key(x2, k), 0);
	ERR_clear_error();

	X509_free(x2);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* Run `cmd` and return its output (at most n-1 bytes). */
static int
run(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");
	size_t got = 0, r;

	if (p == NULL)
		return -1;
	while (got + 1 < n && (r = fread(out + got, 1, n - 1 - got, p)) > 0)
		got += r;
	out[got] = '\0';
	return pclose(p) == 0 ? 0 : -1;
}

/* What an administrator sees with openssl(1). */
static void
test_openssl_cli(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], fp[FTX_FP_LEN], cmd[512], out[16384];
	char want[FTX_FP_LEN + 16];
	size_t i, j;

	if (run("openssl version >/dev/null 2>&1", out, sizeof(out)) == -1) {
		print_message("openssl(1) not installed; skipping\n");
		skip();
	}
	assert_int_equal(
	    certgen_write(f->dir, CN, fp, sizeof(fp), err, sizeof(err)), 0);

	assert_int_equal(str_fmt(cmd, sizeof(cmd),
			     "openssl x509 -in '%s' -noout -text", f->crt),
	    0);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "Version: 3 (0x2)"));
	assert_non_null(strstr(out, "ecdsa-with-SHA256"));
	assert_non_null(strstr(out, "prime256v1"));
	assert_non_null(strstr(out, "Subject: CN = " CN));
	assert_non_null(strstr(out, "Issuer: CN = " CN));
	assert_non_null(strstr(out,
	    "DNS:" CN ", DNS:localhost, "
	    "IP Address:127.0.0.1, IP Address:"));
	assert_non_null(strstr(out, "CA:FALSE"));
	assert_non_null(strstr(out, "Digital Signature"));
	assert_non_null(strstr(out, "TLS Web Server Authentication"));

	/* The validity openssl(1) shows checks out with `-checkend`. */
	assert_int_equal(
	    str_fmt(cmd, sizeof(cmd),
		"openssl x509 -in '%s' -noout -checkend %ld >/dev/null", f->crt,
		(long)(FTX_CERT_DAYS - 1) * 86400),
	    0);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	assert_int_equal(
	    str_fmt(cmd, sizeof(cmd),
		"openssl x509 -in '%s' -noout -checkend %ld >/dev/null", f->crt,
		(long)(FTX_CERT_DAYS + 1) * 86400),
	    0);
	assert_int_equal(run(cmd, out, sizeof(out)), -1);

	/* The fingerprint: openssl(1) prints AB:CD:..; ours is the same
	 * without colons, in lowercase. */
	assert_int_equal(str_fmt(cmd, sizeof(cmd),
			     "openssl x509 -in '%s' -noout -fingerprint "
			     "-sha256",
			     f->crt),
	    0);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	str_copy(want, sizeof(want), "SHA256:");
	j = 7;
	for (i = 0; out[i] != '\0' && out[i] != '='; i++)
		;
	assert_int_equal(out[i], '=');
	for (i++; out[i] != '\0' && out[i] != '\n'; i++) {
		if (out[i] == ':')
			continue;
		assert_true(j + 1 < sizeof(want));
		want[j++] =
		    (char)((out[i] >= 'A' && out[i] <= 'F') ? out[i] - 'A' + 'a'
							    : out[i]);
	}
	want[j] = '\0';
	assert_string_equal(fp, want);

	/* openssl(1) agrees that the key belongs to the certificate. */
	assert_int_equal(str_fmt(cmd, sizeof(cmd),
			     "openssl x509 -in '%s' -noout -pubkey && "
			     "openssl pkey -in '%s' -pubout",
			     f->crt, f->key),
	    0);
	assert_int_equal(run(cmd, out, sizeof(out)), 0);
	{
		const char *mark = "-----BEGIN PUBLIC KEY-----";
		char *a = strstr(out, mark), *b;

		assert_non_null(a);
		b = strstr(a + 1, mark);
		assert_non_null(b);
		assert_memory_equal(a, b, (size_t)(b - a));
	}
}

static void
read_all(const char *path, char *buf, size_t n, size_t *len)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	assert_true(fd >= 0);
	r = read(fd, buf, n);
	assert_true(r > 0 && (size_t)r < n);
	*len = (size_t)r;
	close(fd);
}

static void
test_refuse_overwrite(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], fp[FTX_FP_LEN], fp2[FTX_FP_LEN];
	char key1[4096], key2[4096], crt1[4096], crt2[4096];
	size_t k1, k2, c1, c2;

	assert_int_equal(
	    certgen_write(f->dir, CN, fp, sizeof(fp), err, sizeof(err)), 0);
	read_all(f->key, key1, sizeof(key1), &k1);
	read_all(f->crt, crt1, sizeof(crt1), &c1);

	/* Again: refused, naming the key, and nothing changed. */
	err[0] = '\0';
	str_copy(fp2, sizeof(fp2), "unchanged");
	assert_int_equal(
	    certgen_write(f->dir, CN, fp2, sizeof(fp2), err, sizeof(err)), -1);
	assert_non_null(strstr(err, f->key));
	assert_non_null(strstr(err, "already exists"));
	assert_string_equal(fp2, "unchanged");
	read_all(f->key, key2, sizeof(key2), &k2);
	read_all(f->crt, crt2, sizeof(crt2), &c2);
	assert_int_equal(k1, k2);
	assert_memory_equal(key1, key2, k1);
	assert_int_equal(c1, c2);
	assert_memory_equal(crt1, crt2, c1);
	assert_int_equal(mode_of(f->key) & 07777, 0600);
	assert_int_equal(count_entries(f->dir), 2);

	/* A certificate alone (say, a CA-signed one put there by hand) is
	 * not overwritten either, and no key is left behind. */
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(
	    certgen_write(f->dir, CN, fp2, sizeof(fp2), err, sizeof(err)), -1);
	assert_non_null(strstr(err, f->crt));
	read_all(f->crt, crt2, sizeof(crt2), &c2);
	assert_int_equal(c1, c2);
	assert_memory_equal(crt1, crt2, c1);
	assert_int_equal(access(f->key, F_OK), -1);
	assert_int_equal(count_entries(f->dir), 1);

	/* A symlink where the key goes counts as existing: it is neither
	 * followed nor replaced. */
	assert_int_equal(unlink(f->crt), 0);
	assert_int_equal(symlink("/nonexistent/ftx-key", f->key), 0);
	assert_int_equal(
	    certgen_write(f->dir, CN, fp2, sizeof(fp2), err, sizeof(err)), -1);
	assert_non_null(strstr(err, f->key));
	assert_true(S_ISLNK(mode_of(f->key)));
	assert_int_equal(count_entries(f->dir), 1);
	assert_int_equal(unlink(f->key), 0);

	/* With the way clear it works again, with a new key. */
	assert_int_equal(
	    certgen_write(f->dir, CN, fp2, sizeof(fp2), err, sizeof(err)), 0);
	assert_string_not_equal(fp, fp2);
}

static void
test_bad_args(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], fp[FTX_FP_LEN], path[256], longcn[80];
	int fd;

	/* The parent does not exist (no mkdir -p). */
	assert_int_equal(str_fmt(path, sizeof(path), "%s/no/such", f->tmp), 0);
	err[0] = '\0';
	assert_int_equal(
	    certgen_write(path, CN, fp, sizeof(fp), err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_int_equal(access(path, F_OK), -1);

	/* DIR is a regular file. */
	assert_int_equal(str_fmt(path, sizeof(path), "%s/file", f->tmp), 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	err[0] = '\0';
	assert_int_equal(
	    certgen_write(path, CN, fp, sizeof(fp), err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));

	/* No directory, no buffer. */
	assert_int_equal(
	    certgen_write(NULL, CN, fp, sizeof(fp), err, sizeof(err)), -1);
	assert_int_equal(
	    certgen_write("", CN, fp, sizeof(fp), err, sizeof(err)), -1);
	assert_int_equal(
	    certgen_write(f->dir, CN, fp, FTX_FP_LEN - 1, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    certgen_write(f->dir, CN, NULL, FTX_FP_LEN, err, sizeof(err)), -1);

	/* Names that are not host names. */
	assert_int_equal(
	    certgen_write(f->dir, "", fp, sizeof(fp), err, sizeof(err)), -1);
	assert_int_equal(certgen_write(f->dir, "a.example,DNS:evil.example", fp,
			     sizeof(fp), err, sizeof(err)),
	    -1);
	assert_int_equal(
	    certgen_write(f->dir, "bad host", fp, sizeof(fp), err, sizeof(err)),
	    -1);
	assert_int_equal(
	    certgen_write(f->dir, "-x", fp, sizeof(fp), err, sizeof(err)), -1);
	memset(longcn, 'a', sizeof(longcn) - 1);
	longcn[sizeof(longcn) - 1] = '\0';
	assert_int_equal(
	    certgen_write(f->dir, longcn, fp, sizeof(fp), err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "too long"));
	/* Argument errors come before the directory is created. */
	assert_int_equal(access(f->dir, F_OK), -1);

	/* A world-writable directory is no place for a private key. */
	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_int_equal(chmod(f->dir, 0777), 0);
	err[0] = '\0';
	assert_int_equal(
	    certgen_write(f->dir, CN, fp, sizeof(fp), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "world-writable"));
	assert_int_equal(count_entries(f->dir), 0);

	/* A directory we cannot write into: an error, and no files. */
	if (geteuid() != 0) {
		assert_int_equal(chmod(f->dir, 0500), 0);
		err[0] = '\0';
		assert_int_equal(
		    certgen_write(f->dir, CN, fp, sizeof(fp), err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, f->dir));
		assert_int_equal(count_entries(f->dir), 0);
	}
	assert_int_equal(chmod(f->dir, 0700), 0);

	/* An existing private directory is fine. */
	assert_int_equal(
	    certgen_write(f->dir, CN, fp, sizeof(fp), err, sizeof(err)), 0);
}

/* A NULL name is the host's name. */
static void
test_default_name(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], fp[FTX_FP_LEN], host[256], cn[128];
	X509 *x;

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	if (certgen_write(f->dir, NULL, fp, sizeof(fp), err, sizeof(err)) ==
	    -1) {
		/* Only a host name we cannot use may fail. */
		assert_non_null(strstr(err, "host name"));
		print_message("host name \"%s\" not usable: %s\n", host, err);
		skip();
	}
	x = load_cert(f->crt);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
			NID_commonName, cn, sizeof(cn)) > 0);
	assert_string_equal(cn, host);
	assert_int_equal(X509_check_host(x, host, 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	X509_free(x);
}

/* An IP address as the name goes into the SAN as an IP, not DNS, and
 * localhost as the name is not listed twice. */
static void
test_ip_name(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], fp[FTX_FP_LEN], san[512];
	X509 *x;

	assert_int_equal(certgen_write(f->dir, "192.0.2.7", fp, sizeof(fp), err,
			     sizeof(err)),
	    0);
	x = load_cert(f->crt);
	san_string(x, san, sizeof(san));
	assert_string_equal(san,
	    "IP:192.0.2.7, DNS:localhost, IP:127.0.0.1, "
	    "IP:00000000000000000000000000000001");
	assert_int_equal(X509_check_ip_asc(x, "192.0.2.7", 0), 1);
	X509_free(x);

	assert_int_equal(str_fmt(f->dir, sizeof(f->dir), "%s/lo", f->tmp), 0);
	assert_int_equal(
	    str_fmt(f->crt, sizeof(f->crt), "%s/%s", f->dir, CERTGEN_CRT_NAME),
	    0);
	assert_int_equal(certgen_write(f->dir, "localhost", fp, sizeof(fp), err,
			     sizeof(err)),
	    0);
	x = load_cert(f->crt);
	san_string(x, san, sizeof(san));
	assert_string_equal(san,
	    "DNS:localhost, IP:127.0.0.1, "
	    "IP:00000000000000000000000000000001");
	X509_free(x);
}

/* The modes are exact whatever the umask: never looser, and not so
 * narrow that the owner cannot use the files. */
static void
test_umask(void **state)
{
	struct fx *f = *state;
	char err[FTX_ERRLEN], fp[FTX_FP_LEN];
	mode_t old = umask(0);
	int rc;

	rc = certgen_write(f->dir, CN, fp, sizeof(fp), err, sizeof(err));
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(mode_of(f->dir) & 07777, 0700);
	assert_int_equal(mode_of(f->key) & 07777, 0600);
	assert_int_equal(mode_of(f->crt) & 07777, 0644);

	assert_int_equal(
	    str_fmt(f->dir, sizeof(f->dir), "%s/narrow", f->tmp), 0);
	assert_int_equal(
	    str_fmt(f->key, sizeof(f->key), "%s/%s", f->dir, CERTGEN_KEY_NAME),
	    0);
	old = umask(0277);
	rc = certgen_write(f->dir, CN, fp, sizeof(fp), err, sizeof(err));
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(mode_of(f->dir) & 07777, 0700);
	assert_int_equal(mode_of(f->key) & 07777, 0600);
}

/* Step both ends of a handshake over a non-blocking socketpair. */
static int
handshake_pair(SSL *srv, SSL *cli)
{
	int sdone = 0, cdone = 0, i, r;

	for (i = 0; i < 1000 && !(sdone && cdone); i++) {
		if (!cdone) {
			r = SSL_do_handshake(cli);
			if (r == 1)
				cdone = 1;
			else if (SSL_get_error(cli, r) != SSL_ERROR_WANT_READ)
				return -1;
		}
		if (!sdone) {
			r = SSL_do_handshake(srv);
			if (r == 1)
				sdone = 1;
			else if (SSL_get_error(srv, r) != SSL_ERROR_WANT_READ)
				return -1;
		}
	}
	return sdone && cdone ? 0 : -1;
}

/* The certificate serves TLS 1.3 and 1.2, and a client that trusts it
 * verifies it for the host name and for localhost. */
static void
test_tls_handshake(void **state)
{
	static const int versions[] = {TLS1_3_VERSION, TLS1_2_VERSION};
	struct fx *f = *state;
	char err[FTX_ERRLEN], fp[FTX_FP_LEN];
	const char *hosts[] = {CN, "localhost", "wrong.example.org"};
	size_t v, h;

	assert_int_equal(
	    certgen_write(f->dir, CN, fp, sizeof(fp), err, sizeof(err)), 0);
	for (v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
		for (h = 0; h < 3; h++) {
			SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
			SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
			SSL *srv, *cli;
			int sv[2], rc;

			assert_non_null(sctx);
			assert_non_null(cctx);
			assert_int_equal(
			    SSL_CTX_use_certificate_chain_file(sctx, f->crt),
			    1);
			assert_int_equal(SSL_CTX_use_PrivateKey_file(
					     sctx, f->key, SSL_FILETYPE_PEM),
			    1);
			assert_int_equal(
			    SSL_CTX_set_max_proto_version(sctx, versions[v]),
			    1);
			assert_int_equal(
			    SSL_CTX_load_verify_locations(cctx, f->crt, NULL),
			    1);
			SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
			assert_int_equal(
			    socketpair(
				AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv),
			    0);
			srv = SSL_new(sctx);
			cli = SSL_new(cctx);
			assert_non_null(srv);
			assert_non_null(cli);
			SSL_set_fd(srv, sv[0]);
			SSL_set_fd(cli, sv[1]);
			SSL_set_accept_state(srv);
			SSL_set_connect_state(cli);
			assert_int_equal(SSL_set1_host(cli, hosts[h]), 1);
			rc = handshake_pair(srv, cli);
			if (h < 2) {
				assert_int_equal(rc, 0);
				assert_int_equal(SSL_version(cli), versions[v]);
				assert_int_equal(
				    SSL_get_verify_result(cli), X509_V_OK);
			} else {
				assert_int_equal(rc, -1);
				assert_int_equal(SSL_get_verify_result(cli),
				    X509_V_ERR_HOSTNAME_MISMATCH);
			}
			ERR_clear_error();
			SSL_free(srv);
			SSL_free(cli);
			SSL_CTX_free(sctx);
			SSL_CTX_free(cctx);
			close(sv[0]);
			close(sv[1]);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_generate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_openssl_cli, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_refuse_overwrite, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_default_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ip_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_umask, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_tls_handshake, setup, teardown),
	};

	/* Files the test creates must not depend on the caller's umask
	 * (test_umask sets its own). */
	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
