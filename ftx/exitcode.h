/*
 * exitcode.h - the exit status of ftx, documented in `ftx --help`.
 *
 * Scripts branch on these values, so they never change meaning.  Every
 * client operation returns one of them (EXITCODE_OK on success).
 */
#ifndef FTX_EXITCODE_H
#define FTX_EXITCODE_H

enum exitcode {
	EXITCODE_OK = 0, /* success */
	EXITCODE_FAIL = 1, /* anything else: local I/O, lost data link */
	EXITCODE_USAGE = 2, /* bad command line or invalid file name */
	EXITCODE_CONNECT = 3, /* cannot connect, or not an FTX/1 server */
	EXITCODE_REFUSED = 4, /* the server answered ERROR (e.g. NOTFOUND) */
	EXITCODE_INTEGRITY = 5, /* a SHA-256 did not match */
	/* TLS could not be set up or the server's certificate was not
	 * trusted (changed fingerprint, unknown, wrong CA, no TLS offered) */
	EXITCODE_TLS = 6,
	EXITCODE_LOGIN = 7 /* login failed or required (ERROR AUTH, LOCKED) */
};

#endif /* FTX_EXITCODE_H */
