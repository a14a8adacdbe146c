/*
 * certgen.c - a self-signed TLS key and certificate for first use.
 *
 * The files are written the way a careful administrator would by hand
 * (shared/afile.c): the key is born with mode 0600 in a temporary file
 * created with O_EXCL, fsync'ed, and moved to its name with
 * renameat2(NOREPLACE), so no other user can ever read it, a crash never
 * leaves half a key behind and an existing key (which certificates
 * elsewhere may depend on) is never replaced.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "afile.h"
#include "certgen.h"
#include "ftx_limits.h"
#include "net.h"
#include "str.h"

/* The longest common name X.509 allows (ub-common-name, RFC 5280). */
#define CN_MAX 64
/* Random serial numbers of this many bytes (RFC 5280 allows 20). */
#define SERIAL_BYTES 16
/* notBefore lies this far in the past, so a client whose clock is a
 * little behind does not reject a certificate made a minute ago. */
#define BACKDATE_S 3600L

/* Fill err from the OpenSSL error queue (and empty the queue). */
static int
ssl_fail(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[FTX_ERRLEN];

	if (e == 0) {
		ERR_clear_error();
		return str_err(err, errlen, "%s failed", what);
	}
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return str_err(err, errlen, "%s: %s", what, buf);
}

/* 1 if `s` is an IPv4 or IPv6 literal; its bytes go to `bin` (16 bytes)
 * and its length to `*len`. */
static int
ip_literal(const char *s, unsigned char *bin, size_t *len)
{
	if (inet_pton(AF_INET, s, bin) == 1) {
		*len = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, s, bin) == 1) {
		*len = 16;
		return 1;
	}
	return 0;
}

/*
 * A name we can put into the certificate's subject and subjectAltName:
 * an IP literal, or a host name of letters, digits, '-', '_' and '.'
 * that does not start with '-' or '.'.  gethostname(2) can return
 * anything the administrator typed, and a name with spaces or commas
 * would not be a host name a client could ask for.
 */
static int
cn_check(const char *cn, char *err, size_t errlen)
{
	unsigned char bin[16];
	size_t n = strlen(cn), i, binlen;

	if (n == 0)
		return str_err(err, errlen, "the host name is empty");
	if (n > CN_MAX)
		return str_err(err, errlen,
		    "host name of %zu bytes is too long for a certificate "
		    "(%d at most)",
		    n, CN_MAX);
	if (ip_literal(cn, bin, &binlen))
		return 0;
	if (cn[0] == '-' || cn[0] == '.')
		return str_err(err, errlen, "invalid host name \"%s\"", cn);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)cn[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_' ||
			c == '.'))
			return str_err(err, errlen,
			    "invalid host name (character 0x%02x at %zu); "
			    "only letters, digits, '-', '_' and '.'",
			    c, i);
	}
	return 0;
}

static int
san_push(GENERAL_NAMES *gens, int type, ASN1_STRING *value)
{
	GENERAL_NAME *g;

	if (value == NULL)
		return -1;
	g = GENERAL_NAME_new();
	if (g == NULL) {
		ASN1_STRING_free(value);
		return -1;
	}
	GENERAL_NAME_set0_value(g, type, value);
	if (sk_GENERAL_NAME_push(gens, g) <= 0) {
		GENERAL_NAME_free(g);
		return -1;
	}
	return 0;
}

static int
san_dns(GENERAL_NAMES *gens, const char *name)
{
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (s != NULL && !ASN1_STRING_set(s, name, -1)) {
		ASN1_IA5STRING_free(s);
		s = NULL;
	}
	return san_push(gens, GEN_DNS, s);
}

static int
san_ip(GENERAL_NAMES *gens, const unsigned char *bin, size_t len)
{
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();

	if (s != NULL && !ASN1_OCTET_STRING_set(s, bin, (int)len)) {
		ASN1_OCTET_STRING_free(s);
		s = NULL;
	}
	return san_push(gens, GEN_IPADD, s);
}

/*
 * subjectAltName: the host name (or IP), then localhost, 127.0.0.1 and
 * ::1, so the certificate also works for a client on the server itself.
 * Clients match host names against the SAN only, never the CN.
 */
