/*
 * worker.h - the threads that do blocking disk, hash and data-connection
 * work for the event loop.
 *
 * A job's run() executes on a worker thread and must touch only what the
 * job owns.  When it returns, the job is queued back to the loop thread,
 * which is woken through an eventfd and calls done() there; done() may
 * then touch loop-owned state (sessions, the loop) again.  This is the
 * only hand-off between the loop and the workers: one done queue for
 * every job.
 *
 * Jobs run in one of two lanes, each an elastic pool of its own:
 *  - the control lane (worker_submit) does short disk and CPU work for
 *    commands: LOGIN checks, LIST, HASH, DELETE, download set-up;
 *  - the transfer lane (worker_submit_xfer) runs one data connection per
 *    thread for as long as the transfer lasts.
 * SECURITY: transfers never take a control thread, so no number of
 * stalled or slow transfers can make a command wait (docs/DESIGN.md).
 * Each lane keeps `min` threads and starts more, up to `max`, while
 * every thread of the lane is busy; idle extra threads exit after a
 * while.
 */
#ifndef FTXD_WORKER_H
#define FTXD_WORKER_H

#include <stddef.h>

struct job {
	void (*run)(struct job *j);
	void (*done)(struct job *j);
	struct job *next;
};

/* Start both lanes: control with ctl_min..ctl_max threads, transfers with
 * 0..xfer_max; 0 or -1. */
int worker_start(
    int ctl_min, int ctl_max, int xfer_max, char *err, size_t errlen);
/* The descriptor the loop polls for completions. */
int worker_fd(void);
/* Queue a control job; 0 or -1 (out of threads and memory: caller fails
 * it). */
int worker_submit(struct job *j);
/* Queue a transfer; 0 or -1, as worker_submit. */
int worker_submit_xfer(struct job *j);
/* On the loop thread: call done() for every completed job. */
void worker_drain(void);
/* Jobs queued or running, in both lanes. */
int worker_pending(void);
/* Threads of the control lane and of the transfer lane now (STATS). */
void worker_threads(int *ctl, int *xfer);
/* Wait for every thread to finish its job and exit. */
void worker_stop(void);

#endif /* FTXD_WORKER_H */
