/*
 * token.h - one-time data-connection tokens.
 */
#ifndef FTX_TOKEN_H
#define FTX_TOKEN_H

#include <stddef.h>

#include "ftx_limits.h"

struct token {
	unsigned char b[FTX_TOKEN_BYTES];
};

/* 128 bits from OpenSSL's CSPRNG; 0 or -1. */
int token_new(struct token *t, char *err, size_t errlen);
/* 32 lowercase hex digits + NUL. */
void token_hex(const struct token *t, char *out);
/* Exactly FTX_TOKEN_HEX hex digits (n bytes given); 0 or -1. */
int token_parse(struct token *t, const char *hex, size_t n);
/* SECURITY: constant-time comparison; 1 if equal. */
int token_equal(const struct token *a, const struct token *b);
/* Wipe a token that is no longer needed. */
void token_clear(struct token *t);

#endif /* FTX_TOKEN_H */