static int
add_san(X509 *x, const char *cn)
{
	static const unsigned char lo4[4] = {127, 0, 0, 1};
	static const unsigned char lo6[16] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	unsigned char bin[16];
	size_t binlen;
	int rc = -1;

	if (gens == NULL)
		return -1;
	if (ip_literal(cn, bin, &binlen)) {
		if (!(binlen == 4 && memcmp(bin, lo4, 4) == 0) &&
		    !(binlen == 16 && memcmp(bin, lo6, 16) == 0) &&
		    san_ip(gens, bin, binlen) == -1)
			goto out;
	} else if (strcasecmp(cn, "localhost") != 0 &&
	    san_dns(gens, cn) == -1) {
		goto out;
	}
	if (san_dns(gens, "localhost") == -1 ||
	    san_ip(gens, lo4, sizeof(lo4)) == -1 ||
	    san_ip(gens, lo6, sizeof(lo6)) == -1)
		goto out;
	if (X509_add1_ext_i2d(
		x, NID_subject_alt_name, gens, 0, X509V3_ADD_APPEND) != 1)
		goto out;
	rc = 0;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

static int
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* A positive random serial of SERIAL_BYTES bytes, never zero. */
static int
set_serial(X509 *x)
{
	unsigned char rnd[SERIAL_BYTES];
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	int rc = -1;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	/* A zero serial is not allowed; the odds are 2^-128, but a broken
	 * RNG should produce an error, not a bad certificate. */
	rnd[sizeof(rnd) - 1] |= 1;
	bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
	if (bn == NULL)
		goto out;
	sn = BN_to_ASN1_INTEGER(bn, NULL);
	if (sn == NULL || X509_set_serialNumber(x, sn) != 1)
		goto out;
	rc = 0;
out:
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return rc;
}

/* The self-signed certificate for `pkey` and `cn`. */
static X509 *
make_cert(EVP_PKEY *pkey, const char *cn, char *err, size_t errlen)
{
	X509V3_CTX ctx;
	X509_NAME *name;
	X509 *x = X509_new();

	if (x == NULL) {
		ssl_fail(err, errlen, "X509_new");
		return NULL;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 || set_serial(x) == -1) {
		ssl_fail(err, errlen, "certificate serial");
		goto fail;
	}
	if (X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_S) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), FTX_CERT_DAYS, 0, NULL) ==
		NULL) {
		ssl_fail(err, errlen, "certificate validity");
		goto fail;
	}
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
		(const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1) {
		ssl_fail(err, errlen, "certificate name");
		goto fail;
	}
	if (X509_set_pubkey(x, pkey) != 1) {
		ssl_fail(err, errlen, "X509_set_pubkey");
		goto fail;
	}
	/* A server certificate that cannot sign other certificates: if the
	 * key leaks, it cannot be used to mint certificates for other
	 * names. */
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ==
		-1 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ==
		-1 ||
	    add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") == -1 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") == -1 ||
	    add_san(x, cn) == -1) {
		ssl_fail(err, errlen, "certificate extensions");
		goto fail;
	}
	if (X509_sign(x, pkey, EVP_sha256()) <= 0) {
		ssl_fail(err, errlen, "X509_sign");
		goto fail;
	}
	return x;
fail:
	X509_free(x);
	return NULL;
}

/*
 * Write `len` bytes into a new file `name` in `dirfd` with exactly
 * `mode`, through afile: a temporary file first, fsync'ed, then moved
 * into place without replacing anything.  `dir` is for messages only.
 */
static int
install_file(int dirfd, const char *dir, const char *name, const void *data,
    size_t len, mode_t mode, char *err, size_t errlen)
{
	char why[FTX_ERRLEN];

	/* SECURITY: the file is created with its final mode (0600 for the
	 * key) and O_EXCL|O_NOFOLLOW, so it never exists with looser
	 * permissions and cannot be a file or symlink someone planted;
	 * the umask can only narrow the mode and AFILE_EXACT_MODE makes it
	 * exact. */
	/* SECURITY: never replace an existing key or certificate, not
	 * even one that appeared after our check (another --gen-cert
	 * running at the same time): AFILE_NOREPLACE. */
	if (afile_put(dirfd, name, data, len, mode,
		AFILE_EXACT_MODE | AFILE_NOREPLACE, why, sizeof(why)) == 0)
		return 0;
	if (errno == EEXIST)
		return str_err(err, errlen,
		    "%s/%s already exists; not overwriting it", dir, name);
	return str_err(err, errlen, "%s: %s", dir, why);
}

/* Refuse early, before any work, when a file is in the way. */
static int
check_absent(
    int dirfd, const char *dir, const char *name, char *err, size_t errlen)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return str_err(err, errlen,
		    "%s/%s already exists; not overwriting it (move it away "
		    "to make a new key and certificate)",
		    dir, name);
	if (errno != ENOENT)
		return str_err(
		    err, errlen, "%s/%s: %s", dir, name, strerror(errno));
	return 0;
}

