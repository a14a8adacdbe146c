/*
 * ftxerr.c - the protocol's error codes.  See ftxerr.h.
 */
#include <stddef.h>
#include <string.h>

#include "ftxerr.h"

#define T 1 /* transient */
#define F 1 /* fatal */

static const struct {
	const char *name;
	int transient, fatal;
	enum ftxerr_class cls;
} table[FTXE_NCODES] = {
    [FTXE_OK] = {"OK", 0, 0, FTXC_REFUSED},
    [FTXE_SYNTAX] = {"SYNTAX", 0, 0, FTXC_REFUSED},
    [FTXE_UNKNOWN] = {"UNKNOWN", 0, 0, FTXC_REFUSED},
    [FTXE_TOOLONG] = {"TOOLONG", 0, 0, FTXC_REFUSED},
    [FTXE_FLOOD] = {"FLOOD", 0, F, FTXC_REFUSED},
    [FTXE_BADNAME] = {"BADNAME", 0, 0, FTXC_REFUSED},
    [FTXE_NOTFOUND] = {"NOTFOUND", 0, 0, FTXC_REFUSED},
    [FTXE_TOOBIG] = {"TOOBIG", 0, 0, FTXC_REFUSED},
    /* BUSY: e.g. the session we were killed in still holds our
     * partial, until the server notices. */
    [FTXE_BUSY] = {"BUSY", T, 0, FTXC_REFUSED},
    [FTXE_UNSUPPORTED] = {"UNSUPPORTED", 0, 0, FTXC_REFUSED},
    [FTXE_RANGE] = {"RANGE", 0, 0, FTXC_REFUSED},
    /* INTEGRITY: the partial is gone, so a retry starts from 0. */
    [FTXE_INTEGRITY] = {"INTEGRITY", T, 0, FTXC_INTEGRITY},
    [FTXE_SHORT] = {"SHORT", T, 0, FTXC_BROKE},
    [FTXE_TIMEOUT] = {"TIMEOUT", T, F, FTXC_BROKE},
    [FTXE_IO] = {"IO", 0, 0, FTXC_BROKE},
    [FTXE_LIMIT] = {"LIMIT", T, F, FTXC_REFUSED},
    [FTXE_SHUTDOWN] = {"SHUTDOWN", T, F, FTXC_REFUSED},
    [FTXE_INTERNAL] = {"INTERNAL", 0, 0, FTXC_BROKE},
    [FTXE_BADNICK] = {"BADNICK", 0, 0, FTXC_REFUSED},
    [FTXE_NICKTAKEN] = {"NICKTAKEN", 0, 0, FTXC_REFUSED},
    [FTXE_JOINED] = {"JOINED", 0, 0, FTXC_REFUSED},
    [FTXE_NOTJOINED] = {"NOTJOINED", 0, 0, FTXC_REFUSED},
    [FTXE_NOSUCHNICK] = {"NOSUCHNICK", 0, 0, FTXC_REFUSED},
    [FTXE_BADTEXT] = {"BADTEXT", 0, 0, FTXC_REFUSED},
    [FTXE_RATE] = {"RATE", 0, 0, FTXC_REFUSED},
    [FTXE_TLS] = {"TLS", 0, 0, FTXC_TLS},
    [FTXE_AUTH] = {"AUTH", 0, 0, FTXC_LOGIN},
    [FTXE_LOCKED] = {"LOCKED", 0, 0, FTXC_LOGIN},
    [FTXE_PERM] = {"PERM", 0, 0, FTXC_REFUSED},
    [FTXE_QUOTA] = {"QUOTA", 0, 0, FTXC_REFUSED},
    [FTXE_NOSPACE] = {"NOSPACE", 0, 0, FTXC_REFUSED},
    [FTXE_EXISTS] = {"EXISTS", 0, 0, FTXC_REFUSED},
    [FTXE_NOTEMPTY] = {"NOTEMPTY", 0, 0, FTXC_REFUSED},
    [FTXE_NOTDIR] = {"NOTDIR", 0, 0, FTXC_REFUSED},
    [FTXE_ISDIR] = {"ISDIR", 0, 0, FTXC_REFUSED},
};

static int
valid(enum ftx_err e)
{
	return (unsigned)e < FTXE_NCODES && table[e].name != NULL;
}

const char *
ftxerr_name(enum ftx_err e)
{
	return valid(e) ? table[e].name : "INTERNAL";
}

enum ftx_err
ftxerr_parse(const char *name)
{
	int i;

	for (i = 0; i < FTXE_NCODES; i++)
		if (table[i].name != NULL && strcmp(table[i].name, name) == 0)
			return (enum ftx_err)i;
	return FTXE_NCODES;
}

int
ftxerr_transient(enum ftx_err e)
{
	return valid(e) && table[e].transient;
}

int
ftxerr_fatal(enum ftx_err e)
{
	return valid(e) && table[e].fatal;
}

enum ftxerr_class
ftxerr_class(enum ftx_err e)
{
	return valid(e) ? table[e].cls : FTXC_REFUSED;
}
