/*
 * token.c - one-time data-connection tokens.
 */
#include "token.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "str.h"

int
token_new(struct token *t, char *err, size_t errlen)
{
	/* SECURITY: tokens authorise data connections, so they come from
	 * the CSPRNG, never from rand() or the clock. */
	if (RAND_bytes(t->b, (int)sizeof(t->b)) != 1) {
		OPENSSL_cleanse(t->b, sizeof(t->b));
		return str_err(err, errlen, "RAND_bytes failed");
	}
	return 0;
}

void
token_hex(const struct token *t, char *out)
{
	str_hex(out, t->b, sizeof(t->b));
}

int
token_parse(struct token *t, const char *hex, size_t n)
{
	/* Exactly FTX_TOKEN_HEX digits: a longer or shorter string is a
	 * different token, not a prefix match. */
	if (n != FTX_TOKEN_HEX)
		return -1;
	if (memchr(hex, '\0', n) != NULL)
		return -1;
	return str_unhex(t->b, sizeof(t->b), hex);
}

int
token_equal(const struct token *a, const struct token *b)
{
	/* SECURITY: constant time, so response timing does not reveal how
	 * many leading bytes of a guess were right. */
	return CRYPTO_memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

void
token_clear(struct token *t)
{
	OPENSSL_cleanse(t->b, sizeof(t->b));
}
