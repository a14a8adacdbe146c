/*
 * hash.c - SHA-256 and MD5 through OpenSSL EVP.
 */
#include "hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "str.h"

/* Read granularity of hash_fd: large enough to amortise the syscalls. */
#define HASH_READ_BLOCK (256 * 1024)

struct hash_ctx {
	EVP_MD_CTX *ctx;
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
	if (EVP_DigestUpdate(h->ctx, p, n) != 1)
		return -1;
	return 0;
}

int
hash_final(struct hash_ctx *h, unsigned char *out)
{
	unsigned int len = 0;

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
	free(h);
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
