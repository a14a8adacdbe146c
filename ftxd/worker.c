/*
 * worker.c - two elastic thread pools (lanes) with one done queue.  See
 * worker.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ftx_limits.h"
#include "log.h"
#include "str.h"
#include "worker.h"

enum { LANE_CTL, LANE_XFER, NLANES };

/* One pool.  Every field is guarded by `mu`. */
struct lane {
	pthread_cond_t cv_work;
	struct job *q_head, *q_tail; /* waiting to run */
	int nthreads, nidle, nmin, nmax, qlen;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_exit = PTHREAD_COND_INITIALIZER;
static struct lane lanes[NLANES] = {
    {PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0, 0, 0},
    {PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0, 0, 0, 0},
};
static struct job *done_head, *done_tail; /* finished, for the loop */
static int pending, stopping;
static int efd = -1;

static void
push(struct job **head, struct job **tail, struct job *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct job *
pop(struct job **head, struct job **tail)
{
	struct job *j = *head;

	if (j != NULL) {
		*head = j->next;
		if (*head == NULL)
			*tail = NULL;
	}
	return j;
}

static int
wait_for_work(struct lane *ln)
{
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += FTX_WORKER_IDLE_EXIT_S;
	ln->nidle++;
	rc = pthread_cond_timedwait(&ln->cv_work, &mu, &ts);
	ln->nidle--;
	return rc;
}

static void *
worker_main(void *arg)
{
	struct lane *ln = arg;
	uint64_t one = 1;
	struct job *j;

	pthread_mutex_lock(&mu);
	for (;;) {
		while (ln->q_head == NULL && !stopping) {
			if (wait_for_work(ln) == ETIMEDOUT &&
			    ln->q_head == NULL && ln->nthreads > ln->nmin)
				goto out;
		}
		if ((j = pop(&ln->q_head, &ln->q_tail)) == NULL)
			break; /* stopping and nothing left to do */
		ln->qlen--;
		pthread_mutex_unlock(&mu);
		j->run(j);
		pthread_mutex_lock(&mu);
		push(&done_head, &done_tail, j);
		/* The loop reads the eventfd; a failed write would only
		 * happen at counter overflow, which cannot occur here. */
		if (write(efd, &one, sizeof(one)) != sizeof(one))
			abort();
	}
out:
	pthread_mutex_unlock(&mu);
	/* Threads are detached: release OpenSSL's per-thread state (the
	 * token RNG) before worker_stop() can see us gone and exit. */
	OPENSSL_thread_stop();
	pthread_mutex_lock(&mu);
	ln->nthreads--;
	pthread_cond_broadcast(&cv_exit);
	pthread_mutex_unlock(&mu);
	return NULL;
}

/* Called with mu held. */
static int
spawn(struct lane *ln)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (pthread_attr_init(&attr) != 0)
		return -1;
	pthread_attr_setstacksize(&attr, FTX_WORKER_STACK);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, worker_main, ln);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -1;
	ln->nthreads++;
	return 0;
}

int
worker_start(int ctl_min, int ctl_max, int xfer_max, char *err, size_t errlen)
{
	int i;

	if (ctl_min < 1 || ctl_max < ctl_min || xfer_max < 1)
		return str_err(err, errlen, "bad worker counts %d..%d, %d",
		    ctl_min, ctl_max, xfer_max);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd == -1)
		return str_err(err, errlen, "eventfd: %s", strerror(errno));
	pthread_mutex_lock(&mu);
	lanes[LANE_CTL].nmin = ctl_min;
	lanes[LANE_CTL].nmax = ctl_max;
	lanes[LANE_XFER].nmin = 0;
	lanes[LANE_XFER].nmax = xfer_max;
	for (i = 0; i < ctl_min; i++) {
		if (spawn(&lanes[LANE_CTL]) == -1) {
			pthread_mutex_unlock(&mu);
			return str_err(err, errlen, "cannot start workers");
		}
	}
	pthread_mutex_unlock(&mu);
	return 0;
}

int
worker_fd(void)
{
	return efd;
}

static int
submit(struct lane *ln, struct job *j)
{
	int rc = 0;

	pthread_mutex_lock(&mu);
	/* Start a thread when the idle ones are already spoken for by
	 * queued jobs; with none at all and none startable, fail. */
	if (ln->qlen >= ln->nidle && ln->nthreads < ln->nmax &&
	    spawn(ln) == -1 && ln->nthreads == 0)
		rc = -1;
	if (rc == 0) {
		push(&ln->q_head, &ln->q_tail, j);
		ln->qlen++;
		pending++;
		pthread_cond_signal(&ln->cv_work);
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

int
worker_submit(struct job *j)
{
	return submit(&lanes[LANE_CTL], j);
}

int
worker_submit_xfer(struct job *j)
{
	return submit(&lanes[LANE_XFER], j);
}

void
worker_drain(void)
{
	struct job *j;
	uint64_t n;

	if (read(efd, &n, sizeof(n)) == -1 && errno != EAGAIN)
		log_msg(NULL, "eventfd read: %s", strerror(errno));
	for (;;) {
		pthread_mutex_lock(&mu);
		j = pop(&done_head, &done_tail);
		if (j != NULL)
			pending--;
		pthread_mutex_unlock(&mu);
		if (j == NULL)
			break;
		j->done(j);
	}
}

int
worker_pending(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = pending;
	pthread_mutex_unlock(&mu);
	return n;
}

void
worker_threads(int *ctl, int *xfer)
{
	pthread_mutex_lock(&mu);
	*ctl = lanes[LANE_CTL].nthreads;
	*xfer = lanes[LANE_XFER].nthreads;
	pthread_mutex_unlock(&mu);
}

void
worker_stop(void)
{
	int i;

	pthread_mutex_lock(&mu);
	stopping = 1;
	for (i = 0; i < NLANES; i++)
		pthread_cond_broadcast(&lanes[i].cv_work);
	while (lanes[LANE_CTL].nthreads + lanes[LANE_XFER].nthreads > 0)
		pthread_cond_wait(&cv_exit, &mu);
	pthread_mutex_unlock(&mu);
	if (efd != -1)
		close(efd);
	efd = -1;
}