/* Create `dir` if needed and open it. */
static int
open_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int created = 0, fd;

	if (mkdir(dir, 0700) == 0)
		created = 1;
	else if (errno != EEXIST)
		return str_err(err, errlen, "cannot create directory %s: %s",
		    dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return str_err(err, errlen, "cannot open directory %s: %s", dir,
		    strerror(errno));
	/* A new directory gets exactly 0700 whatever the umask, so that
	 * we can write into it and nobody else can look inside. */
	if (created && fchmod(fd, 0700) == -1) {
		str_err(err, errlen, "chmod %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		str_err(err, errlen, "stat %s: %s", dir, strerror(errno));
		goto fail;
	}
	/* SECURITY: in a directory anybody can write to, anybody can
	 * replace the key and certificate (or delete them) after we made
	 * them; a private key does not belong there. */
	if ((st.st_mode & S_IWOTH) != 0) {
		str_err(err, errlen,
		    "directory %s is world-writable; refusing to put a "
		    "private key there",
		    dir);
		goto fail;
	}
	return fd;
fail:
	(void)close(fd);
	return -1;
}

/* PEM of the private key, in memory that OpenSSL wipes when freed. */
static BIO *
key_pem(EVP_PKEY *pkey, char *err, size_t errlen)
{
	BIO *b = BIO_new(BIO_s_secmem());

	if (b == NULL) {
		ssl_fail(err, errlen, "BIO_new");
		return NULL;
	}
	if (PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		ssl_fail(err, errlen, "PEM_write_bio_PrivateKey");
		BIO_free(b);
		return NULL;
	}
	return b;
}

int
certgen_write(const char *dir, const char *cn, char *fp, size_t fplen,
    char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char host[FTX_HOST_MAX + 1], hex[2 * 32 + 1];
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	BIO *kb = NULL, *cb = NULL;
	char *data;
	long n;
	int dirfd = -1, rc = -1, key_made = 0, crt_made = 0;

	if (dir == NULL || dir[0] == '\0')
		return str_err(err, errlen, "no directory given");
	if (fp == NULL || fplen < FTX_FP_LEN)
		return str_err(err, errlen, "fingerprint buffer too small");
	if (cn == NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			return str_err(
			    err, errlen, "gethostname: %s", strerror(errno));
		/* Truncated names need not be terminated. */
		host[sizeof(host) - 1] = '\0';
		cn = host;
	}
	if (cn_check(cn, err, errlen) == -1)
		return -1;

	dirfd = open_dir(dir, err, errlen);
	if (dirfd == -1)
		return -1;
	if (check_absent(dirfd, dir, CERTGEN_KEY_NAME, err, errlen) == -1 ||
	    check_absent(dirfd, dir, CERTGEN_CRT_NAME, err, errlen) == -1)
		goto out;

	pkey = EVP_EC_gen("P-256");
	if (pkey == NULL) {
		ssl_fail(err, errlen, "EC P-256 key generation");
		goto out;
	}
	x = make_cert(pkey, cn, err, errlen);
	if (x == NULL)
		goto out;
	/* The SHA-256 of the DER encoding, as `openssl x509 -fingerprint
	 * -sha256` shows it. */
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
		ssl_fail(err, errlen, "X509_digest");
		goto out;
	}

	kb = key_pem(pkey, err, errlen);
	if (kb == NULL)
		goto out;
	n = BIO_get_mem_data(kb, &data);
	if (n <= 0) {
		ssl_fail(err, errlen, "key PEM");
		goto out;
	}
	if (install_file(dirfd, dir, CERTGEN_KEY_NAME, data, (size_t)n, 0600,
		err, errlen) == -1)
		goto out;
	key_made = 1;

	cb = BIO_new(BIO_s_mem());
	if (cb == NULL || PEM_write_bio_X509(cb, x) != 1) {
		ssl_fail(err, errlen, "PEM_write_bio_X509");
		goto out;
	}
	n = BIO_get_mem_data(cb, &data);
	if (n <= 0) {
		ssl_fail(err, errlen, "certificate PEM");
		goto out;
	}
	if (install_file(dirfd, dir, CERTGEN_CRT_NAME, data, (size_t)n, 0644,
		err, errlen) == -1)
		goto out;
	crt_made = 1;

	str_hex(hex, md, 32);
	if (str_fmt(fp, fplen, "SHA256:%s", hex) == -1) {
		str_err(err, errlen, "fingerprint buffer too small");
		goto out;
	}
	rc = 0;
out:
	/* A key without its certificate is of no use and would block the
	 * next attempt; the files are ours, so they go. */
	if (rc == -1 && crt_made)
		(void)unlinkat(dirfd, CERTGEN_CRT_NAME, 0);
	if (rc == -1 && key_made)
		(void)unlinkat(dirfd, CERTGEN_KEY_NAME, 0);
	BIO_free(cb);
	BIO_free(kb); /* secure memory BIO: wiped when freed */
	X509_free(x);
	EVP_PKEY_free(pkey); /* clears the private scalar */
	if (dirfd != -1)
		(void)close(dirfd);
	return rc;
}
