/*
 * hash.c - SHA-256 and MD5 through OpenSSL.
 *
 * SHA-256 uses OpenSSL's SHA256_CTX rather than EVP, for one reason: its
 * state can be carried to another process (hash_state_save/load), which
 * a resume on another node of a cluster needs (store_s3.c).  It runs the
 * same assembly as EVP (SHA-NI where the CPU has it).  MD5 stays on EVP.
 */
/* The SHA256_* functions are deprecated in OpenSSL 3, not removed. */
#define OPENSSL_API_COMPAT 0x10101000L
#include "hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "str.h"

/* Read granularity of hash_fd: large enough to amortise the syscalls. */
#define HASH_READ_BLOCK (256 * 1024)

struct hash_ctx {
	enum hash_alg alg;
	SHA256_CTX sha; /* HASH_SHA256 */
	EVP_MD_CTX *ctx; /* HASH_MD5 */
	const EVP_MD *md;
};

size_t
hash_len(enum hash_alg alg)
{
	return alg == HASH_MD5 ? HASH_MD5_LEN : HASH_SHA256_LEN;
}

struct hash_ctx *
hash_new(enum hash_alg alg, char *err, size_t errlen)
{
	struct hash_ctx *h;

	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		str_err(err, errlen, "out of memory");
		return NULL;
	}
	h->alg = alg;
	if (alg == HASH_SHA256) {
		SHA256_Init(&h->sha);
		return h;
	}
	/* The legacy getters return static objects: nothing to free and
	 * no provider lookup per transfer. */
	h->md = alg == HASH_MD5 ? EVP_md5() : EVP_sha256();
	h->ctx = EVP_MD_CTX_new();
	if (h->md == NULL || h->ctx == NULL) {
		str_err(err, errlen, "cannot create digest context");
		goto fail;
	}
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1) {
		str_err(err, errlen, "cannot initialise %s",
		    alg == HASH_MD5 ? "MD5" : "SHA-256");
		goto fail;
	}
	return h;
fail:
	hash_free(h);
	return NULL;
}

int
hash_update(struct hash_ctx *h, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (h->alg == HASH_SHA256)
		return SHA256_Update(&h->sha, p, n) == 1 ? 0 : -1;
	if (EVP_DigestUpdate(h->ctx, p, n) != 1)
		return -1;
	return 0;
}

int
hash_final(struct hash_ctx *h, unsigned char *out)
{
	unsigned int len = 0;

	if (h->alg == HASH_SHA256) {
		if (SHA256_Final(out, &h->sha) != 1)
			return -1;
		SHA256_Init(&h->sha);
		return 0;
	}
	if (EVP_DigestFinal_ex(h->ctx, out, &len) != 1)
		return -1;
	/* Reset for the next message, as the header promises. */
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1)
		return -1;
	return 0;
}

void
hash_free(struct hash_ctx *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	explicit_bzero(h, sizeof(*h));
	free(h);
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * The state, in a layout of our own (big-endian words, then the bytes
 * of the unfinished block), so that it means the same on any machine:
 * h[8], Nl, Nh, num, then the 64-byte block.
 */
int
hash_state_save(const struct hash_ctx *h, unsigned char *out)
{
	int i;

	if (h->alg != HASH_SHA256)
		return -1;
	for (i = 0; i < 8; i++)
		put32(out + 4 * i, h->sha.h[i]);
	put32(out + 32, h->sha.Nl);
	put32(out + 36, h->sha.Nh);
	put32(out + 40, h->sha.num);
	memcpy(out + 44, h->sha.data, 64);
	return 0;
}

int
hash_state_load(struct hash_ctx *h, const unsigned char *in)
{
	uint32_t num = get32(in + 40), nl = get32(in + 32);
	int i;

	/* SECURITY: a state read from elsewhere must be one SHA-256 could
	 * be in: fewer than 64 bytes pending, and as many as the count of
	 * bits hashed says. */
	if (h->alg != HASH_SHA256 || num >= 64 || (nl / 8) % 64 != num)
		return -1;
	SHA256_Init(&h->sha);
	for (i = 0; i < 8; i++)
		h->sha.h[i] = get32(in + 4 * i);
	h->sha.Nl = nl;
	h->sha.Nh = get32(in + 36);
	h->sha.num = num;
	memcpy(h->sha.data, in + 44, 64);
	return 0;
}

int
hash_fd(int fd, enum hash_alg alg, unsigned char *out, uint64_t *size,
    char *err, size_t errlen)
{
	struct hash_ctx *h = NULL;
	unsigned char *blk = NULL;
	uint64_t off = 0;
	ssize_t r;
	int rc = -1;

	h = hash_new(alg, err, errlen);
	if (h == NULL)
		goto fail;
	blk = malloc(HASH_READ_BLOCK);
	if (blk == NULL) {
		str_err(err, errlen, "out of memory");
		goto fail;
	}
	for (;;) {
		r = pread(fd, blk, HASH_READ_BLOCK, (off_t)off);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			str_err(err, errlen, "read: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		if (hash_update(h, blk, (size_t)r) == -1) {
			str_err(err, errlen, "digest update failed");
			goto fail;
		}
		off += (uint64_t)r;
	}
	if (hash_final(h, out) == -1) {
		str_err(err, errlen, "digest final failed");
		goto fail;
	}
	if (size != NULL)
		*size = off;
	rc = 0;
fail:
	free(blk);
	hash_free(h);
	return rc;
}
