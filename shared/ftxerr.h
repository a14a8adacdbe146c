/*
 * ftxerr.h - the protocol's error codes, one table for both ends.
 *
 * Every "ERROR <CODE> <reason>" a server sends names one of these
 * (docs/PROTOCOL.md, "Error codes"), and the client decides from the
 * same table what a code means for it: whether a retry may succeed,
 * whether the server ends the session, which exit status it maps to.
 * A storage or transfer error reaches the wire only through this table
 * (store_code_err in ftxd/store.c maps the storage's typed codes).
 */
#ifndef FTX_FTXERR_H
#define FTX_FTXERR_H

enum ftx_err {
	FTXE_OK = 0,
	FTXE_SYNTAX,
	FTXE_UNKNOWN,
	FTXE_TOOLONG,
	FTXE_FLOOD,
	FTXE_BADNAME,
	FTXE_NOTFOUND,
	FTXE_TOOBIG,
	FTXE_BUSY,
	FTXE_UNSUPPORTED,
	FTXE_RANGE,
	FTXE_INTEGRITY,
	FTXE_SHORT,
	FTXE_TIMEOUT,
	FTXE_IO,
	FTXE_LIMIT,
	FTXE_SHUTDOWN,
	FTXE_INTERNAL,
	FTXE_BADNICK,
	FTXE_NICKTAKEN,
	FTXE_JOINED,
	FTXE_NOTJOINED,
	FTXE_NOSUCHNICK,
	FTXE_BADTEXT,
	FTXE_RATE,
	FTXE_TLS,
	FTXE_AUTH,
	FTXE_LOCKED,
	FTXE_PERM,
	FTXE_QUOTA,
	FTXE_NOSPACE,
	FTXE_EXISTS, /* the target path exists */
	FTXE_NOTEMPTY, /* a directory that is not empty */
	FTXE_NOTDIR, /* a directory was expected, or a component is a file */
	FTXE_ISDIR, /* a file was expected, the path is a directory */
	FTXE_NCODES /* not a code: the size of the table; an unknown name */
};

/* What a code tells a client. */
enum ftxerr_class {
	FTXC_REFUSED, /* the server refused the request itself */
	FTXC_BROKE, /* the transfer or the server broke (not the request) */
	FTXC_INTEGRITY, /* bytes were damaged on the way */
	FTXC_LOGIN, /* a login failed or is needed */
	FTXC_TLS /* TLS is needed first */
};

/* The code's name on the wire ("NOTFOUND"); "INTERNAL" for a value
 * outside the table. */
const char *ftxerr_name(enum ftx_err e);
/* The code a name on the wire stands for; FTXE_NCODES if none. */
enum ftx_err ftxerr_parse(const char *name);
/* 1 if a later retry of the same request may succeed (the transfer
 * broke, the server is busy or stopping, bytes were damaged). */
int ftxerr_transient(enum ftx_err e);
/* 1 if the server ends the session after this reply (for TIMEOUT and
 * LOCKED only sometimes: see docs/PROTOCOL.md; the client treats them
 * as final). */
int ftxerr_fatal(enum ftx_err e);
enum ftxerr_class ftxerr_class(enum ftx_err e);

#endif /* FTX_FTXERR_H */
