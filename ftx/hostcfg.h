/*
 * hostcfg.h - the client's configuration file: host aliases in the
 * manner of ssh_config(5).
 *
 *	# ~/.config/ftx/config (or $FTX_CONFIG)
 *	Host box
 *	    HostName 203.0.113.7
 *	    Port 5001
 *	    User alice
 *	    TLS yes
 *	    PasswordFile ~/.config/ftx/box.pass
 *	Host *
 *	    Retries 5
 *
 * A "Host" line starts a block that applies when one of its patterns
 * (fnmatch(3); "!pat" excludes) matches the name the user gave;
 * lines before the first Host apply to every name.  Keywords are
 * case-insensitive, "Key Value" or "Key=Value"; for each keyword the
 * first value that applies wins.  An unknown keyword or a bad value is
 * an error naming the file and line, before any network traffic.
 */
#ifndef FTX_HOSTCFG_H
#define FTX_HOSTCFG_H

#include <stddef.h>

#include "ftx_limits.h"

/* What the file says about one name; unset fields are "", 0 or -1. */
struct hostcfg {
	char hostname[FTX_HOST_MAX + 1]; /* HostName: the real address */
	int port; /* Port; 0 unset */
	char user[FTX_USER_MAX + 1]; /* User */
	int tls; /* TLS yes|no; -1 unset */
	int accept_new; /* AcceptNew yes|no; -1 unset */
	int retries; /* Retries 0..FTX_RETRIES_MAX; -1 unset */
	char pin[FTX_FP_LEN + 8]; /* Pin SHA256:HEX, as written */
	char cacert[FTX_PATH_MAX]; /* CACert FILE (~ expanded) */
	char known_hosts[FTX_PATH_MAX]; /* KnownHosts FILE */
	char pass_file[FTX_PATH_MAX]; /* PasswordFile FILE */
	char data_host[FTX_HOST_MAX + 1]; /* DataHost control|advertised|H */
};

/* The file to read: $FTX_CONFIG, else $XDG_CONFIG_HOME/ftx/config, else
 * ~/.config/ftx/config.  0 with the path; -1 when there is none
 * (FTX_CONFIG set to "" turns the file off).  *must_exist is 1 when
 * the user named it (FTX_CONFIG), so a typo is an error, not silence. */
int hostcfg_path(char *out, size_t n, int *must_exist);

/*
 * Read `path` and collect what applies to `name` into *h (cleared
 * first).  1 if any line applied, 0 if none did or the file does not
 * exist (and !must_exist), -1 with the reason in err (unreadable,
 * unsafe permissions, too big, a bad line).
 */
int hostcfg_lookup(const char *path, int must_exist, const char *name,
    struct hostcfg *h, char *err, size_t errlen);

#endif /* FTX_HOSTCFG_H */
