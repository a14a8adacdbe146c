/*
 * talk.h - `ftx chat`: the chat room as a terminal program.
 *
 * On a terminal the user types at a prompt while messages arrive above
 * it (see lineed.h); from a pipe every line of input is sent and every
 * message printed, so the same mode can be scripted and tested.  A plain
 * line is a public message, "@nick text" a private one, and /who,
 * /whoami, /time, /help and /quit (or end of input) are commands.
 */
#ifndef FTX_TALK_H
#define FTX_TALK_H

#include <stddef.h>

#include "ctl.h"

/* Join as `nick` (NULL: ask for one) and run until the user leaves or
 * the session ends.  `c` must be connected.  Returns an exit code. */
int talk_run(struct ctl *c, const char *nick, char *err, size_t errlen);

#endif /* FTX_TALK_H */
