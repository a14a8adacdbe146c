/*
 * menu.h - the interactive numbered menu (ftx with no command on a
 * terminal, or `ftx menu`).
 *
 * It reads answers line by line from stdin, so it also works on a pipe
 * (scripted tests).  Bad input is answered with a message and the same
 * question again; end of input quits cleanly.
 */
#ifndef FTX_MENU_H
#define FTX_MENU_H

#include "ctl.h"
#include "ui.h"

/* Run until "0) Quit" or end of input.  Returns EXITCODE_OK, or
 * EXITCODE_CONNECT/REFUSED if the first connection fails. */
int menu_run(struct ctl *c, const struct ui *u);

#endif /* FTX_MENU_H */
