/*
 * usercmd.h - `ftxd user ...`: manage the users file from the shell.
 *
 *	ftxd user add NAME [--quota SIZE]
 *	ftxd user del NAME
 *	ftxd user passwd NAME
 *	ftxd user quota NAME SIZE|none
 *	ftxd user list
 *
 * Options (anywhere on the line): --users FILE, --root DIR, --config FILE.
 * The users file is --users, else `users` from the configuration file,
 * else users_default_path() of the root (--root, else `root` from the
 * configuration file, else FTX_DEFAULT_ROOT).  The configuration file is
 * --config, else the default one (cfg_default_path) if it exists.
 *
 * Passwords come from a no-echo prompt (asked twice) when stdin is a
 * terminal, else from the first line of stdin without its newline.
 *
 * Exit status: 0 done, 1 failed (the reason on one line of stderr),
 * 2 usage error (also a bad name, size or configuration file).
 */
#ifndef FTXD_USERCMD_H
#define FTXD_USERCMD_H

/* argv[0] is "user"; returns the exit status. */
int usercmd_main(int argc, char **argv);

#endif /* FTXD_USERCMD_H */
