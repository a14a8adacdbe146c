/*
 * hash.h - SHA-256 and MD5 through OpenSSL.
 */
#ifndef FTX_HASH_H
#define FTX_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_SHA256_LEN 32
#define HASH_MD5_LEN 16
#define HASH_MAX_LEN 32
#define HASH_SHA256_HEXLEN 64

enum hash_alg { HASH_SHA256, HASH_MD5 };

struct hash_ctx;

struct hash_ctx *hash_new(enum hash_alg alg, char *err, size_t errlen);
int hash_update(struct hash_ctx *h, const void *p, size_t n);
/* Write the digest (32 or 16 bytes) and reset the context for reuse. */
int hash_final(struct hash_ctx *h, unsigned char *out);
void hash_free(struct hash_ctx *h);
size_t hash_len(enum hash_alg alg);

/* SHA-256 only: the state after the bytes hashed so far, in
 * HASH_STATE_LEN bytes that mean the same on any machine, and a context
 * set to such a state (-1 if it is not one SHA-256 could be in).  A
 * resume on another node continues the hash where this one stopped. */
#define HASH_STATE_LEN 108
int hash_state_save(const struct hash_ctx *h, unsigned char *out);
int hash_state_load(struct hash_ctx *h, const unsigned char *in);

/* Hash the whole file behind `fd` from offset 0 (pread, so the file
 * offset is untouched).  Stores the digest and the bytes hashed. */
int hash_fd(int fd, enum hash_alg alg, unsigned char *out, uint64_t *size,
    char *err, size_t errlen);

#endif /* FTX_HASH_H */
