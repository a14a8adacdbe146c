/*
 * str.h - bounded string helpers and the error convention.
 *
 * Error convention for all of ftx: functions return 0 (or a count) on
 * success and -1 on failure, and when they fail they write one line of
 * human-readable text into a caller-supplied buffer `err` of `errlen`
 * bytes (FTX_ERRLEN is the usual size).  `err` may be NULL.
 */
#ifndef FTX_STR_H
#define FTX_STR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Copy the NUL-terminated `src` into `dst` of `size` bytes.  Always
 * terminates when size > 0.  Returns 0, or -1 if `src` did not fit (dst
 * then holds a truncated copy).
 */
int str_copy(char *dst, size_t size, const char *src);

/* snprintf that returns 0, or -1 on truncation or encoding error. */
int str_fmt(char *dst, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int str_vfmt(char *dst, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Fill an error buffer (NULL-safe).  Always returns -1, so callers can
 * write `return str_err(err, errlen, "...")`. */
int str_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Parse a non-negative decimal integer of 1..20 digits with no sign, no
 * leading zeros (except "0" itself) and no trailing junk, not above `max`.
 * Returns 0 and stores the value, or -1.
 */
int str_to_u64(const char *s, uint64_t max, uint64_t *out);

/*
 * Parse a size like "10G": decimal digits (as str_to_u64) with an
 * optional K, M, G or T suffix (powers of 1024), which may be followed by
 * "B" or "iB"; a plain "B" is allowed too.  Case-insensitive.  At most
 * `max`; overflow-checked.  Returns 0 and stores the byte count, or -1.
 */
int str_to_size(const char *s, uint64_t max, uint64_t *out);

/* Lowercase hex encoding of `n` bytes into `out` (2n+1 bytes). */
void str_hex(char *out, const unsigned char *in, size_t n);
/* Decode exactly 2n hex digits (either case); returns 0 or -1. */
int str_unhex(unsigned char *out, size_t n, const char *hex);

/* Overflow-checked size arithmetic: return 0, or -1 on overflow. */
int str_add_size(size_t a, size_t b, size_t *out);
int str_mul_size(size_t a, size_t b, size_t *out);

#endif /* FTX_STR_H */
