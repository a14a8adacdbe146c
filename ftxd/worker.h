/*
 * worker.h - the pool of threads that do blocking disk, hash and
 * data-connection work for the event loop.
 *
 * A job's run() executes on a worker thread and must touch only what the
 * job owns.  When it returns, the job is queued back to the loop thread,
 * which is woken through an eventfd and calls done() there; done() may
 * then touch loop-owned state (sessions, the loop) again.  This is the
 * only hand-off between the loop and the workers.
 *
 * The pool is elastic: it keeps `min` threads and starts more, up to
 * `max`, while every thread is busy, so a long transfer never makes a
 * short job wait unless `max` transfers are running.  Idle extra threads
 * exit after a while.
 */
#ifndef FTXD_WORKER_H
#define FTXD_WORKER_H

#include <stddef.h>

struct job {
	void (*run)(struct job *j);
	void (*done)(struct job *j);
	struct job *next;
};

int worker_start(int min, int max, char *err, size_t errlen);
/* The descriptor the loop polls for completions. */
int worker_fd(void);
/* Queue a job; 0 or -1 (out of threads and memory: caller fails it). */
int worker_submit(struct job *j);
/* On the loop thread: call done() for every completed job. */
void worker_drain(void);
/* Jobs queued or running. */
int worker_pending(void);
/* Wait for every thread to finish its job and exit. */
void worker_stop(void);

#endif /* FTXD_WORKER_H */
